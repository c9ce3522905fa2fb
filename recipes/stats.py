"""The statistics of a base-vs-tuned comparison, in plain Python (no scipy).

Why these two:

* **Wilson score interval** for an accuracy. The textbook ``p ± z·sqrt(p(1-p)/n)``
  interval collapses to zero width at 0% or 100% and undercovers on the small
  eval sets a CPU demo uses; Wilson stays inside [0, 1] and is honest there.
* **McNemar's exact test** for "did tuning change accuracy?". Both models
  answer the *same* questions, so the outcomes are paired; only the examples
  whose outcome changed (discordant pairs) carry information. Under "no
  change" each discordant pair is equally likely to be a fix or a break, so
  the two-sided p-value is a Binomial(b + c, 1/2) tail. Treating the two
  accuracies as independent samples would throw the pairing away and give
  much wider, less sensitive answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Z95 = 1.959964  # two-sided 95% normal quantile


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n``; ``(0.0, 1.0)`` when ``n == 0``.

    >>> lo, hi = wilson_interval(8, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.4902, 0.9433)
    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"wilson_interval: need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # Exact ends at 0 and n (the formula gives them up to float rounding).
    lo = 0.0 if k == 0 else max(0.0, center - half)
    hi = 1.0 if k == n else min(1.0, center + half)
    return lo, hi


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for ``b`` and ``c`` discordant pairs.

    ``p = min(1, 2 * sum_{k <= min(b, c)} C(b+c, k) / 2**(b+c))``, and 1.0 when
    nothing changed. Computed with exact integers, so large counts don't overflow.

    >>> round(mcnemar_exact(1, 9), 5)
    0.02148
    >>> mcnemar_exact(0, 5)
    0.0625
    >>> mcnemar_exact(4, 4), mcnemar_exact(0, 0)
    (1.0, 1.0)
    """
    if b < 0 or c < 0:
        raise ValueError(f"mcnemar_exact: counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    tail, term = 0, 1  # term = C(n, k), updated incrementally
    for k in range(min(b, c) + 1):
        tail += term
        term = term * (n - k) // (k + 1)
    return min(1.0, 2 * tail / 2**n)


@dataclass(frozen=True)
class PairedCounts:
    """The 2x2 table of paired outcomes, before (rows) vs after (columns).

    ``broken`` (right -> wrong) is McNemar's *b* and ``fixed`` (wrong -> right)
    its *c*; ids of the changed examples are kept, in input order, for the report.
    """

    both_right: int
    fixed: int
    broken: int
    both_wrong: int
    fixed_ids: tuple[Any, ...] = ()
    broken_ids: tuple[Any, ...] = ()

    @property
    def n(self) -> int:
        return self.both_right + self.fixed + self.broken + self.both_wrong

    @property
    def p_value(self) -> float:
        return mcnemar_exact(self.broken, self.fixed)


def paired_outcomes(a_rows: Iterable[Mapping[str, Any]], b_rows: Iterable[Mapping[str, Any]]) -> PairedCounts:
    """Pair rows by ``id`` and count how each example's ``correct`` moved from a to b.

    Raises ``ValueError`` when the two sides hold different ids (pairing by
    position would silently compare different questions).

    >>> before = [{"id": 1, "correct": False}, {"id": 2, "correct": True}, {"id": 3, "correct": False}]
    >>> after = [{"id": 3, "correct": True}, {"id": 2, "correct": True}, {"id": 1, "correct": False}]
    >>> counts = paired_outcomes(before, after)
    >>> counts.fixed, counts.broken, counts.both_right, counts.both_wrong, counts.fixed_ids
    (1, 0, 1, 1, (3,))
    """
    after = {row["id"]: bool(row["correct"]) for row in b_rows}
    before = [(row["id"], bool(row["correct"])) for row in a_rows]
    if {i for i, _ in before} != set(after) or len(before) != len(after):
        raise ValueError("paired_outcomes: the two sides hold different ids")
    cells = {(True, True): [], (False, True): [], (True, False): [], (False, False): []}
    for id_, was_right in before:
        cells[(was_right, after[id_])].append(id_)
    return PairedCounts(
        both_right=len(cells[(True, True)]),
        fixed=len(cells[(False, True)]),
        broken=len(cells[(True, False)]),
        both_wrong=len(cells[(False, False)]),
        fixed_ids=tuple(cells[(False, True)]),
        broken_ids=tuple(cells[(True, False)]),
    )


def best_validation(lines: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The checkpoint evaluation with the highest accuracy, the earliest step among equals (None for none).

    One rule for the run's choice (`recipes.checkpoint_eval`), the report's sentence and its chart.

    >>> best_validation([{"step": 2, "accuracy": 0.5}, {"step": 4, "accuracy": 0.7}, {"step": 6, "accuracy": 0.7}])
    {'step': 4, 'accuracy': 0.7}
    """
    return max(lines, key=lambda r: (r["accuracy"], -r["step"])) if lines else None
