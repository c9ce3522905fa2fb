"""The CPU GRPO step: the recipe against a plain TRL script at equal work, and against its compute floor.

    .venv/bin/python bench/grpo_floor.py [--steps 4]

Two trainers on the demo's work (recipes/configs/grpo_smollm2_demo.yaml: the
packaged SmolLM2-135M-Instruct with LoRA, the same prompts, group size,
completion length, rewards and hyper-parameters), run one after the other in
this process, plain TRL first (the recipe's `recipes.cpu_memory` setting is
process-wide and cannot be taken back), each for ``--steps`` GRPO steps (the
first dropped as warm-up):

* ``recipe``: built the way ``python -m recipes.grpo`` builds it (load_policy,
  the recipe's GRPOConfig);
* ``plain TRL``: ``AutoModelForCausalLM`` + ``GRPOTrainer(peft_config=LoraConfig(...))``,
  what TRL's docs show, with the same GRPOConfig.

It prints the recipe's median step time over plain TRL's (goal <= 1.0: the
recipe's choices must never make a step slower), and the recipe's step against
its compute floor: (2 x params x tokens generated + 8 x params x tokens trained)
/ the fp32 matmul FLOP/s measured here, in the same run (goal <= 2x), with where
the time goes: generation, rewards, the rest of scoring (old log-probs), and the
loss forward + backward + optimizer.

Then generation against its own floor (goal <= 3x): each distinct prompt computed
once (2 x params x its tokens, at the measured FLOP/s), plus one decode step per
token of the longest completion, each the slower of its matmul work (2 x params x
sequences, params without the LoRA's, which the rollouts merge) at the measured
FLOP/s and its memory traffic (every fp32 weight once,
and the KV cache at its mean length) at the memory bandwidth measured here (a
1 GiB sum). Plain TRL runs as a plain script would: transformers' own attention
and glibc's malloc as it comes.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes.config import load_config  # noqa: E402
from recipes.grpo import use_cpu_generation  # noqa: E402
from recipes.model import load_policy, lora_config, resolve_model_path  # noqa: E402
from recipes.run_inputs import policy_spec, reward_functions, run_format, train_dataset  # noqa: E402
from recipes.trl_compat import ensure_logprob_kernel  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "recipes" / "configs" / "grpo_smollm2_demo.yaml"
GOAL_VS_TRL, GOAL_VS_FLOOR, GOAL_GENERATION = 1.0, 2.0, 3.0
PHASES = ("_generate", "_calculate_rewards", "_generate_and_score_completions", "compute_loss")


def matmul_flops(size: int = 1024, repeats: int = 20) -> float:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def read_bandwidth(gib: int = 1, repeats: int = 5) -> float:
    """Bytes per second that a sum over a ``gib`` GiB fp32 tensor reads (best of ``repeats``)."""
    import torch

    x = torch.ones(gib * 2**28)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        x.sum()
        best = min(best, time.perf_counter() - start)
    return x.numel() * 4 / best


def generation_floor(model_config, params: int, logs: list[dict], batch: int, groups: int, flops: float,
                     bandwidth: float) -> tuple[float, str]:
    """Seconds a step's rollouts need at least, from its logged lengths (module doc), and how they add up."""
    steps = logs[1:]
    decode = statistics.fmean(r["completions/max_length"] for r in steps)
    generated = statistics.fmean(r["completions/mean_length"] for r in steps) * batch
    prompt = statistics.median(b["num_tokens"] - a["num_tokens"] for a, b in zip(logs, logs[1:], strict=False)) \
        - generated
    prefill = 2 * params * prompt / groups / flops
    kv_per_token = 2 * model_config.num_hidden_layers * model_config.num_key_value_heads * \
        getattr(model_config, "head_dim", model_config.hidden_size // model_config.num_attention_heads) * 4
    kv_bytes = kv_per_token * batch * (prompt / batch + decode / 2)
    compute, memory = 2 * params * batch / flops, (4 * params + kv_bytes) / bandwidth
    floor = prefill + decode * max(compute, memory)
    return floor, (f"prefill of {prompt / groups:.0f} distinct prompt tokens {prefill:.2f} s + {decode:.0f} decode "
                   f"steps x max({compute * 1e3:.0f} ms matmul, {memory * 1e3:.0f} ms memory: "
                   f"{4 * params / 1e6:.0f} MB weights + {kv_bytes / 1e6:.0f} MB KV at {bandwidth / 1e9:.1f} GB/s)")


def instrument(trainer) -> dict[str, list[float]]:
    """Wrap the trainer's phases (TRL 1.15 GRPOTrainer method names) to sum their time per step."""
    from transformers import TrainerCallback

    spent: dict[str, float] = dict.fromkeys(PHASES, 0.0)
    per_step: dict[str, list[float]] = {k: [] for k in (*PHASES, "step")}
    for name in PHASES:
        method = getattr(trainer, name)

        @functools.wraps(method)
        def timed(*args, _method=method, _name=name, **kwargs):
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - start

        setattr(trainer, name, timed)

    class Steps(TrainerCallback):
        def on_step_begin(self, *args, **kwargs):
            self.start = time.perf_counter()
            spent.update(dict.fromkeys(PHASES, 0.0))

        def on_step_end(self, *args, **kwargs):
            per_step["step"].append(time.perf_counter() - self.start)
            for k in PHASES:
                per_step[k].append(spent[k])

    trainer.add_callback(Steps())
    return per_step


def build(kind: str, cfg, dataset, rewards):
    from trl import GRPOTrainer

    if kind == "recipe":
        policy = load_policy(policy_spec(cfg))
        trainer = GRPOTrainer(model=policy.model, reward_funcs=rewards, args=cfg.grpo, train_dataset=dataset,
                              processing_class=policy.tokenizer)
        use_cpu_generation(cfg, policy, trainer)
        return trainer, sum(p.numel() for p in policy.model.parameters())
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_path(cfg.recipe.model_name)
    model, tokenizer = AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=cfg.grpo, train_dataset=dataset,
                          processing_class=tokenizer, peft_config=lora_config(policy_spec(cfg)))
    return trainer, sum(p.numel() for p in model.parameters())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=4)
    args = p.parse_args()
    results = {}
    for kind in ("plain TRL", "recipe"):
        out = tempfile.mkdtemp(prefix="grpo-floor-")
        cfg = load_config(DEMO, ["--max_steps", str(args.steps), "--save_steps", "1000", "--output_dir", out,
                                 "--logging_steps", "1"])
        fmt = run_format(cfg)
        dataset, rewards = train_dataset(cfg), reward_functions(cfg, fmt)
        trainer, params = build(kind, cfg, dataset, rewards)
        ensure_logprob_kernel()
        per_step = instrument(trainer)
        trainer.train()
        logs = [r for r in trainer.state.log_history if "completions/mean_length" in r]
        results[kind] = {"per_step": {k: v[1:] for k, v in per_step.items()}, "params": params, "logs": logs,
                         "batch": cfg.grpo.per_device_train_batch_size, "groups": cfg.grpo.num_generations,
                         "model_config": trainer.model.config, "model": trainer.model}
    flops, bandwidth = matmul_flops(), read_bandwidth()

    recipe, plain = results["recipe"], results["plain TRL"]
    step = statistics.median(recipe["per_step"]["step"])
    ratio = step / statistics.median(plain["per_step"]["step"])
    print(f"recipe vs plain TRL  median step {step:.1f} s vs {statistics.median(plain['per_step']['step']):.1f} s: "
          f"{ratio:.2f}x (goal <= {GOAL_VS_TRL:g}x)")
    logs = recipe["logs"]
    generated = statistics.fmean(r["completions/mean_length"] for r in logs[1:]) * recipe["batch"]
    # TRL's num_tokens counts every prompt + completion token trained on, cumulatively.
    trained = statistics.median(b["num_tokens"] - a["num_tokens"] for a, b in zip(logs, logs[1:], strict=False))
    floor = (2 * recipe["params"] * generated + 8 * recipe["params"] * trained) / flops
    print(f"recipe vs its floor  {step:.1f} s vs {floor:.2f} s ({recipe['params'] / 1e6:.0f}M params, "
          f"{generated:.0f} tokens generated, ~{trained:.0f} trained per step, {flops / 1e9:.0f} GFLOP/s matmul): "
          f"{step / floor:.1f}x (goal <= {GOAL_VS_FLOOR:g}x)")
    parts = {k: statistics.median(recipe["per_step"][k]) for k in PHASES}
    other = parts["_generate_and_score_completions"] - parts["_generate"] - parts["_calculate_rewards"]
    train = step - parts["_generate_and_score_completions"]
    print(f"where it goes        generation {parts['_generate']:.1f} s, rewards {parts['_calculate_rewards']:.2f} s, "
          f"old log-probs and bookkeeping {other:.1f} s, loss forward {parts['compute_loss']:.1f} s + backward and "
          f"optimizer {train - parts['compute_loss']:.1f} s")
    base_params = sum(p.numel() for n, p in recipe["model"].named_parameters() if "lora_" not in n)
    gen_floor, how = generation_floor(recipe["model_config"], base_params, logs, recipe["batch"],
                                      recipe["groups"], flops, bandwidth)
    print(f"generation vs floor  {parts['_generate']:.1f} s vs {gen_floor:.2f} s ({how}): "
          f"{parts['_generate'] / gen_floor:.1f}x (goal <= {GOAL_GENERATION:g}x); plain TRL's generation "
          f"{statistics.median(plain['per_step']['_generate']):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
