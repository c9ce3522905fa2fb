"""Small file helpers every recipe shares: atomic writes (files and whole folders) and forgiving JSONL reads.

Why atomic: runs get killed (OOM, Ctrl-C, a preempted spot GPU). A report,
summary or predictions file is either the old complete one or the new
complete one, never half written, because we write a temp file in the same
directory and `os.replace` it over the target (atomic on POSIX and Windows).

Why forgiving reads: a training run killed mid-write leaves a truncated last
line in `metrics.jsonl`; everything before it is still good data, so
`read_jsonl` drops that one line instead of failing. A bad line anywhere
else is real corruption and raises.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same dir, then ``os.replace``).

    The parent directory is created if needed; an existing file keeps its
    permission bits, a new one gets 0o644 (temp files start private).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; see `atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode(encoding))


def write_jsonl_atomic(path: str | Path, rows: Iterable[Any]) -> Path:
    """Write one JSON value per line (UTF-8, non-ASCII kept readable), atomically."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return atomic_write_text(path, text)


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; a syntax error becomes ``ValueError`` naming the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None


def read_jsonl(path: str | Path, *, tolerate_truncated_tail: bool = True) -> list[Any]:
    """Parse a JSONL file, skipping blank lines.

    An unparseable *last* line is taken to be a write cut short by a killed
    run and dropped (unless ``tolerate_truncated_tail=False``); an
    unparseable line before it raises ``ValueError`` naming ``path:line``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.jsonl"
    >>> _ = p.write_text('{"step": 1}\\n\\n{"step": 2}\\n{"step": 3, "rew')
    >>> read_jsonl(p)
    [{'step': 1}, {'step': 2}]
    """
    path = Path(path)
    lines = [(no, line) for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if line.strip()]
    rows = []
    for i, (no, line) in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            if tolerate_truncated_tail and i == len(lines) - 1:
                break
            raise ValueError(f"{path}:{no}: not valid JSON ({err.msg})") from None
    return rows


def append_jsonl(path: str | Path, row: Any) -> None:
    """Append one JSON line, flushed and fsynced: a killed run keeps what it logged (`read_jsonl` skips a torn tail)."""
    with Path(path).open("a") as fh:
        fh.write(json.dumps(row, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_json(path: str | Path, obj: object) -> None:
    """Pretty, key-sorted JSON written atomically (summaries, reports)."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


@contextmanager
def atomic_save_dir(target: str | Path) -> Iterator[Path]:
    """Yield a staging folder beside ``target``; on success it replaces ``target`` whole.

    A kill while saving leaves the previous ``target`` (or none), never half a model.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
        replace_dir(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def restore_interrupted(target: Path) -> None:
    """Undo a `replace_dir` killed between its two renames: ``target`` gone, ``.target-old`` still there."""
    old = target.with_name(f".{target.name}-old")
    if not target.exists() and old.is_dir():
        os.replace(old, target)


def replace_dir(staging: Path, target: Path) -> None:
    """Put the finished folder ``staging`` where ``target`` is, with the old one gone only after.

    A kill between the two renames leaves ``.target-old``; `restore_interrupted` puts it back.
    """
    restore_interrupted(target)
    if target.exists():
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)
