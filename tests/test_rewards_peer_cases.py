"""Cases where the rewards disagreed with peers' test suites (open-r1's and TRL's reward tests, Math-Verify's
own pairs), kept so they stay fixed."""

from __future__ import annotations

import pytest

from data_prep.formats import FORMATS
from rewards import build_rewards, is_correct
from rewards.answer_rewards import math_equivalent
from rewards.numbers import numbers_in, parse_exact


@pytest.mark.parametrize(("guess", "gold", "equal"), [
    ("2 500", "502", False),  # latex2sympy alone reads "2 500" as 2 + 500
    ("2 500", "2500", True),
    ("1 600", "601", False),
    ("12 345 678", "12345678", True),
    ("1\u2009600", "1600", True),  # thin space
    ("1\u202f600", "1600", True),  # narrow no-break space
    ("1\\,600", "1600", True),
    ("5 3", "53", False),  # not thousands groups: never joined
])
def test_space_grouped_thousands_are_one_number_in_math_verify(guess, gold, equal):
    assert math_equivalent(guess, gold) is equal
    assert build_rewards(["math_verify"], FORMATS["boxed"])[0]([f"\\boxed{{{guess}}}"], answer=[gold]) == [
        1.0 if equal else 0.0]


@pytest.mark.parametrize("text", ["0,111", "00,500", "0,000"])
def test_a_first_thousands_group_cannot_start_with_zero(text):
    assert parse_exact(text) is None
    assert not is_correct(text, text.replace(",", "").lstrip("0") or "0")


def test_comma_thousands_still_read():
    assert parse_exact("1,600") == 1600 and parse_exact("10,000,000") == 10_000_000
    assert numbers_in("0,111 and 1,600") == ["0", "1,600"]


@pytest.mark.parametrize(("guess", "gold"), [
    ("\\cfrac{1}{3}", "1/3"), ("\\frac12", "0.5"), ("\\dfrac12", "1/2"), ("\\tfrac34", "0.75"),
    ("7", "$$7$$"), ("$$7$$", "7"), ("\\frac{1}{2}", "$\\frac12$"),
])
def test_latex_spellings_of_the_same_number_are_correct(guess, gold):
    assert is_correct(guess, gold)


@pytest.mark.parametrize("fmt_name", ["unsloth", "xml", "r1"])
@pytest.mark.parametrize(("reasoning", "answer"), [(" ", "4"), ("2 + 2 = 4", " "), ("\n\n", "\n")])
def test_format_exact_wants_non_empty_sections(fmt_name, reasoning, answer):
    fmt = FORMATS[fmt_name]
    [reward] = build_rewards(["format_exact"], fmt)
    text = fmt.reasoning_start + reasoning + fmt.reasoning_end + fmt.separator + fmt.answer_start + answer + \
        fmt.answer_end
    assert reward([text]) == [0.0]
    assert reward([fmt.render("2 + 2 = 4", "4")]) == [3.0]
