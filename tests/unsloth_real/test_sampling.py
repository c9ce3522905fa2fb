"""Row 1 of issue 20: sampling settings valid for whichever engine generates.

Unsloth's GRPO config sets ``top_k = -1`` (vLLM's "off") whenever ``use_vllm`` is on
(unsloth models/rl.py, the generated config ``__init__``). Without an engine (vllm
missing, ``fast_inference`` dropped) generation falls back to transformers, whose
``generate`` raises "top_k has to be a strictly positive integer, but is -1".
"""

from __future__ import annotations

import pytest

from recipes import run_inputs
from recipes.config import load_config
from recipes.generation import Sampling, sample
from recipes.model import load_policy
from recipes.trainer_setup import match_generation_backend
from tests.unsloth_real.test_contract import A100, tiny_unsloth_config


@pytest.fixture
def engineless_run(fake_cuda, tmp_path, tiny_model_dir):
    """A headline-shaped run (use_vllm on, Unsloth's config) on a machine where vllm is missing."""
    fake_cuda(A100, with_vllm=False)
    cfg = load_config(tiny_unsloth_config(tmp_path, tiny_model_dir, min_p=0.1), [])
    assert cfg.grpo.use_vllm is True and cfg.grpo.top_k == -1  # what Unsloth's class made of use_vllm
    policy = load_policy(run_inputs.policy_spec(cfg))
    return cfg, policy


def test_the_fallback_to_transformers_samples_with_top_k_off(engineless_run):
    cfg, policy = engineless_run
    match_generation_backend(cfg, policy)
    assert cfg.grpo.use_vllm is False and cfg.grpo.top_k == 0  # TRL's "off", which transformers accepts
    groups = sample(policy, [[{"role": "user", "content": "What is 2 + 3?"}]], Sampling.like_grpo(cfg.grpo, n=2),
                    batch_size=2)
    assert len(groups) == 1 and len(groups[0]) == 2


def test_the_preflight_sampling_never_passes_vllms_minus_one_to_transformers(engineless_run):
    cfg, _ = engineless_run
    assert Sampling.like_grpo(cfg.grpo).top_k == 0  # read before match_generation_backend ran, too


def test_grpo_trainer_without_an_engine_builds_transformers_generation(engineless_run):
    from recipes import grpo

    cfg, policy = engineless_run
    match_generation_backend(cfg, policy)
    trainer = grpo.make_grpo_trainer(cfg, policy, run_inputs.train_dataset(cfg),
                                     run_inputs.reward_functions(cfg, run_inputs.run_format(cfg)), [])
    assert type(trainer).__name__ == "UnslothGRPOTrainer" and trainer.args.use_vllm is False
    assert trainer.generation_config.top_k in (None, 0)
    trainer.generation_config.validate(strict=True)  # transformers' own check of the sampling settings
