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

>>> from data_prep.formats import FORMATS
>>> funcs = build_rewards(["answer", "number"], FORMATS["unsloth"], params={"answer": {"correct": 2.0}})
>>> [f.__name__ for f in funcs], validate_weights(["answer", "number"], None)
(['answer', 'number'], [1.0, 1.0])
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from data_prep.formats import ReasoningFormat, get_format
from rewards.answer_rewards import answer, correctness, integer, math_verify, number
from rewards.base import Reward
from rewards.format_rewards import format_approx, format_exact, format_soft, xml_count
from rewards.shaping import length, repetition
from rewards.working import working

__all__ = ["REGISTRY", "build_rewards", "validate_weights"]

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
        if name not in REGISTRY:
            raise ValueError(f"reward_funcs: unknown reward {name!r}; known: {', '.join(REGISTRY)}")
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
) -> list[Reward]:
    """The reward functions ``names`` for format ``fmt``, ready for ``GRPOTrainer(reward_funcs=...)``.

    ``params`` maps a reward name to keyword arguments of its factory (its
    scores). ``weights``, when given, are only validated here (see
    `validate_weights`); pass them to ``GRPOConfig.reward_weights``. Every
    problem is a ValueError whose message starts with the config key at fault
    (``reward_funcs:``, ``reward_params:``, ``reward_weights:``).
    """
    names = _names(names)
    if isinstance(fmt, str):
        fmt = get_format(fmt)
    params = dict(params or {})
    stray = sorted(set(params) - set(names))
    if stray:
        raise ValueError(f"reward_params: {', '.join(stray)} not in reward_funcs ({', '.join(names)})")
    for name, kwargs in params.items():
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"reward_params: {name} needs a mapping of parameters, got {kwargs!r}")
    validate_weights(names, weights)
    return [_build_one(name, fmt, params.get(name, {})) for name in names]


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
