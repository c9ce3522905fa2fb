"""Typed recipe config: one YAML per run plus `--key value` overrides, validated up front.

A run is described by two dataclasses: TRL's own ``GRPOConfig`` (learning_rate,
max_steps, num_generations, max_completion_length, ...: TRL's names, TRL's
defaults) and :class:`RecipeArguments` below (model, LoRA, format, data,
rewards, evaluation, SFT priming). A YAML file may set any field of either;
``--key value`` on the command line overrides it.

Order matters: the backend is resolved first (`recipes.backend`; for Unsloth
that imports unsloth, which swaps TRL's config class), then every value is
typed by its field's hint (`recipes.config_values`, which says why not
``TrlParser``), then TRL's ``__post_init__`` checks, its ``ValueError``
becoming one line naming the field.

>>> cfg = load_config("recipes/configs/grpo_smollm2_demo.yaml", ["--max_steps", "3"])
>>> cfg.grpo.max_steps, cfg.recipe.format
(3, 'r1')
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipes.backend import resolve_for_config, set_precision
from recipes.config_values import coerce, describe, is_secret, parse_overrides, plain, read_yaml, type_hints
from recipes.errors import RecipeError

DEFAULT_REWARDS = "format_exact,format_approx,answer,number"
@dataclass
class RecipeArguments:
    """The recipe's own settings; everything else is TRL's ``GRPOConfig``."""

    # --- model and LoRA (recipes.model.PolicySpec) ---
    model_name: str = field(default="smollm2-135m-instruct", metadata={
        "help": "Hub id, local path, or packaged alias (smollm2-135m-instruct: ships in a pip package)."})
    backend: str = field(default="auto", metadata={
        "help": "unsloth (CUDA, 4-bit + vLLM), transformers (CPU or CUDA), or auto."})
    load_in_4bit: bool = field(default=True, metadata={
        "help": "4-bit base weights (fits Qwen3-4B on 16 GB); false = 16-bit LoRA, faster rollouts."})
    max_seq_length: int = field(default=2048, metadata={"help": "Context length Unsloth/vLLM allocate for."})
    lora_rank: int = field(default=32, metadata={"help": "LoRA rank r."})
    lora_alpha: int = field(default=64, metadata={"help": "LoRA alpha (scale = alpha / r)."})
    lora_dropout: float = field(default=0.0, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={"help": "Modules that get LoRA adapters (comma list or YAML list)."})
    gpu_memory_utilization: float = field(default=0.7, metadata={
        "help": "Share of GPU memory vLLM may take inside Unsloth (fast_inference)."})
    chat_template: str = field(default="auto", metadata={
        "help": "model (tokenizer's own), format (reasoning-format template for base models), auto."})
    # --- data ---
    format: str = field(default="unsloth", metadata={"help": "Reasoning format: unsloth, xml, r1, boxed."})
    dataset: str = field(default="arithmetic", metadata={"help": "arithmetic, gsm8k or openr1_math."})
    data_file: str | None = field(default=None, metadata={"help": "Local jsonl/parquet instead of the hub."})
    dataset_split: str = field(default="train", metadata={"help": "Training split."})
    dataset_limit: int | None = field(default=None, metadata={"help": "Use at most this many rows."})
    dataset_kwargs: dict | None = field(default=None, metadata={
        "help": "Builder knobs, e.g. {max_operand: 30, operations: '+-'} for arithmetic, {source: dapo}."})
    # --- rewards (weights: GRPOConfig.reward_weights) ---
    reward_funcs: list[str] = field(default_factory=lambda: DEFAULT_REWARDS.split(","), metadata={
        "help": "Reward names from rewards.REGISTRY (comma list or YAML list)."})
    reward_params: dict | None = field(default=None, metadata={
        "help": "Per-reward score parameters, e.g. {answer: {correct: 2.0}}."})
    # --- evaluation before/after ---
    evaluate: bool = field(default=False, metadata={"help": "Evaluate base and tuned, write the report."})
    eval_dataset: str | None = field(default=None, metadata={"help": "Defaults to `dataset`."})
    eval_data_file: str | None = field(default=None, metadata={"help": "Defaults to `data_file`."})
    eval_split: str = field(default="test", metadata={"help": "Held-out split to evaluate on."})
    eval_limit: int | None = field(default=200, metadata={"help": "Held-out examples per evaluation."})
    eval_dataset_kwargs: dict | None = field(default=None, metadata={
        "help": "Builder knobs for the held-out set (defaults to dataset_kwargs)."})
    eval_max_new_tokens: int = field(default=512, metadata={"help": "Greedy tokens per evaluation answer."})
    eval_base_max_new_tokens: int | None = field(default=None, metadata={
        "help": "The base model's budget (it answers in prose: give it room to finish; flexible_accuracy)."})
    eval_batch_size: int = field(default=32, metadata={"help": "Prompts per generate() call."})
    # --- optional SFT format priming before GRPO ---
    sft_prime: dict | None = field(default=None, metadata={
        "help": "Short SFT on formatted worked solutions, e.g. {rows: 300, num_train_epochs: 1, learning_rate: 2e-4}."})
    # --- pre-flight learnability check and difficulty filter (recipes.learnability) ---
    preflight: bool = field(default=False, metadata={
        "help": "Sample as GRPO will before training; stop with exit 3 if no group varies (--force trains anyway)."})
    preflight_prompts: int = field(default=16, metadata={"help": "Training prompts the pre-flight samples."})
    difficulty_filter: dict | None = field(default=None, metadata={
        "help": "Keep prompts whose sampled pass rate is in (min_pass, max_pass), e.g. {samples: 8, limit: 256}."})
    # --- logging ---
    wandb_project: str = field(default="grpo-recipes", metadata={"help": "W&B project (report_to: wandb)."})


@dataclass
class RunConfig:
    recipe: RecipeArguments
    grpo: Any  # trl.GRPOConfig, or Unsloth's subclass of it when backend is unsloth (imported lazily)
    source: str
    explicit: dict[str, Any]  # the keys the user set (YAML + CLI), after type coercion
    backend: str = "transformers"  # recipe.backend resolved on this machine (auto -> unsloth/transformers)
    backend_problem: str | None = None  # why the requested backend cannot run here (load_policy raises it)


# ---------------------------------------------------------------- loading


def _field_hints() -> dict[str, tuple[str, Any]]:
    """field name -> (owner, type hint) for RecipeArguments and GRPOConfig (TRL's, or Unsloth's subclass)."""
    from trl import GRPOConfig

    hints: dict[str, tuple[str, Any]] = {}
    for owner, cls in (("grpo", GRPOConfig), ("recipe", RecipeArguments)):
        resolved = type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.init:
                hints[f.name] = (owner, resolved.get(f.name, Any))
    return hints


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """YAML + CLI overrides -> validated RecipeArguments and GRPOConfig, or RecipeError.

    The backend is resolved first: for Unsloth that imports unsloth, so the
    GRPOConfig built below is already Unsloth's class (see `recipes.backend`).
    """
    raw = {**read_yaml(path), **parse_overrides(overrides or [])}
    backend, backend_problem = resolve_for_config(raw.get("backend", RecipeArguments.backend))
    hints = _field_hints()
    values: dict[str, dict[str, Any]] = {"recipe": {}, "grpo": {}}
    for key, value in raw.items():
        if key not in hints:
            close = difflib.get_close_matches(key, hints, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RecipeError(f"{key}: unknown key in {path}{hint}")
        owner, hint_type = hints[key]
        try:
            values[owner][key] = coerce(hint_type, value)
        except ValueError:
            raise RecipeError(f"{key}: expected {describe(hint_type)}, got {value!r}") from None
    set_precision(values["grpo"])
    run_name = values["grpo"].setdefault("run_name", Path(path).stem)
    values["grpo"].setdefault("output_dir", str(Path("runs") / run_name))
    recipe = RecipeArguments(**values["recipe"])
    _validate_before_trl(recipe, values["grpo"])
    grpo = _build_grpo_config(values["grpo"])
    _validate_after_trl(recipe, grpo)
    return RunConfig(recipe, grpo, str(path), {**values["recipe"], **values["grpo"]}, backend, backend_problem)


def _build_grpo_config(values: dict[str, Any]):
    import warnings

    from trl import GRPOConfig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return GRPOConfig(**values)
        except (ValueError, TypeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RecipeError(f"config: {first}") from None


def _validate_before_trl(recipe: RecipeArguments, grpo: dict[str, Any]) -> None:
    """Checks whose TRL error would be unclear, or that TRL doesn't make."""
    from data_prep.formats import FORMATS

    steps = grpo.get("max_steps", -1)
    if steps == 0 or steps < -1:
        raise RecipeError(f"max_steps: expected a positive number of steps (or -1 for epochs), got {steps}")
    n_gen = grpo.get("num_generations", 8)
    if n_gen is not None and n_gen < 2:
        raise RecipeError(f"num_generations: GRPO compares completions within a group, expected >= 2, got {n_gen}")
    for name in ("learning_rate", "save_steps", "per_device_train_batch_size", "max_completion_length"):
        if name in grpo and grpo[name] is not None and grpo[name] <= 0:
            raise RecipeError(f"{name}: expected a positive number, got {grpo[name]}")
    if recipe.format not in FORMATS:
        raise RecipeError(f"format: unknown {recipe.format!r}; expected one of {', '.join(FORMATS)}")
    if recipe.lora_rank < 1 or recipe.lora_alpha < 1:
        raise RecipeError("lora_rank/lora_alpha: expected positive integers")
    for name in ("eval_limit", "dataset_limit", "preflight_prompts", "eval_base_max_new_tokens"):
        if getattr(recipe, name) is not None and getattr(recipe, name) < 1:
            raise RecipeError(f"{name}: expected a positive integer, got {getattr(recipe, name)}")
    if not recipe.reward_funcs:
        raise RecipeError("reward_funcs: expected at least one reward name")


def _validate_after_trl(recipe: RecipeArguments, grpo) -> None:
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


def resolved_config(cfg: RunConfig) -> dict[str, Any]:
    """What config.yaml records: every recipe field, the GRPO fields that were set, no secrets."""
    from trl import GRPOConfig

    grpo_fields = {f.name for f in dataclasses.fields(GRPOConfig) if f.init}
    keep = set(cfg.explicit) | {"learning_rate", "max_steps", "num_generations", "max_completion_length",
                                "per_device_train_batch_size", "gradient_accumulation_steps", "temperature",
                                "beta", "loss_type", "seed", "output_dir", "run_name", "save_steps",
                                "report_to", "use_vllm", "reward_weights"}
    out: dict[str, Any] = dataclasses.asdict(cfg.recipe)
    for name in sorted(keep & grpo_fields):
        out[name] = plain(getattr(cfg.grpo, name))
    out["config_file"] = cfg.source
    return {k: v for k, v in out.items() if not is_secret(k)}


