"""Accuracy over training: every ``eval_steps``-th saved checkpoint, on a validation split, and the best one.

Small models trained with GRPO often peak early and then drift or collapse (a
reward hacked, a format lost, answers that grow until they are cut off): the last
checkpoint need not be the best. So, with TRL's ``eval_steps: K`` (a multiple of
``save_steps``), each checkpoint whose step is a multiple of K is evaluated,
greedily, on ``eval_limit_during_training`` problems of ``validation_split``.
That split is disjoint from the test split the final report uses
(`recipes.config_checks` refuses the same name), so picking a checkpoint never
peeks at the numbers the report then quotes.

Each result is a ``{"stage": "validation", "step": ...}`` line in metrics.jsonl
(the report draws it) and an evaluation dir ``eval/validation/checkpoint-N``.
The best (highest accuracy; the earlier step on a tie) is copied to
``best_adapter/`` as it happens, so ``save_total_limit`` may delete its
checkpoint; ``select_checkpoint: best`` then makes it ``adapter/``.

Kill-safe: a checkpoint already evaluated is read back, not re-run; one saved
but killed before its evaluation is evaluated when training resumes from it
(the live model then holds exactly its weights).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from recipes.distributed import any_rank, barrier, is_main
from recipes.io_utils import append_jsonl, atomic_save_dir, read_json, read_jsonl, write_json
from recipes.model import has_vllm_engine
from recipes.stats import best_validation

BEST = "best_adapter"
RESUME_STATE = ("optimizer", "scheduler", "rng_state", "trainer_state", "training_args", "zero_to_fp32")


class CheckpointEvaluator(TrainerCallback):
    """Evaluate saved checkpoints on the validation split; keep the best adapter in ``best_adapter/``."""

    def __init__(self, cfg, policy, fmt, run_dir: Path, validation, grader: str):
        self.cfg, self.policy, self.fmt, self.run_dir = cfg, policy, fmt, Path(run_dir)
        self.validation, self.grader = validation, grader
        self.every = int(cfg.grpo.eval_steps)

    def on_train_begin(self, args, state, control, **kwargs):
        self.catch_up(state.global_step)

    def catch_up(self, step: int) -> None:
        """Evaluate checkpoint ``step`` if it is due and a kill came between its save and its evaluation.

        Called where the live model holds exactly that checkpoint: a resumed trainer's start, or a run
        whose training had already finished (`recipes.training_stage` loads its last checkpoint).
        """
        if step and step % self.every == 0:
            self.evaluate(step)  # reads the summary back when the checkpoint was already evaluated

    def on_save(self, args, state, control, **kwargs):
        # Every rank evaluates its share; the main one writes (recipes.distributed).
        if state.global_step % self.every == 0:
            self.evaluate(state.global_step)

    def evaluate(self, step: int) -> dict[str, Any]:
        from recipes.evaluate import evaluate_policy

        name = f"checkpoint-{step}"
        out = self.run_dir / "eval" / "validation" / name
        if not any_rank(not (out / "summary.json").is_file()):  # already evaluated (every rank agrees)
            return read_json(out / "summary.json")
        policy, r = self.policy, self.cfg.recipe
        if has_vllm_engine(policy.model):  # vLLM generates from the base weights plus this checkpoint's LoRA
            policy.lora_request = policy.model.load_lora(str(self.run_dir / name))
        meta = {"label": f"validation {name}", "model": r.model_name, "adapter": str(self.run_dir / name),
                "split": r.validation_split, "seed": self.cfg.grpo.seed, "backend": policy.backend}
        was_training = policy.model.training
        summary = evaluate_policy(policy, self.validation, self.fmt, out, max_new_tokens=r.eval_max_new_tokens,
                                  batch_size=r.eval_batch_size, meta=meta, grader=self.grader)
        policy.model.train(was_training)
        line = {"stage": "validation", "step": step, "checkpoint": name, "n": summary["n"],
                **{k: summary[k] for k in ("accuracy", "flexible_accuracy", "format_rate", "mean_tokens")}}
        if not is_main():
            return summary
        append_jsonl(self.run_dir / "metrics.jsonl", line)  # MetricsLogger's file, same durability
        best = best_checkpoint(self.run_dir)
        if best and best["step"] == step:
            with atomic_save_dir(self.run_dir / BEST) as staging:
                # The checkpoint's adapter as HF saved it (whole under ZeRO-3 too), less the resume state.
                for f in (self.run_dir / name).iterdir():
                    if f.is_file() and not f.name.startswith(RESUME_STATE):
                        shutil.copy2(f, staging / f.name)
                write_json(staging / "best.json", line)
        print(f"validation {name}: accuracy {summary['accuracy']:.1%} ({summary['correct']}/{summary['n']})"
              + (" (best so far)" if best and best["step"] == step else ""), flush=True)
        return summary


def validation_lines(run_dir: Path) -> list[dict[str, Any]]:
    metrics = Path(run_dir) / "metrics.jsonl"
    return [r for r in read_jsonl(metrics) if r.get("stage") == "validation"] if metrics.is_file() else []


def best_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The validation line with the highest accuracy (the earliest step among equals), or None."""
    return best_validation(validation_lines(run_dir))


def select_best(policy, run_dir: Path) -> dict[str, Any] | None:
    """``select_checkpoint: best``: ``adapter/`` becomes ``best_adapter/`` and the policy holds its weights."""
    from recipes.model import load_adapter_weights

    best_dir = Path(run_dir) / BEST
    barrier()  # the main process wrote best_adapter/ during training
    if not (best_dir / "best.json").is_file():
        return None
    if is_main():
        with atomic_save_dir(Path(run_dir) / "adapter") as staging:
            shutil.copytree(best_dir, staging, dirs_exist_ok=True)
    load_adapter_weights(policy.model, best_dir)  # every rank: the tuned evaluation scores this adapter
    return read_json(best_dir / "best.json")


def validation_summary(run_dir: Path, select: str) -> dict[str, Any] | None:
    """summary.json's ``validation``: every checkpoint's accuracy, the best, and which one adapter/ holds."""
    lines = validation_lines(run_dir)
    if not lines:
        return None
    best = best_validation(lines)
    chosen = best["checkpoint"] if select == "best" and (Path(run_dir) / BEST / "best.json").is_file() else "last"
    return {"checkpoints": {r["checkpoint"]: r["accuracy"] for r in lines}, "best": best["checkpoint"],
            "best_accuracy": best["accuracy"], "adapter": chosen}
