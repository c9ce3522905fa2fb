"""What makes a CPU GRPO step cheap: variants of the demo config, timed side by side.

    .venv/bin/python bench/grpo_step_cost.py [--steps 3] [--rounds 2]

Each round runs every variant for ``--steps`` GRPO steps (same model, data and
rewards as ``recipes/configs/grpo_smollm2_demo.yaml``), interleaved so machine
load hits all variants alike, and prints the median step time of each with
its ratio to the demo's own settings. The first step of each run (warm-up)
is dropped. Ratios, not seconds, are the result: this machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes.config import load_config  # noqa: E402
from recipes.model import load_policy  # noqa: E402
from recipes.run_inputs import policy_spec, reward_functions, run_format, train_dataset  # noqa: E402
from recipes.trl_compat import ensure_logprob_kernel  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "recipes" / "configs" / "grpo_smollm2_demo.yaml"
VARIANTS = {
    "demo (beta 0, 32 tokens, no grad ckpt)": [],
    "beta 0.04 (reference model)": ["--beta", "0.04"],
    "64 completion tokens": ["--max_completion_length", "64"],
    "gradient checkpointing on": ["--gradient_checkpointing", "true"],
}


def step_timer():
    """A callback recording each optimizer step's wall time (transformers imported after recipes)."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []
            self._start = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            self._start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self._start)

    return StepTimer()


def time_variant(overrides: list[str], steps: int) -> list[float]:
    from trl import GRPOTrainer

    with tempfile.TemporaryDirectory() as out:
        cfg = load_config(DEMO, [*overrides, "--max_steps", str(steps), "--save_strategy", "no",
                                 "--output_dir", out, "--logging_steps", "1000"])
        rewards = reward_functions(cfg, run_format(cfg))
        policy = load_policy(policy_spec(cfg))
        ensure_logprob_kernel()
        timer = step_timer()
        GRPOTrainer(model=policy.model, reward_funcs=rewards, args=cfg.grpo, train_dataset=train_dataset(cfg),
                    processing_class=policy.tokenizer, callbacks=[timer]).train()
    return timer.times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for r in range(args.rounds):
        for name, overrides in VARIANTS.items():
            times[name] += time_variant(overrides, args.steps)
            print(f"round {r + 1}: {name}: {[round(t, 2) for t in times[name]]}", flush=True)
    base = statistics.median(times[next(iter(VARIANTS))])
    print(f"\n{'variant':42s} {'median step s':>14s} {'x demo':>8s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:42s} {med:14.2f} {med / base:8.2f}")


if __name__ == "__main__":
    main()
