"""Accuracy and format rate of a model (optionally + a trained LoRA adapter) on a split.

    python -m recipes.evaluate --model smollm2-135m-instruct --dataset gsm8k \\
        --data-file tests/fixtures/gsm8k_sample.jsonl --limit 20 --out runs/eval/base

Scoring uses the same `format.extract` and `rewards.is_correct` that the
training rewards use, so "correct" here is exactly "top answer reward" there.
Generation is greedy and batched: vLLM ``fast_generate`` (with the adapter as
a LoRA request) on the Unsloth backend, HF ``generate`` with left padding
otherwise. Writes ``predictions.jsonl`` (one row per example) and
``summary.json`` into ``--out``; ``recipes.compare`` reads both.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from data_prep import build_dataset
from data_prep.formats import FORMATS, ReasoningFormat, get_format
from recipes.errors import RecipeError, run_cli
from recipes.io_utils import atomic_write_text, write_jsonl_atomic
from recipes.model import Policy, PolicySpec, load_policy
from rewards import is_correct

VERSIONED = ("torch", "transformers", "trl", "peft", "datasets", "unsloth", "vllm")


def library_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def generate(policy: Policy, prompts: list[list[dict]], max_new_tokens: int, batch_size: int,
             desc: str = "evaluate") -> list[tuple[str, int]]:
    """Greedy completions (text, n_tokens) for chat prompts, in input order."""
    tok = policy.tokenizer
    texts = [tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    if policy.backend == "unsloth":
        return _generate_vllm(policy, texts, max_new_tokens)
    return _generate_hf(policy, texts, max_new_tokens, batch_size, desc)


def _generate_vllm(policy: Policy, texts: list[str], max_new_tokens: int) -> list[tuple[str, int]]:
    from vllm import SamplingParams

    params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens)
    outputs = policy.model.fast_generate(texts, sampling_params=params, lora_request=policy.lora_request)
    return [(o.outputs[0].text, len(o.outputs[0].token_ids)) for o in outputs]


def _generate_hf(policy: Policy, texts: list[str], max_new_tokens: int, batch_size: int,
                 desc: str) -> list[tuple[str, int]]:
    import torch

    tok, model = policy.tokenizer, policy.model
    tok.padding_side = "left"  # decoder-only batched generation needs left padding
    eos_ids = {tok.eos_token_id, tok.pad_token_id} - {None}
    # Similar lengths together: less padding, faster batches; results go back in input order.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    results: list[tuple[str, int]] = [("", 0)] * len(texts)
    model.eval()
    with torch.inference_mode(), tqdm(total=len(texts), desc=desc, unit="ex") as bar:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tok([texts[i] for i in idx], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(model.device)
            out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                 temperature=None, top_p=None, top_k=None,
                                 pad_token_id=tok.pad_token_id)
            new = out[:, batch["input_ids"].shape[1] :]
            for row, i in zip(new.tolist(), idx, strict=True):
                n = next((k + 1 for k, t in enumerate(row) if t in eos_ids), len(row))
                results[i] = (tok.decode(row[:n], skip_special_tokens=True), n)
            bar.update(len(idx))
    return results


def score(rows: list[dict], completions: list[tuple[str, int]], fmt: ReasoningFormat) -> list[dict]:
    """Per-example records: the grader is the format's extract + the rewards' is_correct."""
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
            "correct": bool(is_correct(extracted, row["answer"])),
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
        "format_rate": sum(r["format_ok"] for r in records) / n if n else 0.0,
        "mean_tokens": sum(r["n_tokens"] for r in records) / n if n else 0.0,
        "versions": library_versions(),
    }


def evaluate_policy(policy: Policy, dataset, fmt: ReasoningFormat, out_dir: str | Path, *,
                    max_new_tokens: int, batch_size: int, meta: dict[str, Any]) -> dict[str, Any]:
    """Generate, score and write ``predictions.jsonl`` + ``summary.json``; returns the summary."""
    rows = list(dataset)
    completions = generate(policy, [r["prompt"] for r in rows], max_new_tokens, batch_size,
                           desc=f"evaluate {meta.get('label', '')}".strip())
    records = score(rows, completions, fmt)
    summary = summarize(records, {**meta, "format": fmt.name, "max_new_tokens": max_new_tokens})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out / "predictions.jsonl", records)
    atomic_write_text(out / "summary.json", _json(summary))
    return summary


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def run_config_of(adapter: str) -> dict[str, Any]:
    """The resolved config.yaml saved beside an adapter by recipes.grpo (or {})."""
    import yaml

    path = Path(adapter).parent / "config.yaml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="hub id, local path or packaged alias (default: the run's model)")
    p.add_argument("--adapter", help="RUN_DIR/adapter of a trained LoRA")
    p.add_argument("--dataset", default="arithmetic")
    p.add_argument("--data-file", help="local jsonl/parquet instead of the hub")
    p.add_argument("--split", default="test")
    p.add_argument("--format", help=f"one of {', '.join(FORMATS)} (default: the run's, else unsloth)")
    p.add_argument("--limit", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--backend", default="auto")
    p.add_argument("--load-in-4bit", action="store_true")
    p.add_argument("--chat-template", default="auto", help="auto | model | format")
    p.add_argument("--label", help="stage name shown in reports (default: base, or tuned with --adapter)")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_cfg = run_config_of(args.adapter) if args.adapter else {}
    model = args.model or run_cfg.get("model_name")
    if not model:
        raise RecipeError("model: pass --model (or --adapter of a run whose config.yaml names it)")
    try:
        fmt = get_format(args.format or run_cfg.get("format") or "unsloth")
    except ValueError as err:
        raise RecipeError(str(err)) from None
    for name, value in (("limit", args.limit), ("max-new-tokens", args.max_new_tokens),
                        ("batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise RecipeError(f"{name}: expected a positive integer, got {value}")
    dataset = build_dataset(args.dataset, split=args.split, limit=args.limit, seed=args.seed,
                            format=fmt.name, data_file=args.data_file)
    spec = PolicySpec(
        model_name=model, backend=args.backend, load_in_4bit=args.load_in_4bit, format=fmt.name,
        chat_template=run_cfg.get("chat_template", args.chat_template), trainable=False,
        adapter=args.adapter, lora_rank=int(run_cfg.get("lora_rank", 32)),
    )
    policy = load_policy(spec)
    meta = {
        "label": args.label or ("tuned" if args.adapter else "base"),
        "model": model, "adapter": args.adapter, "dataset": args.dataset,
        "data_file": args.data_file, "split": args.split, "seed": args.seed, "backend": policy.backend,
    }
    summary = evaluate_policy(policy, dataset, fmt, args.out, max_new_tokens=args.max_new_tokens,
                              batch_size=args.batch_size, meta=meta)
    print(f"{meta['label']}: accuracy {summary['accuracy']:.1%} ({summary['correct']}/{summary['n']}), "
          f"format {summary['format_rate']:.1%}, mean tokens {summary['mean_tokens']:.1f} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
