"""The answer check a recipe's evaluation grades with: the one its rewards train on.

Most recipes reward `is_correct` (through `answer`, `number` or `correctness`):
their reports grade with it (``exact``). A recipe that trains on `math_verify`
gets reports graded by math-verify's equivalence (``math_verify``), so an
answer its reward calls right is never counted wrong in its report.

>>> grader_for(["format_exact", "answer"]), grader_for(["math_verify"])
('exact', 'math_verify')
>>> GRADERS["math_verify"](r"\\sqrt{4}", "2"), GRADERS["exact"](r"\\sqrt{4}", "2")
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rewards.answer_rewards import math_equivalent
from rewards.correctness import is_correct

__all__ = ["GRADERS", "grader_for"]

GRADERS: dict[str, Callable[[str | None, object], bool]] = {
    "exact": is_correct,
    "math_verify": math_equivalent,
}


def grader_for(reward_funcs: Sequence[str]) -> str:
    """``math_verify`` when the recipe trains on it, else ``exact``."""
    return "math_verify" if "math_verify" in reward_funcs else "exact"
