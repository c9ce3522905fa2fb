"""A reward that raises, scores NaN/inf or hangs is named with its row (recipes.reward_guard)."""

from __future__ import annotations

import math
import time

import pytest

from data_prep.formats import FORMATS
from recipes.reward_guard import GuardedReward, RewardFailure
from rewards import build_rewards


def picky(completions, **kwargs):
    return [1.0 if "ok" in c else float(len(c) // (len(c) - len(c))) for c in completions]  # ZeroDivisionError


def test_an_exception_names_the_reward_and_the_first_failing_row():
    with pytest.raises(RewardFailure, match=r"^reward picky: row 2: ZeroDivisionError: ") as err:
        GuardedReward(picky)(completions=["ok", "ok", "bad", "bad"], answer=["1"] * 4, log_metric=print)
    assert err.value.row == 2


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_score_is_a_failure_not_an_advantage(bad):
    def scores(completions, **kwargs):
        return [0.5, bad, None]  # None: TRL's "not applicable", allowed

    with pytest.raises(RewardFailure, match=rf"^reward scores: row 1: returned {bad}$"):
        GuardedReward(scores)(completions=["a", "b", "c"])


def test_a_hang_is_cut_off_by_the_watchdog():
    def slow(completions, **kwargs):
        time.sleep(30)
        return [1.0] * len(completions)

    with pytest.raises(RewardFailure, match=r"^reward slow: .*took over 0.3 s"):
        GuardedReward(slow, timeout_s=0.3)(completions=["a"])


def test_the_built_in_rewards_pass_through_unchanged():
    fmt = FORMATS["r1"]
    [answer] = build_rewards(["answer"], fmt)
    texts = [fmt.render("2 + 2 = 4", "4"), "no markers", fmt.render("", "5")]
    guarded = GuardedReward(answer)
    assert guarded.__name__ == "answer"
    assert guarded(completions=texts, answer=["4"] * 3) == answer(texts, answer=["4"] * 3)
