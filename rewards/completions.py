"""Completion -> text: the one place that knows what TRL hands a reward.

TRL passes each completion either as a plain string (standard datasets) or as
a chat list ``[{"role": "assistant", "content": ...}]`` (conversational ones);
``content`` may itself be a list of parts ``[{"type": "text", "text": ...}]``.
Anything else (None, numbers, malformed dicts) reads as "" so a reward scores
it as an empty completion instead of raising.

>>> completion_text([{"role": "assistant", "content": "<SOLUTION>4</SOLUTION>"}])
'<SOLUTION>4</SOLUTION>'
>>> completion_text(None)
''
"""

from __future__ import annotations

from typing import Any

__all__ = ["completion_text"]


def _content(message: Any) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):  # multimodal-style content parts
        parts = [p if isinstance(p, str) else p.get("text") for p in content if isinstance(p, (str, dict))]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def completion_text(completion: Any) -> str:
    """The text of one completion; assistant turns of a chat list joined by newlines.

    >>> completion_text("plain")
    'plain'
    >>> completion_text([{"role": "assistant", "content": [{"type": "text", "text": "a"}]}])
    'a'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content(completion)
    if isinstance(completion, (list, tuple)):
        turns = [
            _content(m)
            for m in completion
            if isinstance(m, dict) and m.get("role", "assistant") == "assistant"
        ]
        return "\n".join(t for t in turns if t)
    return ""
