"""Greedy, batched generation from a policy's chat prompts: vLLM when Unsloth built an engine, HF otherwise.

Evaluation (and any recipe that needs the model's own answers) calls `generate`.
With a vLLM engine (Unsloth ``fast_inference``) the whole list goes to
``fast_generate`` at once, the adapter riding along as the policy's LoRA request;
otherwise HF ``generate`` runs in batches of similar length with left padding,
with a progress bar. Either way: (text, n_tokens) per prompt, in input order.
"""

from __future__ import annotations

from tqdm.auto import tqdm

from recipes.model import Policy, has_vllm_engine


def generate(policy: Policy, prompts: list[list[dict]], max_new_tokens: int, batch_size: int,
             desc: str = "evaluate") -> list[tuple[str, int]]:
    """Greedy completions (text, n_tokens) for chat prompts, in input order."""
    tok = policy.tokenizer
    texts = [tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    if has_vllm_engine(policy.model):
        return _generate_vllm(policy, texts, max_new_tokens)
    return _generate_hf(policy, texts, max_new_tokens, batch_size, desc)


def _generate_vllm(policy: Policy, texts: list[str], max_new_tokens: int) -> list[tuple[str, int]]:
    from vllm import SamplingParams

    # The chat template already wrote BOS where the model wants one. vLLM tokenizes text prompts with
    # add_special_tokens=True (vllm renderers/params.py), which would add a second BOS on Llama-style
    # templates; token-id prompts (vLLM's TokensPrompt) are used as they are.
    prompts = [{"prompt_token_ids": policy.tokenizer(t, add_special_tokens=False)["input_ids"]} for t in texts]
    params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens)
    outputs = policy.model.fast_generate(prompts, sampling_params=params, lora_request=policy.lora_request)
    return [(o.outputs[0].text, len(o.outputs[0].token_ids)) for o in outputs]


def _generate_hf(policy: Policy, texts: list[str], max_new_tokens: int, batch_size: int,
                 desc: str) -> list[tuple[str, int]]:
    tok = policy.tokenizer
    side = tok.padding_side
    tok.padding_side = "left"  # decoder-only batched generation needs left padding
    try:
        return _generate_hf_batches(policy, texts, max_new_tokens, batch_size, desc)
    finally:
        tok.padding_side = side  # the tokenizer is shared with the SFT and GRPO trainers


def _generate_hf_batches(policy: Policy, texts: list[str], max_new_tokens: int, batch_size: int,
                         desc: str) -> list[tuple[str, int]]:
    import torch

    tok, model = policy.tokenizer, policy.model
    eos_ids = {tok.eos_token_id, tok.pad_token_id} - {None}
    # Similar lengths together: less padding, faster batches; results go back in input order.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    results: list[tuple[str, int]] = [("", 0)] * len(texts)
    model.eval()
    with torch.inference_mode(), tqdm(total=len(texts), desc=desc, unit="ex") as bar:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tok([texts[i] for i in idx], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(model.device)
            out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                 temperature=None, top_p=None, top_k=None,
                                 pad_token_id=tok.pad_token_id)
            new = out[:, batch["input_ids"].shape[1] :]
            for row, i in zip(new.tolist(), idx, strict=True):
                n = next((k + 1 for k, t in enumerate(row) if t in eos_ids), len(row))
                results[i] = (tok.decode(row[:n], skip_special_tokens=True), n)
            bar.update(len(idx))
    return results
