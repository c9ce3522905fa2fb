"""`dataset: hub`: bring your own dataset -- any Hub dataset or local file, by naming its columns.

The other builders know their source's layout; this one is told it, so a new math set
needs a YAML change, not a module:

    dataset: hub
    dataset_kwargs: {path: ORG/NAME, name: CONFIG, question: problem, answer: solution,
                     answer_format: auto, heldout: validation}

Knobs: `path` (the Hub repo; `data_file` wins over it), `name` (its config), the columns
`question` (default: the first of question, problem, prompt), `answer` (default: answer,
solution) and `reasoning`, `answer_format` and `heldout`.

Gold (`answer_format`, per row): `gsm8k` is the text after the last `####` with thousands
separators removed (as `data_prep.gsm8k`), `boxed` the content of the last balanced
`\\boxed{...}`, `plain` the stripped cell; `auto` (default) picks gsm8k when the cell holds
`####`, boxed when it holds `\\boxed{`, else plain.

Reasoning: the `reasoning` column; else a `reasoning` or `solution` column the table has
(not the answer column); else the worked solution in the answer cell. A gsm8k-layout cell
gives its text before `####` (calculator annotations removed), a boxed cell itself (the
box is part of the prose), a plain answer cell none ("").

Splits: the builder's split is the split read, by name: the recipe asks for `train`,
its `eval_split` (default test) and its `validation_split` (default validation). A source
without one of them names it in `heldout` (`true`: both test and validation): that split
is then a fixed 1 in 50 of the source's `train` split, by a hash of the question
(`data_prep.heldout`, as gsm8k and openr1_math hold theirs out), and `train` is the rest.
A local file's splits are its `split` column, else the whole file is every split.

Other columns ride along as dataset columns -- to the rewards (TRL passes them as keyword
arguments) and to the report, which breaks accuracy down by short str/int columns -- if
every value is a scalar. Lists and dicts are dropped (they reach no report, and mixed
shapes break `Dataset.from_list`), as are names the builder or TRL use (`prompt`, `id`,
`completion`, `image`, ...). A column of whole floats becomes int; one mixing text and
numbers becomes text. A missing column, or an empty question or answer, is a one-line
DataError naming the knob, the column, the row and the file or repo.

>>> gold_and_reasoning("48/2 = <<48/2=24>>24\\n#### 1,024", "auto")
('1024', '48/2 = 24')
>>> gold_and_reasoning("Half of 6 is $\\\\boxed{3}$.", "auto")
('3', 'Half of 6 is $\\\\boxed{3}$.')
>>> gold_and_reasoning(" 42 ", "auto"), gold_and_reasoning("$\\\\boxed{42}$", "boxed")
(('42', ''), ('42', ''))
"""

from __future__ import annotations

from data_prep.common import DataError, Table, hub_table, question_text, text_value
from data_prep.formats import last_boxed_span
from data_prep.gsm8k import split_answer
from data_prep.heldout import EVERY, SPLIT_BUCKETS, held_out_rows
from data_prep.local_files import local_table

__all__ = ["ANSWER_FORMATS", "KNOBS", "RESERVED", "gold_and_reasoning", "load"]

KNOBS = ("path", "name", "question", "answer", "reasoning", "answer_format", "heldout")
ANSWER_FORMATS = ("auto", "gsm8k", "boxed", "plain")
DEFAULTS = {"question": ("question", "problem", "prompt"), "answer": ("answer", "solution")}
RESERVED = frozenset({"prompt", "question", "answer", "reasoning", "id", "split",  # ours
                      "prompts", "completion", "completions", "completion_ids", "trainer_state",  # TRL's
                      "log_extra", "log_metric", "environments", "image", "images"})
_MISSING_GOLD = {"gsm8k": "no '#### <gold>'", "boxed": "no balanced \\boxed{...}", "plain": "no text"}


def gold_and_reasoning(text: str, answer_format: str) -> tuple[str, str] | None:
    """(gold, reasoning) of an answer cell; None when it holds no gold in that format."""
    text = text.strip()
    fmt = _detect(text) if answer_format == "auto" else answer_format
    if fmt == "gsm8k":
        parsed = split_answer(text)
        return None if parsed is None else (parsed[1], parsed[0])
    if fmt == "boxed":
        span = last_boxed_span(text)
        gold = text[span[0] : span[1]].strip() if span else ""
        if not gold:
            return None
        rest = text[: span[0] - len("\\boxed{")] + text[span[1] + 1 :]
        return gold, text if rest.strip(" \t\n$.") else ""
    return (text, "") if text else None


def _worked(text: str) -> str:
    """A reasoning cell; one in GSM8K's layout loses its `####` line and calculator annotations."""
    parsed = split_answer(text) if "####" in text else None
    return parsed[0] if parsed else text


def _detect(text: str) -> str:
    return "gsm8k" if "####" in text else "boxed" if "\\boxed{" in text else "plain"


def load(
    *,
    split: str,
    data_file: str | None,
    path: str | None = None,
    name: str | None = None,
    question: str | None = None,
    answer: str | None = None,
    reasoning: str | None = None,
    answer_format: str = "auto",
    heldout: object = None,
    **_: object,
) -> list[dict]:
    """Rows {question, answer, reasoning, *scalar extra columns} of one split; see the module docstring."""
    if answer_format not in ANSWER_FORMATS:
        raise DataError(f"answer_format: unknown {answer_format!r}; expected one of {', '.join(ANSWER_FORMATS)}")
    for knob, value in (("name", name), ("question", question), ("answer", answer), ("reasoning", reasoning)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise DataError(f"{knob}: expected a column name (got {value!r})")
    held = _heldout(heldout)
    table, where = _table(split="train" if split in held else split, data_file=data_file, path=path, name=name)
    rows = _rows(table, where, question, answer, reasoning, answer_format)
    if split in held:
        kept = held_out_rows(rows, split, held)
        if not kept:
            raise DataError(f"split: none of the {len(rows)} train rows of {where} falls in the held-out "
                            f"{split!r} (1 in {EVERY}); give it more rows, or a split of its own")
        return kept
    if split == "train" and held:
        return held_out_rows(rows, "train", held)
    return rows


def _heldout(value: object) -> tuple[str, ...]:
    """`heldout` as split names: true -> test and validation; a name or a list of names."""
    if value is None or value is False:
        return ()
    if value is True:
        return tuple(SPLIT_BUCKETS)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names or any(n not in SPLIT_BUCKETS for n in names):
        raise DataError(f"heldout: expected true, false, test, validation or a list of them (got {value!r})")
    return tuple(names)


def _table(*, split: str, data_file: str | None, path: object, name: str | None) -> tuple[Table, str]:
    """The split's Table and how errors name it ("FILE", or "ORG/NAME (CONFIG) split 'train'")."""
    if data_file:
        table = local_table(data_file, split)
        return table, table.origin
    if not isinstance(path, str) or path.count("/") != 1 or not all(path.split("/")):
        raise DataError(f"path: dataset hub needs a Hub repo id ORG/NAME or a data_file (got {path!r})")
    try:
        table = hub_table(path, name, split)
    except DataError as exc:
        cause = exc.__cause__
        if isinstance(cause, ValueError) and "split" in str(cause).lower():
            hint = f", or hold it out of train: dataset_kwargs heldout: {split} (or true)" if split in SPLIT_BUCKETS else ""
            raise DataError(f"split: {path} has no split {split!r} ({cause}); set the recipe's "
                            f"eval_split/validation_split to one of its splits{hint}") from None
        raise
    return table, f"{table.origin} split {split!r}"


def _column(table: Table, where: str, knob: str, chosen: str | None) -> str:
    if chosen:
        if not table.has(chosen):
            raise DataError(f"{knob}: column {chosen!r} not in {where} (columns: {', '.join(table.columns)})")
        return chosen
    for candidate in DEFAULTS[knob]:
        if table.has(candidate):
            return candidate
    raise DataError(f"{knob}: no column {' or '.join(map(repr, DEFAULTS[knob]))} in {where} "
                    f"(columns: {', '.join(table.columns)}); set dataset_kwargs {knob}: COLUMN")


def _rows(table: Table, where: str, question: str | None, answer: str | None,
          reasoning: str | None, answer_format: str) -> list[dict]:
    q, a = _column(table, where, "question", question), _column(table, where, "answer", answer)
    if reasoning:
        r = _column(table, where, "reasoning", reasoning)
    else:
        r = next((c for c in ("reasoning", "solution") if c != a and table.has(c)), None)
    extras = [c for c in table.columns if c not in (q, a, r) and c not in RESERVED
              and (table.scalars is None or c in table.scalars)]
    records = table.fetch([c for c in (q, a, r, *extras) if c])
    rows = []
    for n, record in records:
        text = question_text(record.get(q))
        if not text:
            raise DataError(f"question: row {n} of {where} is empty (column {q!r})")
        cell = text_value(record.get(a))
        if not cell:
            raise DataError(f"answer: row {n} of {where} is empty (column {a!r})")
        parsed = gold_and_reasoning(cell, answer_format)
        if parsed is None:
            fmt = _detect(cell) if answer_format == "auto" else answer_format
            raise DataError(f"answer: row {n} of {where} has {_MISSING_GOLD[fmt]} in column {a!r} "
                            f"(answer_format {answer_format})")
        gold, worked = parsed
        rows.append({"question": text, "answer": gold, "reasoning": _worked(text_value(record.get(r))) if r else worked})
    for column in extras:
        values = _scalar_column([record.get(column) for _, record in records])
        if values is not None:
            for row, value in zip(rows, values, strict=True):
                row[column] = value
    return rows


def _scalar_column(values: list) -> list | None:
    """One type per column, as Arrow needs: None when any value is a list/dict (the column is dropped).

    >>> _scalar_column([3.0, None, 5]), _scalar_column([3, "Level 4"]), _scalar_column([[1], 2])
    ([3, None, 5], ['3', 'Level 4'], None)
    """
    present = [v for v in values if v is not None]
    if not all(isinstance(v, str | int | float | bool) for v in present):
        return None
    if any(isinstance(v, float) for v in present) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer() for v in present
    ):
        return [None if v is None else int(v) for v in values]
    if len({str if isinstance(v, str) else bool if isinstance(v, bool) else float for v in present}) > 1:
        return [None if v is None else text_value(v) for v in values]
    return values
