"""Answer rewards: is the extracted answer the gold one?

Every reward here reads the guess with ``fmt.extract`` (the last complete
answer section, or the last balanced ``\\boxed{}``) and the gold from the
dataset's ``answer`` column, and decides "correct" with `is_correct` (except
`math_verify`, which widens it). `answer` and `number` are the last two
rewards of Unsloth's Qwen3 GRPO notebook; `correctness` and `integer` are the
classic XML GRPO demo's correctness (2.0) and integer (0.5) terms.

A row whose gold is missing (None, not text or a number) scores 0.0 in every
reward here: GRPO compares completions of the same prompt, and a constant for
the whole group carries no signal either way, where a penalty would just be noise
in the logged means.
"""

from __future__ import annotations

import threading

from data_prep.formats import ReasoningFormat
from rewards.base import Screened, reward
from rewards.correctness import gold_text, is_correct
from rewards.numbers import join_digit_groups, numbers_in, parse_exact, parse_number
from rewards.screens import huge_power

__all__ = ["answer", "correctness", "integer", "math_equivalent", "math_verify", "number"]


@reward(needs_answer=True)
def answer(
    text: str, gold: str | None, fmt: ReasoningFormat, *, correct: float = 5.0, stripped: float = 3.5, within_10: float = 2.0, within_20: float = 1.5, wrong: float = -2.5, non_numeric: float = -4.5, none: float = -2.0
) -> float:
    """The notebook's ``check_answer``: graded closeness of the extracted answer to the gold.

    In order: no answer section -> ``none``; `is_correct` -> ``correct``; the
    right number with other text around it ("42 apples", "x = 42"; exactly one
    number in the answer) -> ``stripped``; a number within 10% / 20% of the gold
    by ratio -> ``within_10`` / ``within_20``; another number -> ``wrong``;
    anything else -> ``non_numeric``.

    Deviations from the notebook, for GSM8K: its +5 needed ``guess == gold``
    character for character, so ``1,600`` or ``$1,600`` for gold ``1600`` (and
    the reverse) fell to the ratio tier; here the top tier is `is_correct`, the
    evaluator's check. Its +3.5 tier was "equal after ``.strip()``"; `extract`
    already strips, so that tier now means "right number, extra words", still
    below a clean answer. A numeric guess against a non-numeric or zero gold is
    ``wrong``, not ``non_numeric`` (the notebook's ``float()``/division failed).

    Range with defaults: [-4.5, 5.0]; only a correct answer reaches 5.0.

    >>> from data_prep.formats import FORMATS
    >>> reward = answer(FORMATS["unsloth"])
    >>> done = "<end_working_out><SOLUTION>{}</SOLUTION>".format
    >>> reward([done("$1,600"), done("1600 dollars"), done("1300"), done("9"), done("lots"), "no answer"],
    ...        answer=["1600"] * 6)
    [5.0, 3.5, 1.5, -2.5, -4.5, -2.0]
    """
    if gold is None:
        return 0.0
    guess = fmt.extract(text)
    if guess is None:
        return none
    if is_correct(guess, gold):
        return correct
    tokens = numbers_in(guess, limit=2)
    if len(tokens) == 1 and is_correct(tokens[0], gold):
        return stripped
    value = parse_number(guess)
    if value is None:
        return non_numeric
    target = parse_number(gold)
    if not target:  # non-numeric or zero gold: no ratio to speak of
        return wrong
    ratio = value / target
    if 0.9 <= ratio <= 1.1:
        return within_10
    if 0.8 <= ratio <= 1.2:
        return within_20
    return wrong


@reward(needs_answer=True)
def number(
    text: str, gold: str | None, fmt: ReasoningFormat, *, correct: float = 3.5, wrong: float = -1.5, none: float = -2.5
) -> float:
    """The notebook's ``check_numbers``: the first number in the answer section vs the gold number.

    ``correct`` when that number equals the gold (`is_correct`, so ``1,600`` =
    ``1600``), ``wrong`` when it differs, ``none`` when there is no answer
    section or no number in it; 0.0 when the gold is not a number (the
    notebook's ``except`` branch). Deviation: the notebook read the first
    number after the *first* ``<SOLUTION>``; this reads the section `extract`
    grades (the last complete one), so `number` and `answer` look at the same
    text. `boxed` format: the first number inside the last ``\\boxed{}``.

    Range with defaults: [-2.5, 3.5].

    >>> from data_prep.formats import FORMATS
    >>> reward = number(FORMATS["boxed"])
    >>> reward([r"so \\boxed{72 clips}", r"\\boxed{70}", "72"], answer=["72", "72", "72"])
    [3.5, -1.5, -2.5]
    """
    if gold is None or parse_exact(gold) is None:
        return 0.0
    tokens = numbers_in(fmt.extract(text), limit=1)
    if not tokens:
        return none
    return correct if is_correct(tokens[0], gold) else wrong


@reward(needs_answer=True)
def correctness(
    text: str, gold: str | None, fmt: ReasoningFormat, *, correct: float = 2.0, wrong: float = 0.0
) -> float:
    """The demo's ``correctness_reward_func``: ``correct`` when `is_correct`, else ``wrong``.

    Exactly the evaluator's notion of correct, as a reward. The demo compared
    strings (``r == a``); `is_correct` also accepts ``1,600`` / ``$1,600`` for
    ``1600``. Range: {wrong, correct}, default {0.0, 2.0}.

    >>> from data_prep.formats import FORMATS
    >>> correctness(FORMATS["xml"])(["<answer>\\n1,600\\n</answer>", "<answer>16</answer>"], answer="1600")
    [2.0, 0.0]
    """
    if gold is None:
        return 0.0
    return correct if is_correct(fmt.extract(text), gold) else wrong


@reward(needs_answer=False)
def integer(
    text: str, gold: None, fmt: ReasoningFormat, *, score: float = 0.5, miss: float = 0.0
) -> float:
    """The demo's ``int_reward_func``: ``score`` when the extracted answer is an integer.

    Deviation: the demo used ``str.isdigit()``, which rejects ``-3`` and
    ``1,600`` and accepts ``²``; here the answer must parse (`parse_number`) to
    an integral value, so ``-3``, ``1,600``, ``$1,600`` and ``42.0`` count and
    ``²``, ``2.5`` and ``1/2`` do not. Does not read the gold.

    Range: {miss, score}, default {0.0, 0.5}.

    >>> from data_prep.formats import FORMATS
    >>> integer(FORMATS["r1"])(["<answer>-1,600</answer>", "<answer>2.5</answer>", "none"])
    [0.5, 0.0, 0.0]
    """
    value = parse_exact(fmt.extract(text))
    return score if value is not None and value.denominator == 1 else miss


def _boxed(text: str) -> str:
    return text if "\\boxed" in text or "$" in text else f"\\boxed{{{text}}}"


def math_equivalent(guess: str | None, gold: object, *, timeout_s: int = 5, max_chars: int = 1000) -> bool:
    """Whether an extracted answer equals the gold by value, through math-verify (`is_correct` first).

    The answer check of recipes that train on `math_verify`: the evaluator
    grades their reports with it, so report and reward agree.

    >>> math_equivalent(r"\\frac{1}{2}", "0.5"), math_equivalent("1/3", "0.5"), math_equivalent(None, "1")
    (True, False, False)
    """
    from math_verify import parse, verify
    from math_verify.errors import TimeoutException

    gold = gold_text(gold)
    if guess is None or gold is None or not gold.strip():
        return False
    if is_correct(guess, gold):  # fast path: plain numbers never reach sympy
        return True
    if len(guess) > max_chars or len(gold) > max_chars or huge_power(guess):
        return False
    # latex2sympy reads space-separated numbers as a sum ("1 600" -> 601): join thousands groups first.
    guess, gold = join_digit_groups(guess), join_digit_groups(gold)
    # math-verify's time limit is signal.alarm: only possible on the main thread.
    limit = timeout_s if threading.current_thread() is threading.main_thread() else None
    try:
        gold_parsed = parse(_boxed(gold.strip()), parsing_timeout=limit)
        guess_parsed = parse(_boxed(guess), parsing_timeout=limit)
        if not gold_parsed or not guess_parsed:
            return False
        return bool(verify(gold_parsed, guess_parsed, timeout_seconds=limit))
    except TimeoutException:  # a BaseException: not caught by Reward's fallback
        return False


def _check_math_verify(*, correct, wrong, timeout_s, max_chars) -> None:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or timeout_s < 1:
        raise ValueError(f"math_verify: timeout_s must be a whole number of seconds >= 1, got {timeout_s!r}")
    import math_verify as _package  # noqa: F401  (fail at build time, not mid-training)


@reward(needs_answer=True, validate=_check_math_verify)
def math_verify(
    text: str, gold: str | None, fmt: ReasoningFormat, *, correct: float = 1.0, wrong: float = 0.0, timeout_s: int = 5, max_chars: int = 1000
) -> float:
    r"""``correct`` when the extracted answer is mathematically equal to the gold, via math-verify.

    Fractions, decimals, LaTeX (``\frac{1}{\sqrt2}`` = ``\frac{\sqrt2}{2}``),
    ``\boxed``, percentages and equations (``x = 3`` for 3) all compare by value;
    answers that `is_correct` accepts take a fast path that skips sympy. Gold
    and guess are wrapped in ``\boxed{}`` (unless they already hold ``\boxed``
    or ``$``) so math-verify reads them whole. No answer section -> ``wrong``.

    Safety: math-verify parses with its own LaTeX/sympy path (no ``eval``), under
    its ``signal.alarm`` time limit of ``timeout_s`` seconds (whole seconds) per
    parse and comparison. ``signal`` only works on the main thread, so off it the
    limit is off and ``max_chars`` (guess or gold longer than that -> ``wrong``)
    is what bounds the work. Exponent towers and powers of over 100,000 digits
    (`rewards.screens`) never reach sympy: they score ``wrong``, counted in
    ``rewards/math_verify/fallback_frac``. math-verify is imported when the reward is built,
    not when `rewards` is imported.

    Range: {wrong, correct}, default {0.0, 1.0}.

    >>> from data_prep.formats import FORMATS
    >>> reward = math_verify(FORMATS["boxed"])
    >>> reward([r"\boxed{\frac{1}{2}}", r"\boxed{0.5}", r"\boxed{\frac{1}{3}}"], answer=["0.5", r"\frac12", "0.5"])
    [1.0, 1.0, 0.0]
    """
    if gold is None or not gold.strip():
        return 0.0
    guess = fmt.extract(text)
    if guess is not None and len(guess) <= max_chars and huge_power(guess):
        return Screened(wrong)  # never handed to sympy; counted in fallback_frac
    return correct if math_equivalent(guess, gold, timeout_s=timeout_s, max_chars=max_chars) else wrong
