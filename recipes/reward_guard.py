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

An ``async`` reward (TRL runs those on its own event loop, concurrently:
``is_async_callable`` in trl/trainer/utils.py) is guarded by `AsyncGuardedReward`,
itself async, so TRL still awaits it there; its time limit is ``asyncio.wait_for``,
which cancels it at its next ``await`` (one that blocks its loop is not cut short).
A result that is not one number or None per completion is a failure too (TRL
would stop with a traceback on the length and miss a string).

The time limit of a sync reward is a watchdog thread that sends this process SIGINT (a real signal,
which also wakes a sleeping call; Python raises KeyboardInterrupt in the main
thread), not ``signal.alarm``: math-verify sets and clears its own alarm inside the
`math_verify` reward. Like any signal, it lands between bytecodes: a single C call
that never returns (one enormous integer power) is not cut short.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from rewards.user_import import describe


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
            raise RewardFailure(self.__name__, self._first_failing_row(kwargs), describe(err)) from err
        return self._checked(scores, kwargs)

    def _checked(self, scores: Any, kwargs: dict[str, Any]) -> Any:
        """``scores`` when it holds one finite number or None per completion, else `RewardFailure`."""
        completions = kwargs.get("completions")
        if isinstance(scores, (str, bytes, Mapping)) or not hasattr(scores, "__len__"):
            raise RewardFailure(self.__name__, None, f"returned a {type(scores).__name__}, expected a list of scores")
        if completions is not None and len(scores) != len(completions):
            raise RewardFailure(self.__name__, None, f"returned {len(scores)} scores for {len(completions)} "
                                                     "completions")
        for row, score in enumerate(scores):
            try:
                finite = score is None or math.isfinite(score)
            except TypeError:
                raise RewardFailure(self.__name__, row, f"returned {score!r}, not a number") from None
            if not finite:
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
        for row, one in _rows(kwargs):
            try:
                self._call_in_time(self.fn, **one)
            except Exception:  # noqa: BLE001  (RewardFailure for a hang too)
                return row
        return None


class AsyncGuardedReward(GuardedReward):
    """`GuardedReward` for an ``async`` reward: awaited on TRL's event loop, cut off by ``asyncio.wait_for``."""

    async def __call__(self, *args: Any, **kwargs: Any) -> list:
        start = time.monotonic()
        try:
            scores = await asyncio.wait_for(self.fn(*args, **kwargs), self.timeout_s)
        except TimeoutError as err:
            if time.monotonic() - start < self.timeout_s:  # the reward's own TimeoutError
                raise RewardFailure(self.__name__, await self._first_failing_row_async(kwargs),
                                    describe(err)) from err
            raise RewardFailure(self.__name__, None, f"took over {self.timeout_s:g} s (hung?)") from None
        except Exception as err:  # noqa: BLE001
            raise RewardFailure(self.__name__, await self._first_failing_row_async(kwargs), describe(err)) from err
        return self._checked(scores, kwargs)

    async def _first_failing_row_async(self, kwargs: dict[str, Any]) -> int | None:
        for row, one in _rows(kwargs):
            try:
                await asyncio.wait_for(self.fn(**one), self.timeout_s)
            except Exception:  # noqa: BLE001
                return row
        return None


def _rows(kwargs: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row, the call's keywords with each per-completion list sliced to that row), for the failing-row search."""
    rows = len(kwargs.get("completions") or [])
    for row in range(rows):
        yield row, {k: v[row : row + 1] if isinstance(v, list) and len(v) == rows else v for k, v in kwargs.items()
                    if k != "log_metric"}  # these calls are a search, not scores to log


def score_now(fn: Any, **kwargs: Any) -> Any:
    """Call a reward outside the trainer (the pre-flight): an async one runs to the end on a loop of its own."""
    result = fn(**kwargs)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def guard(rewards: list, timeout_s: float = 120.0) -> list[GuardedReward]:
    # TRL's own test of what it will await (imported here: trl loads after unsloth, recipes.backend).
    from trl.trainer.utils import is_async_callable

    return [(AsyncGuardedReward if is_async_callable(fn) else GuardedReward)(fn, timeout_s) for fn in rewards]
