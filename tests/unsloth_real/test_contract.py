"""The GPU path against Unsloth's real trainers and configs, with CUDA loading and the vLLM engine faked.

Unsloth's patching generated ``trl.GRPOTrainer``/``SFTTrainer``/their configs in
this process (tests/unsloth_real/conftest.py). The ``fake_cuda`` fixture makes this
machine look like one CUDA GPU of a given compute capability to the repo's device
probes and replaces only ``FastLanguageModel`` and the vLLM engine
(tests/fakes/unsloth_loading.py); the models still run on the CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from recipes import evaluate, grpo, run_inputs
from recipes.config import load_config
from recipes.errors import RecipeError
from tests.conftest import REPO

A100, T4 = (8, 0), (7, 5)


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


def calls(kind: str) -> list:
    from tests.fakes.unsloth_loading import CALLS

    return [value for name, value in CALLS if name == kind]


def headline(*overrides: str):
    return load_config(HEADLINE, [*overrides, *ON_CPU])


@pytest.mark.parametrize(("capability", "bf16", "fp16"), [(A100, True, False), (T4, False, True)],
                         ids=["a100", "t4"])
def test_precision_follows_the_gpu(fake_cuda, capability, bf16, fp16):
    # Row 2: Unsloth loads float16 below compute capability 8.0 and refuses bf16 there.
    fake_cuda(capability)
    cfg = headline()
    assert (cfg.grpo.bf16, cfg.grpo.fp16) == (bf16, fp16)


def test_explicit_bf16_on_a_t4_is_one_line(fake_cuda):
    fake_cuda(T4)
    with pytest.raises(RecipeError, match=r"^bf16: this GPU has no bfloat16 .*fp16") as err:
        headline("--bf16", "true")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("overrides", "fast_inference"), [
    ([], True),
    (["--use_vllm", "false"], False),
    (["--vllm_mode", "server"], False),
], ids=["vllm", "no-vllm", "vllm-server"])
def test_fast_inference_follows_use_vllm(fake_cuda, overrides, fast_inference):
    # Row 3: vLLM reserves gpu_memory_utilization of the card; only build its engine to generate with it.
    fake_cuda(A100)
    cfg = headline(*overrides)
    assert run_inputs.policy_spec(cfg).fast_inference is fast_inference


def test_without_vllm_installed_unsloth_gets_no_fast_inference(fake_cuda):
    fake_cuda(A100, with_vllm=False)
    cfg = headline()
    assert run_inputs.policy_spec(cfg).fast_inference is False  # Unsloth raises ImportError otherwise


def test_headline_dry_run_shows_what_the_gpu_gets(fake_cuda, capsys):
    fake_cuda(T4)
    data = str(REPO / "tests/fixtures/dapo_sample.jsonl")
    assert grpo.main([str(HEADLINE), "--dry-run", "--data_file", data, *ON_CPU]) == 0
    out = capsys.readouterr().out
    assert "backend unsloth" in out
    assert "device     fp16; generation: vLLM inside Unsloth (fast_inference)" in out
    assert ("batch      4 completions per device step x gradient_accumulation_steps 1; generation batch 4 "
            "(1 prompts x 4) every 1 step(s); the same under Unsloth on a GPU") in out


def run_on_an_a100_with_vllm(fake_cuda, main, tmp_path: Path, model_dir: Path) -> Path:
    """A recipe CLI's whole run with the tiny Unsloth config; Unsloth loaded bf16 with its vLLM engine."""
    fake_cuda(A100)
    assert main([str(tiny_unsloth_config(tmp_path, model_dir))]) == 0
    [loaded] = calls("from_pretrained")
    assert loaded["fast_inference"] is True and loaded["dtype"] == "torch.bfloat16"
    return tmp_path / "run"


@pytest.mark.slow
def test_pipeline_with_vllm_engine(fake_cuda, tmp_path, tiny_model_dir):
    """The whole `python -m recipes.grpo` run on an A100-like GPU with vLLM: prime, GRPO, evaluate, report.

    Unsloth's real trainers throughout; GRPO's rollouts go through TRL's vLLM generation as Unsloth
    patches it (the model's own engine, the live LoRA as a request built from its tensors).
    """
    run = run_on_an_a100_with_vllm(fake_cuda, grpo.main, tmp_path, tiny_model_dir)
    generated = calls("fast_generate")
    # Evaluation: base weights, then each stage's adapter folder as a LoRA request; GRPO's rollouts in
    # between: 2 steps x 2 prompts (batch 8 = 2 prompts x 4 generations), the live adapter's tensors.
    rollouts = [g for g in generated if g["n_prompts"] == 8]
    evaluations = [g for g in generated if g not in rollouts]
    assert [g["lora_path"] for g in evaluations] == [None, str(run / "sft_adapter"), str(run / "adapter")]
    assert len(rollouts) == 2 and all(g["text_prompts"] == 0 for g in generated)
    live = [c for c in calls("load_lora") if c["load_tensors"]]
    assert len(live) == len(rollouts)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    grpo_steps = [m["step"] for m in metrics if m["stage"] == "grpo" and "loss" in m]
    assert grpo_steps == [1, 2]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["backend"] == "unsloth" and summary["steps"] == 2
    assert set(summary["stages"]) == {"base", "primed", "tuned"}
    assert (run / "report" / "report.html").is_file()


@pytest.mark.slow
def test_sft_recipe_with_vllm_engine(fake_cuda, tmp_path, tiny_model_dir):
    """`python -m recipes.sft` on an A100-like GPU with vLLM: Unsloth's real SFT trainer, evaluation on the engine."""
    from recipes import sft

    run = run_on_an_a100_with_vllm(fake_cuda, sft.main, tmp_path, tiny_model_dir)
    # Evaluation: base weights, then the primed adapter as a LoRA request, prompts as token ids.
    generated = calls("fast_generate")
    assert [g["lora_path"] for g in generated] == [None, str(run / "sft_adapter")]
    assert all(g["text_prompts"] == 0 and g["n_prompts"] == 4 for g in generated)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["backend"] == "unsloth" and set(summary["stages"]) == {"base", "primed"}
    assert (run / "adapter" / "adapter_model.safetensors").is_file()


def test_grpo_trainer_generates_with_unsloths_engine(fake_cuda, tmp_path, tiny_model_dir):
    """Row 4: the real trainer takes the model's engine (no second one), with vLLM's top_k.

    Unsloth's ``_vllm_setter`` forces ``use_vllm``/colocate when the model has a
    ``vllm_engine``, and its patch of TRL's ``VLLMGeneration._init_vllm`` hands TRL that
    engine (unsloth models/rl.py, rl_replacements.py). test_pipeline_with_vllm_engine runs
    the rollouts through it.
    """
    from recipes.model import load_policy

    stack = fake_cuda(A100)
    cfg = load_config(tiny_unsloth_config(tmp_path, tiny_model_dir), [])
    policy = load_policy(run_inputs.policy_spec(cfg))
    dataset = run_inputs.train_dataset(cfg)
    trainer = grpo.make_grpo_trainer(cfg, policy, dataset, run_inputs.reward_functions(cfg, run_inputs.run_format(cfg)), [])
    assert type(trainer).__name__ == "UnslothGRPOTrainer"
    assert trainer.args.use_vllm is True and trainer.args.vllm_mode == "colocate"  # forced on by the engine
    assert trainer.vllm_generation.llm is policy.model.vllm_engine
    assert isinstance(policy.model.vllm_engine, stack.FakeLLM)
    from vllm import SamplingParams

    SamplingParams(top_k=trainer.args.top_k, temperature=trainer.args.temperature)  # -1 is valid for vLLM


@pytest.mark.slow
def test_pipeline_on_a_t4_without_vllm_then_reevaluate(fake_cuda, tmp_path, tiny_model_dir):
    """fp16 GPU, use_vllm off: no engine, HF generate, and `recipes.evaluate --adapter` reproduces the run."""
    fake_cuda(T4)
    config = tiny_unsloth_config(tmp_path, tiny_model_dir, use_vllm=False, eval_base_max_new_tokens=9)
    assert grpo.main([str(config)]) == 0
    run = tmp_path / "run"
    budgets = {s: json.loads((run / "eval" / s / "summary.json").read_text())["max_new_tokens"]
               for s in ("base", "primed", "tuned")}
    assert budgets == {"base": 9, "primed": 6, "tuned": 6}  # the base model gets room to finish its prose

    [loaded] = calls("from_pretrained")
    assert loaded["fast_inference"] is False and loaded["dtype"] == "torch.float16"
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


def test_export_on_unsloth_uses_its_merged_and_gguf_savers(fake_cuda, tmp_path, tiny_model_dir, monkeypatch):
    from transformers import AutoModelForCausalLM

    from recipes import export
    from tests.test_export import write_run

    fake_cuda(A100)
    use_llama_cpp(monkeypatch, built_llama_cpp(tmp_path / "llama.cpp"))
    run = write_run(tmp_path / "run", str(tiny_model_dir), tiny_model_dir, backend="unsloth", load_in_4bit=True)
    out = tmp_path / "merged"
    assert export.main([str(run), "--out", str(out), "--gguf", "q4_k_m"]) == 0
    [loaded] = calls("from_pretrained")
    assert loaded["load_in_4bit"] is True and loaded["fast_inference"] is False  # Unsloth dequantizes to merge
    assert calls("save_pretrained_merged") == [{"save_method": "merged_16bit", "save_directory": str(out)}]
    assert calls("save_pretrained_gguf") == [{"quantization_method": "q4_k_m", "save_directory": str(out / "gguf")}]
    AutoModelForCausalLM.from_pretrained(out)  # a plain transformers model
    assert "base_model:" in (out / "README.md").read_text()


def built_llama_cpp(folder: Path) -> Path:
    """What unsloth_zoo's check_llama_cpp accepts: an executable llama-quantize that prints usage, the converter."""
    folder.mkdir(parents=True)
    quantize = folder / "llama-quantize"
    quantize.write_text("#!/bin/sh\necho usage: llama-quantize\n")
    quantize.chmod(0o755)
    (folder / "convert_hf_to_gguf.py").write_text("")
    return folder


def use_llama_cpp(monkeypatch, folder: Path) -> None:
    from unsloth_zoo import llama_cpp

    monkeypatch.setattr(llama_cpp, "LLAMA_CPP_DEFAULT_DIR", str(folder))  # as UNSLOTH_LLAMA_CPP_PATH would


def test_gguf_without_llama_cpp_stops_before_loading_in_one_line(fake_cuda, tmp_path, tiny_model_dir, monkeypatch):
    """Row 5: Unsloth would clone and build llama.cpp after the merge; offline that fails deep inside it."""
    from recipes import export
    from tests.test_export import write_run

    fake_cuda(A100)
    use_llama_cpp(monkeypatch, tmp_path / "no-llama.cpp")
    run = write_run(tmp_path / "run", str(tiny_model_dir), tiny_model_dir, backend="unsloth", load_in_4bit=True)
    with pytest.raises(RecipeError, match=r"^gguf: needs a built llama.cpp .*no-llama.cpp") as err:
        export.main([str(run), "--out", str(tmp_path / "merged"), "--gguf", "q4_k_m"])
    assert "\n" not in str(err.value)
    assert calls("from_pretrained") == [] and not (tmp_path / "merged").exists()


DPO_GPU_CONFIG = REPO / "recipes/configs/dpo_qwen25_identity.yaml"


def test_dpo_gpu_config_reaches_unsloth(fake_cuda, tiny_model_dir):
    from recipes import identity_config
    from recipes.model import load_policy, unsloth_load_kwargs
    from recipes.run_inputs import policy_spec

    fake_cuda(A100)
    written = yaml.safe_load(DPO_GPU_CONFIG.read_text())
    cfg = identity_config.load_dpo_config(str(DPO_GPU_CONFIG), ["--model_name", str(tiny_model_dir), *ON_CPU])
    assert cfg.backend == "unsloth" and cfg.grpo.bf16 is True
    spec = policy_spec(cfg)
    assert unsloth_load_kwargs(spec)["max_seq_length"] == written["max_seq_length"]
    policy = load_policy(spec)
    assert policy.backend == "unsloth"
    [loaded] = calls("from_pretrained")
    assert loaded["model_name"] == str(tiny_model_dir)
    assert loaded["load_in_4bit"] is written["load_in_4bit"] is True
    assert loaded["fast_inference"] is False  # DPO generates a few greedy answers: no vLLM engine reserved
    [peft] = calls("get_peft_model")
    assert (peft["r"], peft["lora_alpha"]) == (written["lora_rank"], written["lora_alpha"])
    assert peft["use_gradient_checkpointing"] == "unsloth"
