"""Trainer callbacks: a metrics log that survives kills, and a clean stop on SIGTERM."""

from __future__ import annotations

import math
import signal
from pathlib import Path

from transformers import TrainerCallback

from recipes.distributed import any_rank
from recipes.io_utils import append_jsonl


class MetricsLogger(TrainerCallback):
    """Append every trainer log (TRL's reward means, frac_reward_zero_std, loss, ...) to metrics.jsonl.

    One line per log, flushed and fsynced, so a killed run keeps what it
    logged; a torn last line is skipped by ``io_utils.read_jsonl``.
    """

    def __init__(self, path: str | Path, stage: str):
        self.path, self.stage = Path(path), stage

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        row = {"stage": self.stage, "step": state.global_step}
        for key, value in logs.items():
            if isinstance(value, float) and not math.isfinite(value):
                value = None  # NaN/inf are not JSON
            row[key] = value
        append_jsonl(self.path, row)


class SigtermCheckpoint(TrainerCallback):
    """On SIGTERM, finish the current step, save a checkpoint and stop.

    Schedulers and `timeout` send SIGTERM; without this the run dies mid-step
    and loses everything since the last ``save_steps`` checkpoint.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def install(self) -> SigtermCheckpoint:
        self._previous = signal.signal(signal.SIGTERM, self._on_signal)
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)

    def _on_signal(self, signum, frame):
        self.requested = True
        print("SIGTERM: saving a checkpoint after this step, then stopping", flush=True)

    def on_step_end(self, args, state, control, **kwargs):
        # Every rank stops after the same step: a rank signalled a step later would wait forever in the next
        # step's gradient all-reduce for one that had already stopped (recipes.distributed).
        if any_rank(self.requested):
            self.requested = True
            control.should_save = True
            control.should_training_stop = True
        return control
