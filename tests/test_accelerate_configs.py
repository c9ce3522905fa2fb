"""The shipped accelerate configs parse with accelerate's own loader and carry what the recipe needs."""

from __future__ import annotations

import pytest
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.utils import DistributedType

from tests.conftest import REPO

CONFIGS = REPO / "recipes" / "accelerate"


@pytest.mark.parametrize(("name", "stage", "precision", "cpu"), [
    ("zero2", 2, "bf16", False), ("zero3", 3, "bf16", False),
    # DeepSpeed's CPU accelerator (bench/NOTES.md): no bf16 (the CPU recipes say bf16: false), use_cpu.
    ("cpu_zero2", 2, "no", True), ("cpu_zero3", 3, "no", True),
])
def test_deepspeed_configs(name, stage, precision, cpu):
    c = load_config_from_file(str(CONFIGS / f"{name}.yaml"))
    assert c.distributed_type == DistributedType.DEEPSPEED
    assert c.deepspeed_config["zero_stage"] == stage  # the loader does not check keys inside deepspeed_config
    assert (c.mixed_precision, c.use_cpu, c.num_processes, c.num_machines) == (precision, cpu, 2, 1)
    if stage == 3:  # partitioned at load; the adapter saved whole (recipes.run_dir.save_trained)
        assert c.deepspeed_config["zero3_init_flag"] and c.deepspeed_config["zero3_save_16bit_model"]


def test_cpu_ddp_config_starts_real_processes():
    # accelerate's MULTI_CPU type launches one process without mpirun; MULTI_GPU's launcher is torchrun,
    # and on a machine without CUDA each process joins a gloo group (recipes.distributed.start_group).
    c = load_config_from_file(str(CONFIGS / "cpu_ddp.yaml"))
    assert c.distributed_type == DistributedType.MULTI_GPU and c.num_processes == 2
    assert c.mixed_precision == "no"
