"""pass@k, maj@n and their bootstrap intervals: how the field reports sampled evaluation.

Draw ``n`` completions per problem at a temperature; ``c`` of them are right.

* **pass@k** -- the chance that at least one of ``k`` completions is right. Taking
  the first ``k`` of the ``n`` samples wastes the rest and is noisy; Chen et al.
  (2021, "Evaluating Large Language Models Trained on Code", eq. 1) give the
  unbiased estimator over all ``n``: ``1 - C(n-c, k) / C(n, k)`` per problem,
  averaged over problems. pass@1 is then simply ``c / n`` averaged: open-r1's
  "pass@1 from 64 samples" on AIME.
* **maj@n** (self-consistency, Wang et al. 2022; lm-evaluation-harness's
  ``maj@8``) -- the answer most samples agree on is the model's answer. Agreement
  is the grader's own equivalence (``1/2`` and ``0.5`` are one answer under
  math-verify), so a vote never splits on spelling. Ties go to the answer seen first.
* **Bootstrap interval** -- problems are the unit that varies: resample them with
  replacement and take the 2.5/97.5 percentiles of the mean. (Wilson's interval
  suits a count of right/wrong; a mean of per-problem pass@k is not one.)

Plain Python on purpose: a few thousand multiplications; numpy's ``comb`` is float.

>>> round(pass_at_k(8, 2, 4), 4)  # 2 right of 8: 4 draws hold at least one right with p = 1 - C(6,4)/C(8,4)
0.7857
>>> ks_for(8), ks_for(6)
([1, 2, 4, 8], [1, 2, 4, 6])
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with ``c`` right of ``n`` samples (Chen et al. 2021)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:  # every k-subset holds a right one
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def ks_for(n: int) -> list[int]:
    """The k a report shows: 1, 2, 4, ... up to n, and n itself."""
    ks = [2**i for i in range(n.bit_length()) if 2**i <= n]
    return ks if ks[-1] == n else [*ks, n]


def mean_pass_at_k(counts: Sequence[int], n: int, k: int) -> float:
    """pass@k averaged over problems; ``counts[i]`` is problem i's number of right samples."""
    return sum(pass_at_k(n, c, k) for c in counts) / len(counts) if counts else 0.0


def pass_at_k_table(counts: Sequence[int], n: int) -> dict[str, float]:
    """``{"1": .., "2": .., ..., str(n): ..}``: summary.json's ``pass_at_k``."""
    return {str(k): mean_pass_at_k(counts, n, k) for k in ks_for(n)}


def majority(answers: Sequence[str | None], same: Callable[[str, str], bool]) -> str | None:
    """The answer most of ``answers`` agree on under ``same``; None when none was extracted.

    Each answer joins the first earlier group it equals (exact text first, then ``same``),
    so the grader is asked once per answer and group, not once per pair of samples.

    >>> majority(["3", None, "0.5", "1/2"], lambda a, b: {a, b} <= {"0.5", "1/2"} or a == b)
    '0.5'
    """
    groups: list[list[str]] = []
    for answer in answers:
        if answer is None:
            continue
        for group in groups:
            if answer == group[0] or _safe(same, answer, group[0]):
                group.append(answer)
                break
        else:
            groups.append([answer])
    if not groups:
        return None
    return max(groups, key=len)[0]  # max keeps the first of equal sizes: the earliest answer wins a tie


def _safe(same: Callable[[str, str], bool], a: str, b: str) -> bool:
    try:
        return bool(same(a, b))
    except Exception:  # a grader given two model answers (not a gold) must not end the evaluation
        return False


def bootstrap_interval(values: Sequence[float], rounds: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (problems resampled with replacement).

    >>> bootstrap_interval([1.0] * 5)
    (1.0, 1.0)
    >>> lo, hi = bootstrap_interval([0.0, 1.0] * 20); lo < 0.5 < hi
    True
    """
    if not values:
        return 0.0, 1.0
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(rounds))
    tail = (1 - level) / 2
    return means[int(tail * rounds)], means[min(rounds - 1, int((1 - tail) * rounds))]


def pass_at_k_curve(counts: Sequence[int], n: int, seed: int = 0) -> list[dict[str, float]]:
    """pass@k with its bootstrap 95% interval for every k of `ks_for`: the report's chart and table."""
    curve = []
    for k in ks_for(n):
        per_problem = [pass_at_k(n, c, k) for c in counts]
        lo, hi = bootstrap_interval(per_problem, seed=seed)
        curve.append({"k": k, "pass": sum(per_problem) / len(per_problem) if per_problem else 0.0,
                      "ci": [lo, hi]})
    return curve
