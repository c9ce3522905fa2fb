"""One error type for bad user input, and the CLI wrapper that turns it into one line.

Bad input (a config field, a file, a model name) must give the user one line
naming the field and what was expected, exit code 2, never a traceback.
Bugs still raise normally: only these known input errors are caught.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from data_prep.errors import DataError

EXIT_BAD_INPUT = 2


class RecipeError(ValueError):
    """A user-facing input error; its message is one line starting with the field name."""


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Call ``main(argv)``; print known input errors as one line on stderr and return 2."""
    try:
        return int(main(argv) or 0)
    except (RecipeError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
