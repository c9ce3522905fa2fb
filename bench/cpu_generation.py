"""One GRPO rollout call on CPU, today's transformers path against recipes.cpu_generation, change by change.

    .venv/bin/python bench/cpu_generation.py [--repeats 3]

The demo's shapes: the packaged SmolLM2-135M-Instruct with the demo's LoRA (its B
matrices drawn small, as after a few steps, so the adapter is not a no-op), 8 of the
demo's training prompts x 4 samples at temperature 0.6, 40 new tokens for every
sequence (``min_new_tokens``, so every variant does the same work). Each line adds
one change to the line above, in one process, median of ``--repeats`` calls:

* ``transformers``: ``generate(do_sample=True, num_return_sequences=4)``, transformers' SDPA;
* ``+ K/V heads shared``: `cpu_generation.use_exact_changes`' attention (exact);
* ``+ freed memory kept``: `cpu_memory.keep_freed_memory`, its other half (exact; process-wide,
  so every line below runs with it);
* ``+ LoRA merged``: `cpu_generation.lora_merged` around the call;
* ``+ inverse-CDF sampler``: `cpu_sampling.InverseCdfSampler` instead of ``torch.multinomial``;
* ``+ prefill once``: `cpu_kv_cache.generate`, each prompt's prefill once for its 4 samples, into
  transformers' own ``DynamicCache``;
* ``+ cache grown in place``: `cpu_kv_cache.generate` as it is, its cache `cpu_kv_cache.GrowingLayer`s (exact).

It prints seconds per call and the ratio to the first line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes.config import load_config  # noqa: E402
from recipes.model import load_policy  # noqa: E402
from recipes.run_inputs import policy_spec, train_dataset  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "recipes" / "configs" / "grpo_smollm2_demo.yaml"


def main() -> int:
    from unittest import mock

    import torch
    from transformers import DynamicCache

    from recipes import cpu_generation, cpu_kv_cache, cpu_memory, cpu_sampling

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    cfg = load_config(DEMO, [])
    g = cfg.grpo
    policy = load_policy(policy_spec(cfg))
    tok, model = policy.tokenizer, policy.model
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.01)
    rows = train_dataset(cfg).select(range(8))
    texts = [tok.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True) for r in rows]
    tok.padding_side = "left"
    batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    n, length = g.num_generations, g.max_completion_length
    fixed = {"max_new_tokens": length, "min_new_tokens": length, "pad_token_id": tok.pad_token_id}
    sampled = {"do_sample": True, "temperature": g.temperature, "top_p": 1.0, "top_k": None}
    repeated = {"input_ids": batch["input_ids"].repeat_interleave(n, 0),
                "attention_mask": batch["attention_mask"].repeat_interleave(n, 0)}

    def merged(call):
        def run():
            with cpu_generation.lora_merged(model):
                return call()
        return run

    def prefill_once():
        return cpu_kv_cache.generate(model, batch["input_ids"], batch["attention_mask"], repeats=n,
                                     **cpu_sampling.generate_kwargs(g.temperature), **fixed)

    def into_dynamic_cache():
        with mock.patch.object(cpu_kv_cache, "growing_cache", lambda model, room: DynamicCache(config=model.config)):
            return prefill_once()

    variants = [
        ("transformers", lambda: model.generate(**batch, num_return_sequences=n, **sampled, **fixed)),
        ("+ K/V heads shared", lambda: model.generate(**batch, num_return_sequences=n, **sampled, **fixed)),
        ("+ freed memory kept", lambda: model.generate(**batch, num_return_sequences=n, **sampled, **fixed)),
        ("+ LoRA merged", merged(lambda: model.generate(**repeated, **sampled, **fixed))),
        ("+ inverse-CDF sampler", merged(lambda: model.generate(
            **repeated, **cpu_sampling.generate_kwargs(g.temperature), **fixed))),
        ("+ prefill once", merged(into_dynamic_cache)),
        ("+ cache grown in place", merged(prefill_once)),
    ]
    print(f"{len(texts)} prompts ({batch['input_ids'].shape[1]} tokens padded) x {n} samples, {length} new tokens, "
          f"{torch.get_num_threads()} threads; median of {args.repeats}")
    first = None
    model.eval()
    with torch.no_grad():
        for name, call in variants:
            if name == "+ K/V heads shared":
                cpu_generation._register_sharing_attention()
            if name == "+ freed memory kept":
                cpu_memory.keep_freed_memory()
            call()  # warm-up
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            first = first or median
            print(f"{name:24s} {median:6.2f} s  {median / first:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
