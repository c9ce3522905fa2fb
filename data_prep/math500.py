"""MATH-500 (`HuggingFaceH4/MATH-500`, split `test`): the 500 MATH problems of "Let's Verify Step by Step".

The set open-r1 and lighteval report math reasoners on (lighteval's `math_500` task
reads this repo, config `default`, split `test`). Hub columns: `problem`, `solution`
(worked, ends in `\\boxed{...}`), `answer` (the gold, LaTeX such as
`\\left( 3, \\frac{\\pi}{2} \\right)`, kept as written: the recipe grades with
math_verify), `subject` (7 values: Algebra, Prealgebra, Number Theory, ...), `level`
(1..5) and `unique_id` (the MATH file, e.g. `test/precalculus/807.json`).

Rows: question = problem, answer = answer, reasoning = solution, plus `subject` (str)
and `level` (int) -- short columns with a few values, which the report breaks
accuracy down by on its own -- and `unique_id`, to trace a row back to the Hub.
`level` is read as a number even from copies of MATH that write "Level 3".

Only `test` exists on the Hub: it is an evaluation set, so other splits are refused
there. A local copy (`data_file`) is read like any other source's.

>>> level_number("Level 3"), level_number(4), level_number("?")
(3, 4, '?')
"""

from __future__ import annotations

import re

from data_prep.benchmark import KNOBS, Benchmark

__all__ = ["CATEGORY_COLUMNS", "KNOBS", "MATH500", "level_number", "load"]

MATH500 = Benchmark("math500", "HuggingFaceH4/MATH-500", "default", {"test": "test"})
CATEGORY_COLUMNS = ("subject", "level")
_LEVEL = re.compile(r"\s*(?:level\s*)?(\d+)\s*", re.IGNORECASE)


def level_number(value: object) -> object:
    """A MATH difficulty as an int (4, "4", "Level 4" -> 4); anything else unchanged."""
    if isinstance(value, str) and (m := _LEVEL.fullmatch(value)):
        return int(m[1])
    return value


def load(*, split: str, data_file: str | None, **columns: object) -> list[dict]:
    """Rows {question, answer, reasoning, subject, level, unique_id} from the Hub or `data_file`."""
    options = {k: columns[k] for k in KNOBS if columns.get(k)}
    rows = MATH500.rows(split=split, data_file=data_file, keep=(*CATEGORY_COLUMNS, "unique_id"), **options)
    for row in rows:
        if "level" in row:
            row["level"] = level_number(row["level"])
    return rows
