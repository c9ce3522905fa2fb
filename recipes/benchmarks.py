"""A finished run's base and tuned model on the field's benchmarks, decoded the way the field reports them.

    python -m recipes.benchmarks runs/grpo_qwen3_4b_openr1                # all three
    python -m recipes.benchmarks runs/grpo_qwen3_4b_openr1 --only math500 --limit 100

| benchmark | problems | decoding | grader | as reported by |
| --- | --- | --- | --- | --- |
| math500 | 500 (HuggingFaceH4/MATH-500) | 4 samples, T 0.6, top_p 0.95 | math_verify | open-r1 (lighteval): pass@1 of 4 |
| aime24 | 30 (HuggingFaceH4/aime_2024) | 64 samples, T 0.6, top_p 0.95 | math_verify | open-r1: pass@1 of 64 |
| gsm8k | 1,319 (openai/gsm8k test) | greedy | exact, strict and flexible | Qwen2.5-Math (greedy); lm-eval's strict/flexible |

Each benchmark runs ``recipes.evaluate`` twice, for the base model with the run's
settings (``--run``: format, system prompt, chat template, token budget, 4-bit)
and for the tuned adapter, then ``recipes.compare``: ``RUN_DIR/benchmarks/NAME/``
holds both evaluations and a report (with samples: the pass@k chart and whether
GRPO sharpened or expanded). ``benchmarks.json`` collects pass@1, pass@N and maj@N
per benchmark and stage. A stage already evaluated is not run again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from recipes.compare import main as compare_main
from recipes.errors import RecipeError, run_cli
from recipes.evaluate import main as evaluate_main
from recipes.io_utils import read_json, write_json
from recipes.sharpen_or_expand import sentences

# name -> recipes.evaluate arguments: the field's decoding for each benchmark (see the table above).
BENCHMARKS: dict[str, dict[str, Any]] = {
    "math500": {"dataset": "math500", "samples": 4, "temperature": 0.6, "top_p": 0.95, "grader": "math_verify"},
    "aime24": {"dataset": "aime24", "samples": 64, "temperature": 0.6, "top_p": 0.95, "grader": "math_verify"},
    "gsm8k": {"dataset": "gsm8k", "samples": 1, "temperature": 0.0, "top_p": 1.0, "grader": "exact"},
}

# recipes.evaluate's --limit when none is given: more than any benchmark holds, so the run's own eval_limit
# (which --run would carry over when the run evaluated on the same dataset, e.g. gsm8k) never cuts a benchmark.
EVERY_PROBLEM = 1_000_000


def evaluate_args(name: str, stage: str, run: Path, out: Path, *, limit: int | None, samples: int | None,
                  data_file: str | None) -> list[str]:
    spec = {**BENCHMARKS[name], **({"samples": samples} if samples and BENCHMARKS[name]["samples"] > 1 else {})}
    source = ["--adapter", str(run / "adapter")] if stage == "tuned" else ["--run", str(run)]
    args = [*source, "--dataset", spec["dataset"], "--split", "test", "--label", stage, "--out", str(out),
            "--samples", str(spec["samples"]), "--temperature", str(spec["temperature"]),
            "--top-p", str(spec["top_p"]), "--grader", spec["grader"]]
    if data_file:
        args += ["--data-file", data_file]
    return [*args, "--limit", str(limit or EVERY_PROBLEM)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="a finished run folder (config.yaml and adapter/)")
    p.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="default: all")
    p.add_argument("--limit", type=int, help="first N problems of each (a smoke run; not comparable to papers)")
    p.add_argument("--samples", type=int, help="override the sampled benchmarks' samples (a smoke run)")
    p.add_argument("--data-file", action="append", default=[], metavar="NAME=FILE",
                   help="a local copy of a benchmark instead of the hub (repeatable)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Path(args.run)
    if not (run / "config.yaml").is_file() or not (run / "adapter" / "adapter_config.json").is_file():
        raise RecipeError(f"run: {run} has no config.yaml and adapter/ (expected a finished run folder)")
    files = dict(pair.split("=", 1) for pair in args.data_file if "=" in pair)
    bad = [pair for pair in args.data_file if "=" not in pair or pair.split("=", 1)[0] not in BENCHMARKS]
    if bad:
        raise RecipeError(f"data-file: expected NAME=FILE with NAME one of {', '.join(BENCHMARKS)}, got {bad[0]!r}")
    results: dict[str, Any] = {}
    for name in args.only or list(BENCHMARKS):
        root = run / "benchmarks" / name
        for stage in ("base", "tuned"):
            if not (root / stage / "summary.json").is_file():
                code = run_cli(evaluate_main, evaluate_args(name, stage, run, root / stage, limit=args.limit,
                                                            samples=args.samples, data_file=files.get(name)))
                if code:
                    return code
        if run_cli(compare_main, [str(root / "base"), str(root / "tuned"), "--out", str(root / "report")]):
            raise RecipeError(f"{name}: could not compare {root / 'base'} and {root / 'tuned'}")
        results[name] = {stage: _numbers(read_json(root / stage / "summary.json")) for stage in ("base", "tuned")}
        sampling = read_json(root / "report" / "comparison.json").get("sampling")
        results[name]["verdicts"] = sentences(sampling) if sampling else []
    write_json(run / "benchmarks" / "benchmarks.json", results)
    print(f"benchmarks: {run / 'benchmarks' / 'benchmarks.json'}")
    return 0


def _numbers(summary: dict[str, Any]) -> dict[str, Any]:
    n = summary["decoding"]["samples"]
    return {"n": summary["n"], "decoding": summary["decoding"], "pass@1": summary["pass_at_k"]["1"],
            f"pass@{n}": summary["pass_at_k"][str(n)], f"maj@{n}": summary["maj_at_n"],
            "flexible_pass@1": summary["flexible_pass_at_k"]["1"]}


if __name__ == "__main__":
    sys.exit(run_cli(main))
