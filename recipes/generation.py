"""Greedy, batched generation from a policy's chat prompts: vLLM when Unsloth built an engine, HF otherwise.

Evaluation (and any recipe that needs the model's own answers) calls `generate`;
the pre-flight check calls `sample` with GRPO's own sampling settings (`Sampling.like_grpo`).
With a vLLM engine (Unsloth ``fast_inference``) the whole list goes to
``fast_generate`` at once, the adapter riding along as the policy's LoRA request;
otherwise HF ``generate`` runs in batches of similar length with left padding,
with a progress bar; on CPU through `recipes.cpu_generation`'s faster path (the LoRA
merged, each prompt prefilled once for its samples into a KV cache that grows in place,
an inverse-CDF sampler) unless the config's ``fast_cpu_generation`` is false.
Either way: (text, n_tokens) per prompt, in input order.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from tqdm.auto import tqdm

from recipes.model import Policy, has_vllm_engine


@dataclass(frozen=True)
class Sampling:
    """How to draw completions: ``n`` per prompt; temperature 0 is greedy. GRPOConfig's names and meanings."""

    max_new_tokens: int
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0  # 0: off (TRL's and transformers' convention; vLLM takes 0 or -1, Unsloth's config says -1)
    min_p: float | None = None

    @classmethod
    def like_grpo(cls, grpo, n: int | None = None) -> Sampling:
        """The rollouts GRPO will draw: its group size, temperature, top_p/top_k/min_p and length."""
        return cls(max_new_tokens=grpo.max_completion_length, n=n or grpo.num_generations,
                   temperature=grpo.temperature, top_p=grpo.top_p, top_k=max(grpo.top_k or 0, 0), min_p=grpo.min_p)


def generate(policy: Policy, prompts: list[list[dict]], max_new_tokens: int, batch_size: int,
             desc: str = "evaluate") -> list[tuple[str, int]]:
    """Greedy completions (text, n_tokens) for chat prompts, in input order."""
    return [group[0] for group in sample(policy, prompts, Sampling(max_new_tokens), batch_size, desc)]


def sample(policy: Policy, prompts: list[list[dict]], sampling: Sampling, batch_size: int,
           desc: str = "sample") -> list[list[tuple[str, int]]]:
    """``sampling.n`` completions (text, n_tokens) per chat prompt, in input order."""
    tok = policy.tokenizer
    texts = [tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    if has_vllm_engine(policy.model):
        return _generate_vllm(policy, texts, sampling)
    tok_side = tok.padding_side
    tok.padding_side = "left"  # decoder-only batched generation needs left padding
    try:
        return _generate_hf(policy, texts, sampling, batch_size, desc)
    finally:
        tok.padding_side = tok_side  # the tokenizer is shared with the SFT and GRPO trainers


def _generate_vllm(policy: Policy, texts: list[str], sampling: Sampling) -> list[list[tuple[str, int]]]:
    from vllm import SamplingParams

    # The chat template already wrote BOS where the model wants one. vLLM tokenizes text prompts with
    # add_special_tokens=True (vllm renderers/params.py), which would add a second BOS on Llama-style
    # templates; token-id prompts (vLLM's TokensPrompt) are used as they are.
    prompts = [{"prompt_token_ids": policy.tokenizer(t, add_special_tokens=False)["input_ids"]} for t in texts]
    params = SamplingParams(n=sampling.n, temperature=sampling.temperature, top_p=sampling.top_p,
                            top_k=sampling.top_k or -1, min_p=sampling.min_p or 0.0,
                            max_tokens=sampling.max_new_tokens)
    outputs = policy.model.fast_generate(prompts, sampling_params=params, lora_request=policy.lora_request)
    return [[(c.text, len(c.token_ids)) for c in o.outputs] for o in outputs]


def _generate_hf(policy: Policy, texts: list[str], sampling: Sampling, batch_size: int,
                 desc: str) -> list[list[tuple[str, int]]]:
    import torch

    from recipes import cpu_generation, cpu_kv_cache, cpu_sampling

    tok, model = policy.tokenizer, policy.model
    eos_ids = {tok.eos_token_id, tok.pad_token_id} - {None}
    fast = policy.fast_cpu_generation and cpu_generation.runs_on_cpu(model)
    cpu_generation.use_exact_changes(model)
    if fast:
        how = cpu_sampling.generate_kwargs(sampling.temperature, sampling.top_p, sampling.top_k, sampling.min_p,
                                           model.generation_config)
    elif sampling.temperature > 0:
        how = {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p,
               "top_k": sampling.top_k or None, "min_p": sampling.min_p}
    else:
        how = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    # Similar lengths together: less padding, faster batches; results go back in input order.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    results: list[list[tuple[str, int]]] = [[] for _ in texts]
    per_call = max(1, batch_size // sampling.n)
    model.eval()
    merged = cpu_generation.lora_merged(model) if fast else contextlib.nullcontext()
    with torch.inference_mode(), full_weights(model), merged, tqdm(total=len(texts), desc=desc, unit="ex") as bar:
        for start in range(0, len(order), per_call):
            idx = order[start : start + per_call]
            batch = tok([texts[i] for i in idx], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(model.device)
            if fast:  # each prompt's prefill once for its n samples
                out = cpu_kv_cache.generate(model, batch["input_ids"], batch["attention_mask"], repeats=sampling.n,
                                            max_new_tokens=sampling.max_new_tokens, pad_token_id=tok.pad_token_id,
                                            **how)
            else:
                out = model.generate(**batch, max_new_tokens=sampling.max_new_tokens,
                                     num_return_sequences=sampling.n, pad_token_id=tok.pad_token_id, **how)
            new = out[:, batch["input_ids"].shape[1] :].tolist()
            for k, row in enumerate(new):  # generate() returns each prompt's n sequences together
                n = next((j + 1 for j, t in enumerate(row) if t in eos_ids), len(row))
                results[idx[k // sampling.n]].append((tok.decode(row[:n], skip_special_tokens=True), n))
            bar.update(len(idx))
    return results


def full_weights(model):
    """Under DeepSpeed ZeRO-3 each rank holds a slice of every weight: gather them for generation, as TRL's
    ``unwrap_model_for_generation`` does for its rollouts (``ds3_gather_for_generation``). A no-op otherwise.

    Every rank must then call ``generate`` equally often (`recipes.evaluate` gives each an equal share);
    transformers keeps their decoding steps in lockstep itself (``synced_gpus`` under ZeRO-3).
    """
    from transformers.integrations import is_deepspeed_zero3_enabled

    if not is_deepspeed_zero3_enabled():
        return contextlib.nullcontext()
    import deepspeed

    return deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None)
