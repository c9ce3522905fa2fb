"""A user's own reward in ``reward_funcs``, fitted to TRL's call: factories, ``reward_params``, the signature.

So that a recipe trains on a reward the registry does not have (TRL's own
``trl.rewards``, a judge, a unit-test runner) without editing this package. The
entry names it (`rewards.user_import`: ``package.module:function`` or
``path/to/file.py:function``); it has TRL's signature, ``f(completions, **columns)
-> list[float | None]``, sync or ``async``.

A *factory* is told apart by its signature: a callable that cannot take
``completions=`` (no such parameter and no ``**kwargs``) is called once with its
``reward_params`` and must return the reward (TRL's ``get_soft_overlong_punishment``
and ``get_cosine_scaled_reward`` are factories; so is a class whose ``__init__``
takes the scores and whose ``__call__`` scores). A reward function's
``reward_params`` are bound as keyword arguments, and must name its parameters.
Every entry is built as a ``functools.partial`` named after the function: TRL
logs ``rewards/<name>/mean``, and unwraps a partial to see that it is async.

What can be checked before any model loads is: the import, the callable, a
factory's arguments, and that TRL's call ``f(prompts=, completions=,
completion_ids=, trainer_state=, log_extra=, log_metric=, **columns)`` binds
(`check_signature`; the columns once the data is built). Each problem is one
ValueError starting with ``reward_funcs:`` or ``reward_params:``.

>>> is_factory(load_user_reward("trl.rewards:think_format_reward"))
False
>>> punish = build_user_reward("trl.rewards:get_soft_overlong_punishment",
...                            {"max_completion_len": 4, "soft_punish_cache": 2})
>>> punish.__name__, punish(completion_ids=[[1, 2], [1, 2, 3], [1, 2, 3, 4]])
('soft_overlong_punishment_reward', [0.0, -0.5, -1.0])
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from rewards.user_import import describe, is_user_reward, load_user_reward

__all__ = ["TRL_KEYWORDS", "build_user_reward", "check_signature", "is_factory", "is_user_reward",
           "load_user_reward"]

# What GRPOTrainer._calculate_rewards passes every reward function besides the dataset's columns.
TRL_KEYWORDS = ("prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric")


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without one: nothing to check
        return None


def _takes_completions(sig: inspect.Signature) -> bool:
    return any(p.kind is p.VAR_KEYWORD or (p.name == "completions" and p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                                                   p.KEYWORD_ONLY))
               for p in sig.parameters.values())


def _takes(fn: Callable[..., Any]) -> str:
    sig = _signature(fn)
    return f"it takes {', '.join(sig.parameters) or 'nothing'}" if sig is not None else "no signature"


def is_factory(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` cannot be called as ``fn(completions=...)``: it makes the reward, it is not one.

    >>> is_factory(lambda completions, **kw: [1.0]), is_factory(lambda max_len=10: None)
    (False, True)
    """
    sig = _signature(fn)
    return sig is not None and not _takes_completions(sig)


def check_signature(entry: str, fn: Callable[..., Any], columns: Iterable[str] | None = None) -> None:
    """ValueError unless TRL's keyword call binds to ``fn``; ``columns`` (the data's, once known) are passed too.

    >>> check_signature("a.py:f", lambda completions, solution, **kw: [])
    >>> check_signature("a.py:f", lambda completions, solution, **kw: [], columns=["answer"])
    Traceback (most recent call last):
    ...
    ValueError: reward_funcs: 'a.py:f' needs the column 'solution'; the training data has answer
    """
    sig = _signature(fn)
    if sig is None:
        return
    params = sig.parameters.values()
    if not _takes_completions(sig):
        raise ValueError(f"reward_funcs: {entry!r} cannot be called as f(completions=..., **columns) ({_takes(fn)})")
    positional = [p.name for p in params if p.kind is p.POSITIONAL_ONLY and p.default is p.empty]
    if positional:
        raise ValueError(f"reward_funcs: {entry!r} takes {', '.join(positional)} positionally only; "
                         "TRL passes everything by keyword")
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    passed = [*TRL_KEYWORDS, *(c for c in columns or () if c not in ("prompt", *TRL_KEYWORDS))]
    if columns is not None:
        needed = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                  and p.default is p.empty and p.name not in passed]
        if needed:
            raise ValueError(f"reward_funcs: {entry!r} needs the column {needed[0]!r}; the training data has "
                             f"{', '.join(c for c in passed if c not in TRL_KEYWORDS)}")
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        refused = [k for k in passed if k not in named]
        if refused:
            raise ValueError(f"reward_funcs: {entry!r} has no **kwargs, but TRL also passes "
                             f"{', '.join(refused)}: add **kwargs")


def build_user_reward(entry: str, params: Mapping[str, Any] | None = None, base_dir: str | Path | None = None,
                      columns: Iterable[str] | None = None, *, call_factory: bool = True) -> Callable[..., Any]:
    """``entry`` ready for GRPOTrainer: a partial named after its function, ``params`` applied.

    ``call_factory=False`` (the config check) stops before calling a factory: only its arguments are checked.
    """
    fn, params = load_user_reward(entry, base_dir), dict(params or {})
    columns = None if columns is None else list(columns)
    if is_factory(fn):
        try:
            inspect.signature(fn).bind(**params)
        except TypeError as err:
            if params:
                raise ValueError(f"reward_params: {entry!r} (a factory: it takes no completions): {err}") from None
            raise ValueError(f"reward_funcs: {entry!r} cannot be called as f(completions=..., **columns), and as "
                             f"a factory of a reward ({_takes(fn)}) it needs reward_params: {err}") from None
        if not call_factory:
            return fn
        try:
            made = fn(**params)
        except Exception as err:  # noqa: BLE001
            raise ValueError(f"reward_params: {entry!r} raised {describe(err)}") from None
        if not callable(made):
            raise ValueError(f"reward_funcs: {entry!r} cannot be called as f(completions=..., **columns) "
                             f"({_takes(fn)}), and as a factory it returned a {type(made).__name__}, not a reward")
        fn, params = made, {}
    sig = _signature(fn)
    reserved = sorted(set(params) & {*TRL_KEYWORDS, *(columns or ())})
    if reserved:
        raise ValueError(f"reward_params: {entry!r}: {reserved[0]} is passed by TRL, not a parameter")
    unknown = sorted(set(params) - set(sig.parameters if sig is not None else params))
    if unknown:  # (even with **kwargs: a misspelt score would vanish into them)
        raise ValueError(f"reward_params: {entry!r} has no parameter {unknown[0]!r}")
    reward = functools.partial(fn, **params)
    check_signature(entry, reward, columns)
    name = getattr(fn, "__name__", type(fn).__name__)
    reward.__name__ = name if name.isidentifier() else entry.rpartition(":")[2]  # (a lambda: the entry's name)
    return reward
