"""PNG charts for the comparison report (matplotlib, headless Agg backend).

Three pictures answer the questions people ask after a run:
``accuracy.png`` -- did each stage get better, and is the gap bigger than the
noise (Wilson 95% error bars)? ``rewards.png`` -- did the rewards actually
climb during GRPO, and did learning stall (many groups with zero reward
spread give GRPO no gradient)? ``validation.png`` (with ``eval_steps``) -- when was
the model best, and did it fall after? Each returns PNG bytes; the caller writes them
atomically and embeds the same bytes in the HTML.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from recipes.stats import best_validation  # noqa: E402

ACCURACY_COLOR = "#2563eb"
FORMAT_COLOR = "#f59e0b"
TOTAL_COLOR = "#111827"
PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#db2777", "#65a30d"]
SMOOTH_FROM = 20  # with at least this many points, draw raw values faint and a rolling mean on top

LENGTH_KEYS = ("completions/mean_length", "completion_length")


def to_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=144, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def tidy_axes(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.8)
    ax.set_axisbelow(True)


def accuracy_chart(stages: Sequence[Mapping[str, Any]]) -> bytes:
    """Grouped bars per stage: accuracy and format rate, each with its 95% interval.

    Each stage is a mapping with ``label``, ``n``, ``accuracy``, ``accuracy_ci``,
    ``format_rate`` and ``format_ci`` (the ``stages`` of comparison.json).
    """
    labels = [s["label"] for s in stages]
    width = 0.38
    fig, ax = plt.subplots(figsize=(max(5.0, 1.7 * len(stages) + 2.4), 4.2))
    for offset, key, color, name in ((-width / 2, "accuracy", ACCURACY_COLOR, "accuracy"),
                                     (width / 2, "format_rate", FORMAT_COLOR, "format rate")):
        ci_key = "accuracy_ci" if key == "accuracy" else "format_ci"
        xs = [i + offset for i in range(len(stages))]
        values = [s[key] for s in stages]
        errs = [[v - s[ci_key][0] for v, s in zip(values, stages, strict=True)],
                [s[ci_key][1] - v for v, s in zip(values, stages, strict=True)]]
        ax.bar(xs, values, width * 0.92, color=color, label=name, zorder=2)
        ax.errorbar(xs, values, yerr=errs, fmt="none", ecolor="#374151", elinewidth=1.1, capsize=4, zorder=3)
        for x, v, s in zip(xs, values, stages, strict=True):
            ax.annotate(f"{v:.1%}", (x, s[ci_key][1]), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8.5, color="#111827")
    ax.set_xticks(range(len(stages)), [f"{lab}\n(n={s['n']})" for lab, s in zip(labels, stages, strict=True)])
    ax.set_ylim(0, 1.08)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("Accuracy and format rate (95% Wilson intervals)", fontsize=10.5, loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False, ncols=2, fontsize=9)
    tidy_axes(ax)
    return to_png(fig)


def reward_rows(log: Sequence[Any]) -> list[dict[str, Any]]:
    """The GRPO lines of a TRL ``log_history``: dicts with a numeric ``reward`` or ``rewards/*``.

    SFT lines (loss, no reward), the final ``train_runtime`` summary and eval
    lines are left out.
    """
    return [row for row in log if isinstance(row, dict) and
            (finite(row.get("reward")) is not None or any(finite(row.get(k)) is not None for k in reward_keys([row])))]


def reward_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per-function mean reward keys, in first-seen order.

    TRL >= 0.15 logs ``rewards/<name>/mean`` (and ``/std``); older versions log ``rewards/<name>``.
    """
    keys: dict[str, None] = {}
    for row in rows:
        for key in row:
            parts = key.split("/")
            if parts[0] == "rewards" and (len(parts) == 2 or (len(parts) == 3 and parts[2] == "mean")):
                keys[key] = None
    return list(keys)


def reward_name(key: str) -> str:
    """``rewards/answer/mean`` -> ``answer``."""
    return key.split("/")[1]


def finite(value: Any) -> float | None:
    """``value`` as a float if it is a finite number, else ``None`` (logs hold None/NaN for failed steps)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def rolling_mean(values: Sequence[float | None], window: int) -> list[float | None]:
    """Centered rolling mean that skips missing values and shrinks at the edges (no lag, no fake ends).

    >>> rolling_mean([1, 2, 3, None, 5], 3)
    [1.5, 2.0, 2.5, 4.0, 5.0]
    """
    half = window // 2
    out: list[float | None] = []
    for i in range(len(values)):
        near = [v for v in values[max(0, i - half): i + half + 1] if v is not None]
        out.append(sum(near) / len(near) if near else None)
    return out


def _plot_series(ax, steps, values, color, label, *, bold: bool = False) -> None:
    pts = [(s, v) for s, v in zip(steps, values, strict=True) if v is not None]
    if not pts:
        return
    xs, ys = zip(*pts, strict=True)
    lw = 2.2 if bold else 1.6
    if len(pts) >= SMOOTH_FROM:
        ax.plot(xs, ys, color=color, alpha=0.25, linewidth=0.9)
        window = max(3, len(pts) // 12) | 1
        ax.plot(xs, rolling_mean(list(ys), window), color=color, linewidth=lw, label=label)
    else:
        ax.plot(xs, ys, color=color, linewidth=lw, marker="o", markersize=3, label=label)


def reward_chart(log: Sequence[Any]) -> bytes | None:
    """Mean reward and each reward function's mean over steps; ``None`` when the log has no reward lines.

    A second panel, when logged, shows the fraction of groups whose rewards all
    tie (``frac_reward_zero_std``: no GRPO signal there) and the mean
    completion length.
    """
    rows = reward_rows(log)
    if not rows:
        return None
    steps = [finite(r.get("step")) if finite(r.get("step")) is not None else i + 1 for i, r in enumerate(rows)]
    keys = reward_keys(rows)
    zero_std = [finite(r.get("frac_reward_zero_std")) for r in rows]
    length_key = next((k for k in LENGTH_KEYS if any(finite(r.get(k)) is not None for r in rows)), None)
    lengths = [finite(r.get(length_key)) for r in rows] if length_key else []
    second = any(v is not None for v in zero_std) or bool(lengths)

    if second:
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8.0, 6.4), sharex=True, height_ratios=[2.2, 1])
    else:
        fig, ax = plt.subplots(figsize=(8.0, 4.2))
    _plot_series(ax, steps, [finite(r.get("reward")) for r in rows], TOTAL_COLOR, "total reward (mean)", bold=True)
    for i, key in enumerate(keys):
        _plot_series(ax, steps, [finite(r.get(key)) for r in rows], PALETTE[i % len(PALETTE)], reward_name(key))
    smoothed = " (faint: raw, solid: rolling mean)" if len(rows) >= SMOOTH_FROM else ""
    ax.set_title(f"GRPO rewards over training{smoothed}", fontsize=10.5, loc="left")
    ax.set_ylabel("mean reward per completion")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    tidy_axes(ax)
    if not second:
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        return to_png(fig)

    has_zero_std = any(v is not None for v in zero_std)
    if has_zero_std:
        _plot_series(ax2, steps, zero_std, "#6b7280", "groups with zero reward std")
        ax2.set_ylim(-0.03, 1.03)
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax2.set_ylabel("zero-std groups")
    length_ax = ax2.twinx() if has_zero_std and lengths else ax2  # two units need two y axes
    if lengths:
        _plot_series(length_ax, steps, lengths, "#0891b2", "completion length (tokens)")
        length_ax.set_ylabel("tokens")
        length_ax.spines[["top"]].set_visible(False)
    handles = ax2.get_legend_handles_labels()[0] + (length_ax.get_legend_handles_labels()[0] if length_ax is not ax2 else [])
    ax2.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.08 if length_ax is not ax2 else 1.01, 1.0),
               frameon=False, fontsize=9)
    ax2.set_xlabel("step")
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    tidy_axes(ax2)
    return to_png(fig)


def validation_chart(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Validation accuracy (and format rate) of each evaluated checkpoint, the best one marked."""
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(steps, [r["accuracy"] for r in rows], marker="o", color=ACCURACY_COLOR, label="accuracy", zorder=3)
    if all(r.get("format_rate") is not None for r in rows):
        ax.plot(steps, [r["format_rate"] for r in rows], marker=".", color=FORMAT_COLOR, label="format rate")
    best = best_validation(rows)
    ax.annotate(f"best: step {best['step']}, {best['accuracy']:.1%}", (best["step"], best["accuracy"]),
                xytext=(0, 8), textcoords="offset points", ha="center", fontsize=8.5)
    ax.set_ylim(0, 1.08)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step (saved checkpoint)")
    ax.set_title(f"Validation accuracy over training (n={rows[0].get('n', '?')}, greedy)", fontsize=10.5, loc="left")
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    tidy_axes(ax)
    return to_png(fig)
