"""Shaping terms: length and repetition penalties, bounded, format-agnostic.

Neither reads the gold. Both are penalties only (never bonuses): a bonus for
length or variety is a bonus a policy can farm by padding.
"""

from __future__ import annotations

from itertools import islice

from data_prep.formats import ReasoningFormat
from rewards.base import reward

__all__ = ["length", "repetition"]


def _check_length(*, target, scale, penalty, unit) -> None:
    if unit not in ("words", "chars"):
        raise ValueError(f"length: unit must be 'words' or 'chars', got {unit!r}")
    if scale <= 0 or target < 0 or penalty < 0:
        raise ValueError("length: needs target >= 0, scale > 0 and penalty >= 0")


@reward(needs_answer=False, validate=_check_length)
def length(
    text: str, gold: None, fmt: ReasoningFormat, *, target: int = 400, scale: int = 200, penalty: float = 1.0, unit: str = "words"
) -> float:
    """Soft overlong penalty: 0 up to ``target``, then linearly down to ``-penalty`` at ``target + scale``.

    DAPO's "soft overlong punishment", measured in whitespace-separated words
    (``unit="words"``, tokenizer-free) or characters (``unit="chars"``). Set
    ``target + scale`` near the generation limit so truncated completions get
    the full penalty while ones that finish in time get none.

    Range: [-penalty, 0.0], default [-1.0, 0.0].

    >>> from data_prep.formats import FORMATS
    >>> reward = length(FORMATS["r1"], target=3, scale=2)
    >>> reward(["one two three", "one two three four", "a b c d e f g h"])
    [0.0, -0.5, -1.0]
    """
    size = len(text.split()) if unit == "words" else len(text)
    over = size - target
    return 0.0 if over <= 0 else -penalty * min(1.0, over / scale)


def _check_repetition(*, n, max_penalty) -> None:
    if n < 1 or max_penalty > 0:
        raise ValueError(
            f"repetition: needs n >= 1 and max_penalty <= 0, got n={n}, max_penalty={max_penalty}"
        )


@reward(needs_answer=False, validate=_check_repetition)
def repetition(
    text: str, gold: None, fmt: ReasoningFormat, *, n: int = 3, max_penalty: float = -1.0
) -> float:
    """``max_penalty`` times the fraction of repeated word ``n``-grams (open-r1's repetition penalty).

    Words are lower-cased, whitespace-separated; a completion shorter than
    ``n`` words scores 0. A completion that loops on one phrase approaches
    ``max_penalty``; one with no repeated ``n``-gram scores 0.

    Range: [max_penalty, 0.0], default [-1.0, 0.0].

    >>> from data_prep.formats import FORMATS
    >>> reward = repetition(FORMATS["r1"], n=2)
    >>> reward(["a b c d", "a b a b a"])
    [0.0, -0.5]
    """
    words = text.lower().split()
    if len(words) < n:
        return 0.0
    # Count distinct n-grams without building the list of them (megabytes of output stay fast).
    unique = len(set(zip(*(islice(words, i, None) for i in range(n)), strict=False)))  # shorter tails end it
    repeated = 1.0 - unique / (len(words) - n + 1)
    return max_penalty * repeated if repeated else 0.0
