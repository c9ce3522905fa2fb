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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipes.backend import resolve_for_config, set_precision
from recipes.config_checks import check_before_trl, check_grpo
from recipes.config_values import coerce, describe, is_secret, parse_overrides, plain, read_yaml, type_hints
from recipes.errors import RecipeError
from recipes.recipe_arguments import DEFAULT_REWARDS, RecipeArguments
from recipes.trl_defaults import build_like_trl

__all__ = ["DEFAULT_REWARDS", "RecipeArguments", "RunConfig", "load_config", "recipe_parser", "resolved_config"]


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
        check_grpo(recipe, trl_config, Path(path).parent)
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
    if hasattr(cfg.grpo, "importance_sampling_level"):  # GRPO: the variant in force, defaults included
        from recipes.variants import in_force

        out["grpo_variant"] = in_force(cfg.grpo)
    return {k: v for k, v in out.items() if not is_secret(k)}


