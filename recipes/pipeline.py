"""The stages of a recipe run, in order, each skipped when a resumed run already has it.

evaluate base -> (optional) SFT format priming -> evaluate primed -> train
(checkpoints, resume, SIGTERM) -> save adapter -> evaluate tuned -> report.
``recipes.grpo`` parses and checks the config and hands in how to build its
trainer (``make_trainer``); this module loads the model and runs the stages.
"""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from data_prep.formats import ReasoningFormat
from recipes import run_folder
from recipes.checkpoint_eval import CheckpointEvaluator, best_checkpoint, select_best
from recipes.config import RunConfig, resolved_config
from recipes.distributed import barrier, is_main, quiet_unless_main, start_group
from recipes.eval_stage import evaluate_stage
from recipes.io_utils import atomic_save_dir, atomic_write_text, read_json, write_json
from recipes.learnability import EXIT_NO_SIGNAL, filter_stage, preflight_stage
from recipes.model import load_adapter_weights, load_policy
from recipes.priming import grpo_prompts, prime_format
from recipes.run_dir import (
    checkpoint_step,
    last_complete_checkpoint,
    trim_metrics,
)
from recipes.run_end import finish_run
from recipes.run_inputs import eval_dataset, eval_source, policy_spec, validation_dataset
from recipes.tracking import configure_wandb
from recipes.trainer_setup import match_generation_backend, note_kl_reference
from recipes.training_stage import EXIT_SIGTERM, train_stage
from recipes.trl_compat import ensure_logprob_kernel
from rewards import grader_for


def _decontaminate(cfg: RunConfig, dataset, run_dir: Path, load_eval: Callable[[], Any]):
    """Training rows sharing an n-gram with the evaluation set: decontamination.json, one line, dropped if asked."""
    from recipes.decontaminate import REPORT, check, drop_flagged, skip_reason

    r = cfg.recipe
    (name, data_file), train = eval_source(cfg), f"{r.dataset} ({r.dataset_split})"
    evals = f"{data_file or name} ({r.eval_split})"
    reason = skip_reason((r.dataset, r.data_file), (name, data_file))
    if reason:
        if is_main():
            write_json(run_dir / REPORT, {"train": train, "eval": evals, "skipped": reason})
        print(f"decontaminate: skipped: {reason}", flush=True)
        return dataset
    report = check(dataset, load_eval(), r.decontaminate_ngram, run_dir if is_main() else None, train, evals)
    dropped = r.decontaminate == "drop" and report["flagged"] > 0
    print(f"decontaminate: {report['flagged']} of {report['train_rows']} training rows share an n-gram "
          f"(n = {report['ngram']}) with the {report['eval_rows']} evaluation problems"
          f"{' (dropped)' if dropped else ''} -> {run_dir / REPORT}", flush=True)
    return drop_flagged(dataset, report) if dropped else dataset


def _name_best_checkpoint(cfg: RunConfig, policy, run_dir: Path) -> None:
    """One line naming the best validated checkpoint; with ``select_checkpoint: best`` it becomes adapter/."""
    best = best_checkpoint(run_dir)
    if best is None:
        print("validation: no checkpoint was evaluated (eval_steps beyond max_steps?)")
        return
    said = f"validation: best {best['checkpoint']} ({best['accuracy']:.1%} on {best['n']} {cfg.recipe.validation_split} problems)"
    if cfg.recipe.select_checkpoint == "best" and select_best(policy, run_dir):
        said += "; select_checkpoint: best, so adapter/ holds it"
    print(said, flush=True)


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
    Under ``accelerate launch`` every rank runs the stages and the main one writes (`recipes.distributed`).
    """
    start_group()
    with quiet_unless_main():
        return _stages(cfg, fmt, dataset, rewards, resume=resume, make_trainer=make_trainer, force=force,
                       until=until, new_run=new_run)


def _stages(cfg: RunConfig, fmt: ReasoningFormat, dataset, rewards: list, *, resume: bool,
            make_trainer: Callable[..., Any] | None, force: bool, until: str, new_run: bool) -> int:
    stop_after_preflight = until == "preflight"
    run_dir = Path(cfg.grpo.output_dir)
    resolved = resolved_config(cfg)
    if is_main():
        run_folder.open_run(run_dir, resolved, until, new_run=new_run)
    barrier()  # the folder is claimed (and an old one moved aside) once, by the main process
    if run_folder.is_finished(run_dir, until):
        print(f"{run_dir} holds this run, finished (summary.json): nothing to do (--new-run starts over)")
        return 0
    checkpoint = last_complete_checkpoint(run_dir)
    if checkpoint and not resume:
        print(f"{run_dir} has {checkpoint.name}: resuming from it (delete the folder to start over)")
    elif resume and not checkpoint:
        print(f"--resume: no complete checkpoint in {run_dir}; starting from step 0")
    if is_main():
        atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    configure_wandb(cfg, run_dir)
    started = time.time()

    load_eval = functools.cache(lambda: eval_dataset(cfg))  # built once, and only if a stage still needs it
    if cfg.recipe.evaluate and not stop_after_preflight:  # a run with an evaluation set: is training in it?
        dataset = _decontaminate(cfg, dataset, run_dir, load_eval)
    policy = load_policy(policy_spec(cfg))
    ensure_logprob_kernel()  # after unsloth's import; a no-op where Triton exists
    match_generation_backend(cfg, policy)
    stages: dict[str, dict] = {}
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
        if is_main():
            with atomic_save_dir(run_dir / "adapter") as staging:
                shutil.copytree(run_dir / "sft_adapter", staging, dirs_exist_ok=True)
        done = sft or {}  # {} when a resumed run found its SFT adapter already trained
        return finish_run(cfg, fmt, run_dir, policy, stages, done.get("steps"), done.get("train_runtime"), sft, started,
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
    trim_metrics(metrics, ("grpo", "validation"), checkpoint_step(checkpoint) if checkpoint else 0)  # each step once
    note_kl_reference(cfg, policy)
    validating = () if cfg.grpo.eval_steps is None else (CheckpointEvaluator(
        cfg, policy, fmt, run_dir, validation_dataset(cfg), grader_for(cfg.recipe.reward_funcs)),)
    trained = train_stage(cfg, policy, dataset, rewards, run_dir, checkpoint, make_trainer, validating)
    if trained is None:
        return EXIT_SIGTERM
    steps, runtime = trained
    if validating:
        validating[0].catch_up(steps)  # a run killed after its last save, before that save's evaluation
        _name_best_checkpoint(cfg, policy, run_dir)
    if cfg.recipe.evaluate:
        stages["tuned"] = evaluate_stage(policy, cfg, fmt, run_dir, "tuned", run_dir / "adapter", load_eval)
    return finish_run(cfg, fmt, run_dir, policy, stages, steps, runtime, sft, started)
