"""GRPO's variants under Unsloth's real generated config and trainer: built as TRL builds them, and one step each.

`recipes.variants.unsloth_differences` is read from unsloth 2026.10.7's ``models/rl.py``;
here every variant of README's table is built with the real ``UnslothGRPOConfig`` and
compared with TRL's class: the only difference must be the one that function names.
Then each loss path trains one step through ``UnslothGRPOTrainer`` (its
``grpo_compute_loss`` from unsloth_zoo), on the CPU.
"""

from __future__ import annotations

import json
import math

import pytest

from recipes import grpo
from recipes.config import load_config
from recipes.trl_defaults import LEFT_TO_UNSLOTH, differences, trl_class_under
from recipes.variants import VARIANTS, unsloth_differences
from tests.unsloth_real.test_configs import CONFIGS, ON_CPU, explicit_values
from tests.unsloth_real.test_contract import A100, tiny_unsloth_config

ROWS = [*VARIANTS, None]  # None: dr_grpo alone, with TRL's group scaling


def overrides(keys: dict) -> list[str]:
    return [x for k, v in keys.items() for x in (f"--{k}", str(v))]


@pytest.mark.parametrize("variant", ROWS, ids=lambda v: v.name if v else "dr_grpo-group-scaling")
def test_unsloths_config_differs_from_trls_only_where_the_dry_run_says(fake_gpu, variant):
    fake_gpu()
    keys = variant.keys if variant else {"loss_type": "dr_grpo"}
    cfg = load_config(CONFIGS / "grpo_qwen3_4b_openr1.yaml", [*ON_CPU, *overrides(keys)])
    assert type(cfg.grpo).__init__ is not trl_class_under(type(cfg.grpo)).__init__  # Unsloth's class
    changed = set(differences(cfg.grpo, explicit_values(cfg))) - LEFT_TO_UNSLOTH
    reference = trl_class_under(type(cfg.grpo))(**{k: v for k, v in explicit_values(cfg).items()
                                                   if k != "unsloth_num_chunks"})
    assert changed == ({"scale_rewards"} if unsloth_differences(reference) else set())
    if changed:
        assert (reference.scale_rewards, cfg.grpo.scale_rewards) == ("group", "none")


STEP_ROWS = [v for v in VARIANTS if v.name not in ("clip-higher", "batch scaling")]  # no loss path of their own


@pytest.mark.slow
@pytest.mark.parametrize("variant", STEP_ROWS, ids=lambda v: v.name)
def test_each_loss_path_trains_one_step_in_unsloths_trainer(fake_cuda, tmp_path, tiny_model_dir, variant):
    from recipes import run_inputs
    from recipes.callbacks import MetricsLogger
    from recipes.model import load_policy

    fake_cuda(A100, with_vllm=False)
    cfg = load_config(tiny_unsloth_config(tmp_path, tiny_model_dir, use_vllm=False, max_steps=1, sft_prime=None,
                                          evaluate=False, **variant.keys), [])
    policy = load_policy(run_inputs.policy_spec(cfg))
    fmt = run_inputs.run_format(cfg)
    log = tmp_path / "metrics.jsonl"
    trainer = grpo.make_grpo_trainer(cfg, policy, run_inputs.train_dataset(cfg),
                                     run_inputs.reward_functions(cfg, fmt), [MetricsLogger(log, "grpo")])
    assert type(trainer).__name__ == "UnslothGRPOTrainer"
    for key, value in variant.keys.items():
        assert getattr(trainer.args, key) == value, key
    trainer.train()
    [step] = [r for r in map(json.loads, log.read_text().splitlines()) if "loss" in r]
    assert math.isfinite(step["loss"])
