"""Fake vllm/logprobs.py (0.32.0): ``Logprob(logprob, rank, decoded_token)``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None
