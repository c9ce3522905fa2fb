"""Pre-flight: will GRPO learn anything from this config? Measured before the GPU hours are spent.

    python -m recipes.preflight recipes/configs/grpo_smollm2_demo.yaml --out runs/preflight [--key value ...]

GRPO's advantage is a completion's reward minus its group's mean. A group whose
completions all score the same has zero advantage everywhere: it teaches
nothing ("the loss stays 0, the reward never moves"). TRL logs the share of
such groups (``frac_reward_zero_std``) once training runs; this check measures
it first. It samples the policy exactly as GRPO will start (after the config's
SFT priming; the same ``num_generations``, temperature, top_p/top_k/min_p and
``max_completion_length``), scores every completion with the config's reward
stack and weights, and writes ``preflight.json``:

* ``pass_rate``: completions the recipe's answer check calls correct;
  ``format_rate``: completions in the exact format; ``clipped_rate``: completions
  that ran into ``max_completion_length``;
* ``zero_std_frac``: groups whose weighted total reward has zero variance;
* ``reward_means``: each reward's mean; ``prompt_pass_rates``: per prompt;
* ``verdict``: ``no_signal`` (every group flat: GRPO cannot move), ``weak``
  (most groups flat, or only the shaping terms vary: nothing is ever correct,
  or everything always is) or ``learnable``, with the remedy that fits.

The GRPO pipeline runs the same check as its first training stage when the
config says ``preflight: true`` and stops on ``no_signal`` with exit code 3
(``--force`` trains anyway); ``difficulty_filter`` keeps only the training
prompts whose sampled pass rate lies strictly inside ``(min_pass, max_pass)``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recipes.config import load_config
from recipes.errors import run_cli
from recipes.run_inputs import reward_functions, run_format, train_dataset


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m recipes.preflight", description=__doc__.split("\n\n")[0])
    p.add_argument("config")
    p.add_argument("--out", required=True, type=Path, help="folder for preflight.json")
    p.add_argument("--prompts", type=int, default=16, help="training prompts to sample (default 16)")
    args, overrides = p.parse_known_args(argv)
    cfg = load_config(args.config, [*overrides, "--output_dir", str(args.out), "--preflight", "true",
                                    "--preflight_prompts", str(args.prompts)])
    fmt = run_format(cfg)
    dataset, rewards = train_dataset(cfg), reward_functions(cfg, fmt)
    from recipes.pipeline import run_pipeline  # loads torch and the model: only past the config checks

    # The run's own first stages (load, SFT priming), stopping after the check: what GRPO would start from.
    return run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=None, until="preflight")


if __name__ == "__main__":
    sys.exit(run_cli(main))
