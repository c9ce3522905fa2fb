"""Statistics of evaluation runs: per stage, per transition, per category, and the training log's trend.

Everything here is computed from the prediction rows (`EvalRun`), never from a
summary's rounded numbers: accuracy and format rate with Wilson 95% intervals,
paired before/after outcomes with McNemar's exact test (`recipes.stats`), the same
for every categorical column of the data (operation, steps, phrasing, a subject or
level), and the regressions: every place a later stage is worse with p < 0.05.
`recipes.compare` loads the runs and writes the report from these numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipes import charts, report
from recipes.scoring import SAMPLED_FIELDS
from recipes.stats import paired_outcomes, wilson_interval

FIELDS = ("id", "question", "gold", "completion", "extracted", "correct", "format_ok", "n_tokens")
CATEGORY_MAX_VALUES = 20  # more distinct values than this is an identifier or free text, not a category


@dataclass
class EvalRun:
    """One evaluation dir: its summary and its prediction rows (file order), indexed by id."""

    path: Path
    label: str
    summary: dict[str, Any]
    rows: list[dict[str, Any]]
    by_id: dict[Any, dict[str, Any]] = field(default_factory=dict)


def stage_stats(run: EvalRun) -> dict[str, Any]:
    """Accuracy and format rate (with Wilson 95% intervals) recomputed from the prediction rows."""
    n = len(run.rows)
    correct = sum(r["correct"] for r in run.rows)
    format_ok = sum(r["format_ok"] for r in run.rows)
    flexible = [r["flexible_correct"] for r in run.rows if "flexible_correct" in r]
    s = run.summary
    return {
        "label": run.label, "dir": str(run.path), "n": n,
        "correct": correct, "accuracy": correct / n, "accuracy_ci": list(wilson_interval(correct, n)),
        # The last number of the completion, format or not (None for predictions made before it existed).
        "flexible_accuracy": sum(flexible) / n if len(flexible) == n else None,
        "format_ok": format_ok, "format_rate": format_ok / n, "format_ci": list(wilson_interval(format_ok, n)),
        "mean_tokens": sum(r["n_tokens"] for r in run.rows) / n,
        **{k: s.get(k) for k in ("model", "adapter", "dataset", "split", "format", "seed")},
    }


def _is_category_value(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) <= 40


def category_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Columns beyond the scored fields that every row has as a short string or integer, with
    2..CATEGORY_MAX_VALUES distinct values and fewer values than rows (so not an identifier).

    >>> rows = [{"id": i, "operation": "add" if i % 2 else "multiply", "note": f"n{i}", "steps": 1} for i in range(6)]
    >>> category_columns(rows)
    ['operation']
    """
    if not rows:
        return []
    names = [k for k in rows[0] if k not in FIELDS and k not in SAMPLED_FIELDS]
    found = []
    for name in names:
        values = [r.get(name) for r in rows]
        if not all(_is_category_value(v) for v in values):
            continue
        distinct = {json.dumps(v) for v in values}
        if 2 <= len(distinct) <= min(CATEGORY_MAX_VALUES, len(rows) - 1):
            found.append(name)
    return found


def _value_order(value: Any) -> tuple[bool, Any]:
    return (isinstance(value, str), value)  # numbers first, numerically; then strings


def category_stats(runs: list[EvalRun], pairs: list[tuple[EvalRun, EvalRun, str]]) -> list[dict[str, Any]]:
    """Per categorical column of the first run's rows: each value's accuracy per stage and McNemar per pair.

    The category of an example is read from the first run (all runs hold the same examples),
    so an older evaluation dir without the column still lines up.
    """
    ref = runs[0]
    out = []
    for column in category_columns(ref.rows):
        groups: dict[Any, list[Any]] = {}
        for row in ref.rows:
            groups.setdefault(row[column], []).append(row["id"])
        values = []
        for value in sorted(groups, key=_value_order):
            ids = set(groups[value])
            subset = {run.label: [r for r in run.rows if r["id"] in ids] for run in runs}
            stages = []
            for run in runs:
                k = sum(r["correct"] for r in subset[run.label])
                stages.append({"label": run.label, "correct": k, "n": len(ids), "accuracy": k / len(ids),
                               "accuracy_ci": list(wilson_interval(k, len(ids)))})
            transitions = []
            for a, b, kind in pairs:
                counts = paired_outcomes(subset[a.label], subset[b.label])
                acc_a = (counts.both_right + counts.broken) / counts.n
                acc_b = (counts.both_right + counts.fixed) / counts.n
                transitions.append({"before": a.label, "after": b.label, "kind": kind, "n": counts.n,
                                    "before_accuracy": acc_a, "after_accuracy": acc_b, "delta": acc_b - acc_a,
                                    "fixed": counts.fixed, "broken": counts.broken, "p": counts.p_value,
                                    "significant": counts.p_value < report.ALPHA})
            values.append({"value": value, "n": len(ids), "stages": stages, "transitions": transitions})
        out.append({"column": column, "values": values})
    return out


def find_regressions(transitions: list[dict[str, Any]], categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every transition, over all examples (``column`` None) or within a category, that got worse with p < ALPHA."""
    found = []
    scopes = [(None, None, t) for t in transitions]
    scopes += [(c["column"], v["value"], t) for c in categories for v in c["values"] for t in v["transitions"]]
    for column, value, t in scopes:
        if t["delta"] < 0 and t["p"] < report.ALPHA:
            found.append({"column": column, "value": value, "before": t["before"], "after": t["after"],
                          "kind": t["kind"], "n": t["n"], "before_accuracy": t["before_accuracy"],
                          "after_accuracy": t["after_accuracy"], "delta": t["delta"],
                          "fixed": t["fixed"], "broken": t["broken"], "p": t["p"]})
    return found


def _side(row: dict[str, Any]) -> dict[str, Any]:
    return {"extracted": row["extracted"], "completion": row["completion"], "correct": row["correct"]}


def transition_stats(a: EvalRun, b: EvalRun, kind: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """McNemar numbers for a -> b, and the changed examples side by side (fixed first)."""
    counts = paired_outcomes(a.rows, b.rows)
    acc_a, acc_b = sum(r["correct"] for r in a.rows) / counts.n, sum(r["correct"] for r in b.rows) / counts.n
    p = counts.p_value
    numbers = {
        "before": a.label, "after": b.label, "kind": kind, "n": counts.n,
        "before_accuracy": acc_a, "after_accuracy": acc_b, "delta": acc_b - acc_a,
        "both_right": counts.both_right, "both_wrong": counts.both_wrong,
        "fixed": counts.fixed, "broken": counts.broken,
        "b": counts.broken, "c": counts.fixed, "p": p, "significant": p < report.ALPHA,
        "fixed_ids": list(counts.fixed_ids), "broken_ids": list(counts.broken_ids),
    }
    examples = [
        {"id": i, "change": change, "question": a.by_id[i]["question"], "gold": a.by_id[i]["gold"],
         "before": _side(a.by_id[i]), "after": _side(b.by_id[i])}
        for change, ids in (("fixed", counts.fixed_ids), ("broken", counts.broken_ids)) for i in ids
    ]
    return numbers, examples


def train_log_stats(path: Path, log: list[Any]) -> dict[str, Any]:
    """How many GRPO steps were logged and how the mean reward moved (mean of the first vs last 10%)."""
    rows = charts.reward_rows(log)
    rewards = [v for v in (charts.finite(r.get("reward")) for r in rows) if v is not None]
    window = max(1, len(rewards) // 10)
    return {
        "path": str(path), "lines": len(log), "reward_points": len(rows),
        "reward_keys": [charts.reward_name(k) for k in charts.reward_keys(rows)],
        "window": window,
        "reward_start": sum(rewards[:window]) / window if rewards else None,
        "reward_end": sum(rewards[-window:]) / window if rewards else None,
    }
