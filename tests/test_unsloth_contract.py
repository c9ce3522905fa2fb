"""The GPU path's contract with Unsloth and vLLM, checked on CPU through fakes of the pinned versions.

`tests/fakes/unsloth` and `tests/fakes/vllm` reproduce what unsloth 2026.10.7 and
vllm 0.32.0 do that this repo relies on (each piece names the file it mirrors).
The `fake_gpu` fixture makes this machine look like one CUDA GPU of a given
compute capability to the repo's own device probes (`recipes.backend`) and to
the fake's ``SUPPORTS_BFLOAT16``; the models still run on the CPU. These tests
show the recipe calls Unsloth correctly; only `make test-gpu` on a GPU shows
Unsloth itself works (tests/test_gpu_smoke.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

import recipes.backend
import recipes.model
from recipes import evaluate, grpo, run_inputs
from recipes.config import load_config
from recipes.errors import RecipeError
from tests.conftest import FAKES, REPO

pytestmark = pytest.mark.unsloth_contract

A100, T4 = (8, 0), (7, 5)


def _drop_fake_modules() -> None:
    for name in [m for m in sys.modules if m.split(".")[0] in ("unsloth", "vllm")]:
        del sys.modules[name]


@pytest.fixture
def fake_gpu(monkeypatch):
    """``fake_gpu(capability)``: one CUDA GPU of that compute capability, unsloth and vllm installed (fakes).

    TRL's trainer modules are imported first, while vllm is not importable: TRL imports vLLM's
    internals at import time when it finds vllm (trl/generation/vllm_client.py), which the fake
    does not have. TRL's own vLLM path is not what an Unsloth run uses (Unsloth hands it its engine).
    """
    import torch
    import trl.trainer.grpo_trainer  # noqa: F401
    import trl.trainer.sft_trainer  # noqa: F401

    def install(capability: tuple[int, int] = A100, *, with_vllm: bool = True) -> None:
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
        for module in (recipes.backend, recipes.model):
            monkeypatch.setattr(module, "cuda_available", lambda: True)
        monkeypatch.syspath_prepend(str(FAKES))
        if not with_vllm:
            monkeypatch.setattr(recipes.backend, "vllm_installed", lambda: False)
        _drop_fake_modules()

    yield install
    if "unsloth" in sys.modules:
        sys.modules["unsloth"]._unpatch_trl()
    _drop_fake_modules()


def calls(kind: str) -> list:
    import unsloth

    return [value for name, value in unsloth.CALLS if name == kind]


def tiny_unsloth_config(tmp_path: Path, model_dir: Path, **extra) -> Path:
    """The headline recipe's shape (backend unsloth, priming, evaluation) at the size of a unit test."""
    cfg = {
        "model_name": str(model_dir), "backend": "unsloth", "load_in_4bit": True, "chat_template": "model",
        "lora_rank": 4, "lora_alpha": 8, "format": "r1", "dataset": "arithmetic", "dataset_limit": 16,
        "sft_prime": {"rows": 8, "per_device_train_batch_size": 4, "logging_steps": 1},
        "reward_funcs": ["correctness", "format_exact", "length"],
        "reward_params": {"length": {"target": 0, "scale": 400, "unit": "chars"}},
        "learning_rate": 0.05, "num_generations": 4, "per_device_train_batch_size": 8,
        "max_completion_length": 8, "temperature": 1.0, "beta": 0.0, "max_steps": 2, "save_steps": 2,
        "logging_steps": 1, "gradient_checkpointing": False, "use_cpu": True, "use_vllm": True,
        "report_to": "none", "seed": 0, "output_dir": str(tmp_path / "run"),
        "evaluate": True, "eval_limit": 4, "eval_max_new_tokens": 6, "eval_batch_size": 4,
    }
    cfg.update(extra)
    path = tmp_path / "tiny_unsloth.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


HEADLINE = REPO / "recipes/configs/grpo_qwen3_4b_openr1.yaml"
ON_CPU = ["--use_cpu", "true"]  # the fake GPU is still this CPU: transformers refuses bf16 there otherwise


def headline(*overrides: str):
    return load_config(HEADLINE, [*overrides, *ON_CPU])


def test_unsloth_run_builds_unsloths_grpo_config(fake_gpu):
    # Row 1: a GRPOConfig built from TRL's class before `import unsloth` has no unsloth_num_chunks.
    fake_gpu(A100)
    cfg = headline()
    import unsloth

    assert cfg.backend == "unsloth"
    assert isinstance(cfg.grpo, unsloth.UnslothGRPOConfig)
    assert cfg.grpo.unsloth_num_chunks == -1
    assert cfg.grpo.vllm_importance_sampling_correction is False  # Unsloth's default, not TRL's


@pytest.mark.parametrize(("capability", "bf16", "fp16"), [(A100, True, False), (T4, False, True)],
                         ids=["a100", "t4"])
def test_precision_follows_the_gpu(fake_gpu, capability, bf16, fp16):
    # Row 2: Unsloth loads float16 below compute capability 8.0 and refuses bf16 there.
    fake_gpu(capability)
    cfg = headline()
    assert (cfg.grpo.bf16, cfg.grpo.fp16) == (bf16, fp16)


def test_explicit_bf16_on_a_t4_is_one_line(fake_gpu):
    fake_gpu(T4)
    with pytest.raises(RecipeError, match=r"^bf16: this GPU has no bfloat16 .*fp16") as err:
        headline("--bf16", "true")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("overrides", "fast_inference"), [
    ([], True),
    (["--use_vllm", "false"], False),
    (["--vllm_mode", "server"], False),
], ids=["vllm", "no-vllm", "vllm-server"])
def test_fast_inference_follows_use_vllm(fake_gpu, overrides, fast_inference):
    # Row 3: vLLM reserves gpu_memory_utilization of the card; only build its engine to generate with it.
    fake_gpu(A100)
    cfg = headline(*overrides)
    assert run_inputs.policy_spec(cfg).fast_inference is fast_inference


def test_without_vllm_installed_unsloth_gets_no_fast_inference(fake_gpu):
    fake_gpu(A100, with_vllm=False)
    cfg = headline()
    assert run_inputs.policy_spec(cfg).fast_inference is False  # Unsloth raises ImportError otherwise


def test_headline_dry_run_shows_what_the_gpu_gets(fake_gpu, capsys):
    fake_gpu(T4)
    data = str(REPO / "tests/fixtures/dapo_sample.jsonl")
    assert grpo.main([str(HEADLINE), "--dry-run", "--data_file", data, *ON_CPU]) == 0
    out = capsys.readouterr().out
    assert "backend unsloth" in out
    assert "device     fp16; generation: vLLM inside Unsloth (fast_inference)" in out


@pytest.mark.slow
def test_pipeline_with_vllm_engine(fake_gpu, tmp_path, tiny_model_dir):
    """The whole `python -m recipes.grpo` run on an A100-like GPU with vLLM: prime, GRPO, evaluate, report."""
    fake_gpu(A100)
    assert grpo.main([str(tiny_unsloth_config(tmp_path, tiny_model_dir))]) == 0
    run = tmp_path / "run"

    [loaded] = calls("from_pretrained")
    assert loaded["fast_inference"] is True and loaded["dtype"] == "torch.bfloat16"
    assert calls("sft_args_class") == ["UnslothSFTConfig"]
    assert calls("grpo_args_class") == []  # the GRPO config was Unsloth's class
    assert [p["bf16"] for p in calls("precision")] == [True, True]  # SFT, then GRPO
    assert calls("grpo_generates_with_vllm_engine") == [True]
    assert [c["unsloth_num_chunks"] for c in calls("grpo_loss")] == [-1, -1]  # the loss read Unsloth's fields
    # Evaluation: base weights, then each stage's adapter as a LoRA request, prompts as token ids.
    generated = calls("fast_generate")
    assert [g["lora_path"] for g in generated] == [None, str(run / "sft_adapter"), str(run / "adapter")]
    assert all(g["text_prompts"] == 0 and g["n_prompts"] == 4 for g in generated)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["backend"] == "unsloth" and summary["steps"] == 2
    assert set(summary["stages"]) == {"base", "primed", "tuned"}
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert (run / "report" / "report.html").is_file()


@pytest.mark.slow
def test_pipeline_on_a_t4_without_vllm_then_reevaluate(fake_gpu, tmp_path, tiny_model_dir):
    """fp16 GPU, use_vllm off: no engine, HF generate, and `recipes.evaluate --adapter` reproduces the run."""
    fake_gpu(T4)
    config = tiny_unsloth_config(tmp_path, tiny_model_dir, use_vllm=False, eval_base_max_new_tokens=9)
    assert grpo.main([str(config)]) == 0
    run = tmp_path / "run"
    budgets = {s: json.loads((run / "eval" / s / "summary.json").read_text())["max_new_tokens"]
               for s in ("base", "primed", "tuned")}
    assert budgets == {"base": 9, "primed": 6, "tuned": 6}  # the base model gets room to finish its prose

    [loaded] = calls("from_pretrained")
    assert loaded["fast_inference"] is False and loaded["dtype"] == "torch.float16"
    assert [(p["bf16"], p["fp16"]) for p in calls("precision")] == [(False, True), (False, True)]
    assert calls("grpo_generates_with_vllm_engine") == [False]
    assert calls("fast_generate") == [] and calls("load_lora") == []

    # A re-evaluation from the run's config.yaml alone: same settings, the adapter's own weights.
    out = tmp_path / "reeval"
    assert evaluate.main(["--adapter", str(run / "adapter"), "--out", str(out)]) == 0
    again = json.loads((out / "summary.json").read_text())
    tuned = json.loads((run / "eval" / "tuned" / "summary.json").read_text())
    for key in ("n", "max_new_tokens", "format", "split", "grader", "dataset", "backend"):
        assert again[key] == tuned[key], key

    def completions(path: Path) -> list[str]:
        return [json.loads(line)["completion"] for line in path.read_text().splitlines()]

    assert completions(out / "predictions.jsonl") == completions(run / "eval" / "tuned" / "predictions.jsonl")


def test_export_on_unsloth_uses_its_merged_and_gguf_savers(fake_gpu, tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from recipes import export
    from tests.test_export import write_run

    fake_gpu(A100)
    run = write_run(tmp_path / "run", str(tiny_model_dir), tiny_model_dir, backend="unsloth", load_in_4bit=True)
    out = tmp_path / "merged"
    assert export.main([str(run), "--out", str(out), "--gguf", "q4_k_m"]) == 0
    [loaded] = calls("from_pretrained")
    assert loaded["load_in_4bit"] is True and loaded["fast_inference"] is False  # Unsloth dequantizes to merge
    assert calls("save_pretrained_merged") == [{"save_method": "merged_16bit", "save_directory": str(out)}]
    assert calls("save_pretrained_gguf") == [{"quantization_method": "q4_k_m", "save_directory": str(out / "gguf")}]
    AutoModelForCausalLM.from_pretrained(out)  # a plain transformers model
    assert "base_model:" in (out / "README.md").read_text()
