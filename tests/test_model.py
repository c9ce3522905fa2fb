"""Policies: backend choice, the Unsloth arguments a config builds, and the transformers backend for real."""

from __future__ import annotations

import sys

import pytest

from data_prep.formats import FORMATS
from recipes.backend import vllm_installed
from recipes.config import load_config
from recipes.errors import RecipeError
from recipes.model import (
    PolicySpec,
    format_chat_template,
    load_policy,
    unsloth_load_kwargs,
    unsloth_peft_kwargs,
)
from recipes.run_inputs import policy_spec
from tests.conftest import REPO


def test_headline_config_builds_the_notebook_unsloth_calls():
    cfg = load_config(REPO / "recipes/configs/grpo_qwen3_4b_openr1.yaml")
    spec = policy_spec(cfg)
    assert unsloth_load_kwargs(spec) == {
        "model_name": "unsloth/Qwen3-4B-Base", "max_seq_length": 2048, "load_in_4bit": True,
        # vLLM only where it is installed (Unsloth raises otherwise): tests/unsloth_real/test_contract.py
        "fast_inference": vllm_installed(), "max_lora_rank": 1, "gpu_memory_utilization": 0.7,
    }
    peft = unsloth_peft_kwargs(spec)
    assert peft["r"] == 1 and peft["lora_alpha"] == 32 and peft["random_state"] == 3407
    assert peft["target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert peft["use_gradient_checkpointing"] == "unsloth"
    assert "unsloth" not in sys.modules  # building arguments imports nothing from the GPU stack


def test_16bit_switch_reaches_unsloth():
    cfg = load_config(REPO / "recipes/configs/grpo_qwen3_4b_openr1.yaml", ["--load_in_4bit", "false"])
    assert unsloth_load_kwargs(policy_spec(cfg))["load_in_4bit"] is False


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_chat_template_opens_the_reasoning(name, smollm2_dir):
    from transformers import AutoTokenizer

    fmt = FORMATS[name]
    tok = AutoTokenizer.from_pretrained(smollm2_dir)
    tok.chat_template = format_chat_template(fmt)
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is 2 + 3?"}], tokenize=False,
                                     add_generation_prompt=True)
    assert prompt.startswith(fmt.system_prompt + tok.eos_token)
    assert prompt.endswith("What is 2 + 3?" + fmt.generation_prefix)
    full = tok.apply_chat_template(
        [{"role": "user", "content": "Q"}, {"role": "assistant", "content": fmt.render("r", "5")}], tokenize=False)
    assert full.endswith(fmt.render("r", "5") + tok.eos_token)


def test_transformers_backend_attaches_lora(tiny_model_dir):
    spec = PolicySpec(model_name=str(tiny_model_dir), backend="transformers", load_in_4bit=False,
                      lora_rank=4, lora_alpha=8, lora_target_modules=("q_proj", "v_proj"), chat_template="model")
    policy = load_policy(spec)
    assert policy.backend == "transformers"
    trainable = [n for n, p in policy.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert any("q_proj.lora_A" in n for n in trainable) and not any("k_proj" in n for n in trainable)
    assert policy.tokenizer.pad_token is not None


def test_a_fresh_lora_starts_from_the_configs_seed(tiny_model_dir):
    """Two loads with the seed start the same LoRA (a run is reproducible); another seed starts another."""
    import torch

    def lora_a(seed, rng_before):
        spec = PolicySpec(model_name=str(tiny_model_dir), backend="transformers", load_in_4bit=False,
                          lora_rank=4, lora_alpha=8, chat_template="model", random_state=seed)
        torch.manual_seed(rng_before)  # whatever drew random numbers before the load must not matter
        weights = load_policy(spec).model.state_dict()
        return torch.cat([w.flatten() for n, w in sorted(weights.items()) if "lora_A" in n])

    first = lora_a(0, rng_before=1)
    assert torch.equal(first, lora_a(0, rng_before=2))
    assert not torch.equal(first, lora_a(1, rng_before=1))


def test_transformers_backend_4bit_on_cpu(tiny_model_dir):
    pytest.importorskip("bitsandbytes")
    spec = PolicySpec(model_name=str(tiny_model_dir), backend="transformers", load_in_4bit=True,
                      lora_rank=4, lora_alpha=8, chat_template="model", gradient_checkpointing=False)
    policy = load_policy(spec)
    kinds = {type(m).__name__ for m in policy.model.modules()}
    assert "Linear4bit" in kinds


def test_missing_model_is_one_line(tmp_path):
    spec = PolicySpec(model_name=str(tmp_path / "nope"), backend="transformers", load_in_4bit=False)
    with pytest.raises(RecipeError, match="model_name: cannot load"):
        load_policy(spec)


@pytest.mark.slow
def test_packaged_smollm2_answers_in_chat(smollm2_dir):
    from recipes.generation import generate

    spec = PolicySpec(model_name="smollm2-135m-instruct", backend="transformers", load_in_4bit=False,
                      trainable=False, chat_template="model")
    policy = load_policy(spec)
    [(text, n)] = generate(policy, [[{"role": "user", "content": "What is the capital of France?"}]], 16, 1)
    assert "Paris" in text
    assert 0 < n <= 16


class _State:
    def __init__(self, processes: int, local_index: int):
        self.num_processes, self.local_process_index = processes, local_index


@pytest.mark.parametrize(("processes", "zero3", "expected"), [
    (1, False, "auto"), (4, False, {"": 2}), (4, True, None),
], ids=["one-process", "ddp-rank2", "zero3"])
def test_transformers_device_map_per_rank(monkeypatch, processes, zero3, expected):
    # accelerate refuses a model spread over GPUs in distributed training; ZeRO-3 refuses any map.
    import accelerate
    import transformers.integrations

    from recipes.model import transformers_device_map

    monkeypatch.setattr(accelerate, "PartialState", lambda: _State(processes, 2))
    monkeypatch.setattr(transformers.integrations, "is_deepspeed_zero3_enabled", lambda: zero3)
    assert transformers_device_map() == expected


def test_format_template_defaults_to_the_configs_system_prompt(tiny_model_dir):
    # A base model's template (saved with exported models) must default to the prompt it was trained with.
    spec = PolicySpec(model_name=str(tiny_model_dir), backend="transformers", load_in_4bit=False,
                      trainable=False, chat_template="format", format="r1", system_prompt="Short.")
    tok = load_policy(spec).tokenizer
    text = tok.apply_chat_template([{"role": "user", "content": "Q"}], tokenize=False, add_generation_prompt=True)
    assert text.startswith("Short.") and FORMATS["r1"].system_prompt not in text
