"""The report's numbers and sentences as plain text, for the terminal, Markdown and HTML alike.

The wording is deliberately plain about uncertainty: every accuracy carries
its 95% interval and every change its McNemar p-value, and a change with
p >= 0.05 is called "not significant at 0.05", whatever its size.

Nothing here is escaped: stage labels and category values come from the runs,
and `recipes.report` escapes them with the rest when it renders a page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ALPHA = 0.05

METHOD = (
    "Accuracy is the share of examples whose extracted answer matches the gold answer; format rate the "
    "share whose completion matches the reasoning format exactly. Intervals are 95% Wilson score "
    "intervals. Stages are compared on the same examples, paired by id, with McNemar's exact test "
    "(two-sided): with b = examples broken (right → wrong) and c = examples fixed (wrong → right), "
    "p = min(1, 2·P[Binomial(b + c, ½) ≤ min(b, c)]). p-values are not adjusted for multiple comparisons."
)


def format_p(p: float, alpha: float = ALPHA) -> str:
    """``p = 0.012`` style, never rounding across ``alpha`` (0.0496 is not shown as 0.05).

    >>> format_p(0.021484375), format_p(0.0496), format_p(1.0), format_p(2e-7)
    ('p = 0.0215', 'p = 0.0496', 'p = 1', 'p < 0.001')
    """
    if p < 0.001:
        return "p < 0.001"
    for digits in range(3, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            return f"p = {text}"
    return f"p = {p!r}"


def verdict(transition: Mapping[str, Any], alpha: float = ALPHA) -> str:
    if transition["fixed"] + transition["broken"] == 0:
        return "no example changed"
    return f"significant at {alpha:g}" if transition["p"] < alpha else f"not significant at {alpha:g}"


def pts(delta: float) -> str:
    """Accuracy difference in percentage points: ``+5.7 pts``."""
    value = round(delta * 100, 1)
    return "±0.0 pts" if value == 0 else f"{value:+.1f} pts"


def pct(x: float) -> str:
    return f"{x:.1%}"


def ci(pair: Sequence[float]) -> str:
    return f"{pair[0]:.1%} – {pair[1]:.1%}"


def p_cell(p: float) -> str:
    """p for a table column headed "McNemar p": ``0.0215`` or ``< 0.001``."""
    return format_p(p).removeprefix("p = ").removeprefix("p ")


def transition_name(t: Mapping[str, Any]) -> str:
    return f"{t['after']} vs {t['before']}"


def headline_transitions(comparison: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The last step, plus first vs last when there are more than two stages."""
    steps = [t for t in comparison["transitions"] if t["kind"] == "step"]
    overall = [t for t in comparison["transitions"] if t["kind"] == "overall"]
    return steps[-1:] + overall


def headline(comparison: Mapping[str, Any]) -> str:
    """One line for the top of the report and the terminal.

    e.g. ``base 12.0% → primed 41.3% → tuned 47.0% (tuned vs primed: +5.7 pts, McNemar p = 0.012; ...)``
    """
    chain = " → ".join(f"{s['label']} {pct(s['accuracy'])}" for s in comparison["stages"])
    parts = []
    for i, t in enumerate(headline_transitions(comparison)):
        test = "McNemar " if i == 0 else ""
        part = f"{transition_name(t)}: {pts(t['delta'])}, {test}{format_p(t['p'])}"
        if t["p"] >= ALPHA:
            part += ", not significant at 0.05"
        parts.append(part)
    clause = regression_clause(comparison)
    return f"{chain} ({'; '.join(parts)})" + (f" — {clause}" if clause else "")


def scope_name(column: Any, value: Any) -> str:
    """``operation = multiply``, or ``all examples`` for the whole set."""
    return "all examples" if column is None else f"{column} = {value}"


def regression_clause(comparison: Mapping[str, Any]) -> str:
    """The headline's last words: every significant regression, or that there is none to find."""
    regressions = comparison.get("regressions") or []
    if regressions:
        shown = "; ".join(f"{scope_name(r['column'], r['value'])} {transition_name(r)} {pts(r['delta'])}, "
                          f"{format_p(r['p'])}" for r in regressions)
        return f"REGRESSION{'S' if len(regressions) > 1 else ''} (worse, p < {ALPHA:g}): {shown}"
    categories = comparison.get("categories") or []
    if categories:
        n = sum(len(c["values"]) for c in categories)
        return f"no significant regression in any of {n} categories"
    return ""


def no_regression_sentence(comparison: Mapping[str, Any]) -> str:
    n = sum(len(c["values"]) for c in comparison.get("categories") or [])
    where = f"all examples and each of {n} categories" if n else "all examples"
    return (f"None: in {where}, no later stage is worse than an earlier one with p < {ALPHA:g} "
            f"(McNemar, per transition).")


def category_lines(comparison: Mapping[str, Any]) -> list[str]:
    """A plain-text table per categorical column, for the terminal: stage accuracies and the headline tests."""
    lines = []
    shown = headline_transitions(comparison)
    keys = [(t["before"], t["after"]) for t in shown]
    for cat in comparison.get("categories") or []:
        header = [f"by {cat['column']}", *(s["label"] for s in comparison["stages"]),
                  *(transition_name(t) for t in shown)]
        rows = []
        for v in cat["values"]:
            tests = {(t["before"], t["after"]): t for t in v["transitions"]}
            rows.append([f"{v['value']} (n={v['n']})",
                         *(f"{pct(s['accuracy'])} ({s['correct']})" for s in v["stages"]),
                         *(f"{pts(tests[k]['delta'])}, {format_p(tests[k]['p'])}" for k in keys)])
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                  for row in [header, *rows]]
    return lines


def format_vs_answers(comparison: Mapping[str, Any]) -> str:
    """One sentence: how much of the first-to-last gain is the format, how much the answers.

    Strict accuracy needs the answer in the format's answer section; flexible accuracy reads the
    last number anywhere. Their gains differ by what the format alone added.

    >>> format_vs_answers({"stages": [{"label": "base", "accuracy": 0.0, "flexible_accuracy": 0.2},
    ...                                {"label": "tuned", "accuracy": 0.4, "flexible_accuracy": 0.45}]})
    'base → tuned: strict accuracy +40.0 pts, of which +25.0 pts are answers also right without the format (flexible accuracy) and +15.0 pts the format alone.'
    """
    first, last = comparison["stages"][0], comparison["stages"][-1]
    if first.get("flexible_accuracy") is None or last.get("flexible_accuracy") is None:
        return ""
    strict = last["accuracy"] - first["accuracy"]
    answers = last["flexible_accuracy"] - first["flexible_accuracy"]
    return (f"{first['label']} → {last['label']}: strict accuracy {pts(strict)}, of which {pts(answers)} are "
            f"answers also right without the format (flexible accuracy) and {pts(strict - answers)} the format alone.")


def train_log_sentence(log: Mapping[str, Any]) -> str:
    """e.g. "Training log: 40 GRPO steps; mean reward 0.41 → 1.87 (first vs last 10% of steps)."."""
    text = f"Training log: {log['reward_points']} GRPO steps"
    if log.get("reward_start") is not None and log.get("reward_end") is not None:
        text += (f"; mean reward {log['reward_start']:.3g} → {log['reward_end']:.3g} "
                 f"(first vs last {log['window']} logged steps)")
    return text + "."
