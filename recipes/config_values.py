"""Config values as YAML and the command line give them, typed by the dataclasses' hints.

Why by hand and not ``transformers.HfArgumentParser`` / ``trl.TrlParser``: those report
bad input through argparse (usage text, then the error), they parse only command-line
strings, and a wrong-typed YAML value goes through them untouched to a deep traceback
inside TRL. A recipe promises one line naming the field, and exit code 2, for both.
So values are coerced here from the fields' own type hints (``int | None``,
``list[str]``, enums, ...): CLI strings are parsed, YAML values are checked.

>>> coerce(int | None, "3"), coerce(int | None, "null"), coerce(list[str], "a, b")
(3, None, ['a', 'b'])
>>> describe(float | None)
'float or null'
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from recipes.errors import RecipeError

_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _members(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _coerce_one(value: Any, hint: Any) -> Any:
    """Convert ``value`` to ``hint`` or raise ValueError; strings come from the CLI."""
    origin = typing.get_origin(hint) or hint
    if hint is Any:  # Unsloth's vllm_sampling_params
        return value
    if hint is type(None):
        # Only YAML's spelling: "none" is a real value of some TRL fields (report_to: none).
        if value is None or (isinstance(value, str) and value in ("null", "~")):
            return None
    elif hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            return int(value)
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is list:
        (item,) = typing.get_args(hint) or (str,)
        items = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value
        if isinstance(items, (list, tuple)):
            return [coerce(item, x) for x in items]
    elif origin is dict:
        if isinstance(value, str):
            value = yaml.safe_load(value)
        if isinstance(value, dict):
            return value
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value.value if isinstance(value, enum.Enum) else value)
    raise ValueError


def coerce(hint: Any, value: Any) -> Any:
    """``value`` as type ``hint`` (a union tries each member), or ValueError."""
    for member in sorted(_members(hint), key=lambda h: h is str):  # str last: it accepts anything textual
        try:
            return _coerce_one(value, member)
        except (ValueError, TypeError):
            continue
    raise ValueError


def describe(hint: Any) -> str:
    """A type hint in words, for error messages."""
    names = []
    for m in _members(hint):
        names.append("null" if m is type(None) else getattr(m, "__name__", str(m)))
    return " or ".join(names)


def type_hints(cls: type) -> dict[str, Any]:
    """Resolved annotations; a class generated at run time (Unsloth's) may not resolve: then per class."""
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        hints: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            if dataclasses.is_dataclass(klass):
                try:
                    hints.update(typing.get_type_hints(klass))
                except (NameError, TypeError):
                    hints.update({name: Any for name in getattr(klass, "__annotations__", {})})
        return hints


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise RecipeError(f"config: {p} not found (expected a YAML file, e.g. recipes/configs/grpo_smollm2_demo.yaml)")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RecipeError(f"config: {p} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RecipeError(f"config: {p} must be a mapping of key: value, got {type(data).__name__}")
    return data


def parse_overrides(argv: list[str]) -> dict[str, str]:
    """``--key value`` / ``--key=value`` / bare ``--flag`` (true) pairs; dashes become underscores."""
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--") or len(arg) == 2:
            raise RecipeError(f"arguments: expected --key value, got {arg!r}")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                value, i = argv[i + 1], i + 1
            else:
                value = "true"
        out[key.replace("-", "_")] = value
        i += 1
    return out


def plain(value: Any) -> Any:
    """A config value as YAML can write it (enums by value, tuples as lists, other objects as text)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))


# Never written to config.yaml. By name, not substring: "token" would also drop
# eval_max_new_tokens or max_completion_length's siblings and break re-evaluation.
SECRET_KEYS = frozenset({"hub_token"})
SECRET_SUFFIXES = ("api_key", "password", "secret", "auth_token")


def is_secret(key: str) -> bool:
    """
    >>> [is_secret(k) for k in ("hub_token", "wandb_api_key", "eval_max_new_tokens", "pad_token")]
    [True, True, False, False]
    """
    return key in SECRET_KEYS or key.lower().endswith(SECRET_SUFFIXES)
