"""Shaping terms: bounded penalties for overlong and repetitive completions."""

from __future__ import annotations

import pytest

from data_prep.formats import FORMATS
from rewards.shaping import length, repetition

FMT = FORMATS["r1"]


@pytest.mark.parametrize(
    ("words", "expected"), [(0, 0.0), (100, 0.0), (100 + 25, -0.25), (150, -0.5), (10_000, -0.5)]
)
def test_length_is_zero_up_to_target_then_ramps_to_the_penalty(words, expected):
    reward = length(FMT, target=100, scale=50, penalty=0.5)
    assert reward([" ".join(["w"] * words)]) == [pytest.approx(expected)]


def test_length_can_count_characters():
    reward = length(FMT, target=10, scale=10, unit="chars")
    assert reward(["x" * 10, "x" * 15, "x" * 99]) == [0.0, -0.5, -1.0]


def test_length_reads_chat_lists_and_garbage():
    reward = length(FMT, target=1, scale=1)
    assert reward([[{"role": "assistant", "content": "a b c"}], None, 7]) == [-1.0, 0.0, 0.0]


@pytest.mark.parametrize("bad", [{"unit": "tokens"}, {"scale": 0}, {"penalty": -1.0}, {"target": -1}])
def test_length_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match="^length:"):
        length(FMT, **bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.0),
        ("too short", 0.0),
        ("every word here is different from the others", 0.0),
        ("the cat sat the cat sat", -0.25),  # 4 trigrams, 3 distinct
        ("The cat sat THE CAT SAT", -0.25),  # case-insensitive
    ],
)
def test_repetition_is_the_fraction_of_repeated_ngrams(text, expected):
    assert repetition(FMT)([text]) == [pytest.approx(expected)]


def test_repetition_of_a_loop_approaches_max_penalty():
    [score] = repetition(FMT, max_penalty=-2.0)(["so the answer is " * 500])
    assert -2.0 <= score < -1.9


def test_repetition_rejects_a_positive_penalty():
    with pytest.raises(ValueError, match="^repetition:"):
        repetition(FMT, max_penalty=1.0)
