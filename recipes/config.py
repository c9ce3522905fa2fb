"""Typed recipe config: one YAML per run plus `--key value` overrides, validated up front.

A run is described by two dataclasses: TRL's own ``GRPOConfig`` (learning_rate,
max_steps, num_generations, max_completion_length, ...: TRL's names, TRL's
defaults) and :class:`RecipeArguments` below (model, LoRA, format, data,
rewards, evaluation, SFT priming). A YAML file may set any field of either;
``--key value`` on the command line overrides it. Another recipe names its TRL
config class (``trl_class="DPOConfig"``) and may add a dataclass of its own keys
(``extra=``, kept in ``cfg.extra``); GRPO's group checks run for GRPO only.

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

import argparse
import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipes.backend import resolve_for_config, set_precision
from recipes.config_checks import check_before_trl, check_grpo
from recipes.config_values import coerce, describe, is_secret, parse_overrides, plain, read_yaml, type_hints
from recipes.errors import RecipeError
from recipes.trl_defaults import build_like_trl

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
    system_prompt: str | None = field(default=None, metadata={
        "help": "Replaces the format's system prompt in every prompt (training, priming, evaluation). "
                "Each prompt token is computed at every step: the CPU demo uses a short one."})
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
    balance_by: str | None = field(default=None, metadata={
        "help": "A category column (e.g. operation): every GRPO batch takes its prompts from each category in "
                "turn, instead of TRL's shuffle."})
    difficulty_filter: dict | None = field(default=None, metadata={
        "help": "Keep prompts whose sampled pass rate is in (min_pass, max_pass), e.g. {samples: 8, limit: 256}."})
    # --- logging ---
    wandb_project: str = field(default="grpo-recipes", metadata={"help": "W&B project (report_to: wandb)."})


@dataclass
class RunConfig:
    recipe: RecipeArguments
    grpo: Any  # trl.GRPOConfig (load_config's trl_class), or Unsloth's subclass of it when backend is unsloth
    source: str
    explicit: dict[str, Any]  # the keys the user set (YAML + CLI), after type coercion
    backend: str = "transformers"  # recipe.backend resolved on this machine (auto -> unsloth/transformers)
    backend_problem: str | None = None  # why the requested backend cannot run here (load_policy raises it)
    extra: Any = None  # load_config's extra= dataclass: a recipe's own keys (recipes.dpo's IdentityArguments)


# ---------------------------------------------------------------- loading


def recipe_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A recipe CLI's parser: CONFIG and --dry-run; ``parse_known_args`` leaves the ``--key value`` overrides."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    parser.add_argument("config")
    parser.add_argument("--dry-run", action="store_true", help="resolve and check everything, load no model")
    return parser


def _field_hints(owners: dict[str, type]) -> dict[str, tuple[str, Any]]:
    """field name -> (owner, type hint) for each owner's dataclass (TRL's config class, or Unsloth's subclass)."""
    hints: dict[str, tuple[str, Any]] = {}
    for owner, cls in owners.items():
        resolved = type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.init:
                hints[f.name] = (owner, resolved.get(f.name, Any))
    return hints


def load_config(path: str | Path, overrides: list[str] | None = None, *, trl_class: str = "GRPOConfig",
                extra: type | None = None) -> RunConfig:
    """YAML + CLI overrides -> validated RecipeArguments and TRL config (``trl.<trl_class>``), or RecipeError.

    The backend is resolved first: for Unsloth that imports unsloth, so the TRL
    config built below is already Unsloth's class (see `recipes.backend`).
    ``extra``: a recipe's own dataclass (``cfg.extra``), whose ``__post_init__`` raises RecipeError.
    """
    raw = {**read_yaml(path), **parse_overrides(overrides or [])}
    backend, backend_problem = resolve_for_config(raw.get("backend", RecipeArguments.backend))
    import trl  # only now: after unsloth's import, its classes are trl's

    owners = {"grpo": getattr(trl, trl_class), "recipe": RecipeArguments, **({"extra": extra} if extra else {})}
    hints = _field_hints(owners)
    values: dict[str, dict[str, Any]] = {owner: {} for owner in owners}
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
    check_before_trl(recipe, values["grpo"])
    extra_args = extra(**values["extra"]) if extra else None
    trl_config = _build_trl_config(owners["grpo"], values["grpo"])
    if trl_class == "GRPOConfig":
        check_grpo(recipe, trl_config)
    explicit = {k: v for owner in values.values() for k, v in owner.items()}
    return RunConfig(recipe, trl_config, str(path), explicit, backend, backend_problem, extra_args)


def _build_trl_config(cls: type, values: dict[str, Any]):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return build_like_trl(cls, values)  # TRL's defaults under Unsloth's class too
        except (ValueError, TypeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RecipeError(f"config: {first}") from None


def resolved_config(cfg: RunConfig) -> dict[str, Any]:
    """What config.yaml records: every recipe (and extra) field, the TRL fields that were set, no secrets."""
    trl_fields = {f.name for f in dataclasses.fields(type(cfg.grpo)) if f.init}
    keep = set(cfg.explicit) | {"learning_rate", "max_steps", "num_generations", "max_completion_length",
                                "per_device_train_batch_size", "gradient_accumulation_steps", "temperature",
                                "beta", "loss_type", "seed", "output_dir", "run_name", "save_steps",
                                "report_to", "use_vllm", "reward_weights"}
    out: dict[str, Any] = dataclasses.asdict(cfg.recipe)
    out.update(dataclasses.asdict(cfg.extra) if cfg.extra is not None else {})
    for name in sorted(keep & trl_fields):
        out[name] = plain(getattr(cfg.grpo, name))
    out["config_file"] = cfg.source
    return {k: v for k, v in out.items() if not is_secret(k)}


