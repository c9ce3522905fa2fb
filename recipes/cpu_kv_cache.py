"""The KV cache of a CPU ``generate`` call: each distinct prompt prefilled once, the cache grown in place.

Two costs of transformers' ``DynamicCache`` that are not the model's work (bench/NOTES.md):

1. **Each prompt computed once per sample.** GRPO asks for every prompt 4-16 times, and
   ``generate`` would compute each copy's prompt again. `generate` fills a cache from the
   distinct prompts (all but their last token) in one forward pass, copies its rows out to
   every sequence (``batch_select_indices``) and lets ``generate`` carry on from it:
   transformers' own prefix re-use, a prefilled cache passed as ``past_key_values``.
   Positions are made from the attention mask as ``generate`` makes them
   (``_prepare_position_ids_for_generation``, transformers 5.17).
2. **The whole cache copied at every decode step.** ``DynamicLayer.update`` is a ``torch.cat``
   of the cache and the new token's keys and values, so each step writes every layer's cache
   anew (about 120 MB a step on the CPU demo). `GrowingLayer` writes the new rows into a
   buffer sized for the prompt and ``max_new_tokens`` and hands attention a view of the rows
   written so far: the same values, the same shapes, the same bits out of attention
   (tests/test_cpu_kv_cache.py). transformers has no such layer: its ``StaticLayer`` is
   preallocated too but attends over every slot, written or not, under a mask, which is
   neither the same sum nor free, and it cannot copy rows out (no ``batch_select_indices``).
"""

from __future__ import annotations

import functools

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class GrowingLayer(DynamicLayer):
    """A ``DynamicLayer`` whose keys and values are views into one buffer with ``room`` free rows after the
    first update. Past the room, or after any operation that gave it tensors of its own (beam reordering,
    offloading), it grows with ``torch.cat`` as a ``DynamicLayer`` does."""

    def __init__(self, room: int):
        super().__init__()
        self.room = room
        self.key_buffer = self.value_buffer = None

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
            rows = key_states.shape[-2] + self.room
            self.key_buffer = key_states.new_empty(*key_states.shape[:-2], rows, key_states.shape[-1])
            self.value_buffer = value_states.new_empty(*value_states.shape[:-2], rows, value_states.shape[-1])
            start = 0
        elif self._in_buffer() and key_states.shape[:-2] == self.key_buffer.shape[:-2]:
            start = self.keys.shape[-2]
        else:
            return self._grow_by_cat(key_states, value_states)
        end = start + key_states.shape[-2]
        if end > self.key_buffer.shape[-2]:
            return self._grow_by_cat(key_states, value_states)
        self.key_buffer[..., start:end, :] = key_states
        self.value_buffer[..., start:end, :] = value_states
        self.keys, self.values = self.key_buffer[..., :end, :], self.value_buffer[..., :end, :]
        return self.keys, self.values

    def _grow_by_cat(self, key_states: torch.Tensor, value_states: torch.Tensor):
        self.key_buffer = self.value_buffer = None  # from here on a DynamicLayer: no second copy kept
        return super().update(key_states, value_states)

    def _in_buffer(self) -> bool:
        return (self.key_buffer is not None and self.keys.data_ptr() == self.key_buffer.data_ptr()
                and self.keys.stride() == self.key_buffer.stride())

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if not self._in_buffer():
            return super().batch_select_indices(indices)
        end = self.keys.shape[-2]
        buffers = []
        for buffer in (self.key_buffer, self.value_buffer):  # copy the rows written, not the room after them
            selected = buffer.new_empty(len(indices), *buffer.shape[1:])
            selected[..., :end, :] = buffer[indices, ..., :end, :]
            buffers.append(selected)
        self.key_buffer, self.value_buffer = buffers
        self.keys, self.values = self.key_buffer[..., :end, :], self.value_buffer[..., :end, :]


def growing_cache(model, room: int) -> DynamicCache:
    """The ``DynamicCache`` ``generate`` would build for ``model``, its plain layers `GrowingLayer`s."""
    cache = DynamicCache(config=model.config)
    cache.layers = [GrowingLayer(room) if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


def generate(model, input_ids: torch.LongTensor, attention_mask: torch.LongTensor | None = None, repeats: int = 1,
             **kwargs) -> torch.LongTensor:
    """``model.generate`` with each prompt ``repeats`` times in a row: distinct prompts prefilled once, into a
    cache that grows in place (module doc). Where that cannot apply, ``generate`` as it is."""
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if repeats > 1:
        input_ids, attention_mask = input_ids.repeat_interleave(repeats, 0), attention_mask.repeat_interleave(repeats, 0)
    call = functools.partial(type(model).generate, model, input_ids=input_ids, attention_mask=attention_mask, **kwargs)
    width = input_ids.shape[1]
    room = _room(model, kwargs, width)
    if room is None or not _can_bring_cache(model, input_ids, kwargs):
        return call()
    distinct, which = torch.unique(torch.cat([input_ids, attention_mask.to(input_ids.dtype)], dim=1), dim=0,
                                   return_inverse=True)
    if len(distinct) == len(input_ids) or _setting(model, kwargs, "num_return_sequences", 1) > 1:
        return call(past_key_values=growing_cache(model, room))  # nothing to share: generate prefills into it
    ids, mask = distinct[:, : width - 1], distinct[:, width : 2 * width - 1]
    positions = (mask.cumsum(-1) - 1).masked_fill_(mask == 0, 0)
    cache = growing_cache(model, room + 1)  # + the prompt's last token, which generate computes
    model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache, use_cache=True,
          logits_to_keep=1)
    cache.batch_select_indices(which)
    return call(past_key_values=cache)


def _setting(model, kwargs: dict, name: str, default=None):
    """A generation setting as ``generate`` resolves it: the call's keyword, its ``generation_config``,
    then the model's (``_prepare_generation_config``, transformers 5.17)."""
    for source in (kwargs, kwargs.get("generation_config"), model.generation_config):
        value = source.get(name) if isinstance(source, dict) else getattr(source, name, None)
        if value is not None:
            return value
    return default


def _room(model, kwargs: dict, width: int) -> int | None:
    """How many tokens ``generate`` may add: ``max_new_tokens``, else ``max_length`` less the prompt; capped at
    the model's positions. None where that leaves none (``generate`` will refuse or stop at once)."""
    room = _setting(model, kwargs, "max_new_tokens")
    if room is None and _setting(model, kwargs, "max_length") is not None:
        room = _setting(model, kwargs, "max_length") - width
    positions = getattr(model.config, "max_position_embeddings", None)
    if room is not None and positions:
        room = min(room, positions - width)
    return room if room is not None and room > 0 else None


def _can_bring_cache(model, input_ids: torch.LongTensor, kwargs: dict) -> bool:
    """Only where ``generate`` would build a ``DynamicCache`` itself and fill it once per token: a decoder-only
    model that takes one, ``use_cache`` on, no beams, the caller's own cache not given. Not where ``generate``
    would build another cache or prefill in chunks, not where other per-row tensors (a VLM's pixel_values) must
    reach the prefill too, not with dropout active (each sample's prompt would get its own mask), and not under
    ZeRO-3, whose ranks must run the same forward passes in step."""
    from transformers.integrations import is_deepspeed_zero3_enabled

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    dynamic = getattr(base, "_supports_default_dynamic_cache", lambda: False)() and not base.config.is_encoder_decoder
    own_cache = any(_setting(model, kwargs, key) for key in ("cache_implementation", "prefill_chunk_size"))
    dropout = any(isinstance(m, torch.nn.Dropout) and m.training and m.p > 0 for m in model.modules())
    return dynamic and not (
        input_ids.shape[1] < 2 or own_cache or dropout or not _setting(model, kwargs, "use_cache", True)
        or _setting(model, kwargs, "num_beams", 1) > 1 or kwargs.get("past_key_values") is not None
        or any(torch.is_tensor(v) for v in kwargs.values()) or is_deepspeed_zero3_enabled())
