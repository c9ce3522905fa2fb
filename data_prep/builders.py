"""The dataset registry and the finishing every builder shares.

A source module (`arithmetic`, `gsm8k`, `openr1_math`, the evaluation benchmarks
`math500`, `aime`, and `hub_dataset`: any dataset whose columns the config names) turns
the Hub, a local file or a generator into plain rows {question, answer, reasoning}.
`Builder` then does the rest the same way for all of them:

1. checks the common options (split, limit, seed, format) and the source's knobs;
2. numbers rows in source order (`id`, stable across seeds and limits);
3. shuffles with `seed` and keeps `limit` rows (generated sources are already random
   and are generated `limit` long, so they are not reshuffled);
4. builds the chat `prompt`: the format's system prompt, then the question.

Columns: prompt, answer, question, reasoning, id (+ phrasing, operation, steps for arithmetic;
subject, level, unique_id for math500; a hub dataset's own scalar columns). Splits: train
and test, plus validation (held out from train, disjoint from test) for arithmetic, gsm8k
and openr1_math; the benchmarks are test only; hub reads the split named, or holds it out.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from datasets import Dataset

from data_prep import aime, arithmetic, gsm8k, hub_dataset, math500, openr1_math
from data_prep.common import DataError
from data_prep.formats import ReasoningFormat, get_format

__all__ = ["DATASETS", "Builder", "build_dataset"]

LOCAL_KNOBS = ("question_column", "answer_column", "reasoning_column")


@dataclass(frozen=True)
class Builder:
    """A named source plus the options it accepts; call it to build a Dataset."""

    name: str
    load: Callable[..., list[dict]]
    knobs: tuple[str, ...]
    generated: bool = False  # rows are produced `limit` long in random order already
    description: str = ""

    def __call__(
        self,
        *,
        split: str = "train",
        limit: int | None = None,
        seed: int = 0,
        format: str | ReasoningFormat = "unsloth",
        data_file: str | None = None,
        **knobs: object,
    ) -> Dataset:
        fmt = _format(format)
        limit, seed = _limit(limit), _seed(seed)
        if not isinstance(split, str) or not split:
            raise DataError(f"split: expected a non-empty name such as 'train' or 'test' (got {split!r})")
        unknown = sorted(set(knobs) - set(self.knobs))
        if unknown:
            raise DataError(
                f"{unknown[0]}: not an option of dataset {self.name}; "
                f"its options are {', '.join(self.knobs) or 'none'}"
            )
        data_file = str(data_file) if data_file else None
        rows = self.load(split=split, data_file=data_file, limit=limit, seed=seed, **knobs)
        if not rows:
            where = f"data_file: {data_file}" if data_file else f"dataset: {self.name}"
            raise DataError(f"{where} gave an empty result for split {split!r}")
        for i, row in enumerate(rows):
            row["id"] = i
        if not (self.generated and not data_file):
            random.Random(seed).shuffle(rows)
        if limit is not None:
            rows = rows[:limit]
        return Dataset.from_list([_finish(row, fmt) for row in rows])


def _finish(row: dict, fmt: ReasoningFormat) -> dict:
    prompt = [
        {"role": "system", "content": fmt.system_prompt},
        {"role": "user", "content": row["question"]},
    ]
    extra = {k: v for k, v in row.items() if k not in ("question", "answer", "reasoning", "id")}
    return {
        "prompt": prompt,
        "answer": row["answer"],
        "question": row["question"],
        "reasoning": row["reasoning"],
        "id": row["id"],
        **extra,
    }


def _format(value: str | ReasoningFormat) -> ReasoningFormat:
    if isinstance(value, ReasoningFormat):
        return value
    try:
        return get_format(value)
    except ValueError as exc:  # already "format: unknown format ...; expected one of ..."
        raise DataError(str(exc)) from None


def _whole_number(field: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise DataError(f"{field}: expected a whole number (got {value!r})")


def _limit(value: object) -> int | None:
    if value is None:
        return None
    limit = _whole_number("limit", value)
    if limit < 1:
        raise DataError(
            f"limit: must be >= 1 or None for all rows (got {limit}); it would give an empty result"
        )
    return limit


def _seed(value: object) -> int:
    return _whole_number("seed", value)


DATASETS: dict[str, Builder] = {
    b.name: b
    for b in (
        Builder(
            "arithmetic",
            arithmetic.load,
            (*arithmetic.KNOBS, *LOCAL_KNOBS),
            generated=True,
            description="seeded synthetic word problems; offline default",
        ),
        Builder("gsm8k", gsm8k.load, gsm8k.KNOBS, description="openai/gsm8k (main), gold after ####"),
        Builder(
            "openr1_math",
            openr1_math.load,
            openr1_math.KNOBS,
            description="open-r1/DAPO-Math-17k-Processed (en) or open-r1/OpenR1-Math-220k",
        ),
        Builder("math500", math500.load, math500.KNOBS, description="HuggingFaceH4/MATH-500 (test), LaTeX golds"),
        Builder("aime24", aime.load, aime.KNOBS, description="HuggingFaceH4/aime_2024: 30 AIME 2024 problems (test)"),
        Builder("hub", hub_dataset.load, hub_dataset.KNOBS,
                description="any Hub dataset or local file: name its question/answer columns"),
    )
}


def build_dataset(
    name: str,
    /,
    *,
    split: str = "train",
    limit: int | None = None,
    seed: int = 0,
    format: str | ReasoningFormat = "unsloth",
    data_file: str | None = None,
    **knobs: object,
) -> Dataset:
    """Build dataset `name`; see the package docstring. Bad input raises a one-line DataError.

    `name` is positional-only, so a builder may take a knob called `name` (hub's Hub config).
    """
    try:
        builder = DATASETS[name]
    except (KeyError, TypeError):
        raise DataError(f"dataset: unknown {name!r}; expected one of {', '.join(sorted(DATASETS))}") from None
    return builder(split=split, limit=limit, seed=seed, format=format, data_file=data_file, **knobs)
