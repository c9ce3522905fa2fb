"""The GPU path for real: Unsloth on a CUDA GPU, tiny random Qwen3, 2 GRPO steps, then evaluation.

    make test-gpu        (= pytest -m gpu tests/test_gpu_smoke.py, on a machine with the GPU stack)

Skipped without CUDA or without unsloth; never part of CI. Nothing comes from a
hub: the model is a random-initialised Qwen3 (2 layers) written to a temp folder
with a byte-level BPE tokenizer trained on the spot from the arithmetic data,
so the run takes a minute, and what it shows is that Unsloth's loading, LoRA,
patched TRL trainers and generation work with this repo's recipe, in 16-bit and
in 4-bit, without vLLM and (where vllm is installed) with it. Each run's step
time and peak GPU memory are printed for bench/GPU.md.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.tiny_qwen3 import write_tiny_qwen3

pytestmark = pytest.mark.gpu


def _gpu_stack_present() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available() and importlib.util.find_spec("unsloth") is not None


if not _gpu_stack_present():
    pytest.skip("needs a CUDA GPU and unsloth (make test-gpu on a GPU machine)", allow_module_level=True)


@pytest.fixture(scope="module")
def tiny_qwen3(tmp_path_factory) -> Path:
    return write_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"))


VARIANTS = {
    "16bit": {"load_in_4bit": False, "use_vllm": False},
    "4bit": {"load_in_4bit": True, "use_vllm": False},
    "4bit-vllm": {"load_in_4bit": True, "use_vllm": True, "gpu_memory_utilization": 0.3},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_two_grpo_steps_through_unsloth(tmp_path, tiny_qwen3, variant):
    if VARIANTS[variant]["use_vllm"] and importlib.util.find_spec("vllm") is None:
        pytest.skip("vllm is not installed")
    cfg = {
        "model_name": str(tiny_qwen3), "backend": "unsloth", "chat_template": "format", "format": "r1",
        "lora_rank": 8, "lora_alpha": 16, "max_seq_length": 512, "dataset": "arithmetic", "dataset_limit": 32,
        "sft_prime": {"rows": 16, "per_device_train_batch_size": 8, "logging_steps": 1},
        "reward_funcs": ["correctness", "format_exact"], "learning_rate": 1e-4, "num_generations": 4,
        "per_device_train_batch_size": 8, "max_completion_length": 32, "max_steps": 2, "save_steps": 2,
        "logging_steps": 1, "report_to": "none", "seed": 0, "optim": "adamw_8bit",
        "output_dir": str(tmp_path / "run"), "evaluate": True, "eval_limit": 8, "eval_max_new_tokens": 16,
        **VARIANTS[variant],
    }
    config = tmp_path / "gpu.yaml"
    config.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, "-m", "recipes.grpo", str(config)], cwd=REPO, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    run = tmp_path / "run"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["backend"] == "unsloth" and summary["steps"] == 2
    assert set(summary["stages"]) == {"base", "primed", "tuned"}
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    step_times = [r["step_time"] for r in rows if r.get("stage") == "grpo" and "step_time" in r]
    print(f"\n{variant}: GRPO step_time {step_times} s, peak GPU memory {summary.get('peak_gpu_memory_gib')} GiB, "
          f"versions {json.loads((run / 'eval' / 'tuned' / 'summary.json').read_text())['versions']}")

    # The adapter evaluates again from the run's config alone (recipes.evaluate --adapter).
    proc = subprocess.run([sys.executable, "-m", "recipes.evaluate", "--adapter", str(run / "adapter"),
                           "--out", str(tmp_path / "reeval")], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert json.loads((tmp_path / "reeval" / "summary.json").read_text())["n"] == 8
