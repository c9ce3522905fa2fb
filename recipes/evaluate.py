"""Accuracy and format rate of a model (optionally + a trained LoRA adapter) on a split.

    python -m recipes.evaluate --model smollm2-135m-instruct --dataset gsm8k \\
        --data-file tests/fixtures/gsm8k_sample.jsonl --limit 20 --out runs/eval/base

Scoring uses the same `format.extract` and answer check that the training
rewards use (`rewards.is_correct`, or math-verify's equivalence for recipes
that train on `math_verify`: ``rewards.grader_for``), so "correct" here is
exactly "top answer reward" there. Generation is greedy and batched
(`recipes.generation`: vLLM when Unsloth built an engine, HF otherwise). Writes
``predictions.jsonl`` (one row per example) and ``summary.json`` into
``--out``; ``recipes.compare`` reads both. With ``--adapter RUN_DIR/adapter``
every setting the run's own evaluation used (format, data, split, limit,
token budget, 4-bit, chat template, grader) comes from ``RUN_DIR/config.yaml``
unless given here, so a re-evaluation reproduces the run's report.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from data_prep import build_dataset
from data_prep.formats import FORMATS, ReasoningFormat, get_format
from recipes.backend import resolve_backend, vllm_installed
from recipes.errors import RecipeError, run_cli
from recipes.generation import generate
from recipes.io_utils import write_json, write_jsonl_atomic
from recipes.model import Policy, PolicySpec, load_policy
from rewards import GRADERS, grader_for, is_correct

VERSIONED = ("torch", "transformers", "trl", "peft", "datasets", "unsloth", "vllm")


def library_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


# lm-evaluation-harness's GSM8K "flexible-extract": numbers (with $ , .) anywhere, the last one counts.
FLEXIBLE_NUMBER = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")


def last_number(text: str) -> str | None:
    """The completion's last number, format or no format (lm-eval's flexible-extract).

    >>> last_number("So 12 + 7 = 19, and she has $1,600."), last_number("no digits")
    ('$1,600.', None)
    """
    found = FLEXIBLE_NUMBER.findall(text)
    return next((m for m in found[-1] if m), None) if found else None


def score(rows: list[dict], completions: list[tuple[str, int]], fmt: ReasoningFormat,
          grade: Callable[[str | None, object], bool] = is_correct) -> list[dict]:
    """Per-example records: the grader is the format's extract + the recipe's answer check."""
    records = []
    for row, (text, n_tokens) in zip(rows, completions, strict=True):
        extracted = fmt.extract(text)
        # Short scalar columns of the data (arithmetic's phrasing/operation/steps, a MATH subject or
        # level) ride along: reports break accuracy down by every categorical one.
        categories = {k: v for k, v in row.items()
                      if k not in ("prompt", "answer", "question", "reasoning", "id")
                      and isinstance(v, str | int) and len(str(v)) <= 40}
        records.append({
            **categories,
            "id": int(row["id"]),
            "question": row["question"],
            "gold": row["answer"],
            "completion": text,
            "extracted": extracted,
            "correct": bool(grade(extracted, row["answer"])),
            # Fair to a model that answers in prose: its last number, whatever the format.
            "flexible_correct": bool(grade(last_number(text), row["answer"])),
            "format_ok": bool(fmt.exact_match(text)),
            "n_tokens": int(n_tokens),
        })
    return records


def summarize(records: list[dict], meta: dict[str, Any]) -> dict[str, Any]:
    n = len(records)
    correct = sum(r["correct"] for r in records)
    return {
        **meta,
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "flexible_accuracy": sum(r.get("flexible_correct", False) for r in records) / n if n else 0.0,
        "format_rate": sum(r["format_ok"] for r in records) / n if n else 0.0,
        "mean_tokens": sum(r["n_tokens"] for r in records) / n if n else 0.0,
        "versions": library_versions(),
    }


def evaluate_policy(policy: Policy, dataset, fmt: ReasoningFormat, out_dir: str | Path, *,
                    max_new_tokens: int, batch_size: int, meta: dict[str, Any],
                    grader: str = "exact") -> dict[str, Any]:
    """Generate, score and write ``predictions.jsonl`` + ``summary.json``; returns the summary."""
    rows = list(dataset)
    completions = generate(policy, [r["prompt"] for r in rows], max_new_tokens, batch_size,
                           desc=f"evaluate {meta.get('label', '')}".strip())
    records = score(rows, completions, fmt, GRADERS[grader])
    summary = summarize(records, {**meta, "format": fmt.name, "max_new_tokens": max_new_tokens,
                                  "grader": grader})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out / "predictions.jsonl", records)
    write_json(out / "summary.json", summary)
    return summary


def run_config_of(adapter: str) -> dict[str, Any]:
    """The resolved config.yaml saved beside an adapter by recipes.grpo (or {})."""
    import yaml

    path = Path(adapter).parent / "config.yaml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


# CLI defaults, used when neither the command line nor the run's config.yaml sets a value.
CLI_DEFAULTS: dict[str, Any] = {
    "dataset": "arithmetic", "data_file": None, "split": "test", "format": "unsloth", "limit": None,
    "seed": 0, "max_new_tokens": 256, "batch_size": 32, "backend": "auto", "load_in_4bit": False,
    "chat_template": "auto", "grader": "exact",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="hub id, local path or packaged alias (default: the run's model)")
    p.add_argument("--adapter", help="RUN_DIR/adapter of a trained LoRA; the run's settings become the defaults")
    p.add_argument("--dataset", help="arithmetic, gsm8k or openr1_math (default: the run's eval set, else arithmetic)")
    p.add_argument("--data-file", help="local jsonl/parquet instead of the hub")
    p.add_argument("--split", help="default: the run's eval_split, else test")
    p.add_argument("--format", help=f"one of {', '.join(FORMATS)} (default: the run's, else unsloth)")
    p.add_argument("--system-prompt", help="default: the run's when the format is the run's, else the format's")
    p.add_argument("--limit", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--max-new-tokens", type=int, help="default: the run's eval_max_new_tokens, else 256")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--backend", help="auto | unsloth | transformers")
    p.add_argument("--load-in-4bit", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--chat-template", help="auto | model | format")
    p.add_argument("--grader", choices=sorted(GRADERS), help="answer check (default: the run's, else exact)")
    p.add_argument("--label", help="stage name shown in reports (default: base, or tuned with --adapter)")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def run_settings(run_cfg: dict[str, Any]) -> dict[str, Any]:
    """The evaluation settings a run used, from its config.yaml, in this CLI's names."""
    if not run_cfg:
        return {}
    dataset = run_cfg.get("eval_dataset") or run_cfg.get("dataset")
    same_data = dataset == run_cfg.get("dataset")
    found = {
        "dataset": dataset,
        "data_file": run_cfg.get("eval_data_file") or (run_cfg.get("data_file") if same_data else None),
        "split": run_cfg.get("eval_split"), "format": run_cfg.get("format"), "limit": run_cfg.get("eval_limit"),
        "system_prompt": run_cfg.get("system_prompt"),
        "seed": run_cfg.get("seed"), "max_new_tokens": run_cfg.get("eval_max_new_tokens"),
        "batch_size": run_cfg.get("eval_batch_size"), "backend": run_cfg.get("backend"),
        "load_in_4bit": run_cfg.get("load_in_4bit"), "chat_template": run_cfg.get("chat_template"),
        "grader": grader_for(run_cfg["reward_funcs"]) if run_cfg.get("reward_funcs") else None,
        "dataset_kwargs": run_cfg.get("eval_dataset_kwargs") or run_cfg.get("dataset_kwargs"),
    }
    return {k: v for k, v in found.items() if v is not None}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_cfg = run_config_of(args.adapter) if args.adapter else {}
    model = args.model or run_cfg.get("model_name")
    if not model:
        raise RecipeError("model: pass --model (or --adapter of a run whose config.yaml names it)")
    given = {k: v for k, v in vars(args).items() if v is not None}
    from_run = run_settings(run_cfg)
    opts = {**CLI_DEFAULTS, **from_run, **given}
    backend = resolve_backend(opts["backend"])  # unsloth first, before anything imports transformers
    try:
        # A run's own system prompt names its format's markers: it travels only with that format.
        system = given.get("system_prompt") or (
            from_run.get("system_prompt") if opts["format"] == from_run.get("format") else None)
        fmt = get_format(opts["format"], system)
    except ValueError as err:
        raise RecipeError(str(err)) from None
    for name in ("limit", "max_new_tokens", "batch_size"):
        if opts[name] is not None and opts[name] < 1:
            raise RecipeError(f"{name.replace('_', '-')}: expected a positive integer, got {opts[name]}")
    # Builder knobs travel only with the run's own data (a --dataset of another kind has other knobs).
    knobs = from_run.get("dataset_kwargs") if opts["dataset"] == from_run.get("dataset") else None
    dataset = build_dataset(opts["dataset"], split=opts["split"], limit=opts["limit"], seed=opts["seed"],
                            format=fmt, data_file=opts["data_file"], **(knobs or {}))
    spec = PolicySpec(
        model_name=model, backend=backend, load_in_4bit=opts["load_in_4bit"], format=fmt.name,
        system_prompt=system,
        chat_template=opts["chat_template"], trainable=False, adapter=args.adapter,
        lora_rank=int(run_cfg.get("lora_rank", PolicySpec.lora_rank)),
        lora_alpha=int(run_cfg.get("lora_alpha", PolicySpec.lora_alpha)),
        lora_target_modules=tuple(run_cfg.get("lora_target_modules") or PolicySpec.lora_target_modules),
        fast_inference=vllm_installed(),
    )
    policy = load_policy(spec)
    meta = {
        "label": args.label or ("tuned" if args.adapter else "base"),
        "model": model, "adapter": args.adapter, "dataset": opts["dataset"],
        "data_file": opts["data_file"], "split": opts["split"], "seed": opts["seed"], "backend": policy.backend,
    }
    summary = evaluate_policy(policy, dataset, fmt, args.out, max_new_tokens=opts["max_new_tokens"],
                              batch_size=opts["batch_size"], meta=meta, grader=opts["grader"])
    print(f"{meta['label']}: accuracy {summary['accuracy']:.1%} ({summary['correct']}/{summary['n']}), "
          f"format {summary['format_rate']:.1%}, mean tokens {summary['mean_tokens']:.1f} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
