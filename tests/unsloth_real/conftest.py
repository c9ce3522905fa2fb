"""Unsloth's real code on CPU: its TRL patching, generated from the installed TRL, once per process.

`make test` runs this folder in a pytest process of its own with the pinned
unsloth/unsloth_zoo on PYTHONPATH (.venv/unsloth-cpu, requirements-unsloth-cpu.txt)
and ``UNSLOTH_ALLOW_CPU=1``. Under that flag ``PatchFastRL`` skips the rewriting,
so this conftest calls the function it would call,
``unsloth.models.rl._patch_trl_rl_trainers_impl``, for the GRPO, SFT and DPO
trainer files. That writes Unsloth's ``UnslothGRPOTrainer``/``UnslothGRPOConfig``
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

import unsloth  # noqa: E402,F401  (first, before trl/transformers/peft, as a GPU run imports it)
from unsloth.models.rl import _patch_trl_rl_trainers_impl  # noqa: E402

TRAINER_FILES = ("grpo_trainer", "sft_trainer", "dpo_trainer")
for _trainer_file in TRAINER_FILES:
    _patch_trl_rl_trainers_impl(_trainer_file)

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
