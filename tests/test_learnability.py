"""Pre-flight learnability: flat groups, pass and format rates, the verdict and its remedy, the filter's settings."""

from __future__ import annotations

import pytest

from data_prep.formats import FORMATS
from recipes.errors import RecipeError
from recipes.learnability import filter_settings, score_groups, verdict
from rewards import build_rewards

R1 = FORMATS["r1"]


def group(*answers: str | None, tokens: int = 10) -> list[tuple[str, int]]:
    return [(R1.render("2 + 2 = 4", a) if a is not None else "I think it is four.", tokens) for a in answers]


def scored(groups, rewards=("correctness", "format_exact"), weights=None, max_tokens=32):
    funcs = build_rewards(list(rewards), R1)
    rows = [{"prompt": [{"role": "user", "content": f"q{i}"}], "answer": "4", "question": f"q{i}"}
            for i in range(len(groups))]
    return score_groups(rows, groups, funcs, weights or [1.0] * len(funcs), R1, "exact", max_tokens)


def test_prose_with_no_format_is_no_signal_and_says_prime_the_format():
    stats = scored([group(None, None, None, None), group(None, None, None, None)])
    assert stats["zero_std_frac"] == 1.0 and stats["pass_rate"] == 0.0 and stats["format_rate"] == 0.0
    name, advice = verdict(stats)
    assert name == "no_signal" and "sft_prime" in advice and "easier problems" in advice


def test_groups_that_mix_right_and_wrong_are_learnable():
    stats = scored([group("4", "5", "4", "3"), group("5", "5", "4", "5")])
    assert stats["zero_std_frac"] == 0.0 and stats["pass_rate"] == 3 / 8 and stats["format_rate"] == 1.0
    assert stats["prompt_pass_rates"] == [0.5, 0.25]
    assert stats["reward_means"]["correctness"] == pytest.approx(2.0 * 3 / 8)
    assert verdict(stats)[0] == "learnable"


def test_only_format_varies_is_weak_not_learnable():
    # The format term differs inside each group, so no group is flat, but nothing is ever correct.
    stats = scored([group("5", None, "5", None), group("7", None, None, None)])
    assert stats["zero_std_frac"] == 0.0 and stats["pass_rate"] == 0.0
    assert verdict(stats)[0] == "weak"


def test_weights_decide_what_is_flat():
    groups = [group("5", None, "5", None)]  # only format_exact varies
    assert scored(groups)["zero_std_frac"] == 0.0
    assert scored(groups, weights=[1.0, 0.0])["zero_std_frac"] == 1.0  # format weighted out: flat


def test_completions_at_the_length_limit_suggest_more_tokens():
    stats = scored([group("4", "5", tokens=32), group("5", "4", tokens=32)])
    assert stats["clipped_rate"] == 1.0
    assert "max_completion_length" in verdict(stats)[1]


def test_filter_settings_are_checked_in_one_line():
    assert filter_settings({})["samples"] == 8
    with pytest.raises(RecipeError, match="^difficulty_filter.sample: unknown key"):
        filter_settings({"sample": 4})
    with pytest.raises(RecipeError, match="^difficulty_filter: expected samples >= 2"):
        filter_settings({"min_pass": 0.8, "max_pass": 0.2})
