"""Answers too costly to hand to sympy: exponent towers and powers with huge results.

math-verify evaluates powers exactly: ``9^{9^{9}}`` or ``99999999999^{99999999}``
runs into its 5 s time limit (and prints "Timeout during comparison"), so one
such completion would stall a whole reward batch. No correct answer to a
recipe's problems is a tower or has more than `MAX_DIGITS` digits, so these are
screened out before sympy sees them: `math_verify` scores them wrong and counts them
in its ``fallback_frac``.
Written by hand: math-verify has no such screen, only its time limit.

>>> huge_power("9^{9^{9}}"), huge_power("2^2^2"), huge_power("10**10**10"), huge_power("99999999999^{99999999}")
(True, True, True, True)
>>> huge_power("x^2 + y^2"), huge_power("2^{10}"), huge_power("(1/2)^{3}"), huge_power("10^{5000}"), huge_power("^)")
(False, False, False, False, False)
"""

from __future__ import annotations

import math
import re

__all__ = ["MAX_DIGITS", "huge_power"]

MAX_DIGITS = 100_000  # 10^{100000} took 7 ms through math-verify here, 10^{1000000} 144 ms
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _operand(text: str, start: int, step: int) -> tuple[str, int]:
    """The exponent (step 1, from ``start`` onwards) or base (step -1, backwards): a braced or
    parenthesized group, or a run of digits/letters/dots. Returns (operand, index past it)."""
    i = start
    while 0 <= i < len(text) and text[i] == " ":
        i += step
    if not 0 <= i < len(text):
        return "", i
    opening, closing = ("{(", "})") if step == 1 else ("})", "{(")
    if text[i] in opening:
        close, depth, j = closing[opening.index(text[i])], 0, i
        while 0 <= j < len(text):
            depth += text[j] == text[i]
            depth -= text[j] == close
            if depth == 0:
                break
            j += step
        lo, hi = sorted((i, j))
        return text[lo : hi + 1], j + step
    j = i
    while 0 <= j < len(text) and (text[j].isalnum() or text[j] == "."):
        j += step
    if j == i:
        return "", i
    lo, hi = sorted((i, j - step))
    return text[lo : hi + 1], j


def huge_power(text: str) -> bool:
    """Whether ``text`` has a power in an exponent (a tower) or a numeric power of over `MAX_DIGITS` digits."""
    text = text.replace("**", "^")
    for at in (i for i, ch in enumerate(text) if ch == "^"):
        exponent, after = _operand(text, at + 1, 1)
        if "^" in exponent or text[after:].lstrip().startswith("^"):
            return True
        base, _ = _operand(text, at - 1, -1)
        b, e = _NUMBER.fullmatch(base.strip("{}() ")), _NUMBER.fullmatch(exponent.strip("{}() "))
        if b and e and float(b.group()) > 1 and float(e.group()) * math.log10(float(b.group())) > MAX_DIGITS:
            return True
    return False
