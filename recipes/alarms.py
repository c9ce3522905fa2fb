"""Reward-hacking and collapse alarms, read from a run's training log and its evaluations.

GRPO maximises whatever the reward stack pays for; a report that only shows the
final accuracy can hide a run that learned to game a shaping term. Each alarm
compares the first and last third of the GRPO steps in ``metrics.jsonl`` (TRL's
logged means: ``rewards/<name>/mean``, ``reward``, ``frac_reward_zero_std``,
``completions/mean_length``, ``completions/clipped_ratio``) and, where the run
evaluated, the held-out accuracy before and after GRPO:

* ``shaping_up_correctness_down``: a format or shaping reward rose while an
  answer reward (answer, number, correctness, math_verify) fell;
* ``reward_up_accuracy_flat``: the total reward rose but held-out accuracy did not;
* ``length_collapse``: completions shrank to under half their early length;
* ``length_limit``: more than half the late completions ran into max_completion_length;
* ``no_signal``: more than 90% of groups had zero reward variance on average.

Each alarm names the steps and the numbers, so a reader can check it in the log.

>>> rows = [{"stage": "grpo", "step": s, "frac_reward_zero_std": 0.95} for s in range(1, 7)]
>>> [a["kind"] for a in find_alarms(rows, {})]
['no_signal']
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

ANSWER_REWARDS = ("answer", "number", "correctness", "math_verify")
MIN_STEPS = 3  # fewer logged steps than this: too short to call a trend


def _thirds(rows: Sequence[Mapping[str, Any]], key: str) -> tuple[float, float, str, str] | None:
    """(early mean, late mean, early steps, late steps) of ``key`` over the first and last third of steps."""
    points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), int | float)]
    if len(points) < MIN_STEPS:
        return None
    k = max(1, len(points) // 3)
    early, late = points[:k], points[-k:]
    return (statistics.fmean(v for _, v in early), statistics.fmean(v for _, v in late),
            f"{early[0][0]}-{early[-1][0]}", f"{late[0][0]}-{late[-1][0]}")


def _alarm(kind: str, message: str) -> dict[str, str]:
    return {"kind": kind, "message": message}


def find_alarms(metrics: Sequence[Mapping[str, Any]], stages: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """The alarms this run trips; ``stages`` maps base/primed/tuned to their evaluation summaries."""
    rows = [r for r in metrics if r.get("stage") == "grpo" and "step" in r]
    alarms: list[dict] = []
    names = sorted({k.split("/")[1] for r in rows for k in r if k.startswith("rewards/") and k.endswith("/mean")})
    trends = {n: _thirds(rows, f"rewards/{n}/mean") for n in names}
    falling = {n: t for n, t in trends.items() if t and n in ANSWER_REWARDS and t[1] < t[0]}
    for name, t in trends.items():
        if t and name not in ANSWER_REWARDS and t[1] > t[0] and falling:
            down = ", ".join(f"{n} {f[0]:.3g} -> {f[1]:.3g}" for n, f in falling.items())
            alarms.append(_alarm("shaping_up_correctness_down",
                                 f"{name} rose {t[0]:.3g} -> {t[1]:.3g} (steps {t[2]} vs {t[3]}) while {down}: "
                                 "the policy may be learning the shaping term instead of the answers"))
    total = _thirds(rows, "reward")
    before = stages.get("primed") or stages.get("base")
    after = stages.get("tuned")
    if total and total[1] > total[0] and before and after and after["accuracy"] <= before["accuracy"]:
        alarms.append(_alarm("reward_up_accuracy_flat",
                             f"mean reward rose {total[0]:.3g} -> {total[1]:.3g} (steps {total[2]} vs {total[3]}) "
                             f"but held-out accuracy went {before['accuracy']:.1%} -> {after['accuracy']:.1%}"))
    length = _thirds(rows, "completions/mean_length")
    if length and length[0] > 0 and length[1] < 0.5 * length[0]:
        alarms.append(_alarm("length_collapse",
                             f"mean completion length fell {length[0]:.1f} -> {length[1]:.1f} tokens "
                             f"(steps {length[2]} vs {length[3]})"))
    clipped = _thirds(rows, "completions/clipped_ratio")
    if clipped and clipped[1] > 0.5:
        alarms.append(_alarm("length_limit",
                             f"{clipped[1]:.0%} of completions ran into max_completion_length in steps {clipped[3]} "
                             "(truncated answers score as wrong; raise the limit or penalise length)"))
    flat = [r["frac_reward_zero_std"] for r in rows if isinstance(r.get("frac_reward_zero_std"), int | float)]
    if len(flat) >= MIN_STEPS and statistics.fmean(flat) > 0.9:
        alarms.append(_alarm("no_signal",
                             f"on average {statistics.fmean(flat):.0%} of groups had zero reward variance over "
                             f"steps {rows[0]['step']}-{rows[-1]['step']}: GRPO had almost nothing to learn from"))
    return alarms
