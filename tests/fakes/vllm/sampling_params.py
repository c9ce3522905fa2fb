"""Fake vllm/sampling_params.py (0.32.0): ``SamplingParams`` with vLLM's checks, ``StructuredOutputsParams``.

A msgspec struct built by keyword, ``top_k`` default 0 (0 or -1: off), and the range
checks of ``_verify_args`` with their messages (vLLM raises ``VLLMValidationError``, a
``ValueError``): temperature in [0, 2], top_p in (0, 1], top_k >= -1, min_p in [0, 1],
max_tokens >= 1, logprobs >= 0 or -1. The fields are the ones this repo and TRL's
``VLLMGeneration.generate`` pass.
"""

from __future__ import annotations

from typing import Any

import msgspec


class SamplingParams(msgspec.Struct, omit_defaults=True, dict=True):
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    seed: int | None = None
    max_tokens: int | None = 16
    stop: list[str] | None = None
    repetition_penalty: float = 1.0
    logprobs: int | None = None
    structured_outputs: Any = None

    def __post_init__(self) -> None:
        if self.temperature < 0.0:
            raise ValueError(f"temperature must be non-negative, got {self.temperature}.")
        if self.temperature > 2.0:
            raise ValueError(f"temperature must be in [0, 2], got {self.temperature}.")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}.")
        if self.top_k < -1:
            raise ValueError(f"top_k must be 0 (disable), or at least 1, got {self.top_k}.")
        if not 0.0 <= self.min_p <= 1.0:
            raise ValueError(f"min_p must be in [0, 1], got {self.min_p}.")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}.")
        if self.logprobs is not None and self.logprobs != -1 and self.logprobs < 0:
            raise ValueError(f"logprobs must be non-negative or -1, got {self.logprobs}.")


class StructuredOutputsParams(msgspec.Struct, omit_defaults=True):
    regex: str | None = None
