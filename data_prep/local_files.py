"""Local data files (`--data_file`): JSON lines, a JSON list of objects, parquet or CSV.

Any builder can read its source from a file instead of the Hub; the builder decides
which columns it needs (and the `question_column` / `answer_column` /
`reasoning_column` options rename them). One file is one split, unless the file has
a `split` column: then `split` keeps the rows whose `split` equals it.

JSON is parsed with the standard library so a broken line is reported by its line
number; parquet is read with pyarrow (a `datasets` dependency), only the needed columns;
CSV with the standard library's reader, a header row naming the columns and every cell
text (an empty cell is an empty value).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from data_prep.common import DataError, Table, one_line, text_value

__all__ = ["SUFFIXES", "local_table", "question_answer_rows", "table_rows"]

SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")
SPLIT_COLUMN = "split"


def local_table(path: str, split: str) -> Table:
    """The rows of `path` (for `split`, if the file has a `split` column) as a Table."""
    file = Path(path).expanduser()
    if not file.exists():
        raise DataError(f"data_file: {path} not found")
    if file.is_dir():
        raise DataError(f"data_file: {path} is a directory; expected a {', '.join(SUFFIXES)} file")
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(
            f"data_file: {path} has unsupported type {suffix or '(none)'!r}; expected {', '.join(SUFFIXES)}"
        )

    scalars = None
    if suffix == ".parquet":
        columns, fetch_all, scalars = _parquet(file)
    else:
        records = _csv_records(file) if suffix == ".csv" else _json_records(file)
        columns = list(dict.fromkeys(key for record in records for key in record))

        def fetch_all(wanted: Sequence[str]) -> list[dict]:
            return records

    if not columns:
        raise DataError(f"data_file: {path} has no rows")

    def fetch(wanted: Sequence[str]) -> list[tuple[int, dict]]:
        need = list(dict.fromkeys([*wanted, SPLIT_COLUMN]))
        rows = list(enumerate(fetch_all([c for c in need if c in columns]), start=1))
        if not rows:
            raise DataError(f"data_file: {path} has no rows")
        if SPLIT_COLUMN not in columns:
            return rows
        kept = [(n, r) for n, r in rows if str(r.get(SPLIT_COLUMN)) == split]
        if not kept:
            found = ", ".join(sorted({str(r.get(SPLIT_COLUMN)) for _, r in rows}))
            raise DataError(f"split: no rows with split {split!r} in {path} (found: {found})")
        return kept

    return Table(field="data_file", origin=str(path), columns=columns, fetch=fetch, scalars=scalars)


def _csv_records(file: Path) -> list[dict]:
    with file.open(newline="", encoding="utf-8") as f:
        try:
            records = list(csv.DictReader(f))
        except csv.Error as exc:
            raise DataError(f"data_file: {file} is not readable CSV ({one_line(exc, 160)})") from None
    for row, record in enumerate(records, start=1):
        if None in record:  # DictReader files cells past the header under the key None
            raise DataError(f"data_file: row {row} of {file} has more cells than its header row")
    return records


def _json_records(file: Path) -> list[dict]:
    text = file.read_text(encoding="utf-8")
    if not text.strip():
        raise DataError(f"data_file: {file} has no rows")
    if file.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None  # maybe JSON lines saved as .json
        if isinstance(data, list):
            for i, record in enumerate(data, start=1):
                if not isinstance(record, dict):
                    raise DataError(f"data_file: item {i} of {file} is not a JSON object")
            return data
        if data is not None:
            raise DataError(
                f"data_file: {file} holds a JSON {type(data).__name__}; expected a list of objects"
            )
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"data_file: line {line_no} of {file} is not valid JSON ({one_line(exc.msg)})"
            ) from None
        if not isinstance(record, dict):
            raise DataError(f"data_file: line {line_no} of {file} is not a JSON object")
        records.append(record)
    return records


def _parquet(file: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(file)
    except Exception as exc:  # pyarrow raises several types for a non-parquet file
        raise DataError(f"data_file: {file} is not a readable parquet file ({one_line(exc, 160)})") from None

    def fetch_all(wanted: Sequence[str]) -> list[dict]:
        return pq.read_table(file, columns=list(wanted)).to_pylist()

    scalars = [f.name for f in schema if not pa.types.is_nested(f.type)]
    return list(schema.names), fetch_all, scalars


def question_answer_rows(data_file: str, split: str, question_column: str = "question",
                         answer_column: str = "answer", reasoning_column: str | None = None,
                         keep: Sequence[str] = ()) -> list[dict]:
    """Rows {question, answer, reasoning, *keep} of a local file with plain question/answer columns.

    ``reasoning`` is the named column, else a ``reasoning`` column when the file has one, else "".
    Columns in ``keep`` (e.g. a generator's category columns) ride along where the file has them.
    """
    return table_rows(local_table(data_file, split), question_column, answer_column, reasoning_column, keep)


def table_rows(table: Table, question_column: str = "question", answer_column: str = "answer",
               reasoning_column: str | None = None, keep: Sequence[str] = ()) -> list[dict]:
    """`question_answer_rows` for any Table (a local file or a Hub split): the same checks and errors."""
    q, a = table.require(question_column), table.require(answer_column)
    r = table.require(reasoning_column) if reasoning_column else ("reasoning" if table.has("reasoning") else None)
    kept = [c for c in keep if table.has(c)]
    rows = []
    for n, record in table.fetch([c for c in (q, a, r, *kept) if c]):
        question, gold = text_value(record.get(q)), text_value(record.get(a))
        if not question:
            raise table.row_error(n, f"has an empty {q!r}")
        if not gold:
            raise table.row_error(n, f"has no gold answer (expected a value in {a!r})")
        rows.append({"question": question, "answer": gold, "reasoning": text_value(record.get(r)) if r else "",
                     **{c: record[c] for c in kept if isinstance(record.get(c), str | int)}})
    return rows
