"""Fake vllm 0.32.0: the names this repo and TRL's vLLM generation import, with vLLM's own checks.

``SamplingParams`` (vllm/sampling_params.py), ``RequestOutput`` (vllm/outputs.py),
``LoRARequest`` (vllm/lora/request.py). ``LLM`` is only a name here: the engine is
Unsloth's (tests/fakes/unsloth_loading.FakeLLM), never one TRL builds.
"""

from __future__ import annotations

from vllm.outputs import CompletionOutput, RequestOutput
from vllm.sampling_params import SamplingParams, StructuredOutputsParams

__version__ = "0.32.0"


class LLM:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("fake vllm: TRL tried to build its own vLLM engine; Unsloth's engine should be reused")


__all__ = ["LLM", "CompletionOutput", "RequestOutput", "SamplingParams", "StructuredOutputsParams"]
