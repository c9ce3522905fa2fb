"""Every shipped GPU config means on a GPU what it means in the CPU dry run: Unsloth's real config classes.

Unsloth's generated ``UnslothGRPOConfig.__init__`` (and SFT's, DPO's) has defaults of
its own: gradient_accumulation_steps 2, lr 5e-5, warmup 0.1, adamw_8bit, weight
decay 0.001, ... (unsloth 2026.10.7 ``models/rl.py``). Built through
`recipes.trl_defaults.build_like_trl`, a config has TRL's value for every key the YAML
left out, whichever class built it.
"""

from __future__ import annotations

import dataclasses

import pytest
import trl

from recipes.config import load_config
from recipes.identity_config import load_dpo_config
from recipes.priming import priming_args, sft_settings
from recipes.trl_defaults import LEFT_TO_UNSLOTH, differences, trl_class_under
from tests.conftest import REPO

CONFIGS = REPO / "recipes/configs"
GPU_GRPO = ["grpo_qwen3_4b_openr1", "grpo_qwen3_4b_gsm8k", "grpo_qwen25_0_5b_gsm8k_boxed", "grpo_qwen25_1_5b_xml"]
BATCH_AND_OPTIMIZER = ("gradient_accumulation_steps", "steps_per_generation", "generation_batch_size",
                       "per_device_train_batch_size", "optim", "warmup_steps", "weight_decay", "learning_rate",
                       "seed", "loss_type", "beta", "mask_truncated_completions", "epsilon_high")
ON_CPU = ["--use_cpu", "true"]  # this machine is still a CPU: transformers refuses bf16 here otherwise


def test_the_shipped_gpu_configs_are_all_checked():
    unsloth_or_auto = sorted(p.stem for p in CONFIGS.glob("grpo_*.yaml")
                             if "backend: transformers" not in p.read_text())
    assert unsloth_or_auto == sorted(GPU_GRPO)


def explicit_values(cfg) -> dict:
    trl_fields = {f.name for f in dataclasses.fields(trl_class_under(type(cfg.grpo)))}
    return {k: v for k, v in cfg.explicit.items() if k in trl_fields and k not in cfg.recipe.__dict__}


@pytest.mark.parametrize("name", GPU_GRPO)
def test_grpo_config_is_unsloths_class_with_the_yamls_values(fake_gpu, name):
    fake_gpu()
    cfg = load_config(CONFIGS / f"{name}.yaml", ON_CPU)
    assert cfg.backend == "unsloth"
    assert type(cfg.grpo).__init__ is not trl_class_under(type(cfg.grpo)).__init__  # Unsloth's generated class
    assert cfg.grpo.unsloth_num_chunks == -1  # a field only Unsloth's class has: its loss reads it
    changed = differences(cfg.grpo, explicit_values(cfg))
    assert set(changed) <= LEFT_TO_UNSLOTH, {k: v for k, v in changed.items() if k not in LEFT_TO_UNSLOTH}
    for key in BATCH_AND_OPTIMIZER:
        assert key not in changed, key
    g = cfg.grpo
    assert g.generation_batch_size == g.per_device_train_batch_size * g.gradient_accumulation_steps
    assert g.generation_batch_size % g.num_generations == 0


def test_without_the_pinning_unsloth_would_double_the_batch(fake_gpu):
    """What the YAML would get from Unsloth's class alone: the reason build_like_trl exists."""
    fake_gpu()
    values = {"output_dir": "x", "use_cpu": True, "num_generations": 4, "per_device_train_batch_size": 4}
    raw = trl.GRPOConfig(**values)  # Unsloth's class, its own defaults
    assert (raw.gradient_accumulation_steps, raw.steps_per_generation, raw.generation_batch_size) == (2, 2, 8)
    assert (str(raw.optim.value), raw.warmup_steps, raw.learning_rate) == ("adamw_8bit", 0.1, 5e-5)
    cfg = load_config(CONFIGS / "grpo_qwen3_4b_openr1.yaml", [*ON_CPU, "--gradient_accumulation_steps", "1"])
    cfg_without_ga = load_config(CONFIGS / "grpo_qwen3_4b_openr1.yaml", ON_CPU)
    for g in (cfg.grpo, cfg_without_ga.grpo):
        assert (g.gradient_accumulation_steps, g.steps_per_generation) == (1, 1)


def test_a_batch_the_group_does_not_divide_is_refused_not_resized(fake_gpu):
    """Unsloth resets per_device_train_batch_size to num_generations with one printed line; we refuse."""
    from recipes.errors import RecipeError

    fake_gpu()
    with pytest.raises(RecipeError, match="num_generations") as err:
        load_config(CONFIGS / "grpo_qwen3_4b_openr1.yaml",
                    [*ON_CPU, "--per_device_train_batch_size", "6", "--num_generations", "4"])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["grpo_qwen3_4b_openr1", "grpo_qwen3_4b_gsm8k"])
def test_sft_priming_config_is_unsloths_class_with_trls_defaults(fake_gpu, tmp_path, name):
    fake_gpu()
    cfg = load_config(CONFIGS / f"{name}.yaml", ON_CPU)
    settings = sft_settings(cfg.recipe.sft_prime)
    args = priming_args(cfg, settings, tmp_path)
    assert type(args).__init__ is not trl_class_under(type(args)).__init__
    assert args.loss_type == "nll"  # Unsloth's SFT loss, pinned on its class
    assert (args.gradient_accumulation_steps, str(args.optim.value), args.weight_decay) == (
        settings["gradient_accumulation_steps"], "adamw_torch_fused", 0.0)
    assert args.learning_rate == settings["learning_rate"] and args.warmup_steps == settings["warmup_steps"]


def test_dpo_gpu_config_is_unsloths_class_with_the_yamls_values(fake_gpu):
    fake_gpu()
    cfg = load_dpo_config(str(CONFIGS / "dpo_qwen25_identity.yaml"), ON_CPU)
    assert type(cfg.grpo).__init__ is not trl_class_under(type(cfg.grpo)).__init__
    changed = differences(cfg.grpo, explicit_values(cfg))
    assert set(changed) <= LEFT_TO_UNSLOTH, changed
    d = cfg.grpo
    assert (d.gradient_accumulation_steps, d.warmup_steps, d.weight_decay, d.learning_rate) == (1, 0, 0.0, 2e-4)
    assert str(d.optim.value) == "adamw_8bit"  # the YAML's own choice


def test_unsloth_only_keys_pass_through_and_its_notices_match_the_config(fake_gpu, capsys):
    """A YAML may set Unsloth's own keys; Unsloth's "we will set it" notices print only when they hold."""
    fake_gpu()
    cfg = load_config(CONFIGS / "grpo_qwen3_4b_openr1.yaml",
                      [*ON_CPU, "--unsloth_num_chunks", "4", "--mask_truncated_completions", "false"])
    assert cfg.grpo.unsloth_num_chunks == 4
    assert (cfg.grpo.loss_type, cfg.grpo.mask_truncated_completions) == ("dapo", False)
    assert cfg.grpo.epsilon_high == cfg.grpo.epsilon  # TRL's reading of epsilon_high None, not Unsloth's 0.28
    assert "we will set it" not in capsys.readouterr().out
