"""What every source shares: tables of raw rows from the Hub or a file (and `DataError`, from errors.py).

A source (gsm8k, openr1_math, ...) reads a `Table` -- column names plus a way to fetch
rows -- whether it came from the Hugging Face Hub or from a local file, so column
checks and row errors read the same for both. Errors are `DataError`s whose message is
one line starting with the field the user should fix (`data_file: ...`, `split: ...`);
the recipes print it and exit 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from datasets import Value, load_dataset

from data_prep.errors import DataError, one_line

__all__ = ["DataError", "Table", "hub_table", "one_line", "question_text", "text_value"]


@dataclass
class Table:
    """Raw rows of one split of one source.

    `field` is the option to blame in errors ("data_file" for a local file, "dataset"
    for the Hub); `origin` names the file or Hub repo. `fetch(columns)` returns
    `(row_number, record)` pairs holding (at least) those columns; row numbers are
    1-based positions in the file, so "row 3" is the third record a user sees.
    `scalars` lists the columns whose type says one str/number per row (a Hub split's
    features, a parquet schema), or is None where only the values can tell (JSON, CSV).
    """

    field: str
    origin: str
    columns: list[str]
    fetch: Callable[[Sequence[str]], list[tuple[int, dict]]]
    scalars: list[str] | None = None

    def has(self, column: str) -> bool:
        return column in self.columns

    def require(self, column: str) -> str:
        if column not in self.columns:
            found = ", ".join(self.columns) or "none"
            raise DataError(f"{self.field}: missing column {column!r} in {self.origin} (found: {found})")
        return column

    def first_of(self, candidates: Sequence[str]) -> str:
        """The first of `candidates` this table has, else a DataError naming all of them."""
        for column in candidates:
            if column in self.columns:
                return column
        found = ", ".join(self.columns) or "none"
        wanted = " or ".join(repr(c) for c in candidates)
        raise DataError(f"{self.field}: missing column {wanted} in {self.origin} (found: {found})")

    def row_error(self, row: int, problem: str) -> DataError:
        where = "" if self.field == "data_file" else f"{self.origin} "
        return DataError(f"{self.field}: {where}row {row} {problem}")


def hub_table(repo: str, config: str | None, split: str) -> Table:
    """One split of a Hub dataset as a Table; any failure to load becomes one DataError line.

    Hub loading fails for many reasons (no network, a renamed repo, a missing token);
    all of them leave the user with the same fix, a local copy, so all are wrapped.
    """
    label = f"{repo} ({config})" if config else repo
    try:
        ds = load_dataset(repo, config, split=split)
    except Exception as exc:  # any Hub failure has the same remedy
        raise DataError(
            f"dataset: could not load {label} split {split!r} from the Hugging Face Hub "
            f"({type(exc).__name__}: {one_line(exc, 160)}); "
            "check your network or pass --data_file with a local jsonl/parquet copy"
        ) from exc

    def fetch(columns: Sequence[str]) -> list[tuple[int, dict]]:
        keep = [c for c in columns if c in ds.column_names]
        return list(enumerate(ds.select_columns(keep).to_list(), start=1))

    scalars = [c for c, f in ds.features.items() if isinstance(f, Value)]
    return Table(field="dataset", origin=label, columns=list(ds.column_names), fetch=fetch, scalars=scalars)


def text_value(value: object) -> str:
    """A cell as stripped text: None -> "", numbers -> their str, strings stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def question_text(value: object) -> str:
    """A problem cell as text; a chat list (DAPO's raw `prompt` layout) gives its last user turn.

    >>> question_text([{"role": "system", "content": "Be brief."}, {"role": "user", "content": " 1+1? "}])
    '1+1?'
    """
    if isinstance(value, list):
        turns = [m.get("content", "") for m in value if isinstance(m, dict) and m.get("role") == "user"]
        return text_value(turns[-1] if turns else "")
    return text_value(value)
