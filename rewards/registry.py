"""The reward registry: names -> factories, and `build_rewards` for recipes.

A recipe names its rewards (``reward_funcs``), optionally their score
parameters (``reward_params``) and weights (``reward_weights``, which go to
TRL's ``GRPOConfig.reward_weights`` unchanged: TRL sums ``weight * reward``,
so rewards stay unscaled and their logged means stay readable).

Unsloth's Qwen3 GRPO notebook (the default)::

    reward_funcs: [format_exact, format_approx, answer, number]

The classic XML GRPO demo::

    format: xml
    reward_funcs: [xml_count, format_soft, format_exact, integer, correctness]
    reward_params: {format_exact: {score: 0.5}}

A user's reward is named by where it lives, ``module:function`` or
``path/to/file.py:function`` (`rewards.user_rewards`), and sits in the same list::

    reward_funcs: [format_exact, answer, "trl.rewards:think_format_reward", "my_rewards.py:brevity"]
    reward_params: {"trl.rewards:get_soft_overlong_punishment": {max_completion_len: 512, soft_punish_cache: 64}}

A ``reward_params`` key is the entry as written or, for a user's reward, its
function name when one entry has it. No two rewards may share a name: TRL logs
each as ``rewards/<name>/mean``, and two under one name would be averaged into
one curve.

>>> from data_prep.formats import FORMATS
>>> funcs = build_rewards(["answer", "number"], FORMATS["unsloth"], params={"answer": {"correct": 2.0}})
>>> [f.__name__ for f in funcs], validate_weights(["answer", "number"], None)
(['answer', 'number'], [1.0, 1.0])
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from data_prep.formats import ReasoningFormat, get_format
from rewards.answer_rewards import answer, correctness, integer, math_verify, number
from rewards.base import Reward
from rewards.format_rewards import format_approx, format_exact, format_soft, xml_count
from rewards.shaping import length, repetition
from rewards.user_rewards import build_user_reward, is_user_reward
from rewards.working import working

__all__ = ["REGISTRY", "build_rewards", "check_rewards", "validate_weights"]

REGISTRY: dict[str, Callable[..., Reward]] = {
    "format_exact": format_exact,
    "format_approx": format_approx,
    "answer": answer,
    "number": number,
    "math_verify": math_verify,
    "correctness": correctness,
    "format_soft": format_soft,
    "integer": integer,
    "xml_count": xml_count,
    "length": length,
    "repetition": repetition,
    "working": working,
}


def _names(names: Sequence[str]) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"reward_funcs: expected a list of reward names, got {names!r}")
    names = list(names)
    if not names:
        raise ValueError(f"reward_funcs: name at least one reward; known: {', '.join(REGISTRY)}")
    for name in names:
        if name not in REGISTRY and not is_user_reward(name):
            raise ValueError(f"reward_funcs: unknown reward {name!r}; known: {', '.join(REGISTRY)} "
                             "(or your own: module:function, path/to/file.py:function)")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"reward_funcs: {', '.join(duplicates)} named more than once")
    return names


def _build_one(name: str, fmt: ReasoningFormat, params: Mapping[str, Any]) -> Reward:
    factory = REGISTRY[name]
    accepted = [p for p in inspect.signature(factory).parameters if p != "fmt"]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"reward_params: {name} has no parameter {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(accepted)}"
        )
    try:
        return factory(fmt, **params)
    except (TypeError, ValueError) as err:
        raise ValueError(f"reward_params: {err}") from None


def build_rewards(
    names: Sequence[str],
    fmt: ReasoningFormat | str,
    weights: Sequence[float] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    base_dir: str | Path | None = None,
    columns: Sequence[str] | None = None,
) -> list[Callable[..., Any]]:
    """The reward functions ``names`` for format ``fmt``, ready for ``GRPOTrainer(reward_funcs=...)``.

    ``params`` maps a reward name to keyword arguments of its factory (its
    scores). ``weights``, when given, are only validated here (see
    `validate_weights`); pass them to ``GRPOConfig.reward_weights``. A user's
    file reward is looked up in ``base_dir`` (the config's folder), then the
    current one; ``columns``, the training data's, are checked against what a
    user's reward requires. Every problem is a ValueError whose message starts
    with the config key at fault (``reward_funcs:``, ``reward_params:``, ``reward_weights:``).
    """
    return _build(names, fmt, weights, params, base_dir, columns, call_factories=True)


def check_rewards(names: Sequence[str], fmt: ReasoningFormat | str, params: Mapping[str, Any] | None = None,
                  base_dir: str | Path | None = None) -> None:
    """`build_rewards`' checks, before the data exists and without calling a user's factory (it may load a model).

    >>> check_rewards(["answer", "trl.rewards:nope"], "r1")
    Traceback (most recent call last):
    ...
    ValueError: reward_funcs: 'trl.rewards:nope': trl.rewards has no 'nope'; it defines accuracy_reward, ...
    """
    _build(names, fmt, None, params, base_dir, None, call_factories=False)


def _build(names, fmt, weights, params, base_dir, columns, *, call_factories: bool) -> list[Callable[..., Any]]:
    names = _names(names)
    if isinstance(fmt, str):
        fmt = get_format(fmt)
    params = _params_by_entry(names, params)
    validate_weights(names, weights)
    built = [build_user_reward(name, params.get(name), base_dir, columns, call_factory=call_factories)
             if is_user_reward(name) else _build_one(name, fmt, params.get(name, {})) for name in names]
    _check_unique([(n, f) for n, f in zip(names, built, strict=True) if call_factories or not _is_unbuilt(n, f)])
    return built


def _is_unbuilt(name: str, fn: Callable[..., Any]) -> bool:
    """A user's factory that `check_rewards` left uncalled: its reward's name is not known yet."""
    return is_user_reward(name) and not isinstance(fn, functools.partial)


def _params_by_entry(names: list[str], params: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """``reward_params`` keyed by entry: a key is an entry as written, or the function name of one user entry."""
    by_function: dict[str, list[str]] = {}
    for name in names:
        if is_user_reward(name):
            by_function.setdefault(name.rpartition(":")[2], []).append(name)
    out: dict[str, Mapping[str, Any]] = {}
    for key, kwargs in (params or {}).items():
        entries = [key] if key in names else by_function.get(key, [])
        if not entries:
            raise ValueError(f"reward_params: {key} not in reward_funcs ({', '.join(names)})")
        if len(entries) > 1:
            raise ValueError(f"reward_params: {key} could be {' or '.join(entries)}; key it by the full entry")
        if entries[0] in out:
            raise ValueError(f"reward_params: {entries[0]} given twice (as {key} and by its full entry)")
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"reward_params: {key} needs a mapping of parameters, got {kwargs!r}")
        out[entries[0]] = kwargs
    return out


def _check_unique(built: list[tuple[str, Callable[..., Any]]]) -> None:
    """TRL logs each reward as rewards/<__name__>/mean: two with one name would share one curve."""
    seen: dict[str, str] = {}
    for entry, fn in built:
        name = fn.__name__
        if name in seen:
            raise ValueError(f"reward_funcs: {seen[name]} and {entry} are both named {name!r} (TRL logs "
                             f"rewards/{name}/mean for each); rename one function")
        seen[name] = entry


def validate_weights(names: Sequence[str], weights: Sequence[float] | None) -> list[float]:
    """One finite float weight per reward name; None means 1.0 each (TRL's default).

    >>> validate_weights(["answer", "number"], [2, 0.5])
    [2.0, 0.5]
    """
    if weights is None:
        return [1.0] * len(names)
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ValueError(f"reward_weights: expected a list of numbers, got {weights!r}")
    if len(weights) != len(names):
        raise ValueError(
            f"reward_weights: {len(weights)} weights for {len(names)} reward_funcs ({', '.join(names)})"
        )
    out = []
    for name, weight in zip(names, weights, strict=True):
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise ValueError(f"reward_weights: weight of {name} must be a finite number, got {weight!r}")
        out.append(float(weight))
    return out
