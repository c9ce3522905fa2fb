"""Evaluation dirs as `recipes.compare` reads them: validated rows, paired by id, distinct labels.

Each dir is what ``python -m recipes.evaluate`` wrote: ``predictions.jsonl`` and
``summary.json``. Runs that hold different ids, or a different gold answer for
an id, are refused rather than compared: a paired test on unpaired data would be
a made-up number. Every problem is one `RecipeError` line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recipes.errors import RecipeError
from recipes.io_utils import read_json, read_jsonl
from recipes.run_stats import FIELDS, EvalRun


def _read_json(path: Path) -> Any:
    try:
        return read_json(path)
    except ValueError as err:
        raise RecipeError(str(err)) from None


def _check_row(path: Path, no: int, row: Any) -> None:
    if not isinstance(row, dict):
        raise RecipeError(f"{path}: row {no} is not a JSON object")
    missing = [f for f in FIELDS if f not in row]
    if missing:
        raise RecipeError(f"{path}: row {no} misses field(s) {', '.join(missing)}")
    for name in ("correct", "format_ok"):
        if not isinstance(row[name], bool):
            raise RecipeError(f"{path}: row {no}: {name} must be true or false, got {row[name]!r}")
    if isinstance(row["n_tokens"], bool) or not isinstance(row["n_tokens"], int | float):
        raise RecipeError(f"{path}: row {no}: n_tokens must be a number, got {row['n_tokens']!r}")
    if not isinstance(row["id"], int | str) or isinstance(row["id"], bool):
        raise RecipeError(f"{path}: row {no}: id must be an integer or string, got {row['id']!r}")


def load_eval_dir(path: str | Path) -> EvalRun:
    """Read and validate one evaluation dir; raises `RecipeError` with a one-line reason."""
    path = Path(path)
    if not path.is_dir():
        raise RecipeError(f"{path}: not a directory (expected the --out dir of python -m recipes.evaluate)")
    for name in ("predictions.jsonl", "summary.json"):
        if not (path / name).is_file():
            raise RecipeError(f"{path}: missing {name} (expected the --out dir of python -m recipes.evaluate)")
    summary = _read_json(path / "summary.json")
    if not isinstance(summary, dict):
        raise RecipeError(f"{path / 'summary.json'}: expected a JSON object")
    preds = path / "predictions.jsonl"
    try:
        rows = read_jsonl(preds, tolerate_truncated_tail=False)  # evaluate writes atomically: a cut line is damage
    except ValueError as err:
        raise RecipeError(str(err)) from None
    if not rows:
        raise RecipeError(f"{preds}: no rows")
    by_id: dict[Any, dict[str, Any]] = {}
    for no, row in enumerate(rows, 1):
        _check_row(preds, no, row)
        if row["id"] in by_id:
            raise RecipeError(f"{preds}: row {no}: duplicate id {row['id']!r}")
        by_id[row["id"]] = row
    label = str(summary.get("label") or path.name)
    return EvalRun(path=path, label=label, summary=summary, rows=rows, by_id=by_id)


def _sample(ids: set[Any], k: int = 3) -> str:
    shown = sorted(ids, key=lambda i: (isinstance(i, str), i))[:k]
    return ", ".join(map(repr, shown)) + (", ..." if len(ids) > k else "")


def _short(text: Any, limit: int = 40) -> str:
    s = repr(text)
    return s if len(s) <= limit else s[: limit - 4] + "...'"


def check_paired(runs: list[EvalRun]) -> None:
    """Refuse runs that are not on the same examples: same id set, same gold per id, as the first run."""
    ref = runs[0]
    for run in runs[1:]:
        extra, lacking = set(run.by_id) - set(ref.by_id), set(ref.by_id) - set(run.by_id)
        if extra or lacking:
            parts = []
            if extra:
                parts.append(f"{len(extra)} id(s) not in {ref.path} ({_sample(extra)})")
            if lacking:
                parts.append(f"{len(lacking)} id(s) of {ref.path} missing ({_sample(lacking)})")
            raise RecipeError(f"{run.path}: different examples than {ref.path}: {'; '.join(parts)}")
        differ = [i for i in ref.by_id if str(ref.by_id[i]["gold"]) != str(run.by_id[i]["gold"])]
        if differ:
            i = differ[0]
            more = f" (and {len(differ) - 1} more id(s))" if len(differ) > 1 else ""
            raise RecipeError(f"{run.path}: gold for id {i!r} is {_short(run.by_id[i]['gold'])} but "
                               f"{_short(ref.by_id[i]['gold'])} in {ref.path}{more}")


def unique_labels(runs: list[EvalRun]) -> None:
    """Two stages both called "tuned" would make an unreadable report: add the dir name, then a number."""
    seen: set[str] = set()
    for i, run in enumerate(runs):
        if run.label in seen:
            run.label = f"{run.label} ({run.path.name})"
        if run.label in seen:
            run.label = f"{run.label} #{i + 1}"
        seen.add(run.label)
