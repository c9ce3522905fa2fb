"""Several processes, one run folder: who writes, how evaluation is shared, and a stop every rank agrees on.

Under ``accelerate launch`` (DDP over NCCL on GPUs, or gloo on CPUs: recipes/accelerate/cpu_ddp.yaml)
every rank runs the same pipeline. The rules:

* **One writer.** Only the main process writes the run folder (config.yaml, eval/, report/,
  summary.json, decontamination.json, priming.json); HF's Trainer and `run_dir.save_trained`
  already write checkpoints and adapters from it alone. The others print nothing either.
* **Shared evaluation.** Every rank generates for its slice of the problems (``rows[rank::world]``);
  `gather_in_order` collects the scored rows back in input order on every rank, so all ranks hold
  the same summary and the main one writes it. The same answers as one process, in 1/world the time.
* **One stop.** SIGTERM reaches each rank at its own moment; a rank that stopped a step earlier than
  another would leave that one waiting in the gradient all-reduce. `any_rank` makes the stop a
  collective decision at each step's end, so all ranks save the same checkpoint and exit 143.

Everything is a no-op in one process; torch.distributed's process group is the one accelerate set up.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from typing import Any


def _group_ready() -> bool:
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is always there for a run
        return False
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, how many processes): from the process group, else the launcher's environment."""
    if _group_ready():
        import torch.distributed as dist

        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    return rank_and_world()[0] == 0


def start_group() -> None:
    """Join the launcher's process group now (accelerate's state: gloo on CPU, NCCL on GPUs), before any stage."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    import torch
    from accelerate import PartialState

    on_cpu = not torch.cuda.is_available()
    PartialState(cpu=on_cpu)  # without cpu=True accelerate starts no group on a machine without GPUs
    if on_cpu:
        _read_cpu_index_locations()


def _read_cpu_index_locations() -> None:
    """Let ``torch.load`` map to accelerate's multi-CPU device, ``cpu:0``.

    HF's Trainer resumes the optimizer with ``map_location=args.device`` when several processes run
    (transformers trainer.py ``_load_optimizer_and_scheduler``), and accelerate's MULTI_CPU device is
    ``torch.device("cpu", 0)``; torch's own deserializer knows only ``"cpu"`` and raises "don't know how
    to restore data location ... (tagged with cpu:0)". torch's public ``register_package`` adds that one
    spelling, so a run killed under ``accelerate launch`` on CPUs resumes.
    """
    import torch.serialization

    def keep_on_cpu(obj, location: str):
        return obj if location.startswith("cpu:") else None

    torch.serialization.register_package(99, lambda obj: None, keep_on_cpu)  # after torch's own (10-26)


def barrier() -> None:
    if _group_ready():
        import torch.distributed as dist

        dist.barrier()


def my_share(rows: list) -> tuple[list, int]:
    """This rank's slice of ``rows`` (every world-th one, from its rank), padded with its first row so every
    rank generates equally often (ZeRO-3 needs every rank in every forward); and how many are its own."""
    rank, world = rank_and_world()
    if world == 1:
        return rows, len(rows)
    mine = rows[rank::world]
    size = -(-len(rows) // world)
    return mine + [rows[0]] * (size - len(mine)), len(mine)


def gather_in_order(mine: list, total: int) -> list:
    """Every rank's `my_share` results, back in input order, on every rank."""
    if not _group_ready():
        return mine
    import torch.distributed as dist

    parts: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(parts, mine)
    ordered: list[Any] = [None] * total
    for rank, part in enumerate(parts):
        ordered[rank::len(parts)] = part
    return ordered


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any (a collective: every rank must call it)."""
    if not _group_ready():
        return flag
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([1 if flag else 0], dtype=torch.int64)
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def from_main(compute: Callable[[], Any]) -> Any:
    """``compute()`` on the main process, its result on every rank (a sampled pre-flight must not differ by rank)."""
    if not _group_ready():
        return compute()
    import torch.distributed as dist

    box = [compute() if is_main() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@contextlib.contextmanager
def quiet_unless_main() -> Iterator[None]:
    """The main process prints the run's lines; the others' stdout goes nowhere (stderr stays)."""
    if is_main():
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield
