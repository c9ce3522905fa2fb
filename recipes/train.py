"""The stages of a recipe run, in order, each skipped when a resumed run already has it.

evaluate base -> (optional) SFT format priming -> evaluate primed -> GRPO
(checkpoints, resume, SIGTERM) -> save adapter -> evaluate tuned -> report.
``recipes.grpo`` parses and checks the config; this module loads models.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from data_prep.formats import ReasoningFormat
from recipes.callbacks import MetricsLogger, SigtermCheckpoint
from recipes.config import RunConfig, resolved_config
from recipes.errors import RecipeError
from recipes.io_utils import atomic_write_text, read_json
from recipes.run_dir import (
    atomic_save_dir,
    checkpoint_step,
    last_complete_checkpoint,
    trim_metrics,
    write_json,
)
from recipes.trl_compat import ensure_logprob_kernel

EXIT_SIGTERM = 143


def configure_wandb(cfg: RunConfig, run_dir: Path) -> None:
    """Offline W&B when no key is set: never a login prompt, never a crash, never the key in a file."""
    import os

    if "wandb" not in (cfg.grpo.report_to or []):
        return
    os.environ.setdefault("WANDB_PROJECT", cfg.recipe.wandb_project)
    os.environ.setdefault("WANDB_DIR", str(run_dir))
    if not os.environ.get("WANDB_API_KEY") and os.environ.get("WANDB_MODE") not in ("offline", "disabled"):
        os.environ["WANDB_MODE"] = "offline"
        print(f"W&B: no WANDB_API_KEY, logging offline to {run_dir}/wandb (upload later: wandb sync)")


def evaluate_stage(policy, cfg: RunConfig, fmt: ReasoningFormat, run_dir: Path, label: str,
                   adapter_dir: Path | None, load_eval: Callable[[], Any]) -> dict[str, Any]:
    """Evaluate the policy as it is now on the held-out split; reuse a finished result on resume."""
    from recipes.evaluate import evaluate_policy
    from recipes.grpo import eval_source

    out = run_dir / "eval" / label
    if (out / "summary.json").is_file():
        return read_json(out / "summary.json")
    if policy.backend == "unsloth":
        # vLLM generates from the base weights; the adapter rides along as a LoRA request.
        policy.lora_request = policy.model.load_lora(str(adapter_dir)) if adapter_dir else None
    r = cfg.recipe
    dataset_name, data_file = eval_source(cfg)
    meta = {"label": label, "model": r.model_name, "adapter": str(adapter_dir) if adapter_dir else None,
            "dataset": dataset_name, "data_file": data_file,
            "split": r.eval_split, "seed": cfg.grpo.seed, "backend": policy.backend}
    summary = evaluate_policy(policy, load_eval(), fmt, out, max_new_tokens=r.eval_max_new_tokens,
                              batch_size=r.eval_batch_size, meta=meta)
    print(f"{label}: accuracy {summary['accuracy']:.1%} ({summary['correct']}/{summary['n']}), "
          f"format {summary['format_rate']:.1%}", flush=True)
    return summary


def _check_generation_backend(cfg: RunConfig, backend: str) -> None:
    g = cfg.grpo
    if g.use_vllm and backend != "unsloth" and g.vllm_mode == "colocate" and importlib.util.find_spec("vllm") is None:
        raise RecipeError("use_vllm: vLLM is not installed here; set use_vllm false for the transformers backend")


def _restore_sft_adapter(policy, run_dir: Path) -> bool:
    """Load a finished priming adapter into the policy (resumed run); False if there is none."""
    path = run_dir / "sft_adapter" / "adapter_model.safetensors"
    if not path.is_file():
        return False
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(policy.model, load_file(str(path)))
    return True


def run_training(cfg: RunConfig, fmt: ReasoningFormat, dataset, rewards: list, *, resume: bool) -> int:
    from recipes.grpo import eval_dataset, policy_spec
    from recipes.model import load_policy

    run_dir = Path(cfg.grpo.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = last_complete_checkpoint(run_dir)
    if checkpoint and not resume:
        print(f"{run_dir} has {checkpoint.name}: resuming from it (delete the folder to start over)")
    elif resume and not checkpoint:
        print(f"--resume: no complete checkpoint in {run_dir}; starting from step 0")
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(resolved_config(cfg), sort_keys=False))
    configure_wandb(cfg, run_dir)
    started = time.time()

    policy = load_policy(policy_spec(cfg))
    ensure_logprob_kernel()  # after unsloth's import; a no-op where Triton exists
    _check_generation_backend(cfg, policy.backend)
    stages: dict[str, dict] = {}
    load_eval = functools.cache(lambda: eval_dataset(cfg))  # built once, and only if a stage still needs it
    if cfg.recipe.evaluate:
        stages["base"] = evaluate_stage(policy, cfg, fmt, run_dir, "base", None, load_eval)
    sft: dict[str, Any] | None = None
    needs_priming = cfg.recipe.sft_prime is not None and checkpoint is None
    if needs_priming and not _restore_sft_adapter(policy, run_dir):
        from recipes.sft import prime_format

        sft = prime_format(policy, cfg, fmt, dataset, run_dir)
        print(f"sft priming: {sft['steps']} steps on {sft['rows']} rows", flush=True)
    if cfg.recipe.sft_prime is not None and cfg.recipe.evaluate:
        stages["primed"] = evaluate_stage(policy, cfg, fmt, run_dir, "primed", run_dir / "sft_adapter", load_eval)

    from trl import GRPOTrainer  # after unsloth (imported by load_policy) so its patches apply

    metrics = run_dir / "metrics.jsonl"
    if checkpoint:
        trim_metrics(metrics, "grpo", checkpoint_step(checkpoint))
    stopper = SigtermCheckpoint().install()
    trainer = GRPOTrainer(model=policy.model, reward_funcs=rewards, args=cfg.grpo, train_dataset=dataset,
                          processing_class=policy.tokenizer,
                          callbacks=[MetricsLogger(metrics, "grpo"), stopper])
    try:
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    finally:
        stopper.uninstall()
    if stopper.requested:
        print(f"stopped by SIGTERM at step {trainer.state.global_step}; rerun the same command to resume")
        return EXIT_SIGTERM

    with atomic_save_dir(run_dir / "adapter") as tmp:
        trainer.save_model(str(tmp))
    if cfg.recipe.evaluate:
        stages["tuned"] = evaluate_stage(policy, cfg, fmt, run_dir, "tuned", run_dir / "adapter", load_eval)
    report = _write_report(run_dir, stages) if cfg.recipe.evaluate else None

    comparison = read_json(run_dir / "report" / "comparison.json") if report else {}
    summary = {
        "run_name": cfg.grpo.run_name, "model": cfg.recipe.model_name, "backend": policy.backend,
        "format": fmt.name, "dataset": cfg.recipe.dataset, "steps": trainer.state.global_step,
        "train_runtime_s": result.metrics.get("train_runtime"), "wall_time_s": round(time.time() - started, 1),
        "sft_prime": sft, "adapter": str(run_dir / "adapter"), "report": report,
        "stages": {k: {m: v[m] for m in ("accuracy", "format_rate", "correct", "n")} for k, v in stages.items()},
        # Accuracy by category (operation, steps, phrasing, ...) and every significant drop, as in the report.
        "headline": comparison.get("headline"), "by_category": comparison.get("categories"),
        "regressions": comparison.get("regressions"),
    }
    write_json(run_dir / "summary.json", summary)
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
