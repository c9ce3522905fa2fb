"""GRPO: data -> rewards -> policy -> TRL GRPOTrainer -> runs/<run_name>/.

    python -m recipes.grpo recipes/configs/grpo_qwen3_4b_openr1.yaml [--key value ...] [--dry-run] [--resume]

Group Relative Policy Optimization samples ``num_generations`` completions per
prompt, scores each with the reward stack, and pushes the policy toward the
completions that beat their group's mean (the advantage is the reward minus
the group mean, optionally divided by the group's std). No value model: the
group is the baseline. With ``beta: 0`` there is no reference model either,
which halves memory and time; the PPO-style clip keeps steps small.

A run directory holds ``config.yaml`` (resolved), ``metrics.jsonl`` (the
trainer's log history, appended as it goes), ``checkpoint-*`` (every
``save_steps``), ``adapter/`` (final LoRA + tokenizer), ``summary.json`` and,
with ``evaluate: true``, ``eval/{base,primed,tuned}`` and ``report/``.
``--resume`` (or rerunning into a directory that has a checkpoint) continues
from the last complete checkpoint; SIGTERM saves a checkpoint at the end of
the current step and exits 143. A folder belongs to one live process and one
config: a second run into it, or a rerun that changes a result-affecting key,
stops with exit 2 (``--new-run`` moves the old folder aside); rerunning a
finished run does nothing.
"""

from __future__ import annotations

import os
import sys

from data_prep.formats import ReasoningFormat
from recipes.config import RunConfig, load_config, recipe_parser
from recipes.errors import run_cli
from recipes.run_inputs import (
    balanced_order,
    check_balance_column,
    eval_dataset,
    eval_source,
    reward_functions,
    run_format,
    train_dataset,
)
from recipes.variants import caveats, in_force, unsloth_differences


def print_plan(cfg: RunConfig, dataset, rewards: list, fmt: ReasoningFormat) -> None:
    g, r = cfg.grpo, cfg.recipe
    weights = g.reward_weights or [1.0] * len(rewards)
    print(f"run        {g.run_name} -> {g.output_dir}")
    print(f"model      {r.model_name} (backend {cfg.backend}, 4-bit {r.load_in_4bit}, "
          f"LoRA r={r.lora_rank} alpha={r.lora_alpha})")
    print(f"device     {describe_device(cfg)}")
    print(f"data       {r.dataset}{' ' + r.data_file if r.data_file else ''}: {len(dataset)} prompts, "
          f"format {fmt.name}")
    print("rewards    " + ", ".join(f"{f.__name__} x{w:g}" for f, w in zip(rewards, weights, strict=True)))
    print(f"grpo       {g.max_steps} steps, lr {g.learning_rate:g}, {g.num_generations} generations x "
          f"{g.generation_batch_size // g.num_generations} prompts per generation batch, "
          f"<= {g.max_completion_length} tokens, beta {g.beta:g}, vLLM {g.use_vllm}")
    print(f"batch      {describe_batch(cfg)}")
    print(f"variant    {in_force(g)}")
    for line in caveats(g):
        print(f"note       {line}")
    for line in unsloth_differences(g) if r.backend != "transformers" else ():
        print(f"unsloth    {line}")
    if r.balance_by:
        print(f"batches    prompts in turns by {r.balance_by} (TRL's shuffle off)")
    if r.sft_prime:
        print(f"sft prime  {r.sft_prime}")
    if r.preflight:
        print(f"preflight  {r.preflight_prompts} prompts x {g.num_generations}, stop on no_signal")
    if r.difficulty_filter is not None:
        print(f"filter     keep prompts with sampled pass rate in (min_pass, max_pass): {r.difficulty_filter}")
    if r.evaluate:
        name, data_file = eval_source(cfg)
        print(f"evaluate   {name} {data_file or 'split ' + r.eval_split}, {r.eval_limit} examples")
    print(f"report_to  {', '.join(g.report_to) if g.report_to else 'none'}")


def describe_batch(cfg: RunConfig) -> str:
    """The effective batch arithmetic, and what of it a GPU run under Unsloth would set otherwise."""
    g = cfg.grpo
    line = (f"{g.per_device_train_batch_size} completions per device step x gradient_accumulation_steps "
            f"{g.gradient_accumulation_steps}; generation batch {g.generation_batch_size} "
            f"({g.generation_batch_size // g.num_generations} prompts x {g.num_generations}) every "
            f"{g.steps_per_generation} step(s)")
    if cfg.recipe.backend == "transformers":
        return line
    # recipes.trl_defaults: Unsloth's config would default GA to 2 (twice the prompts) and resize a batch
    # the group does not divide; the recipe passes TRL's values, so only top_k differs on a GPU.
    return line + "; the same under Unsloth on a GPU (TRL's defaults passed), top_k -1 (vLLM's off) with vLLM"


def describe_device(cfg: RunConfig) -> str:
    """What this machine gives the run (or, where it cannot run, what a GPU would): precision and generation."""
    from recipes.backend import cuda_available, vllm_installed

    g = cfg.grpo
    on_gpu = cuda_available() and not cfg.backend_problem
    if on_gpu:
        precision = "bf16" if g.bf16 else "fp16" if g.fp16 else "fp32"
    elif g.bf16 is False and g.fp16 is False:  # the config chose (the CPU demo)
        precision = "fp32"
    else:
        precision = "bf16 on GPUs of compute capability >= 8.0, fp16 below"
    if not g.use_vllm:
        engine = "transformers generate"
    elif g.vllm_mode == "server":
        engine = f"vLLM server at {g.vllm_server_host}:{g.vllm_server_port}"
    elif cfg.backend == "unsloth":
        engine = ("vLLM inside Unsloth (fast_inference)" if vllm_installed() or not on_gpu
                  else "transformers generate (vllm is not installed)")
    else:
        engine = "vLLM colocated (TRL)"
    plan = f"{precision}; generation: {engine}"
    return f"cannot run here ({cfg.backend_problem}); on a GPU: {plan}" if cfg.backend_problem else plan


def make_grpo_trainer(cfg: RunConfig, policy, dataset, rewards: list, callbacks: list):
    """TRL's GRPOTrainer on the policy's LoRA model (Unsloth's subclass when the run imported unsloth)."""
    from trl import GRPOTrainer  # looked up now, after unsloth's import, so its patched class is used

    if cfg.recipe.balance_by:
        dataset = balanced_order(dataset, cfg.recipe.balance_by)
        cfg.grpo.shuffle_dataset = False  # TRL's sampler would undo the turns
    trainer = GRPOTrainer(model=policy.model, reward_funcs=rewards, args=cfg.grpo, train_dataset=dataset,
                          processing_class=policy.tokenizer, callbacks=callbacks)
    use_cpu_generation(cfg, policy, trainer)
    return trainer


def use_cpu_generation(cfg: RunConfig, policy, trainer) -> None:
    """`recipes.cpu_generation` for the rollouts: the exact changes always, the rest unless
    ``fast_cpu_generation`` is false; each applies only where the trainer generates with transformers on CPU."""
    if policy.backend != "transformers":
        return
    from recipes import cpu_generation

    cpu_generation.use_exact_changes(policy.model)
    if cfg.recipe.fast_cpu_generation:
        cpu_generation.speed_up_rollouts(trainer)


def main(argv: list[str] | None = None) -> int:
    parser = recipe_parser("python -m recipes.grpo", __doc__)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--force", action="store_true", help="train even when the pre-flight says no_signal")
    parser.add_argument("--new-run", action="store_true",
                        help="move an existing run folder aside (to NAME.1, ...) and start over")
    args, overrides = parser.parse_known_args(argv)
    cfg = load_config(args.config, overrides)  # imports unsloth first when the run uses it (recipes.backend)
    from recipes.priming import grpo_prompts  # imports transformers: only after unsloth's import

    fmt = run_format(cfg)
    dataset = train_dataset(cfg)
    check_balance_column(dataset, cfg.recipe.balance_by)
    grpo_prompts(cfg, dataset)  # priming leaves GRPO some prompts: fail now, not after the first evaluation
    rewards = reward_functions(cfg, fmt, dataset.column_names)  # a user's reward's columns: checked now
    eval_name, eval_file = eval_source(cfg)
    if cfg.recipe.evaluate and (eval_file or eval_name == "arithmetic"):
        eval_dataset(cfg)  # local eval data: fail now, not after training (hub data is fetched later)
    if int(os.environ.get("RANK", "0")) == 0:  # under accelerate launch the main process says it once
        print_plan(cfg, dataset, rewards, fmt)
    if args.dry_run:
        print("dry run: config, data and rewards OK; no model loaded")
        return 0
    from recipes.pipeline import run_pipeline  # loads torch and the trainers: only for a real run

    return run_pipeline(cfg, fmt, dataset, rewards, resume=args.resume, make_trainer=make_grpo_trainer,
                        force=args.force, new_run=args.new_run)


if __name__ == "__main__":
    sys.exit(run_cli(main))

