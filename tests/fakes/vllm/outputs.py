"""Fake vllm/outputs.py (0.32.0): the fields of ``RequestOutput``/``CompletionOutput`` that TRL reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    logprobs: list[dict[int, Any]] | None = None  # one {token_id: Logprob} per generated token
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput] = field(default_factory=list)
