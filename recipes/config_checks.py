"""Config checks whose TRL error would be unclear, or that TRL does not make: one line naming the field.

`check_before_trl` runs on the raw values of every recipe (GRPO, SFT, DPO) before
TRL's ``__post_init__``; `check_grpo` runs on a built ``GRPOConfig`` only, after TRL
derived ``generation_batch_size``. Both raise `RecipeError`.
"""

from __future__ import annotations

from pathlib import Path
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
    for name in ("eval_limit", "dataset_limit", "preflight_prompts", "eval_base_max_new_tokens", "eval_samples",
                 "eval_limit_during_training", "decontaminate_ngram"):
        if getattr(recipe, name) is not None and getattr(recipe, name) < 1:
            raise RecipeError(f"{name}: expected a positive integer, got {getattr(recipe, name)}")
    if not recipe.reward_funcs:
        raise RecipeError("reward_funcs: expected at least one reward (a name, module:function or file.py:function)")
    _check_evaluation(recipe, trl_values)


def _check_evaluation(recipe, trl_values: dict[str, Any]) -> None:
    """Sampled evaluation, checkpoint evaluation and decontamination keys (their counts: `check_before_trl`)."""
    if recipe.eval_temperature < 0 or not 0 < recipe.eval_top_p <= 1:
        raise RecipeError("eval_temperature/eval_top_p: expected temperature >= 0 and top_p in (0, 1]")
    if recipe.eval_samples > 1 and recipe.eval_temperature == 0:
        raise RecipeError(f"eval_temperature: eval_samples {recipe.eval_samples} need a temperature > 0 "
                          "(greedy draws one answer; open-r1 uses 0.6)")
    if recipe.select_checkpoint not in ("last", "best"):
        raise RecipeError(f"select_checkpoint: expected last or best, got {recipe.select_checkpoint!r}")
    if recipe.decontaminate not in ("check", "drop"):
        raise RecipeError(f"decontaminate: expected check or drop, got {recipe.decontaminate!r}")
    every = trl_values.get("eval_steps")
    if trl_values.get("eval_strategy") not in (None, "no") and every is not None:
        raise RecipeError("eval_strategy: leave it at no; with eval_steps the recipe evaluates each saved "
                          "checkpoint on the validation split itself (TRL's own evaluation needs an eval loss)")
    if every is None:
        if recipe.select_checkpoint == "best":
            raise RecipeError("select_checkpoint: best needs eval_steps (which checkpoints to evaluate)")
        return
    save = trl_values.get("save_steps", 500)
    if every != int(every) or every < 1 or int(every) % int(save):
        raise RecipeError(f"eval_steps: expected a whole multiple of save_steps ({save}): the recipe evaluates "
                          f"saved checkpoints, got {every}")
    if recipe.validation_split == recipe.eval_split:
        raise RecipeError(f"validation_split: {recipe.validation_split!r} is also eval_split; choosing a "
                          "checkpoint on the test split would peek at the final report's problems")


def check_grpo(recipe, grpo, config_dir: str | Path | None = None) -> None:
    """Group arithmetic, checked after TRL derived generation_batch_size; the rewards (`check_rewards`).

    A user's reward (``module:function``, ``file.py:function``, a file looked up in ``config_dir``
    first) is imported here, so a bad one stops the run before any data or model loads.
    """
    from rewards import check_rewards

    try:
        check_rewards(recipe.reward_funcs, recipe.format, recipe.reward_params, base_dir=config_dir)
    except (ValueError, TypeError) as err:
        raise RecipeError(str(err).strip().splitlines()[0]) from None
    if grpo.generation_batch_size % grpo.num_generations:
        raise RecipeError(
            f"num_generations: {grpo.num_generations} must divide the generation batch "
            f"({grpo.generation_batch_size} = per_device_train_batch_size x steps_per_generation)"
        )
    if grpo.reward_weights is not None and len(grpo.reward_weights) != len(recipe.reward_funcs):
        raise RecipeError(
            f"reward_weights: {len(grpo.reward_weights)} weights for {len(recipe.reward_funcs)} reward_funcs"
        )
