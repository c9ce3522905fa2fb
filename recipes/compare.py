"""Compare evaluation runs of the same examples: base -> (primed ->) tuned.

    python -m recipes.compare runs/demo/eval/base runs/demo/eval/primed runs/demo/eval/tuned \\
        --out runs/demo/report --train-log runs/demo/metrics.jsonl

Each EVAL_DIR is what ``python -m recipes.evaluate`` wrote: ``predictions.jsonl``
(one scored row per example) and ``summary.json``. Stages are given in order;
every consecutive pair is compared, and first vs last when there are more
than two. Rows are paired by ``id``, and runs that hold different ids or a
different gold answer for an id are refused rather than compared: a paired
test on unpaired data would be a made-up number.

Accuracy by category. Every categorical column the prediction rows carry (a
short string or integer with 2 to ``CATEGORY_MAX_VALUES`` values, e.g. the
arithmetic generator's ``operation``, ``steps`` and ``phrasing``, or a MATH
``subject``/``level``) gets a table: accuracy per stage with Wilson intervals
and McNemar per transition within the category. A *regression* is a
category (or the whole set) where a later stage is worse with p < 0.05;
the headline names every one, because an overall gain can hide a skill lost.

Writes into ``--out`` (each file atomically): ``report.html`` (self-contained,
the one to open), ``report.md``, ``comparison.json`` (every number in the
report), ``accuracy.png`` and, with ``--train-log``, ``rewards.png``.
Bad input gives one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from recipes import charts, report
from recipes.alarms import find_alarms
from recipes.errors import RecipeError, run_cli
from recipes.eval_dirs import check_paired, load_eval_dir, unique_labels
from recipes.io_utils import atomic_write_bytes, atomic_write_text, read_jsonl
from recipes.run_stats import (
    EvalRun,
    category_stats,
    find_regressions,
    stage_stats,
    train_log_stats,
    transition_stats,
)
from recipes.sharpen_or_expand import pass_at_k_chart, sampling_section, sentences
from recipes.stats import best_validation

SHARED_SETTINGS = ("dataset", "split", "format", "max_new_tokens")  # a difference here deserves a note


# ---------------------------------------------------------------- numbers


def _notes(runs: list[EvalRun], stages: list[dict[str, Any]]) -> list[str]:
    notes = []
    for key in SHARED_SETTINGS:
        values = [r.summary.get(key) for r in runs]
        if len({json.dumps(v) for v in values}) > 1:
            notes.append(f"Stages differ in {key}: " + ", ".join(f"{r.label}={v}" for r, v in zip(runs, values, strict=True)))
    for run, stage in zip(runs, stages, strict=True):
        claimed = run.summary.get("accuracy")
        if isinstance(claimed, int | float) and abs(claimed - stage["accuracy"]) > 1e-9:
            notes.append(f"{run.label}: summary.json says accuracy {claimed:.4f} but predictions.jsonl gives "
                         f"{stage['accuracy']:.4f}; this report uses predictions.jsonl.")
    return notes


def _load_train_log(path: Path) -> tuple[list[Any], bool]:
    """Rows of a metrics.jsonl, and whether a truncated last line was dropped."""
    if not path.is_file():
        raise RecipeError(f"{path}: training log not found")
    try:
        return read_jsonl(path, tolerate_truncated_tail=False), False
    except ValueError:
        pass
    try:
        return read_jsonl(path), True
    except ValueError as err:
        raise RecipeError(str(err)) from None


def _default_title(stages: list[dict[str, Any]]) -> str:
    first = stages[0]
    what = " → ".join(s["label"] for s in stages)
    on = f" on {first['dataset']}" + (f" ({first['split']})" if first.get("split") else "") if first.get("dataset") else ""
    model = f"{first['model']}: " if first.get("model") else ""
    return f"{model}{what}{on}"


def compare(eval_dirs: list[str | Path], out: str | Path, train_log: str | Path | None = None,
            title: str | None = None) -> dict[str, Any]:
    """Compare the runs and write the report files into ``out``; returns comparison.json's content."""
    if len(eval_dirs) < 2:
        raise RecipeError("eval dirs: need at least two (in stage order, e.g. base tuned)")
    runs = [load_eval_dir(d) for d in eval_dirs]
    check_paired(runs)
    unique_labels(runs)
    stages = [stage_stats(r) for r in runs]
    pairs = [(runs[i], runs[i + 1], "step") for i in range(len(runs) - 1)]
    if len(runs) > 2:
        pairs.append((runs[0], runs[-1], "overall"))
    transitions, examples = zip(*(transition_stats(a, b, kind) for a, b, kind in pairs), strict=True)
    categories = category_stats(runs, pairs)
    comparison: dict[str, Any] = {
        "title": title or _default_title(stages), "stages": stages, "transitions": list(transitions),
        "categories": categories, "regressions": find_regressions(list(transitions), categories),
        "train_log": None, "alarms": [], "notes": _notes(runs, stages),
    }
    comparison["headline"] = report.headline(comparison)
    comparison["sampling"] = sampling_section(runs, comparison["notes"])  # pass@k: sharpen or expand

    images = {"accuracy.png": charts.accuracy_chart(stages)}
    if comparison["sampling"]:
        images["pass_at_k.png"] = pass_at_k_chart(comparison["sampling"])
    if train_log is not None:
        log, truncated = _load_train_log(Path(train_log))
        comparison["train_log"] = train_log_stats(Path(train_log), log)
        comparison["alarms"] = find_alarms(log, {stage["label"]: stage for stage in stages})
        if truncated:
            comparison["notes"].append(f"{train_log}: the last line was cut short (killed run?) and was skipped.")
        validation = [r for r in log if isinstance(r, dict) and r.get("stage") == "validation"]
        if validation:  # eval_steps: checkpoints on the validation split (recipes.checkpoint_eval)
            images["validation.png"] = charts.validation_chart(validation)
            best = best_validation(validation)
            comparison["validation"] = {"best": best["checkpoint"], "best_accuracy": best["accuracy"],
                                        "last": validation[-1]["checkpoint"], "last_accuracy": validation[-1]["accuracy"]}
        rewards_png = charts.reward_chart(log)
        if rewards_png is None:
            comparison["notes"].append(f"{train_log}: no line with rewards, so no reward chart.")
        else:
            images["rewards.png"] = rewards_png

    out = Path(out)  # everything is checked and computed: only now touch the output dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RecipeError(f"{out}: cannot create the output dir ({err.strerror})") from None
    for name, png in images.items():
        atomic_write_bytes(out / name, png)
    atomic_write_text(out / "comparison.json", json.dumps(comparison, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "report.md", report.render_markdown(comparison, examples, list(images)))
    captions = {"accuracy.png": "accuracy and format rate by stage", "rewards.png": "rewards over training",
                "pass_at_k.png": "pass@k by stage", "validation.png": "validation accuracy over training"}
    atomic_write_text(out / "report.html",
                      report.render_html(comparison, examples, {captions[k]: v for k, v in images.items()}))
    return comparison


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.compare", description=__doc__.split("\n\n")[0])
    p.add_argument("eval_dirs", nargs="+", metavar="EVAL_DIR", help="evaluation dirs in stage order (two or more)")
    p.add_argument("--out", required=True, help="report dir (created if needed)")
    p.add_argument("--train-log", help="metrics.jsonl of the training run (TRL log_history), for reward curves")
    p.add_argument("--title", help="report title (default: model, stages and dataset)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    comparison = compare(args.eval_dirs, args.out, args.train_log, args.title)
    print(comparison["headline"])
    for sentence in sentences(comparison["sampling"]) if comparison["sampling"] else ():
        print(sentence)
    for line in report.category_lines(comparison):
        print(line)
    print(f"report: {Path(args.out) / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
