"""The end of every training run: the report, alarms, ``summary.json`` and the adapter's model card.

``summary.json`` is written last: a run folder that has it holds a finished run
(`recipes.run_folder`), so a kill anywhere before leaves a run that resumes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from data_prep.formats import ReasoningFormat
from recipes.alarms import find_alarms
from recipes.backend import peak_gpu_memory_gib
from recipes.checkpoint_eval import validation_summary
from recipes.config import RunConfig, resolved_config
from recipes.distributed import is_main
from recipes.errors import RecipeError
from recipes.io_utils import atomic_write_text, read_json, read_jsonl, write_json
from recipes.model_card import model_card


def finish_run(cfg: RunConfig, fmt: ReasoningFormat, run_dir: Path, policy, stages: dict[str, dict], steps,
            runtime, sft: dict[str, Any] | None, started: float, recipe: str = "grpo") -> int:
    """Report, alarms, summary.json and the adapter's model card: the end of every training run."""
    if not is_main():  # the main process writes the report and summary (recipes.distributed)
        return 0
    report = _write_report(run_dir, stages) if cfg.recipe.evaluate and len(stages) > 1 else None
    metrics = run_dir / "metrics.jsonl"
    comparison = read_json(run_dir / "report" / "comparison.json") if report else {}
    alarms = comparison["alarms"] if "alarms" in comparison else find_alarms(
        read_jsonl(metrics) if metrics.is_file() else [], stages)
    for alarm in alarms:
        print(f"alarm: {alarm['kind']}: {alarm['message']}")
    summary = {
        "run_name": cfg.grpo.run_name, "recipe": recipe,
        "model": cfg.recipe.model_name, "backend": policy.backend,
        "format": fmt.name, "dataset": cfg.recipe.dataset, "steps": steps,
        "train_runtime_s": runtime, "wall_time_s": round(time.time() - started, 1),
        "sft_prime": sft, "adapter": str(run_dir / "adapter"), "report": report,
        "peak_gpu_memory_gib": peak_gpu_memory_gib(),
        "stages": {k: {m: v.get(m) for m in ("accuracy", "flexible_accuracy", "format_rate", "correct", "n")}
                   for k, v in stages.items()},
        # Accuracy by category (operation, steps, phrasing, ...) and every significant drop, as in the report.
        "headline": comparison.get("headline"), "by_category": comparison.get("categories"),
        "regressions": comparison.get("regressions"),
        "alarms": alarms,
        "validation": validation_summary(run_dir, cfg.recipe.select_checkpoint),  # eval_steps: accuracy over training
    }
    # TRL's card says "fine-tuned version of [None]": the adapter gets one naming its base, data and numbers.
    atomic_write_text(run_dir / "adapter" / "README.md", model_card(resolved_config(cfg), summary, merged=False))
    write_json(run_dir / "summary.json", summary)  # last: a folder with it holds a finished run (run_folder)
    print(f"adapter: {run_dir / 'adapter'}")  # the report's headline and path were printed by compare
    return 0


def _write_report(run_dir: Path, stages: dict[str, dict]) -> str:
    from recipes.compare import main as compare_main

    out = run_dir / "report"
    argv = [str(run_dir / "eval" / label) for label in stages]
    argv += ["--out", str(out)]
    if (run_dir / "metrics.jsonl").is_file():
        argv += ["--train-log", str(run_dir / "metrics.jsonl")]
    if compare_main(argv):
        raise RecipeError(f"report: could not compare {', '.join(stages)} in {run_dir / 'eval'}")
    return str(out / "report.html")
