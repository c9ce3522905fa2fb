"""`working`: credit for worked arithmetic that checks out, without reading the gold.

A process reward for word problems solved in a few binary equations: the
arithmetic generator's ``12 + 7 = 19`` lines, GSM8K's ``48/2 = 24``. It reads
the completion's reasoning (everything before the answer section) and gives
``score`` times the share of the question's numbers the working uses, but only
when all four hold:

1. the reasoning holds at least one equation ``a op b = c`` (op one of
   ``+ - * x × / ÷``, operands plain or comma-grouped numbers);
2. every such equation is true, checked in exact rational arithmetic (parsed,
   never evaluated as code);
3. every operand is a number from the question or the result of an earlier
   equation, so ``1 + 1 = 2`` on the side earns nothing;
4. the last equation's result is the answer the completion gives.

Otherwise 0.0 (and for reasoning over `MAX_REASONING_CHARS`). A chain
``a + b = c - d = e`` counts its first equation only; equations with more than
one operator are not read (the generator and GSM8K write one operator per step).

Why it exists (bench/NOTES.md, issue #8): a small policy's sampled answers are
rarely right, so most GRPO groups hold no right answer and `correctness` gives
them no signal. With only format terms to separate those completions, group-
scaled advantages taught the CPU demo a shortcut: copy a number from the
question into both sections, no working. This term makes the difference inside
such a group the working itself: a true equation on the question's numbers
beats a slip (``23 + 30 = 51``) and beats no working at all. It does not know
which operation the question asks for; `correctness` does, so keep it beside
`correctness` and smaller. Measured on the demo (bench/NOTES.md) it did not
make 6 GRPO steps gain more: the policy learnt to write a true equation for
every problem, for a subtraction problem often the addition of its two
numbers, which this term pays for. Hand-written because math-verify and TRL's rewards
compare final answers only; none checks the steps.
"""

from __future__ import annotations

import re
from fractions import Fraction

from data_prep.formats import ReasoningFormat, last_boxed_span
from rewards.base import reward
from rewards.numbers import numbers_in, parse_exact

__all__ = ["equations", "working"]

_NUMBER = r"\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?"
_EQUATION = re.compile(
    rf"(?<![\w.,])({_NUMBER})\s*([-+*/x×÷−])\s*({_NUMBER})\s*=\s*([-−]?\s*(?:{_NUMBER}))(?![\d.]\d)"
)
_APPLY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "−": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "×": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else None,
    "÷": lambda a, b: a / b if b else None,
}
MAX_EQUATIONS = 50  # more than any worked solution here; bounds the work on runaway output
MAX_QUESTION_CHARS = 10_000  # word problems are far shorter; a megabyte "question" took 87 ms to scan for numbers
MAX_REASONING_CHARS = 20_000  # beyond any completion GRPO samples here; a megabyte took 54 ms to scan for equations


def equations(reasoning: str) -> list[tuple[Fraction, str, Fraction, Fraction]]:
    """The equations ``(a, op, b, c)`` written in ``reasoning``, in order (at most MAX_EQUATIONS).

    >>> [(int(a), op, int(b), int(c)) for a, op, b, c in equations("12 + 7 = 19, then 19 x 2 = 38")]
    [(12, '+', 7, 19), (19, 'x', 2, 38)]
    """
    found = []
    for match in _EQUATION.finditer(reasoning):
        a, op, b, c = match.groups()
        values = [parse_exact(s.replace("−", "-").replace(" ", "")) for s in (a, b, c)]
        if None not in values:
            found.append((values[0], op, values[1], values[2]))
        if len(found) >= MAX_EQUATIONS:
            break
    return found


def _reasoning(text: str, fmt: ReasoningFormat) -> str:
    if fmt.has_markers:
        end = text.rfind(fmt.answer_start.strip())
        return text[: max(end, 0)]
    span = last_boxed_span(text)
    return text if span is None else text[: span[0]]


@reward(needs_answer=False, needs_question=True)
def working(text: str, gold: None, fmt: ReasoningFormat, question: str | None, *, score: float = 0.2) -> float:
    """``score`` x the share of the question's numbers used, when the working is true and gives the answer.

    See the module docstring for the four conditions; anything else scores 0.0.

    Range: [0.0, score], default [0.0, 0.2].

    >>> from data_prep.formats import FORMATS
    >>> reward = working(FORMATS["r1"], score=1.0)
    >>> done = "<think>{}</think>\\n<answer>{}</answer>".format
    >>> q = "Ann has 23 cards. She gets 30 more, then gives away 3. How many now?"
    >>> reward([done("23 + 30 = 53\\n53 - 3 = 50", 50), done("23 + 30 = 53", 53), done("23 + 30 = 51", 51),
    ...         done("23", 23), done("1 + 1 = 2", 2), done("23 + 30 = 53", 50)], question=[q] * 6)
    [1.0, 0.6666666666666666, 0.0, 0.0, 0.0, 0.0]
    """
    if not isinstance(question, str):
        return 0.0
    question = question[:MAX_QUESTION_CHARS]
    given = {v for v in map(parse_exact, numbers_in(question, limit=MAX_EQUATIONS)) if v is not None}
    stated = parse_exact(fmt.extract(text))
    reasoning = _reasoning(text, fmt)
    if len(reasoning) > MAX_REASONING_CHARS:  # runaway output: no process credit (and no megabyte regex scan)
        return 0.0
    steps = equations(reasoning)
    if not given or stated is None or not steps:
        return 0.0
    known, used = set(given), set()
    for a, op, b, c in steps:
        if a not in known or b not in known or _APPLY[op](a, b) != c:
            return 0.0
        used |= {a, b} & given
        known.add(c)
    if steps[-1][3] != stated:
        return 0.0
    return score * (len(used) / len(given))
