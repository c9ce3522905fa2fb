"""The arithmetic generator's knobs, read from YAML or `--key value` text: one-line errors naming the knob.

`min_operand: "5"`, `steps: "1,1,2"` and `operations: [+, "*"]` all arrive as text or
lists from a config or the command line; each reader returns the typed value or raises a
`DataError` that starts with the knob's name.
"""

from __future__ import annotations

from data_prep.errors import DataError

MAX_STEPS = 10


def int_knob(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise DataError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise DataError(f"{name}: expected an integer, got {value!r}") from None


def steps_knob(value: object) -> list[int]:
    """One step count, or a list of them (a list, tuple, or "1,1,2") drawn from per problem."""
    if isinstance(value, str) and "," in value:
        value = [v for v in value.split(",") if v.strip()]
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise DataError("steps: expected an integer or a non-empty list of them (got [])")
    choices = [int_knob("steps", v) for v in items]
    for k in choices:
        if not 1 <= k <= MAX_STEPS:
            raise DataError(f"steps: must be between 1 and {MAX_STEPS} (got {k})")
    return choices


def operations_knob(value: object) -> str:
    text = "".join(value) if isinstance(value, list | tuple) else str(value)
    text = text.replace(",", "").replace(" ", "")
    bad = sorted(set(text) - set("+-*"))
    if not text or bad:
        raise DataError(f"operations: expected some of '+-*' (got {value!r})")
    return "".join(dict.fromkeys(text))
