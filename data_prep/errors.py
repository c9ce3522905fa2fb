"""`DataError`: bad input to a dataset builder, as one line naming the field to fix.

No dependencies (no datasets, pyarrow or pandas), so `recipes.errors` and anything else
that only needs to catch the error stays light.

>>> str(DataError("data_file: /x.jsonl\\n  not found"))
'data_file: /x.jsonl not found'
"""

from __future__ import annotations

import re

__all__ = ["DataError", "one_line"]


class DataError(ValueError):
    """Bad input to a dataset builder. The message is one line and starts with the field name."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def one_line(text: object, limit: int = 300) -> str:
    """Collapse whitespace (newlines included) and cut to `limit` characters.

    >>> one_line("a\\n  b\\tc")
    'a b c'
    """
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
