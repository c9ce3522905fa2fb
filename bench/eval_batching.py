"""Evaluation: batched greedy generation against one prompt at a time, side by side.

    .venv/bin/python bench/eval_batching.py [--n 32] [--batch-size 32]

`recipes.generation` sorts prompts by length and generates them in left-padded
batches. This times the same N held-out arithmetic prompts on the packaged
SmolLM2-135M-Instruct (CPU) both ways, checks that both give the same answers,
and prints the speed-up (goal: batching at least 3x faster on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_prep import build_dataset  # noqa: E402
from recipes.generation import generate  # noqa: E402
from recipes.model import PolicySpec, load_policy  # noqa: E402

GOAL = 3.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=32)
    args = p.parse_args()
    policy = load_policy(PolicySpec(model_name="smollm2-135m-instruct", backend="transformers", load_in_4bit=False,
                                    chat_template="model", format="r1", trainable=False))
    prompts = [r["prompt"] for r in build_dataset("arithmetic", split="test", limit=args.n, seed=0, format="r1")]
    generate(policy, prompts[:2], args.max_new_tokens, 2, desc="warm-up")
    timings, answers = {}, {}
    for label, batch in (("batched", args.batch_size), ("one at a time", 1)):
        start = time.perf_counter()
        answers[label] = generate(policy, prompts, args.max_new_tokens, batch, desc=label)
        timings[label] = time.perf_counter() - start
    same = sum(a[0] == b[0] for a, b in zip(answers["batched"], answers["one at a time"], strict=True))
    ratio = timings["one at a time"] / timings["batched"]
    print(f"evaluation  {args.n} prompts x {args.max_new_tokens} tokens: batched {timings['batched']:.1f} s, "
          f"one at a time {timings['one at a time']:.1f} s: {ratio:.1f}x faster batched (goal >= {GOAL:g}x); "
          f"{same}/{args.n} identical answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
