"""A failed reward stops the run by name, instead of training on it.

TRL turns a reward function's exception into a traceback that kills the run
mid-step, takes a NaN or inf into the advantages (a NaN advantage poisons every
weight it touches), and waits forever on a reward that hangs. `guard` wraps each
reward function: an exception, a non-finite score or a call that runs past
``timeout_s`` becomes `RewardFailure`, naming the reward, the first failing row
and what happened; `recipes.training_stage` then saves the last good step and
stops with that one line. The built-in rewards never raise on model output
(rewards/base.py turns odd output into their fallback score), so for them this is
a bug report; for a user's reward it is expected.

The time limit is a watchdog thread that sends this process SIGINT (a real signal,
which also wakes a sleeping call; Python raises KeyboardInterrupt in the main
thread), not ``signal.alarm``: math-verify sets and clears its own alarm inside the
`math_verify` reward. Like any signal, it lands between bytecodes: a single C call
that never returns (one enormous integer power) is not cut short.
"""

from __future__ import annotations

import math
import os
import signal
import threading
from typing import Any


class RewardFailure(Exception):
    def __init__(self, reward: str, row: int | None, what: str):
        where = f"row {row}" if row is not None else "its batch"
        super().__init__(f"reward {reward}: {where}: {what}")
        self.reward, self.row = reward, row


class GuardedReward:
    """``fn`` with TRL's reward signature, checked: `RewardFailure` instead of an exception, NaN/inf or a hang."""

    def __init__(self, fn: Any, timeout_s: float = 120.0):
        self.fn, self.timeout_s = fn, timeout_s
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> list:
        try:
            scores = self._call_in_time(self.fn, *args, **kwargs)
        except RewardFailure:
            raise
        except Exception as err:  # noqa: BLE001  (a reward may raise anything; it is named, not hidden)
            raise RewardFailure(self.__name__, self._first_failing_row(kwargs), _describe(err)) from err
        for row, score in enumerate(scores):
            if score is not None and not math.isfinite(score):
                raise RewardFailure(self.__name__, row, f"returned {score}")
        return scores

    def _call_in_time(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        done, expired, lock = threading.Event(), threading.Event(), threading.Lock()

        def watchdog() -> None:
            if not done.wait(self.timeout_s):
                with lock:  # never after the call returned: the signal lands inside the try below
                    if not done.is_set():
                        expired.set()
                        os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=watchdog, daemon=True).start()
        try:
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    done.set()
        except KeyboardInterrupt:
            if expired.is_set():
                raise RewardFailure(self.__name__, None, f"took over {self.timeout_s:g} s (hung?)") from None
            raise

    def _first_failing_row(self, kwargs: dict[str, Any]) -> int | None:
        """Call the reward row by row (each list column sliced) to find the row it fails on."""
        rows = len(kwargs.get("completions") or [])
        for row in range(rows):
            one = {k: v[row : row + 1] if isinstance(v, list) and len(v) == rows else v for k, v in kwargs.items()
                   if k != "log_metric"}  # these calls are a search, not scores to log
            try:
                self._call_in_time(self.fn, **one)
            except Exception:  # noqa: BLE001  (RewardFailure for a hang too)
                return row
        return None


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def guard(rewards: list, timeout_s: float = 120.0) -> list[GuardedReward]:
    return [GuardedReward(fn, timeout_s) for fn in rewards]
