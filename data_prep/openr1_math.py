"""Competition-style math from Open R1: DAPO-Math-17k-Processed or OpenR1-Math-220k, or a local copy.

Hub sources (option `source`):

- `dapo` (default): `open-r1/DAPO-Math-17k-Processed`, config `en`, the set Unsloth's
  Qwen3 GRPO notebook trains on. Columns `prompt` (the problem) and `solution`
  (the gold answer, not a worked solution), so `reasoning` is "".
- `openr1`: `open-r1/OpenR1-Math-220k`, config `default`. Columns `problem`,
  `solution` (worked) and `answer` (gold). Rows whose `question_type` is `proof` are
  skipped: they have no answer to check.

Both hold only a `train` split, so on the Hub `split="test"` is a fixed held-out 2% of
it and `split="validation"` another, disjoint 2% (chosen by a hash of the problem text,
independent of seed: `data_prep.heldout`), and `split="train"` is the rest; no two share
a problem. A local file's splits are its own (its `split` column, or the whole file).

A local file may be in either layout: the question is the first of `problem`,
`prompt`, `question`; the gold is `answer` if present, else `solution`; the reasoning
is `solution` when `answer` holds the gold. The `*_column` options override this.
On the Hub a row without a gold answer is skipped; in a local file it is an error.

DAPO prompts may still carry DAPO's own instruction ("Solve the following math
problem step by step. The last line of your response should be of the form
Answer: ..."); it contradicts the format's system prompt, so it is stripped.

>>> strip_dapo_instruction(DAPO_PREFIX + "What is 1+1?" + DAPO_SUFFIX)
'What is 1+1?'
"""

from __future__ import annotations

import re

from data_prep.common import DataError, Table, hub_table, question_text, text_value
from data_prep.heldout import SPLIT_BUCKETS, TEST_BUCKET, bucket, held_out_rows
from data_prep.local_files import local_table

__all__ = [
    "DAPO_PREFIX",
    "DAPO_SUFFIX",
    "HUB_SOURCES",
    "KNOBS",
    "is_heldout",
    "load",
    "strip_dapo_instruction",
]

HUB_SOURCES: dict[str, tuple[str, str]] = {
    "dapo": ("open-r1/DAPO-Math-17k-Processed", "en"),
    "openr1": ("open-r1/OpenR1-Math-220k", "default"),
}
KNOBS = ("source", "question_column", "answer_column", "reasoning_column")

DAPO_PREFIX = (
    "Solve the following math problem step by step. The last line of your response should be of the "
    "form Answer: $Answer (without quotes) where $Answer is the answer to the problem.\n\n"
)
DAPO_SUFFIX = '\n\nRemember to put your answer on its own line after "Answer:".'
_DAPO_HEAD = re.compile(r"\ASolve the following math problem step by step\..*?\n\s*\n", re.DOTALL)
_DAPO_TAIL = re.compile(r"\s*Remember to put your answer on its own line after \"Answer:\"\.?\s*\Z")


def strip_dapo_instruction(prompt: str) -> str:
    """The bare problem of a DAPO prompt (unchanged when it has no DAPO instruction)."""
    return _DAPO_TAIL.sub("", _DAPO_HEAD.sub("", prompt, count=1)).strip()


def is_heldout(question: str) -> bool:
    """Whether a Hub problem belongs to the held-out `test` split (stable across runs)."""
    return bucket(question) == TEST_BUCKET


def load(
    *,
    split: str,
    data_file: str | None,
    source: str = "dapo",
    question_column: str | None = None,
    answer_column: str | None = None,
    reasoning_column: str | None = None,
    **_: object,
) -> list[dict]:
    """Rows {question, answer, reasoning}. `source` picks the Hub set; a data_file wins over it."""
    if data_file:
        table = local_table(data_file, split)
    else:
        if source not in HUB_SOURCES:
            raise DataError(f"source: unknown {source!r}; expected one of {', '.join(HUB_SOURCES)}")
        if split not in ("train", *SPLIT_BUCKETS):
            raise DataError(
                f"split: unknown {split!r} for openr1_math on the Hub; expected train, test or validation"
            )
        repo, config = HUB_SOURCES[source]
        table = hub_table(repo, config, "train")
    rows = _rows(table, question_column, answer_column, reasoning_column, strict=bool(data_file))
    if not data_file:
        rows = held_out_rows(rows, split)
    return rows


def _rows(
    table: Table,
    question_column: str | None,
    answer_column: str | None,
    reasoning_column: str | None,
    *,
    strict: bool,
) -> list[dict]:
    q = (
        table.require(question_column)
        if question_column
        else table.first_of(("problem", "prompt", "question"))
    )
    a = table.require(answer_column) if answer_column else table.first_of(("answer", "solution"))
    if reasoning_column:
        r = table.require(reasoning_column)
    else:
        r = "solution" if a != "solution" and table.has("solution") else None
    wanted = [c for c in (q, a, r, "question_type") if c]
    rows = []
    for n, record in table.fetch(wanted):
        if text_value(record.get("question_type")).lower() == "proof":
            continue
        question = strip_dapo_instruction(question_text(record.get(q)))
        gold = text_value(record.get(a))
        if not question or not gold:
            if not strict:
                continue  # Hub data: a few unusable rows are dropped, not fatal
            missing = f"an empty {q!r}" if not question else f"no gold answer (expected a value in {a!r})"
            raise table.row_error(n, f"has {missing}")
        reasoning = text_value(record.get(r)) if r else ""
        rows.append({"question": question, "answer": gold, "reasoning": reasoning})
    return rows

