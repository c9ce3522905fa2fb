"""Wilson intervals and McNemar's exact test, checked against values worked out by hand.

Wilson, z = 1.959964 (z^2 = 3.841459):
  k=8, n=10: center = (0.8 + 0.192073) / 1.384146 = 0.716740
             half   = z * sqrt(0.016 + 0.0096036) / 1.384146 = 0.226579   -> (0.4902, 0.9433)
  k=0, n=10: center = half = 0.192073 / 1.384146 = 0.138766             -> (0, 0.2775)
  k=9, n=10: center = 1.092073 / 1.384146 = 0.788986, half = 0.193131   -> (0.5958, 0.9821)
McNemar, two-sided exact: p = min(1, 2 * sum_{k <= min(b,c)} C(b+c, k) / 2^(b+c))
  b=1, c=9: 2 * (1 + 10) / 1024 = 0.021484375
  b=0, c=5: 2 * 1 / 32          = 0.0625
  b=2, c=8: 2 * (1 + 10 + 45) / 1024 = 0.109375
"""

from __future__ import annotations

import pytest

from recipes.stats import mcnemar_exact, paired_outcomes, wilson_interval


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (8, 10, 0.4902, 0.9433),
    (0, 10, 0.0, 0.2775),
    (9, 10, 0.5958, 0.9821),
    (10, 10, 0.7225, 1.0),
])
def test_wilson_interval_matches_hand_computed_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_interval_is_exact_at_the_ends_and_stays_inside_0_1():
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    for k in range(0, 31):
        lo, hi = wilson_interval(k, 30)
        assert 0.0 <= lo <= k / 30 <= hi <= 1.0


def test_wilson_interval_narrows_with_more_data_and_is_symmetric():
    assert wilson_interval(80, 100)[1] - wilson_interval(80, 100)[0] < wilson_interval(8, 10)[1] - wilson_interval(8, 10)[0]
    lo, hi = wilson_interval(3, 10)
    assert wilson_interval(7, 10) == pytest.approx((1 - hi, 1 - lo))


def test_wilson_interval_of_nothing_is_everything_and_bad_counts_raise():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
    with pytest.raises(ValueError):
        wilson_interval(-1, 10)


@pytest.mark.parametrize(("b", "c", "p"), [
    (1, 9, 0.021484375),
    (9, 1, 0.021484375),
    (0, 5, 0.0625),
    (2, 8, 0.109375),
    (4, 4, 1.0),  # the doubled tail, 2 * (2^8 + C(8,4)) / 2 / 2^8, exceeds 1 and is capped
    (6, 8, 0.79052734375),  # 2 * (2^14 - C(14,7)) / 2 / 2^14 = 12952 / 16384
    (0, 0, 1.0),
])
def test_mcnemar_exact_matches_hand_computed_values(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p, rel=1e-12)


def test_mcnemar_exact_handles_large_counts_without_overflow():
    assert mcnemar_exact(500, 500) == 1.0
    assert 0.0 <= mcnemar_exact(0, 3000) < 1e-300
    assert 0.0 < mcnemar_exact(450, 550) < 0.01


def test_mcnemar_exact_rejects_negative_counts():
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


def test_paired_outcomes_pairs_by_id_not_by_position():
    before = [{"id": i, "correct": i in {0, 1}} for i in range(6)]
    after = [{"id": i, "correct": i in {0, 2, 3}} for i in reversed(range(6))]
    counts = paired_outcomes(before, after)
    assert (counts.both_right, counts.fixed, counts.broken, counts.both_wrong) == (1, 2, 1, 2)
    assert counts.fixed_ids == (2, 3) and counts.broken_ids == (1,)
    assert counts.n == 6
    assert counts.p_value == mcnemar_exact(1, 2)


def test_paired_outcomes_refuses_different_ids():
    with pytest.raises(ValueError, match="different ids"):
        paired_outcomes([{"id": 1, "correct": True}], [{"id": 2, "correct": True}])

