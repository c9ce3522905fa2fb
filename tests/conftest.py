"""Shared fixtures: the packaged SmolLM2 (converted once per machine) and a tiny random model.

The tiny model is a 2-layer Llama built from a config with SmolLM2's real
tokenizer, so the whole recipe path (chat template, LoRA, generate, GRPO)
runs in seconds on CPU without any hub access.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
FAKES = Path(__file__).parent / "fakes"

collect_ignore = ["fakes"]  # CPU stand-ins for CUDA loading and the vLLM engine, not tests
UNSLOTH_REAL = Path(__file__).parent / "unsloth_real"


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """tests/unsloth_real runs in a pytest process of its own (make test's second command).

    Importing unsloth rewrites TRL's trainers and configs for the whole process, so
    the two kinds of test never share one: with ``UNSLOTH_ALLOW_CPU=1`` only
    tests/unsloth_real is collected, without it everything else.
    """
    inside = collection_path == UNSLOTH_REAL or UNSLOTH_REAL in collection_path.parents
    if os.environ.get("UNSLOTH_ALLOW_CPU") != "1":
        return inside or None
    if inside or collection_path in UNSLOTH_REAL.parents:
        return None
    return True


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    from recipes.packaged_models import resolve_packaged

    return resolve_packaged("smollm2-135m-instruct")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smollm2_dir) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
