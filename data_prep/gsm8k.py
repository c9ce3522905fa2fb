"""GSM8K grade-school math (`openai/gsm8k`, config `main`, splits train/test) or a local copy.

Splits on the Hub: `test` is GSM8K's own test split; `validation` is a fixed 1 in 50 of
its train split (chosen by a hash of the question: `data_prep.heldout`, independent of
seed), for choosing checkpoints without peeking at `test`; `train` is the rest of its
train split. A local file's splits are its own (its `split` column, or the whole file).

Each GSM8K answer is a worked solution whose last line is `#### <gold>`:

    Natalia sold 48/2 = <<48/2=24>>24 clips in May.
    ...
    #### 72

The gold is the text after the last `####`, stripped, with thousands separators
removed ("1,600" -> "1600") so it compares with what a model writes. The reasoning is
the text before it with the `<<48/2=24>>` calculator annotations removed (they are an
artefact of how GSM8K was written, not something we want an SFT-primed model to copy).

>>> split_answer("Half is 48/2 = <<48/2=24>>24.\\n#### 1,024")
('Half is 48/2 = 24.', '1024')
"""

from __future__ import annotations

import re

from data_prep.common import DataError, Table, hub_table, text_value
from data_prep.heldout import held_out_rows
from data_prep.local_files import local_table

__all__ = ["HUB_CONFIG", "HUB_REPO", "KNOBS", "SPLITS", "load", "split_answer"]

HUB_REPO, HUB_CONFIG = "openai/gsm8k", "main"
SPLITS = ("train", "test", "validation")
KNOBS = ("question_column", "answer_column")

_CALCULATOR = re.compile(r"<<[^<>]*>>")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def split_answer(text: str) -> tuple[str, str] | None:
    """(reasoning, gold) of a GSM8K answer; None when there is no non-empty `#### gold`."""
    reasoning, marker, gold = text.rpartition("####")
    gold = _THOUSANDS.sub("", gold.strip())
    if not marker or not gold:
        return None
    return _CALCULATOR.sub("", reasoning).strip(), gold


def load(
    *,
    split: str,
    data_file: str | None,
    question_column: str = "question",
    answer_column: str = "answer",
    **_: object,
) -> list[dict]:
    """Rows {question, answer, reasoning} from the Hub or `data_file`."""
    if data_file:
        table = local_table(data_file, split)
    else:
        if split not in SPLITS:
            raise DataError(
                f"split: unknown {split!r} for gsm8k on the Hub; expected one of {', '.join(SPLITS)}"
            )
        table = hub_table(HUB_REPO, HUB_CONFIG, "test" if split == "test" else "train")
    rows = _rows(table, question_column, answer_column)
    if data_file or split == "test":
        return rows
    return held_out_rows(rows, split, held=("validation",))


def _rows(table: Table, question_column: str, answer_column: str) -> list[dict]:
    q, a = table.require(question_column), table.require(answer_column)
    rows = []
    for n, record in table.fetch([q, a]):
        question = text_value(record.get(q))
        if not question:
            raise table.row_error(n, f"has an empty {q!r}")
        parsed = split_answer(text_value(record.get(a)))
        if parsed is None:
            raise table.row_error(n, f"has no gold answer (expected '#### <number>' in {a!r})")
        reasoning, gold = parsed
        rows.append({"question": question, "answer": gold, "reasoning": reasoning})
    return rows
