"""No reward raises on model output, whatever it is, and every score stays in its documented range."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_prep.formats import FORMATS
from rewards import REGISTRY, build_rewards
from rewards.completions import completion_text
from rewards.correctness import gold_text

# Documented ranges with default parameters (each reward's docstring states its own).
RANGES = {
    "format_exact": (0.0, 3.0),
    "format_approx": (-4.0, 1.5),
    "answer": (-4.5, 5.0),
    "number": (-2.5, 3.5),
    "math_verify": (0.0, 1.0),
    "correctness": (0.0, 2.0),
    "format_soft": (0.0, 0.5),
    "integer": (0.0, 0.5),
    "xml_count": (-0.375, 0.5),
    "length": (-1.0, 0.0),
    "repetition": (-1.0, 0.0),
    "working": (0.0, 0.2),
}
PIECES = sorted(
    {m for f in FORMATS.values() for m in f.markers if m}
    | {m.strip() for f in FORMATS.values() for m in f.markers if m}
) + [
    "\\boxed{",
    "{",
    "}",
    "$",
    "1,600",
    "-3",
    "\u22127",
    "\u00bd",
    "\u0664\u0662",
    "\\frac{1}{2}",
    "42",
    "0",
    " ",
    "\n",
    "\\sqrt{",
    "^",
    "=",
    "x",
    "1e999",
    "9" * 60,
    "%",
    ".",
    "\ud800",
    "\x00",
]

soup = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=30).map("".join)
chat = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["assistant", "user", None]),
            "content": st.one_of(
                st.none(), soup, st.integers(), st.lists(st.fixed_dictionaries({"text": soup}))
            ),
        }
    ),
    max_size=3,
)
rendered = st.builds(lambda f, r, a: f.render(r, a), st.sampled_from(list(FORMATS.values())), soup, soup)
completion = st.one_of(
    soup,
    rendered,
    st.none(),
    st.integers(),
    st.floats(),
    chat,
    st.dictionaries(st.text(max_size=5), soup),
    st.binary(max_size=10),
)
gold = st.one_of(
    st.none(),
    soup,
    st.sampled_from(["72", "1,600", "-3", "0", "\\frac{1}{2}", "x^2"]),
    st.integers(),
    st.floats(),
    st.booleans(),
)
question = st.one_of(st.none(), soup, st.sampled_from(["Ann has 23 cards and gets 30 more.", "1,600 / 0 = ?"]))


def test_the_range_table_covers_the_registry():
    assert set(RANGES) == set(REGISTRY)


def _check(name: str, scores: list, n: int) -> None:
    low, high = RANGES[name]
    assert len(scores) == n
    for score in scores:
        assert isinstance(score, float) and math.isfinite(score), (name, score)
        assert low <= score <= high, (name, score)


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.tuples(completion, gold, question), min_size=1, max_size=4))
def test_no_reward_raises_on_arbitrary_completions(fmt, batch):
    completions, golds, questions = ([row[i] for row in batch] for i in range(3))
    for reward in build_rewards(list(REGISTRY), fmt):
        _check(reward.__name__, reward(completions, answer=golds, question=questions), len(batch))
        # The per-completion scorer itself must not raise either: Reward's
        # exception fallback is a last resort, not where bugs get hidden.
        for c, g, q in batch:
            extra = (q,) if reward.needs_question else ()
            reward.scorer(completion_text(c), gold_text(g), fmt, *extra, **reward.params)


HUGE = {
    "prose": "So the answer is 1,600 dollars. " * 40_000,
    "marker soup": "<answer></SOLUTION><think>\\boxed{" * 40_000,
    "unclosed boxes": "\\boxed{1" * 150_000,
    "whitespace then answer": " " * 1_000_000 + "r</think><answer>1600</answer>",
    "one long number": "<answer>" + "9" * 1_000_000 + "</answer>\\boxed{" + "1," * 300_000 + "}",
    "unicode digits": "\u0664" * 1_000_000,
    "runaway working": "<think>" + "1 + 1 = 2, " * 100_000 + "</think><answer>2</answer>",
}


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
def test_megabytes_of_output_score_quickly(fmt):
    start = time.perf_counter()
    for reward in build_rewards(list(REGISTRY), fmt):
        scores = reward(list(HUGE.values()), answer=["1600"] * len(HUGE), question=list(HUGE.values()))
        _check(reward.__name__, scores, len(HUGE))
    # Everything is linear: a few seconds on a busy laptop core. Quadratic scans took minutes.
    assert time.perf_counter() - start < 30
