"""transformers' ``generate`` on CPU, closer to its floor: costs that are not the model's work.

One decode step of the CPU demo (SmolLM2-135M with a LoRA, 32 sequences) cost 183 ms
against a floor of ~30-35 ms: its 0.68 GB of weights and KV cache read once at this
machine's ~20 GB/s (bench/NOTES.md, "Where a CPU decode step goes"). Each cost below was
not the model's work, and each has a remedy:

1. **K/V copied to every query head.** With a padding mask, transformers' SDPA attention
   copies the model's 3 K/V heads out to its 9 query heads in every layer at every step
   (``repeat_kv``), because CUDA's fast kernels refuse grouped heads under a mask. The CPU
   kernel takes them as they are (``enable_gqa=True``) and returns the same bits.
2. **Page faults on every step's tensors.** `recipes.cpu_memory` keeps glibc from handing
   freed blocks back to the kernel between steps.
3. **The LoRA computed beside every projection.** `lora_merged` gives each projection
   W + B·A for the length of one ``generate``, in fresh tensors, and afterwards puts the
   untouched originals back: bit for bit, where PEFT's ``unmerge`` would subtract and round.
4. **Each prompt computed once per sample, and the KV cache copied at every step.**
   `recipes.cpu_kv_cache.generate` prefills each distinct prompt once and grows the cache in place.
5. **``torch.multinomial``'s exponential draw over the 49k vocabulary.** `recipes.cpu_sampling`
   draws from the same distribution with one uniform number per sequence.

1 and 2 are exact, so `use_exact_changes` makes them whenever a model runs on CPU. 3-5
change rounding and the random stream, not the distribution, so they sit behind the
recipe key ``fast_cpu_generation`` (default true). Evaluation and the pre-flight
(`recipes.generation`) and GRPO's own rollouts (`speed_up_rollouts`) take the same path.
"""

from __future__ import annotations

import contextlib
import copy
import functools

import torch
from transformers import AttentionInterface, LogitsProcessorList
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from recipes.cpu_kv_cache import generate
from recipes.cpu_memory import keep_freed_memory
from recipes.cpu_sampling import generate_kwargs, sampler_for


def _sdpa_sharing_kv_heads(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None,
                           **kwargs):
    """transformers' ``sdpa_attention_forward`` without its ``repeat_kv`` copy, for CPU inference."""
    if (query.device.type != "cpu" or torch.is_grad_enabled() or getattr(module, "num_key_value_groups", 1) == 1
            or kwargs.get("position_bias") is not None or kwargs.get("output_attentions")):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    # The rest is sdpa_attention_forward's own logic for this case (transformers 5.17 integrations/sdpa_attention.py).
    is_causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    q_length, kv_length = query.shape[2], key.shape[2]
    is_causal = q_length > 1 and attention_mask is None and is_causal
    if is_causal and kv_length > q_length:
        key, value = key[:, :, :q_length], value[:, :, :q_length]
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, is_causal=is_causal,
        enable_gqa=True)
    return out.transpose(1, 2).contiguous(), None


def use_exact_changes(model) -> None:
    """When ``model`` runs on CPU: "sdpa" attention skips the K/V copy (1 in the module doc; registered for
    CPU tensors outside autograd, everything else still goes to transformers' own function), and freed
    memory is kept for reuse (2). Idempotent. A GPU run keeps transformers' own attention, without this
    one's checks in every layer's call."""
    if runs_on_cpu(model):
        _register_sharing_attention()
        keep_freed_memory()


@functools.cache
def _register_sharing_attention() -> None:
    AttentionInterface.register("sdpa", _sdpa_sharing_kv_heads)


def runs_on_cpu(model) -> bool:
    return next(model.parameters()).device.type == "cpu"


def _lora_layers(model) -> list:
    """The LoRA layers to merge, or [] where merging is not this module's to do.

    Only plain LoRA on linear layers (no DoRA or other variant, no LoRA bias); not under
    DeepSpeed ZeRO-3 (each rank holds a slice of every weight); not with the adapter switched
    off (the base evaluation); not into quantized weights (a 4-bit merge rounds).
    """
    from peft.tuners.lora import Linear, LoraLayer
    from peft.utils.other import AuxiliaryTrainingWrapper
    from transformers.integrations import is_deepspeed_zero3_enabled

    if not hasattr(model, "disable_adapter") or is_deepspeed_zero3_enabled():
        return []
    modules = list(model.modules())
    if any(isinstance(m, AuxiliaryTrainingWrapper) for m in modules):
        return []  # modules_to_save / trainable tokens: disable_adapter would switch them off too
    layers = [m for m in modules if isinstance(m, LoraLayer)]
    names: dict[int, int] = {}  # a weight tied to another module (lm_head and embeddings) must not change
    for _, param in model.named_parameters(remove_duplicate=False):
        names[id(param)] = names.get(id(param), 0) + 1
    for layer in layers:
        weight = layer.get_base_layer().weight
        dropout = any(d.training and getattr(d, "p", 0) > 0 for d in layer.lora_dropout.values())
        if (not isinstance(layer, Linear) or layer.disable_adapters or layer.merged or layer.lora_variant
                or any(layer.lora_bias.values()) or type(weight) is not torch.nn.Parameter
                or not weight.dtype.is_floating_point or names.get(id(weight), 0) > 1
                or dropout):  # a merged weight cannot drop out the LoRA branch as training-mode LoRA does
            return []
    return layers


@contextlib.contextmanager
def lora_merged(model):
    """Inside the block the model computes W + B·A·scale in one matmul per projection; after it, W as it was.

    Each base weight's tensor is swapped for a merged copy (PEFT's ``get_delta_weight`` added to it)
    and the block runs with the adapter switched off (PEFT's ``disable_adapter``: base layers only,
    now holding the merged weights). The original tensors are never written, so swapping them back
    restores every bit; PEFT's ``merge_adapter``/``unmerge_adapter`` would add and subtract in place,
    which rounds, and costs two more passes over the weights.
    """
    layers = _lora_layers(model)
    if not layers:
        yield
        return
    originals = []
    trainable = [(p, p.requires_grad) for p in model.parameters()]  # PEFT's re-enable marks the adapter trainable
    with torch.no_grad():
        for layer in layers:
            weight = layer.get_base_layer().weight
            originals.append((weight, weight.data))
            merged = weight.data.clone()
            for name in layer.active_adapters:
                if name in layer.lora_A:
                    merged += layer.get_delta_weight(name).to(merged.dtype)
            weight.data = merged
    try:
        with model.disable_adapter():
            yield
    finally:
        for weight, data in originals:
            weight.data = data
        for param, flag in trainable:
            param.requires_grad_(flag)


def speed_up_rollouts(trainer) -> bool:
    """Send a TRL ``GRPOTrainer``'s transformers rollouts through the merged LoRA, `recipes.cpu_kv_cache.generate`
    and `InverseCdfSampler`.

    Only for the plain ``generate`` path on CPU (no vLLM, no continuous batching); says whether it did.
    TRL builds one ``generation_config`` for its rollouts (trl trainer/grpo_trainer.py); it is kept,
    greedy, and the sampling settings move to the sampler that ``generate`` gets on each call.
    """
    if trainer.use_vllm or getattr(trainer, "use_transformers_continuous_batching", False):
        return False
    model = trainer.accelerator.unwrap_model(trainer.model)
    if not runs_on_cpu(model):
        return False
    g = trainer.generation_config
    sampler = sampler_for([g, model.generation_config], g.temperature, g.top_k, g.top_p, g.min_p)
    if sampler is None:
        return False
    sampler = LogitsProcessorList([sampler])
    greedy = generate_kwargs(0.0)
    trainer.generation_config = copy.deepcopy(g)
    trainer.generation_config.update(**greedy)
    trainer.generation_kwargs = {**trainer.generation_kwargs, **greedy}
    generate_single_turn = trainer._generate_single_turn

    @functools.wraps(generate_single_turn)
    def rollouts(*args, **kwargs):
        with lora_merged(model), _fast_generate(model, sampler):
            return generate_single_turn(*args, **kwargs)

    trainer._generate_single_turn = rollouts
    return True


@contextlib.contextmanager
def _fast_generate(model, processors: LogitsProcessorList):
    """``model.generate`` is `recipes.cpu_kv_cache.generate` with ``logits_processor=processors`` inside the
    block (TRL passes none)."""
    model.generate = functools.partial(generate, model, logits_processor=processors)
    try:
        yield
    finally:
        del model.generate  # the class's method again
