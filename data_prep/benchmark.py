"""Evaluation benchmarks (MATH-500, AIME): a Hub split of problem / answer / solution rows, or a local copy.

The field reports math reasoners on a few fixed sets, each a single Hub split of
rows `problem` (the question), `answer` (the gold, LaTeX, kept as written: the
recipe grades it with math_verify) and `solution` (a worked solution, kept as the
`reasoning`). `Benchmark` names one such set; `rows` reads it the same way from the
Hub or from `data_file`, with the usual `question_column` / `answer_column` /
`reasoning_column` options and one-line errors naming the column and file.

Our split names map to the Hub's: an evaluation set is `test` here even where the
Hub stores it as `train` (AIME 2024), and any other split is refused on the Hub, so a
benchmark cannot be trained on by accident. A local file is read like every other
source: its `split` column picks rows, or the whole file is the split asked for.

>>> MINI = Benchmark("mini", "org/mini", "default", {"test": "train"})
>>> MINI.hub_split("test")
'train'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from data_prep.common import DataError, hub_table
from data_prep.local_files import local_table, table_rows

__all__ = ["KNOBS", "Benchmark"]

KNOBS = ("question_column", "answer_column", "reasoning_column")


@dataclass(frozen=True)
class Benchmark:
    """A named Hub evaluation set: repo, config, and our split name -> the Hub's split name."""

    name: str
    repo: str
    config: str | None
    splits: dict[str, str]

    def hub_split(self, split: str) -> str:
        if split not in self.splits:
            raise DataError(
                f"split: unknown {split!r} for {self.name} on the Hub; expected {' or '.join(self.splits)} "
                f"(an evaluation set: train on another dataset)"
            )
        return self.splits[split]

    def rows(
        self,
        *,
        split: str,
        data_file: str | None,
        question_column: str | None = None,
        answer_column: str | None = None,
        reasoning_column: str | None = None,
        keep: Sequence[str] = (),
    ) -> list[dict]:
        """Rows {question, answer, reasoning, *keep}; `reasoning` is `solution` when the table has one."""
        if data_file:
            table = local_table(data_file, split)
        else:
            table = hub_table(self.repo, self.config, self.hub_split(split))
        if not reasoning_column and table.has("solution"):
            reasoning_column = "solution"
        return table_rows(table, question_column or "problem", answer_column or "answer", reasoning_column, keep)
