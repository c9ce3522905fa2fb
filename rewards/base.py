"""`Reward`: a per-completion scoring function made into a TRL reward function.

TRL calls ``reward(prompts=..., completions=..., completion_ids=..., **columns)``
and wants one float (or None) per completion. `Reward` turns every completion
into text (`completion_text`), reads the gold from the ``answer`` column when
the reward needs it (and the problem from the ``question`` column when it
needs that), calls the module-level scorer once per completion and
turns any exception into the reward's ``fallback`` (0.0): one odd completion
never takes a training step down.

A `Reward` is an object rather than a closure so that it pickles (TRL and
users may ship reward functions to worker processes: it pickles as "call this
factory with these scores"); its ``__name__`` is the registry name, which TRL
uses for the logged metric ``rewards/<name>/mean``.

A reward module defines only scorers; `reward` turns each into the factory the
registry exposes, taking the scores and their defaults from the scorer's
keyword-only parameters, so nothing is written twice::

    @reward(needs_answer=True)
    def correctness(text, gold, fmt, *, correct=2.0, wrong=0.0):
        "docstring: what it scores, its range, an example"
        ...

    correctness(FORMATS["xml"], correct=1.0)  # -> Reward named "correctness"

A scorer made with ``needs_question=True`` takes the row's question as a fourth
positional argument: ``f(text, gold, fmt, question, *, score=...)``.

When a scorer raises on odd output the completion gets the ``fallback`` score,
and when TRL passes its ``log_metric`` hook (GRPOTrainer does) the share of such
completions is logged as ``rewards/<name>/fallback_frac``: counted, not hidden. A
scorer that declines to read a completion returns `Screened` (a float), counted the same way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from data_prep.formats import ReasoningFormat
from rewards.completions import completion_text
from rewards.correctness import gold_text

__all__ = ["Reward", "Screened", "reward"]

Scorer = Callable[..., float]


class Screened(float):
    """A score for output the scorer declined to read (say, an exponent tower: rewards/screens.py).

    It scores as the float it is and is counted in ``fallback_frac`` like an exception's fallback.
    """


class Reward:
    """A named TRL reward function: ``reward(completions, **columns) -> list[float]``.

    ``scorer(text, gold, fmt, **params) -> float`` scores one completion;
    ``gold`` is None for rewards that do not read the ``answer`` column; a reward that
    ``needs_question`` is called ``scorer(text, gold, fmt, question, **params)``.
    """

    def __init__(
        self,
        name: str,
        scorer: Scorer,
        fmt: ReasoningFormat,
        *,
        needs_answer: bool,
        needs_question: bool = False,
        doc: str | None = None,
        fallback: float = 0.0,
        factory: Callable[..., Reward] | None = None,
        **params: Any,
    ) -> None:
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc
        self.scorer = scorer
        self.factory = factory
        self.fmt = fmt
        self.needs_answer = needs_answer
        self.needs_question = needs_question
        self.fallback = fallback
        self.params = params

    def __reduce__(self):
        # The scorer shares its public name with the module's factory, so pickle the factory call.
        if self.factory is None:
            return object.__reduce__(self)
        return _rebuild, (self.factory, self.fmt, self.params)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"<reward {self.__name__} format={self.fmt.name} {params}>"

    def _column(self, columns: dict[str, Any], name: str, what: str, n: int) -> Sequence[Any]:
        if name not in columns:
            raise ValueError(
                f"{self.__name__}: reward needs the dataset's {name!r} column ({what}); "
                f"got columns {sorted(columns)}"
            )
        values = columns[name]
        if values is None or isinstance(values, (str, int, float)):
            return [values] * n  # one value for the whole batch
        values = list(values)
        if len(values) != n:
            raise ValueError(f"{self.__name__}: {len(values)} {name} values for {n} completions")
        return values

    def __call__(self, completions: Sequence[Any], **columns: Any) -> list[float | None]:
        if isinstance(completions, (str, dict)) or not isinstance(completions, Sequence):
            raise TypeError(f"{self.__name__}: completions must be a list, got {type(completions).__name__}")
        n = len(completions)
        golds = self._column(columns, "answer", "gold answers", n) if self.needs_answer else [None] * n
        questions = self._column(columns, "question", "the problems", n) if self.needs_question else [None] * n
        scores: list[float | None] = []
        fallbacks = 0
        for completion, gold, question in zip(completions, golds, questions, strict=True):
            try:
                text = completion_text(completion)
                extra = (question,) if self.needs_question else ()
                raw = self.scorer(text, gold_text(gold), self.fmt, *extra, **self.params)
                fallbacks += isinstance(raw, Screened)
                score = float(raw)
            except Exception:  # model output must never crash training
                score, fallbacks = self.fallback, fallbacks + 1
            scores.append(score)
        log_metric = columns.get("log_metric")
        if callable(log_metric) and completions:
            log_metric(f"rewards/{self.__name__}/fallback_frac", fallbacks / len(completions))
        return scores


def _rebuild(factory: Callable[..., Reward], fmt: ReasoningFormat, params: dict[str, Any]) -> Reward:
    return factory(fmt, **params)


def reward(*, needs_answer: bool, needs_question: bool = False, validate: Callable[..., None] | None = None):
    """Decorator: a scorer ``f(text, gold, fmt, *, score=default, ...) -> float`` becomes the factory
    ``f(fmt, **scores) -> Reward``, named and documented as the scorer, whose signature lists the
    scores and defaults (the registry checks ``reward_params`` against it). ``validate(**scores)``
    runs at build time and raises ValueError for impossible settings."""

    def wrap(scorer: Scorer) -> Callable[..., Reward]:
        name = scorer.__name__
        scores = [p for p in inspect.signature(scorer).parameters.values() if p.kind is p.KEYWORD_ONLY]
        defaults = {p.name: p.default for p in scores}

        def factory(fmt: ReasoningFormat, **params: Any) -> Reward:
            unknown = sorted(set(params) - set(defaults))
            if unknown:
                raise TypeError(f"{name}() got an unexpected keyword argument {unknown[0]!r}")
            chosen = {**defaults, **params}
            if validate is not None:
                validate(**chosen)
            return Reward(name, scorer, fmt, needs_answer=needs_answer, needs_question=needs_question,
                          doc=scorer.__doc__, factory=factory, **chosen)

        factory.__name__ = factory.__qualname__ = name
        factory.__doc__ = scorer.__doc__
        factory.__module__ = scorer.__module__
        factory.__signature__ = inspect.Signature(
            [inspect.Parameter("fmt", inspect.Parameter.POSITIONAL_OR_KEYWORD), *scores],
            return_annotation="Reward")
        factory.scorer = scorer
        return factory

    return wrap
