"""Config checks whose TRL error would be unclear, or that TRL does not make: one line naming the field.

`check_before_trl` runs on the raw values of every recipe (GRPO, SFT, DPO) before
TRL's ``__post_init__``; `check_grpo` runs on a built ``GRPOConfig`` only, after TRL
derived ``generation_batch_size``. Both raise `RecipeError`.
"""

from __future__ import annotations

from typing import Any

from recipes.errors import RecipeError


def check_before_trl(recipe, trl_values: dict[str, Any]) -> None:
    """Checks on RecipeArguments and the TRL config's raw values (keys a TRL config lacks are skipped)."""
    from data_prep.formats import FORMATS

    steps = trl_values.get("max_steps", -1)
    if steps == 0 or steps < -1:
        raise RecipeError(f"max_steps: expected a positive number of steps (or -1 for epochs), got {steps}")
    n_gen = trl_values.get("num_generations", 8)
    if n_gen is not None and n_gen < 2:
        raise RecipeError(f"num_generations: GRPO compares completions within a group, expected >= 2, got {n_gen}")
    for name in ("learning_rate", "save_steps", "per_device_train_batch_size", "max_completion_length"):
        if name in trl_values and trl_values[name] is not None and trl_values[name] <= 0:
            raise RecipeError(f"{name}: expected a positive number, got {trl_values[name]}")
    if recipe.format not in FORMATS:
        raise RecipeError(f"format: unknown {recipe.format!r}; expected one of {', '.join(FORMATS)}")
    if recipe.system_prompt is not None and not recipe.system_prompt.strip():
        raise RecipeError("system_prompt: expected text (leave it out for the format's own prompt)")
    if recipe.lora_rank < 1 or recipe.lora_alpha < 1:
        raise RecipeError("lora_rank/lora_alpha: expected positive integers")
    for name in ("eval_limit", "dataset_limit", "preflight_prompts", "eval_base_max_new_tokens"):
        if getattr(recipe, name) is not None and getattr(recipe, name) < 1:
            raise RecipeError(f"{name}: expected a positive integer, got {getattr(recipe, name)}")
    if not recipe.reward_funcs:
        raise RecipeError("reward_funcs: expected at least one reward name")


def check_grpo(recipe, grpo) -> None:
    """Group arithmetic, checked after TRL derived generation_batch_size."""
    if grpo.generation_batch_size % grpo.num_generations:
        raise RecipeError(
            f"num_generations: {grpo.num_generations} must divide the generation batch "
            f"({grpo.generation_batch_size} = per_device_train_batch_size x steps_per_generation)"
        )
    if grpo.reward_weights is not None and len(grpo.reward_weights) != len(recipe.reward_funcs):
        raise RecipeError(
            f"reward_weights: {len(grpo.reward_weights)} weights for {len(recipe.reward_funcs)} reward_funcs"
        )
