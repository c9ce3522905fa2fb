"""Accuracy, pass@k and format rate of a model (optionally + a trained LoRA adapter) on a split.

    python -m recipes.evaluate --model smollm2-135m-instruct --dataset gsm8k \\
        --data-file tests/fixtures/gsm8k_sample.jsonl --limit 20 --out runs/eval/base
    python -m recipes.evaluate --adapter runs/demo/adapter --samples 8 --temperature 0.6 --out runs/demo/eval8

Scoring uses the answer check the training rewards use (`recipes.scoring`), so
"correct" here is exactly "top answer reward" there. Greedy by default;
``--samples N --temperature T [--top-p P]`` draws N completions per problem for
pass@k and maj@N, as open-r1 and lm-evaluation-harness report them. Batched
(`recipes.generation`: vLLM when Unsloth built an engine, HF otherwise). Writes
``predictions.jsonl`` (one row per example) and ``summary.json`` into ``--out``,
which ``recipes.compare`` reads. With ``--adapter RUN_DIR/adapter`` every setting
the run's own evaluation used (format, data, split, limit, token budget, decoding,
4-bit, chat template, grader) comes from ``RUN_DIR/config.yaml`` unless given
here, so a re-evaluation reproduces the run's report; ``--run RUN_DIR`` takes the
same settings for the base model (no adapter).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from data_prep import build_dataset
from data_prep.formats import FORMATS, ReasoningFormat, get_format
from recipes.backend import resolve_backend, vllm_installed
from recipes.distributed import gather_in_order, is_main, my_share
from recipes.errors import RecipeError, run_cli
from recipes.generation import Sampling, sample
from recipes.io_utils import write_json, write_jsonl_atomic
from recipes.model import Policy, PolicySpec, load_policy
from recipes.scoring import decoding_of, score, summarize
from rewards import GRADERS, grader_for


def evaluate_policy(policy: Policy, dataset, fmt: ReasoningFormat, out_dir: str | Path, *,
                    max_new_tokens: int, batch_size: int, meta: dict[str, Any],
                    grader: str = "exact", samples: int = 1, temperature: float = 0.0,
                    top_p: float = 1.0) -> dict[str, Any]:
    """Generate, score and write ``predictions.jsonl`` + ``summary.json``; returns the summary.

    ``samples`` > 1 draws that many completions per problem at ``temperature``/``top_p``
    (`recipes.scoring`: pass@k and maj@n); 1 with temperature 0 is greedy.
    """
    rows = list(dataset)
    check_decoding(samples, temperature, top_p)
    if temperature > 0:
        import transformers

        transformers.set_seed(int(meta.get("seed") or 0))  # the same draws on a rerun (HF generation)
    sampling = Sampling(max_new_tokens, n=samples, temperature=temperature, top_p=top_p)
    mine, own = my_share(rows)  # under accelerate launch each rank answers its slice (recipes.distributed)
    groups = sample(policy, [r["prompt"] for r in mine], sampling, batch_size,
                    desc=f"evaluate {meta.get('label', '')}{f' x{samples}' if samples > 1 else ''}".strip())
    records = gather_in_order(score(mine[:own], groups[:own], fmt, GRADERS[grader]), len(rows))
    decoding = decoding_of(samples, temperature, top_p, max_new_tokens)
    summary = summarize(records, {**meta, "format": fmt.name, "max_new_tokens": max_new_tokens,
                                  "grader": grader}, decoding)
    if is_main():
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_jsonl_atomic(out / "predictions.jsonl", records)
        write_json(out / "summary.json", summary)
    return summary


def run_config_of(run_dir: str | Path) -> dict[str, Any]:
    """The resolved config.yaml recipes.grpo saved in a run folder (or {})."""
    import yaml

    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


# CLI defaults, used when neither the command line nor the run's config.yaml sets a value.
CLI_DEFAULTS: dict[str, Any] = {
    "dataset": "arithmetic", "data_file": None, "split": "test", "format": "unsloth", "limit": None,
    "seed": 0, "max_new_tokens": 256, "batch_size": 32, "backend": "auto", "load_in_4bit": False,
    "chat_template": "auto", "grader": "exact", "samples": 1, "temperature": 0.0, "top_p": 1.0,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="hub id, local path or packaged alias (default: the run's model)")
    p.add_argument("--adapter", help="RUN_DIR/adapter of a trained LoRA; the run's settings become the defaults")
    p.add_argument("--run", help="RUN_DIR whose config.yaml gives the defaults, without its adapter (its base model)")
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
    p.add_argument("--samples", type=int, help="completions per problem (default: the run's eval_samples, else 1)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default: the run's, else 0: greedy)")
    p.add_argument("--top-p", type=float, help="nucleus sampling (default: the run's eval_top_p, else 1.0)")
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
        "dataset_kwargs": run_cfg.get("eval_dataset_kwargs") or (run_cfg.get("dataset_kwargs") if same_data else None),
        "samples": run_cfg.get("eval_samples"), "temperature": run_cfg.get("eval_temperature"),
        "top_p": run_cfg.get("eval_top_p"),
    }
    return {k: v for k, v in found.items() if v is not None}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_dir = args.run or (Path(args.adapter).parent if args.adapter else None)
    run_cfg = run_config_of(run_dir) if run_dir else {}
    model = args.model or run_cfg.get("model_name")
    if not model:
        raise RecipeError("model: pass --model (or --adapter of a run whose config.yaml names it)")
    given = {k: v for k, v in vars(args).items() if v is not None}
    from_run = run_settings(run_cfg)
    if args.dataset and args.dataset != from_run.get("dataset"):  # the run's data settings travel with its data only
        from_run = {k: v for k, v in from_run.items() if k not in ("data_file", "split", "limit", "dataset_kwargs")}
    opts = {**CLI_DEFAULTS, **from_run, **given}
    backend = resolve_backend(opts["backend"])  # unsloth first, before anything imports transformers
    try:
        # A run's own system prompt names its format's markers: it travels only with that format.
        system = given.get("system_prompt") or (
            from_run.get("system_prompt") if opts["format"] == from_run.get("format") else None)
        fmt = get_format(opts["format"], system)
    except ValueError as err:
        raise RecipeError(str(err)) from None
    for name in ("limit", "max_new_tokens", "batch_size", "samples"):
        if opts[name] is not None and opts[name] < 1:
            raise RecipeError(f"{name.replace('_', '-')}: expected a positive integer, got {opts[name]}")
    check_decoding(opts["samples"], opts["temperature"], opts["top_p"])
    knobs = from_run.get("dataset_kwargs")
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
                              batch_size=opts["batch_size"], meta=meta, grader=opts["grader"],
                              samples=opts["samples"], temperature=opts["temperature"], top_p=opts["top_p"])
    print(f"{meta['label']}: {result_line(summary)} -> {args.out}")
    return 0


def check_decoding(samples: int, temperature: float, top_p: float) -> None:
    """One line for a decoding that cannot be drawn (before any model loads)."""
    if temperature < 0:
        raise RecipeError(f"temperature: expected >= 0 (0 is greedy), got {temperature}")
    if not 0 < top_p <= 1:
        raise RecipeError(f"top-p: expected a number in (0, 1], got {top_p}")
    if samples > 1 and temperature == 0:
        raise RecipeError(f"temperature: {samples} samples need a temperature > 0 (greedy draws one answer)")


def result_line(summary: dict[str, Any]) -> str:
    """``accuracy 41.0% (41/100), format 97.0%``, and pass@1/pass@N/maj@N when sampled."""
    line = (f"accuracy {summary['accuracy']:.1%} ({summary['correct']}/{summary['n']}), "
            f"format {summary['format_rate']:.1%}, mean tokens {summary['mean_tokens']:.1f}")
    n = summary.get("decoding", {}).get("samples", 1)
    if n > 1:
        line += (f"; pass@1 {summary['pass_at_k']['1']:.1%}, pass@{n} {summary['pass_at_k'][str(n)]:.1%}, "
                 f"maj@{n} {summary['maj_at_n']:.1%} (T={summary['decoding']['temperature']})")
    return line


if __name__ == "__main__":
    sys.exit(run_cli(main))
