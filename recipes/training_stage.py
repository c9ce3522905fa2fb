"""GRPO's training stage: from scratch or the last checkpoint to ``max_steps``, then ``adapter/``.

Every way it can end leaves a folder a rerun continues from:

* done: the adapter is saved (atomically) and the steps and runtime are returned;
* killed after its last checkpoint: nothing to train (HF's Trainer, resumed at
  ``max_steps``, would train one step more), so that checkpoint's adapter is saved;
* SIGTERM: a checkpoint after the current step, then None (the run exits `EXIT_SIGTERM`);
* a reward that raises, scores NaN/inf or hangs (`recipes.reward_guard`): a checkpoint
  of the last good step (the weights the failing step has not changed yet), then one
  line naming the reward, the row and the error (exit 2);
* a full disk while saving a checkpoint: HF writes ``trainer_state.json`` last, so the
  half-written checkpoint is never resumed from (`run_dir.last_complete_checkpoint`);
  one line says which checkpoint is intact (exit 2).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recipes.callbacks import MetricsLogger, SigtermCheckpoint
from recipes.config import RunConfig
from recipes.errors import RecipeError
from recipes.reward_guard import RewardFailure, guard
from recipes.run_dir import checkpoint_step, last_complete_checkpoint, save_checkpoint_adapter, save_trained

EXIT_SIGTERM = 143


def train_stage(cfg: RunConfig, policy, dataset, rewards: list, run_dir: Path, checkpoint: Path | None,
                make_trainer: Callable[..., Any], callbacks: tuple = ()) -> tuple[int, float | None] | None:
    """(steps, train_runtime) once ``run_dir/adapter`` holds the trained adapter; None when SIGTERM stopped it.

    ``callbacks`` ride along with the trainer's own (`recipes.checkpoint_eval` evaluates checkpoints).
    """
    if checkpoint and checkpoint_step(checkpoint) >= cfg.grpo.max_steps > 0:
        save_checkpoint_adapter(policy, checkpoint, run_dir / "adapter")
        return checkpoint_step(checkpoint), None
    stopper = SigtermCheckpoint().install()
    trainer = make_trainer(cfg, policy, dataset, guard(rewards),
                           [MetricsLogger(run_dir / "metrics.jsonl", "grpo"), stopper, *callbacks])
    try:
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except RewardFailure as failure:
        # HF's own checkpoint writer (a private method; the public save_model writes no optimizer state).
        trainer._save_checkpoint(trainer.model, trial=None)
        raise RecipeError(f"{failure}; stopped before training on it, {last_good(run_dir)} holds the last good "
                          "step (fix the reward, then rerun the same command to resume)") from None
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        raise RecipeError(f"output_dir: the disk is full ({err.strerror}) while saving; {last_good(run_dir)} is "
                          "intact: free some space and rerun the same command to resume from it") from None
    finally:
        stopper.uninstall()
    if stopper.requested:
        print(f"stopped by SIGTERM at step {trainer.state.global_step}; rerun the same command to resume")
        return None
    save_trained(trainer, run_dir / "adapter")
    return trainer.state.global_step, result.metrics.get("train_runtime")


def last_good(run_dir: Path) -> str:
    found = last_complete_checkpoint(run_dir)
    return str(found) if found else "no checkpoint (a rerun starts GRPO over)"
