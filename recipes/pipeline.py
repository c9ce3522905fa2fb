"""The stages of a recipe run, in order, each skipped when a resumed run already has it.

evaluate base -> (optional) SFT format priming -> evaluate primed -> train
(checkpoints, resume, SIGTERM) -> save adapter -> evaluate tuned -> report.
``recipes.grpo`` parses and checks the config and hands in how to build its
trainer (``make_trainer``); this module loads the model and runs the stages.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from data_prep.formats import ReasoningFormat
from recipes import run_folder
from recipes.alarms import find_alarms
from recipes.backend import peak_gpu_memory_gib
from recipes.config import RunConfig, resolved_config
from recipes.errors import RecipeError
from recipes.io_utils import atomic_save_dir, atomic_write_text, read_json, read_jsonl, write_json
from recipes.learnability import EXIT_NO_SIGNAL, filter_stage, preflight_stage
from recipes.model import has_vllm_engine, load_adapter_weights, load_policy
from recipes.model_card import model_card
from recipes.priming import grpo_prompts, prime_format
from recipes.run_dir import (
    checkpoint_step,
    last_complete_checkpoint,
    trim_metrics,
)
from recipes.run_inputs import eval_dataset, eval_source, policy_spec
from recipes.tracking import configure_wandb
from recipes.trainer_setup import match_generation_backend, note_kl_reference
from recipes.training_stage import EXIT_SIGTERM, train_stage
from recipes.trl_compat import ensure_logprob_kernel
from rewards import grader_for


def evaluate_stage(policy, cfg: RunConfig, fmt: ReasoningFormat, run_dir: Path, label: str,
                   adapter_dir: Path | None, load_eval: Callable[[], Any]) -> dict[str, Any]:
    """Evaluate the policy as it is now on the held-out split; reuse a finished result on resume."""
    from recipes.evaluate import evaluate_policy

    out = run_dir / "eval" / label
    if (out / "summary.json").is_file():
        return read_json(out / "summary.json")
    if has_vllm_engine(policy.model):
        # vLLM generates from the base weights; the adapter rides along as a LoRA request.
        # (transformers' generate uses the live model, which already holds this stage's adapter.)
        policy.lora_request = policy.model.load_lora(str(adapter_dir)) if adapter_dir else None
    r = cfg.recipe
    dataset_name, data_file = eval_source(cfg)
    meta = {"label": label, "model": r.model_name, "adapter": str(adapter_dir) if adapter_dir else None,
            "dataset": dataset_name, "data_file": data_file,
            "split": r.eval_split, "seed": cfg.grpo.seed, "backend": policy.backend}
    tokens = r.eval_base_max_new_tokens if label == "base" and r.eval_base_max_new_tokens else r.eval_max_new_tokens
    with _adapter_off(policy) if adapter_dir is None else contextlib.nullcontext():
        summary = evaluate_policy(policy, load_eval(), fmt, out, max_new_tokens=tokens,
                                  batch_size=r.eval_batch_size, meta=meta, grader=grader_for(r.reward_funcs))
    print(f"{label}: accuracy {summary['accuracy']:.1%} ({summary['correct']}/{summary['n']}), "
          f"format {summary['format_rate']:.1%}", flush=True)
    return summary


def _adapter_off(policy):
    """The base stage scores the base weights: PEFT's ``disable_adapter`` where the policy has a LoRA.

    Before training the fresh LoRA's B is zero, so this changes no output (x + 0 is x), and it skips
    the adapter's small matmuls at every token: 25% of the demo's base evaluation on 2 CPU cores.
    """
    off = getattr(policy.model, "disable_adapter", None)
    return off() if off is not None else contextlib.nullcontext()


def _restore_sft_adapter(policy, run_dir: Path) -> bool:
    """Load a finished priming adapter into the policy (resumed run); False if there is none."""
    if not (run_dir / "sft_adapter" / "adapter_model.safetensors").is_file():
        return False
    load_adapter_weights(policy.model, run_dir / "sft_adapter")
    return True


def run_pipeline(cfg: RunConfig, fmt: ReasoningFormat, dataset, rewards: list, *, resume: bool,
                 make_trainer: Callable[..., Any] | None, force: bool = False, until: str = "grpo",
                 new_run: bool = False) -> int:
    """Run the stages up to ``until``; ``make_trainer(cfg, policy, dataset, rewards, callbacks)`` builds GRPO's trainer.

    ``until="preflight"`` (``python -m recipes.preflight``): load, prime, check, stop; no evaluation.
    ``until="sft"`` (``python -m recipes.sft``): evaluate, SFT, evaluate, and the SFT adapter is the run's adapter.
    A ``no_signal`` pre-flight verdict stops a run before training with exit code 3 unless ``force``.
    One process and one config per folder (`recipes.run_folder`); ``new_run`` moves an old one aside.
    """
    stop_after_preflight = until == "preflight"
    run_dir = Path(cfg.grpo.output_dir)
    resolved = resolved_config(cfg)
    if run_folder.open_run(run_dir, resolved, until, new_run=new_run):
        print(f"{run_dir} holds this run, finished (summary.json): nothing to do (--new-run starts over)")
        return 0
    checkpoint = last_complete_checkpoint(run_dir)
    if checkpoint and not resume:
        print(f"{run_dir} has {checkpoint.name}: resuming from it (delete the folder to start over)")
    elif resume and not checkpoint:
        print(f"--resume: no complete checkpoint in {run_dir}; starting from step 0")
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    configure_wandb(cfg, run_dir)
    started = time.time()

    policy = load_policy(policy_spec(cfg))
    ensure_logprob_kernel()  # after unsloth's import; a no-op where Triton exists
    match_generation_backend(cfg, policy)
    stages: dict[str, dict] = {}
    load_eval = functools.cache(lambda: eval_dataset(cfg))  # built once, and only if a stage still needs it
    evaluate = cfg.recipe.evaluate and not stop_after_preflight
    if evaluate:
        stages["base"] = evaluate_stage(policy, cfg, fmt, run_dir, "base", None, load_eval)
    sft: dict[str, Any] | None = None
    needs_priming = cfg.recipe.sft_prime is not None and checkpoint is None
    if needs_priming and not _restore_sft_adapter(policy, run_dir):
        trim_metrics(run_dir / "metrics.jsonl", "sft", 0)  # a killed priming's lines: it starts over
        sft = prime_format(policy, cfg, fmt, dataset, run_dir)
        print(f"sft priming: {sft['steps']} steps on {sft['rows']} rows", flush=True)
    if sft is None and (run_dir / "priming.json").is_file():
        sft = read_json(run_dir / "priming.json")  # a resumed run: what its priming did
    if cfg.recipe.sft_prime is not None and evaluate:
        stages["primed"] = evaluate_stage(policy, cfg, fmt, run_dir, "primed", run_dir / "sft_adapter", load_eval)
    if until == "sft":
        with atomic_save_dir(run_dir / "adapter") as staging:
            shutil.copytree(run_dir / "sft_adapter", staging, dirs_exist_ok=True)
        done = sft or {}  # {} when a resumed run found its SFT adapter already trained
        return _finish(cfg, fmt, run_dir, policy, stages, done.get("steps"), done.get("train_runtime"), sft, started,
                       recipe="sft")
    held_out = len(dataset)
    dataset = grpo_prompts(cfg, dataset)
    if len(dataset) < held_out:
        print(f"grpo prompts: {len(dataset)} (the {held_out - len(dataset)} priming rows held out)", flush=True)
    if cfg.recipe.preflight and checkpoint is None:
        verdict = preflight_stage(policy, cfg, fmt, dataset, rewards, run_dir)["verdict"]
        if stop_after_preflight:
            return EXIT_NO_SIGNAL if verdict == "no_signal" else 0
        if verdict == "no_signal" and not force:
            print(f"stopped before training: pre-flight says no_signal (see {run_dir / 'preflight.json'}); "
                  "fix the config, or rerun with --force to train anyway")
            return EXIT_NO_SIGNAL
    if cfg.recipe.difficulty_filter is not None:
        dataset = filter_stage(policy, cfg, fmt, dataset, rewards, run_dir)

    metrics = run_dir / "metrics.jsonl"
    trim_metrics(metrics, "grpo", checkpoint_step(checkpoint) if checkpoint else 0)  # each step logged once
    note_kl_reference(cfg, policy)
    trained = train_stage(cfg, policy, dataset, rewards, run_dir, checkpoint, make_trainer)
    if trained is None:
        return EXIT_SIGTERM
    steps, runtime = trained
    if cfg.recipe.evaluate:
        stages["tuned"] = evaluate_stage(policy, cfg, fmt, run_dir, "tuned", run_dir / "adapter", load_eval)
    return _finish(cfg, fmt, run_dir, policy, stages, steps, runtime, sft, started)


def _finish(cfg: RunConfig, fmt: ReasoningFormat, run_dir: Path, policy, stages: dict[str, dict], steps,
            runtime, sft: dict[str, Any] | None, started: float, recipe: str = "grpo") -> int:
    """Report, alarms, summary.json and the adapter's model card: the end of every training run."""
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
