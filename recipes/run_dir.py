"""The run directory's bookkeeping: which checkpoint is complete, and metrics that match it.

HF's Trainer writes ``checkpoint-N/`` piece by piece and ``trainer_state.json``
last, so a checkpoint without that file is one a kill interrupted; resuming
from it would fail. ``metrics.jsonl`` is appended as training goes, so after a
kill it may hold steps past the checkpoint we resume from: ``trim_metrics``
drops those, so the resumed run's log has each step once. ``save_trained``
writes a trainer's adapter into the run once, also under ``accelerate launch``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from recipes.distributed import is_main
from recipes.io_utils import atomic_save_dir, atomic_write_text, read_jsonl, replace_dir

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_step(path: str | Path) -> int:
    match = _CHECKPOINT.match(Path(path).name)
    if not match:
        raise ValueError(f"not a checkpoint folder: {path}")
    return int(match.group(1))


def last_complete_checkpoint(run_dir: str | Path) -> Path | None:
    """Highest ``checkpoint-N`` that has its ``trainer_state.json`` (written last), or None.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "checkpoint-2").mkdir(); (d / "checkpoint-2" / "trainer_state.json").write_text("{}")
    2
    >>> (d / "checkpoint-4").mkdir()  # interrupted while saving
    >>> last_complete_checkpoint(d).name
    'checkpoint-2'
    """
    root = Path(run_dir)
    if not root.is_dir():
        return None
    complete = [p for p in root.iterdir()
                if p.is_dir() and _CHECKPOINT.match(p.name) and (p / "trainer_state.json").is_file()]
    return max(complete, key=checkpoint_step, default=None)


def trim_metrics(path: str | Path, stage: str | tuple[str, ...], max_step: int) -> None:
    """Keep every other stage's rows and these stages' rows up to ``max_step`` (atomically; the main process)."""
    p = Path(path)
    if not p.is_file() or not is_main():
        return
    stages = (stage,) if isinstance(stage, str) else stage
    kept = [row for row in read_jsonl(p) if row.get("stage") not in stages or row.get("step", 0) <= max_step]
    atomic_write_text(p, "".join(json.dumps(row) + "\n" for row in kept))


def save_checkpoint_adapter(policy, checkpoint: Path, target: Path) -> None:
    """The adapter a run killed after its last checkpoint ended with: that checkpoint's, saved as ``adapter/``."""
    from recipes.model import load_adapter_weights

    load_adapter_weights(policy.model, checkpoint)
    with atomic_save_dir(target) as staging:
        policy.model.save_pretrained(str(staging))
        policy.tokenizer.save_pretrained(str(staging))


def save_trained(trainer, target: str | Path) -> None:
    """``trainer.save_model`` into ``target`` atomically, once, in one process or under ``accelerate launch``.

    Every rank must call ``save_model`` (DeepSpeed ZeRO-3 gathers the weights
    from all of them) and HF's Trainer writes files from the main process only.
    So in distributed runs all ranks save into one staging folder and, after a
    barrier, the main process alone swaps it into place: no rank can replace
    the adapter with an empty folder of its own.
    """
    target = Path(target)
    accelerator = trainer.accelerator
    if accelerator.num_processes == 1:
        with atomic_save_dir(target) as staging:
            trainer.save_model(str(staging))
        return
    staging = target.with_name(f".{target.name}-staging")
    if accelerator.is_main_process:
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
    trainer.save_model(str(staging))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        replace_dir(staging, target)
    accelerator.wait_for_everyone()
