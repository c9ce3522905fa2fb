"""One run per folder, one config per run: what a (re)start may do with ``runs/<name>/``.

A run folder is written by one process at a time and describes one config:

* `claim` takes an exclusive ``flock`` on ``<run>/.lock`` for the life of the
  process (the OS drops it when the process dies, so a killed run never leaves a
  stale lock). A second run into a live folder stops at once naming the PID that
  holds it. Under ``accelerate launch`` only the main process (``RANK`` 0) takes it.
* `check_same_config` compares a restart's resolved config with the folder's
  ``config.yaml``: a key that changes what is trained or reported is refused,
  naming old and new values; a key that cannot (logging, W&B, batch size of
  greedy evaluation, checkpoint cadence) is allowed, and the old file is kept as
  ``config.previous.yaml``.
* `is_finished`: ``summary.json`` is written last, so a folder that has one holds
  a finished run, and rerunning the same command has nothing left to do.
* `clean_interrupted_saves`: a kill inside an atomic folder save leaves a staging
  folder or, between its two renames, the previous folder under ``.NAME-old``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from recipes.errors import RecipeError
from recipes.io_utils import atomic_write_text, restore_interrupted

# Keys that cannot change the adapter or the report: where logs go and how often, how many greedy
# prompts share one generate() call, how often a checkpoint is written, and the names of things.
HARMLESS = frozenset({
    "logging_steps", "report_to", "wandb_project", "log_completions", "num_completions_to_print",
    "eval_batch_size", "save_steps", "config_file", "run_name", "output_dir",
    "grpo_variant",  # worded from the keys above it (recipes.variants), which are compared themselves
})

_HELD: dict[Path, Any] = {}  # lock file -> its open handle: closing it would release the lock


def claim(run_dir: Path) -> None:
    """Hold ``run_dir/.lock`` for this process's lifetime, or stop naming the process that holds it."""
    lock = (run_dir / ".lock").resolve()
    if int(os.environ.get("RANK", "0")) != 0 or (lock in _HELD and lock.exists()):
        return
    handle = open(lock, "a+")  # noqa: SIM115  (kept open: the lock lives as long as the file)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "unknown"
        handle.close()
        raise RecipeError(f"output_dir: {run_dir} is in use by another run (PID {pid}); wait for it to end, "
                          "or give this one another --run_name") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _HELD[lock] = handle


def check_same_config(run_dir: Path, resolved: dict[str, Any]) -> None:
    """Refuse a restart whose config changes the result; keep the old file when only harmless keys changed."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        return
    old = yaml.safe_load(path.read_text()) or {}
    changed = {k for k in set(old) | set(resolved) if old.get(k) != resolved.get(k) and not _new_at_default(old, k, resolved)}
    refused = sorted(changed - HARMLESS)
    if refused:
        diffs = "; ".join(f"{k}: {old.get(k)!r} -> {resolved.get(k)!r}" for k in refused)
        raise RecipeError(f"config: {run_dir} holds a run with another config ({diffs}); rerun with --new-run "
                          "to move it aside and start over, or give this run another --run_name")
    if changed:
        atomic_write_text(run_dir / "config.previous.yaml", path.read_text())


def _new_at_default(old: dict[str, Any], key: str, resolved: dict[str, Any]) -> bool:
    """A recipe key added by a later version of this repo, at its default: the old run behaved so too."""
    import dataclasses

    from recipes.recipe_arguments import RecipeArguments

    if key in old or key not in resolved:
        return False
    for f in dataclasses.fields(RecipeArguments):
        if f.name == key:
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
            return resolved[key] == default
    return False


def open_run(run_dir: Path, resolved: dict[str, Any], recipe: str, *, new_run: bool = False) -> bool:
    """Claim ``run_dir`` for this config (``new_run``: move an old one aside first); True if it is finished."""
    if new_run and run_dir.is_dir():
        claim(run_dir)  # a live run's folder is not moved from under it
        print(f"--new-run: moved the previous run to {move_aside(run_dir)}")
    run_dir.mkdir(parents=True, exist_ok=True)
    claim(run_dir)
    check_same_config(run_dir, resolved)
    clean_interrupted_saves(run_dir)
    return is_finished(run_dir, recipe)


def clean_interrupted_saves(run_dir: Path) -> None:
    """What a kill inside `io_utils.atomic_save_dir` / `run_dir.save_trained` left: restore a folder caught
    between its two renames, and delete half-written staging folders (``.adapter-x1y2``, ``.adapter-staging``).

    Only the process holding the folder's lock calls this, so no save of another process is under way.
    """
    for old in run_dir.glob(".*-old"):
        restore_interrupted(run_dir / old.name[1 : -len("-old")])
    for staging in run_dir.glob(".*-*"):
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)


def is_finished(run_dir: Path, recipe: str) -> bool:
    """Whether ``summary.json`` (written last) says this recipe (grpo, sft) finished in the folder."""
    summary = run_dir / "summary.json"
    if not summary.is_file():
        return False
    try:
        return json.loads(summary.read_text()).get("recipe", "grpo") == recipe
    except ValueError:  # torn by a kill mid-write: not finished
        return False


def move_aside(run_dir: Path) -> Path | None:
    """``--new-run``: rename an existing run folder to ``<name>.N`` (the first free N), so no work is lost."""
    if not run_dir.exists():
        return None
    n = 1
    while (target := run_dir.with_name(f"{run_dir.name}.{n}")).exists():
        n += 1
    run_dir.rename(target)
    return target
