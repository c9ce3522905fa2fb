"""Fake vllm 0.32.0: the two names this repo imports (`SamplingParams`, `LoRARequest`).

Mirrors vllm/sampling_params.py (keyword construction; temperature 0 = greedy)
and vllm/lora/request.py. Generation itself lives in the fake Unsloth engine.
"""

from __future__ import annotations

from dataclasses import dataclass

__version__ = "0.32.0"


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    min_p: float = 0.0
    seed: int | None = None
    max_tokens: int | None = 16
    stop: list[str] | None = None
