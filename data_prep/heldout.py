"""Fixed held-out slices of a Hub split, chosen by a stable hash of each problem's text.

Some Hub sources ship fewer splits than a run needs: DAPO-Math and OpenR1-Math only
`train`, GSM8K no `validation`. A problem's *bucket* (sha256 of its text, mod `EVERY`)
decides which slice it belongs to. It ignores seed, limit and row order, so the
slices are disjoint by construction and the same on every machine, run and library
version (Python's `hash` is salted per process, sha256 is not).

- bucket `TEST_BUCKET` (0): the held-out `test` slice of a source without a test split;
- bucket `VALIDATION_BUCKET` (1): the `validation` slice, used to choose checkpoints
  without peeking at `test`;
- any other bucket: `train`.

>>> bucket("What is 1 + 1?") == bucket("What is 1 + 1?")
True
>>> 0 <= bucket("What is 1 + 1?") < EVERY
True
"""

from __future__ import annotations

import hashlib

__all__ = ["EVERY", "SPLIT_BUCKETS", "TEST_BUCKET", "VALIDATION_BUCKET", "bucket", "held_out_rows"]

EVERY = 50  # each held-out slice is 1 problem in 50
TEST_BUCKET = 0
VALIDATION_BUCKET = 1
SPLIT_BUCKETS = {"test": TEST_BUCKET, "validation": VALIDATION_BUCKET}


def bucket(text: str) -> int:
    """The problem's hash bucket in 0..EVERY-1 (stable across runs and machines)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % EVERY


def held_out_rows(rows: list[dict], split: str, held: tuple[str, ...] = tuple(SPLIT_BUCKETS)) -> list[dict]:
    """``split``'s rows of one source split whose ``held`` splits are cut out by bucket: a held split is its
    own bucket's rows, any other split (``train``) the rest.

    >>> rows = [{"question": f"What is {i} + {i}?"} for i in range(400)]
    >>> parts = {s: held_out_rows(rows, s) for s in ("train", "test", "validation")}
    >>> sum(map(len, parts.values())) == 400 and all(parts.values())
    True
    """
    if split in held:
        return [r for r in rows if bucket(r["question"]) == SPLIT_BUCKETS[split]]
    cut = {SPLIT_BUCKETS[h] for h in held}
    return [r for r in rows if bucket(r["question"]) not in cut]
