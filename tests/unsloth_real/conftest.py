"""Unsloth's real code on CPU: its TRL patching, generated from the installed TRL, once per process.

`make test` runs this folder in a pytest process of its own with the pinned
unsloth/unsloth_zoo on PYTHONPATH (.venv/unsloth-cpu, requirements-unsloth-cpu.txt)
and ``UNSLOTH_ALLOW_CPU=1``. Under that flag ``PatchFastRL`` skips the rewriting,
so this conftest calls what it would call (``_patch_trl_rl_trainers_impl`` for the
GRPO, SFT and DPO trainer files, and the patch that makes TRL's vLLM generation
reuse Unsloth's engine). That writes Unsloth's ``UnslothGRPOTrainer``/``UnslothGRPOConfig``
(and SFT's, DPO's) into ``UNSLOTH_COMPILE_LOCATION`` and installs them as
``trl.GRPOTrainer``, ``trl.GRPOConfig``, ... exactly as a GPU run gets them.

What cannot run here is faked, citing the file it mirrors (tests/fakes): CUDA
loading in ``FastLanguageModel.from_pretrained`` and the vLLM engine.
"""

from __future__ import annotations

import os
import sys
import tempfile

import pytest

pytestmark = pytest.mark.unsloth_real

if os.environ.get("UNSLOTH_ALLOW_CPU") != "1":
    raise pytest.UsageError("tests/unsloth_real needs UNSLOTH_ALLOW_CPU=1 and .venv/unsloth-cpu on PYTHONPATH: "
                            "run `make test-unsloth-real` (or `make test`)")
os.environ.setdefault("UNSLOTH_COMPILE_LOCATION", tempfile.mkdtemp(prefix="unsloth_compiled_"))
# torch 2.13 warns that inductor's own CPU op `inductor::_alloc_from_pool` aliases its input, in the code it
# compiles for Unsloth's torch.compile'd loss; with the CI variable set it raises instead
# (torch/_functorch/config.py error_on_custom_op_aliasing, "True in CI unless explicitly overridden").
# Not this repo's code nor Unsloth's: keep torch's default outside CI.
os.environ["TORCHINDUCTOR_ERROR_ON_CUSTOM_OP_ALIASING"] = "0"

import unsloth  # noqa: E402,F401  (first, before trl/transformers/peft, as a GPU run imports it)
from unsloth.models import rl as unsloth_rl  # noqa: E402

# unsloth/models/rl.py PatchFastRL, in its order, for the three trainers the recipes use
# (patch_trl_rl_trainers would generate every TRL trainer: minutes on this machine).
TRAINER_FILES = ("grpo_trainer", "sft_trainer", "dpo_trainer")
unsloth_rl.patch_trl_disable_gradient_checkpointing()
for _trainer_file in TRAINER_FILES:
    unsloth_rl._patch_trl_rl_trainers_impl(_trainer_file)
unsloth_rl.patch_trl_vllm_generation()  # the vLLM rollouts reuse the model's own engine

import trl  # noqa: E402

assert trl.GRPOTrainer.__name__ == "UnslothGRPOTrainer", "Unsloth's patching did not install its GRPO trainer"
assert "unsloth" in sys.modules


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.unsloth_real)


@pytest.fixture
def fake_gpu(monkeypatch):
    """``fake_gpu(capability)``: this CPU looks like one CUDA GPU to the recipe's probes (`recipes.backend`).

    torch itself still runs on the CPU; Unsloth's classes are real. The configs are
    built with ``use_cpu`` so transformers accepts them on this machine.
    """
    import torch

    import recipes.backend
    import recipes.model

    def install(capability: tuple[int, int] = (8, 0)) -> None:
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
        for module in (recipes.backend, recipes.model):
            monkeypatch.setattr(module, "cuda_available", lambda: True)

    return install


@pytest.fixture
def fake_cuda(fake_gpu, monkeypatch):
    """``fake_cuda(capability, with_vllm=True)``: a GPU as above, plus CUDA loading and the vLLM engine faked.

    ``unsloth.FastLanguageModel`` becomes tests/fakes/unsloth_loading's and the fake
    vllm (``SamplingParams``, ``LoRARequest``) is importable; Unsloth's trainers and
    configs stay the real generated ones. Returns the fake module (its ``CALLS``).
    """

    import recipes.backend
    from tests.conftest import FAKES

    monkeypatch.syspath_prepend(str(FAKES))
    from tests.fakes import unsloth_loading

    unsloth_loading.CALLS.clear()

    def install(capability: tuple[int, int] = (8, 0), *, with_vllm: bool = True):
        fake_gpu(capability)
        monkeypatch.setattr(unsloth, "FastLanguageModel", unsloth_loading.FastLanguageModel)
        if not with_vllm:
            monkeypatch.setattr(recipes.backend, "vllm_installed", lambda: False)
            return unsloth_loading
        import trl.generation.vllm_generation as trl_vllm
        import vllm

        # trl/generation/vllm_generation.py imports these at its import when vllm is installed; it was
        # imported here before the fake vllm was on sys.path.
        for name in ("LLM", "RequestOutput", "SamplingParams", "StructuredOutputsParams"):
            monkeypatch.setattr(trl_vllm, name, getattr(vllm, name), raising=False)
        return unsloth_loading

    yield install
    for name in [m for m in sys.modules if m.split(".")[0] == "vllm"]:
        del sys.modules[name]
