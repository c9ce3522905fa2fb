"""Did GRPO teach the model anything new, or only sharpen what it could already sample?

Yue et al. (2025, "Does Reinforcement Learning Really Incentivize Reasoning
Capacity in LLMs Beyond the Base Model?") found that RL-tuned models win at
pass@1 while their base models catch up, or overtake them, at large k: RL made
the model pick answers it could already sample, more often. With ``N`` samples per
problem (``eval_samples`` / ``recipes.evaluate --samples``) the report answers it
for this run:

1. pass@k for k = 1, 2, 4, ... N per stage, each with a bootstrap 95% interval
   over problems (`recipes.pass_at_k`), drawn on a log-2 x axis;
2. each stage against the one before (and first against last): problems the
   later stage solves in some sample and the earlier never did in N (**new**),
   and the reverse (**lost**). "Solved in some of N samples" is pass@N per
   problem, so McNemar's exact test on new vs lost (`recipes.stats`) says
   whether pass@N moved beyond noise;
3. one sentence each: **expand** when pass@N rose significantly (more new than
   lost, p < 0.05); **sharpen** when pass@1 rose but pass@N did not (the earlier
   stage catches up, or overtakes, given samples); otherwise no gain to explain.

Each is graded twice: *strict* (the format's answer, what the rewards pay) and
*flexible* (the completion's last number, format aside). A base model that
answers in prose scores 0 strict, so only the flexible view says which problems
it could already solve: on the demo, strict says priming and GRPO expanded what
the model solves, flexible that the base already sampled nearly all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.ticker import PercentFormatter

from recipes.charts import PALETTE, plt, tidy_axes, to_png
from recipes.pass_at_k import pass_at_k_curve
from recipes.report_wording import ALPHA, format_p, pct, pts
from recipes.scoring import sampled_counts
from recipes.stats import mcnemar_exact

MAX_LISTED = 20  # new and lost problems shown per comparison; all ids stay in comparison.json
GRADINGS = ("strict", "flexible")  # the format's answer; the last number, format aside (recipes.scoring)


def samples_of(run) -> int:
    """Completions per problem an evaluation drew (1 for greedy and for dirs made before sampling)."""
    return int((run.summary.get("decoding") or {}).get("samples", 1))


def _solved(run, grading: str) -> set:
    return {i for i, r in run.by_id.items() if sampled_counts([r], flexible=grading == "flexible")[0] > 0}


def sampling_section(runs: Sequence[Any], notes: list[str]) -> dict[str, Any] | None:
    """comparison.json's ``sampling``: curves, table, new/lost and the verdicts; None for greedy runs.

    Every consecutive pair of stages is compared (base -> primed, primed -> tuned: GRPO's own step),
    and first vs last when there are more than two, each graded strict and flexible: a base model
    that answers in prose scores 0 strict, and only the flexible view says what it could solve.
    """
    ns = [samples_of(r) for r in runs]
    if max(ns) == 1:
        return None
    if len(set(ns)) > 1:
        notes.append("Stages drew different numbers of samples (" + ", ".join(
            f"{r.label}: {n}" for r, n in zip(runs, ns, strict=True)) + "): no pass@k comparison.")
        return None
    n, decoding = ns[0], runs[0].summary["decoding"]
    stages = []
    for run in runs:
        ordered = [run.by_id[i] for i in runs[0].by_id]  # every stage in the first stage's order
        stage: dict[str, Any] = {"label": run.label}
        for grading in GRADINGS:
            flexible = grading == "flexible"
            curve = pass_at_k_curve(sampled_counts(ordered, flexible=flexible), n)
            vote = "maj_flexible_correct" if flexible else "maj_correct"
            stage[grading] = {"curve": curve, "pass_at_1": curve[0]["pass"], "pass_at_n": curve[-1]["pass"],
                              "maj_at_n": sum(r.get(vote, False) for r in ordered) / len(ordered)}
        stages.append(stage)
    pairs = [(i, i + 1) for i in range(len(runs) - 1)] + ([(0, len(runs) - 1)] if len(runs) > 2 else [])
    comparisons = [_comparison(runs, stages, a, b, n) for a, b in pairs]
    return {"samples": n, "temperature": decoding.get("temperature"), "top_p": decoding.get("top_p"),
            "stages": stages, "comparisons": comparisons}


def _comparison(runs, stages, a: int, b: int, n: int) -> dict[str, Any]:
    before, after = runs[a], runs[b]
    out: dict[str, Any] = {"before": before.label, "after": after.label}
    for grading in GRADINGS:
        solved_a, solved_b = _solved(before, grading), _solved(after, grading)
        new = [i for i in before.by_id if i in solved_b and i not in solved_a]
        lost = [i for i in before.by_id if i in solved_a and i not in solved_b]
        p = mcnemar_exact(len(lost), len(new))
        kind, sentence = verdict(stages[a], stages[b], grading, n, new, lost, p)
        out[grading] = {"verdict": kind, "sentence": sentence, "new": new, "lost": lost, "p": p,
                        "new_rows": [_problem(after, i, grading) for i in new[:MAX_LISTED]],
                        "lost_rows": [_problem(before, i, grading) for i in lost[:MAX_LISTED]]}
    return out


def _problem(solver, id_, grading: str) -> dict[str, Any]:
    row = solver.by_id[id_]
    right = sampled_counts([row], flexible=grading == "flexible")[0]
    return {"id": id_, "question": row["question"], "gold": row["gold"], "solved": f"{right}/{row.get('n_samples', 1)}"}


def verdict(a: dict[str, Any], b: dict[str, Any], grading: str, n: int, new: list, lost: list,
            p: float) -> tuple[str, str]:
    """("expand" | "sharpen" | "no gain", the sentence with its numbers) for stage ``b`` against ``a``."""
    x, y = a[grading], b[grading]
    gain_1, gain_n = y["pass_at_1"] - x["pass_at_1"], y["pass_at_n"] - x["pass_at_n"]
    at_n = (f"pass@{n} {pct(x['pass_at_n'])} → {pct(y['pass_at_n'])} ({pts(gain_n)}; {len(new)} problems new, "
            f"{len(lost)} lost, McNemar {format_p(p)})")
    at_1 = f"pass@1 {pct(x['pass_at_1'])} → {pct(y['pass_at_1'])} ({pts(gain_1)})"
    who = f"{b['label']} vs {a['label']}, {grading}"
    if len(new) > len(lost) and p < ALPHA:
        return "expand", (f"Expand ({who}): {b['label']} solves problems {a['label']} never did in {n} samples; "
                          f"the gain holds at k = {n}: {at_1}, {at_n}.")
    if gain_1 > 0:
        catch = "overtakes it" if gain_n < 0 else "catches up within noise"
        return "sharpen", (f"Sharpen ({who}): {b['label']} gains at k = 1 but {a['label']} {catch} at k = {n}: "
                           f"{at_1}, {at_n}; {b['label']} picks answers {a['label']} could already sample.")
    return "no gain", f"No gain to explain ({who}): {at_1}, {at_n}."


def sentences(section: dict[str, Any]) -> list[str]:
    """Every comparison's verdict, strict then flexible: what the terminal and the report say first."""
    return [c[g]["sentence"] for c in section["comparisons"] for g in GRADINGS]


def pass_at_k_chart(section: dict[str, Any]) -> bytes:
    """pass@k against k (log 2) per stage, with its bootstrap 95% band: strict and flexible side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.2), sharey=True)
    ks = [p["k"] for p in section["stages"][0]["strict"]["curve"]]
    for ax, grading in zip(axes, GRADINGS, strict=True):
        for i, stage in enumerate(section["stages"]):
            curve, color = stage[grading]["curve"], PALETTE[i % len(PALETTE)]
            ax.plot(ks, [p["pass"] for p in curve], marker="o", color=color, label=stage["label"], zorder=3)
            ax.fill_between(ks, [p["ci"][0] for p in curve], [p["ci"][1] for p in curve], color=color, alpha=0.15,
                            linewidth=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_ylim(-0.02, 1.02)  # a stage at 0% stays visible on the axis
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(f"k (of {section['samples']} samples at temperature {section['temperature']})")
        what = "the format's answer" if grading == "strict" else "the last number, format aside"
        ax.set_title(f"{grading}: {what}", fontsize=10, loc="left")
        tidy_axes(ax)
    axes[0].set_ylabel("pass@k (bands: bootstrap 95% over problems)")
    axes[1].legend(loc="lower right", frameon=False, fontsize=9)
    return to_png(fig)


def table_rows(section: dict[str, Any]) -> list[dict[str, str]]:
    """The report's pass@k table, worded: strict then flexible pass@1, pass@N (95% CI) and maj@N."""
    rows = []
    for s in section["stages"]:
        row = {"label": s["label"]}
        for g in GRADINGS:
            curve = s[g]["curve"]
            row[g] = [f"{pct(s[g]['pass_at_1'])} {_ci(curve[0])}", f"{pct(s[g]['pass_at_n'])} {_ci(curve[-1])}",
                      pct(s[g]["maj_at_n"])]
        rows.append(row)
    return rows


def _ci(point: dict[str, Any]) -> str:
    return f"[{pct(point['ci'][0])}, {pct(point['ci'][1])}]"
