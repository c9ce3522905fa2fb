"""`Reward`: a per-completion scoring function made into a TRL reward function.

TRL calls ``reward(prompts=..., completions=..., completion_ids=..., **columns)``
and wants one float (or None) per completion. `Reward` turns every completion
into text (`completion_text`), reads the gold from the ``answer`` column when
the reward needs it, calls the module-level scorer once per completion and
turns any exception into the reward's ``fallback`` (0.0): one odd completion
never takes a training step down.

A `Reward` is an object rather than a closure so that it pickles (TRL and
users may ship reward functions to worker processes); its ``__name__`` is the
registry name, which TRL uses for the logged metric ``rewards/<name>/mean``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from data_prep.formats import ReasoningFormat
from rewards.completions import completion_text
from rewards.correctness import gold_text

__all__ = ["Reward"]

Scorer = Callable[..., float]


class Reward:
    """A named TRL reward function: ``reward(completions, **columns) -> list[float]``.

    ``scorer(text, gold, fmt, **params) -> float`` scores one completion;
    ``gold`` is None for rewards that do not read the ``answer`` column.
    """

    def __init__(
        self,
        name: str,
        scorer: Scorer,
        fmt: ReasoningFormat,
        *,
        needs_answer: bool,
        doc: str | None = None,
        fallback: float = 0.0,
        **params: Any,
    ) -> None:
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc
        self.scorer = scorer
        self.fmt = fmt
        self.needs_answer = needs_answer
        self.fallback = fallback
        self.params = params

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"<reward {self.__name__} format={self.fmt.name} {params}>"

    def _golds(self, columns: dict[str, Any], n: int) -> Sequence[Any]:
        if not self.needs_answer:
            return [None] * n
        if "answer" not in columns:
            raise ValueError(
                f"{self.__name__}: reward needs the dataset's 'answer' column (gold answers); "
                f"got columns {sorted(columns)}"
            )
        golds = columns["answer"]
        if golds is None or isinstance(golds, (str, int, float)):
            return [golds] * n  # one gold for the whole batch
        golds = list(golds)
        if len(golds) != n:
            raise ValueError(f"{self.__name__}: {len(golds)} answers for {n} completions")
        return golds

    def __call__(self, completions: Sequence[Any], **columns: Any) -> list[float | None]:
        if isinstance(completions, (str, dict)) or not isinstance(completions, Sequence):
            raise TypeError(f"{self.__name__}: completions must be a list, got {type(completions).__name__}")
        golds = self._golds(columns, len(completions))
        scores: list[float | None] = []
        for completion, gold in zip(completions, golds, strict=True):
            try:
                text = completion_text(completion)
                score = float(self.scorer(text, gold_text(gold), self.fmt, **self.params))
            except Exception:  # model output must never crash training
                score = self.fallback
            scores.append(score)
        return scores
