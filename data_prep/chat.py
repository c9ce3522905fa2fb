"""Chat datasets for SFT: conversations as prompt/completion pairs with a completion-only loss.

A chat dataset has a `messages` column: a list of ``{"role": ..., "content": ...}`` turns
(the layout of HuggingFaceTB/smoltalk, TRL's conversational format). TRL's ``SFTTrainer``
can train on `messages` as they are, but its assistant-only loss needs a chat template with
``{% generation %}`` markers, which most templates (SmolLM2's and Qwen's among them) lack.
So each conversation is split at its last assistant turn: the prompt is every turn before
it, the completion is that turn. With TRL's prompt/completion format the loss then falls on
the assistant's words only, under any chat template; the earlier assistant turns of a
multi-turn conversation are context, not targets.

The source is a local .jsonl/.json/.parquet file or a Hub dataset id (with an optional
config); a malformed row is one `DataError` line naming the row.

>>> split_at_last_reply([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])
{'prompt': [{'role': 'user', 'content': 'Hi'}], 'completion': [{'role': 'assistant', 'content': 'Hello!'}]}
"""

from __future__ import annotations

from pathlib import Path

from data_prep.common import Table, hub_table
from data_prep.errors import DataError
from data_prep.local_files import SUFFIXES, local_table

MESSAGES = "messages"


def chat_table(source: str, split: str, config: str | None = None) -> Table:
    """A local file when ``source`` looks like one, else a Hub dataset."""
    if Path(source).suffix.lower() in SUFFIXES or Path(source).expanduser().exists():
        return local_table(source, split)
    return hub_table(source, config, split)


def split_at_last_reply(messages: list[dict]) -> dict[str, list[dict]]:
    """``{"prompt": turns before the last assistant turn, "completion": [that turn]}``; ValueError if malformed."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("has no messages (expected a list of {role, content})")
    for turn in messages:
        if not (isinstance(turn, dict) and isinstance(turn.get("role"), str) and isinstance(turn.get("content"), str)):
            raise ValueError(f"has a turn that is not {{role: str, content: str}}: {str(turn)[:80]!r}")
    replies = [i for i, turn in enumerate(messages) if turn["role"] == "assistant"]
    if not replies:
        raise ValueError("has no assistant turn to learn from")
    last = replies[-1]
    if last == 0:
        raise ValueError("starts with the assistant turn: there is no prompt before it")
    turns = [{"role": t["role"], "content": t["content"]} for t in messages]
    return {"prompt": turns[:last], "completion": [turns[last]]}


def chat_rows(source: str, *, split: str = "train", config: str | None = None, limit: int | None = None,
              field: str = "chat_dataset") -> list[dict]:
    """Up to ``limit`` prompt/completion rows from the `messages` column of ``source``; errors name ``field``."""
    try:
        table = chat_table(source, split, config)
        table.require(MESSAGES)
        records = table.fetch([MESSAGES])
    except DataError as exc:  # "data_file: ..." / "dataset: ...": the user set this source as `field`
        raise DataError(f"{field}: {str(exc).split(': ', 1)[-1]}") from None
    rows = []
    for n, record in records:
        try:
            rows.append(split_at_last_reply(record[MESSAGES]))
        except ValueError as exc:
            raise DataError(f"{field}: {table.origin} row {n} {exc}") from None
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise DataError(f"{field}: {table.origin} has no conversations")
    return rows
