"""AIME 2024 (`HuggingFaceH4/aime_2024`): the 30 problems of the 2024 AIME I and II.

The set open-r1 and lighteval report as `aime24` (lighteval's task reads this repo,
config `default`, and evaluates on its only split, `train`). Hub columns: `id`,
`problem`, `solution` (worked), `answer` (an integer 0..999, as text), `url` (the
AoPS wiki page) and `year`.

Rows: question = problem, answer = answer (kept as written; graded with
math_verify), reasoning = solution.

Split names: ask for `split="test"`. It is the only meaningful split of an
evaluation set, and it reads the Hub's `train` split, which is where the Hub stores
the 30 problems; `split="train"` is refused on the Hub, so AIME cannot be trained on
by a mistyped split. A local copy (`data_file`) is read like any other source's.

>>> AIME24.hub_split("test")
'train'
"""

from __future__ import annotations

from data_prep.benchmark import KNOBS, Benchmark

__all__ = ["AIME24", "KNOBS", "load"]

AIME24 = Benchmark("aime24", "HuggingFaceH4/aime_2024", "default", {"test": "train"})


def load(*, split: str, data_file: str | None, **columns: object) -> list[dict]:
    """Rows {question, answer, reasoning} from the Hub or `data_file`."""
    options = {k: columns[k] for k in KNOBS if columns.get(k)}
    return AIME24.rows(split=split, data_file=data_file, **options)
