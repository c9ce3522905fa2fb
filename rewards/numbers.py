"""Numbers in model text, parsed without eval.

`parse_number` reads a string that *is* a number, the way GSM8K-style answers
are written: ``1600``, ``1,600``, ``$1,600``, ``-3``, ``3.50``, ``42.``,
``25%`` (read as 25), ``1/2``, ``\\frac{1}{2}``, ``½``, LaTeX spellings
(``1{,}600``, ``\\$5``, ``\\boxed{7}``) and digits of any script (``٤٢``).
A string with anything else in it ("42 apples") is not a number: that is what
keeps `is_correct` strict. `numbers_in` finds the number tokens inside text.

Not supported on purpose: scientific notation, words ("forty-two"),
expressions ("6*7"). Strings longer than 100 characters are not numbers.

>>> parse_number("$1,600"), parse_number("-3"), parse_number("3.50"), parse_number("½")
(1600.0, -3.0, 3.5, 0.5)
>>> parse_number("42 apples") is None
True
>>> numbers_in("I sold $1,600 of 2,000.")
['$1,600', '2,000']
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

__all__ = ["join_digit_groups", "numbers_in", "parse_exact", "parse_number"]

MAX_NUMBER_CHARS = 100

# LaTeX and typographic spellings -> plain ones (applied before matching).
_REPLACEMENTS = (
    ("\\$", "$"),
    ("{,}", ","),
    ("\\,", ","),  # thin space used as a thousands separator: 1\,600
    ("\\!", ""),
    ("\\%", "%"),
    ("\u2212", "-"),  # unicode minus
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\cfrac", "\\frac"),
)
_GROUP_SPACES = ("\u2009", "\u202f", "\\ ", "\\,")  # thin, narrow no-break, LaTeX spaces: 1\,600
# Thousands written with spaces ("1 600", "12 345 678") are one number, never a sum or a list.
_SPACED_THOUSANDS = re.compile(r"(?<![\d.])[1-9]\d{0,2}(?: \d{3})+(?![\d,])")
_CURRENCY = "$€£¥"
_PREFIX = re.compile(rf"([-+]?)\s*[{_CURRENCY}]?\s*([-+]?)\s*")
# A first thousands group never starts with 0: "0,111" is not 111.
_DECIMAL = re.compile(r"([1-9]\d{0,2}(?:,\d{3})+|\d+)?(?:\.(\d+))?")
_VULGAR = re.compile(r"(\d+)?\s*(\w)")
_FRACTION = re.compile(r"\\frac\{\s*(\d+)\s*\}\{\s*(\d+)\s*\}|\\frac\s*(\d)(\d)|(\d+)\s*/\s*(\d+)")
_WRAPPERS = (("\\boxed{", "}"), ("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$"))
_TOKEN = re.compile(
    rf"(?<![\w.,])[-+]?[{_CURRENCY}]?-?(?:[1-9]\d{{0,2}}(?:,\d{{3}})+(?!\d)|\d+)(?:\.\d+)?%?"
    rf"|(?<![\w.,])[-+]?[{_CURRENCY}]?-?\.\d+%?"
)


def _normalize(text: str) -> str:
    text = join_digit_groups(text)
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return text


def join_digit_groups(text: str) -> str:
    r"""Write space-separated thousands as one number: ``2 500`` -> ``2500`` (``\,`` and thin spaces too).

    >>> join_digit_groups("paid 2 500 dollars, then 12 345 678"), join_digit_groups("5 3 and 10 20")
    ('paid 2500 dollars, then 12345678', '5 3 and 10 20')
    """
    for space in _GROUP_SPACES:
        text = text.replace(space, " ")
    return _SPACED_THOUSANDS.sub(lambda m: m.group(0).replace(" ", ""), text)


def _vulgar_fraction(char: str) -> Fraction | None:
    """½ -> 1/2; only single characters whose numeric value lies in (0, 1)."""
    if unicodedata.category(char) != "No":
        return None
    value = unicodedata.numeric(char, None)
    if value is None or not 0 < value < 1:
        return None
    return Fraction(value).limit_denominator(1000)


def _unsigned(s: str) -> Fraction | None:
    match = _DECIMAL.fullmatch(s)
    if match and (match.group(1) or match.group(2)):
        whole = int(match.group(1).replace(",", "")) if match.group(1) else 0
        digits = match.group(2) or ""
        return whole + (Fraction(int(digits), 10 ** len(digits)) if digits else Fraction(0))
    match = _FRACTION.fullmatch(s)
    if match:
        num, den = (int(g) for g in match.groups() if g is not None)
        return Fraction(num, den) if den else None
    match = _VULGAR.fullmatch(s)
    if match:
        part = _vulgar_fraction(match.group(2))
        if part is not None:
            return int(match.group(1) or 0) + part
    return None


def parse_exact(text: object) -> Fraction | None:
    """The exact value of a string that is a number (see module doc), else None.

    >>> parse_exact("1,600.50")
    Fraction(3201, 2)
    >>> parse_exact("\\\\frac{3}{4}"), parse_exact("1/0")
    (Fraction(3, 4), None)
    """
    if not isinstance(text, str):
        return None
    s = text.strip()
    if not s or len(s) > MAX_NUMBER_CHARS:
        return None
    s = _normalize(s).strip().rstrip(".").strip()
    for left, right in _WRAPPERS:  # one layer of \boxed{...} or math delimiters
        if len(s) > len(left) + len(right) and s.startswith(left) and s.endswith(right):
            s = s[len(left) : -len(right)].strip()
            break
    s = s.removesuffix("%").rstrip()  # 25% reads as 25: the question asked "what percent"
    prefix = _PREFIX.match(s)
    if prefix is None:  # pragma: no cover - the pattern matches the empty string
        return None
    sign_before, sign_after = prefix.group(1), prefix.group(2)
    if sign_before and sign_after:
        return None
    value = _unsigned(s[prefix.end() :])
    if value is None:
        return None
    return -value if "-" in (sign_before, sign_after) else value


def parse_number(text: object) -> float | None:
    """`parse_exact` as a float (what ratio-based partial credit needs).

    >>> parse_number("1,600"), parse_number("twelve")
    (1600.0, None)
    """
    value = parse_exact(text)
    return None if value is None else float(value)


def numbers_in(text: object, limit: int | None = None) -> list[str]:
    """Number tokens in ``text``, in order (at most ``limit``); each one `parse_exact` reads.

    A token is a signed, optionally currency-prefixed integer or decimal with
    optional thousands separators and ``%``: ``-3``, ``$1,600``, ``2.5%``.

    >>> numbers_in("x = 5-3 = 2, so -2.5% of 1{,}600", limit=10)
    ['5', '3', '2', '-2.5%', '1,600']
    """
    if not isinstance(text, str):
        return []
    found = []
    for match in _TOKEN.finditer(_normalize(text)):
        found.append(match.group())
        if limit is not None and len(found) >= limit:
            break
    return found
