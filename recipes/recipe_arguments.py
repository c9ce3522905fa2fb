"""The recipe's own keys (model, LoRA, format, data, rewards, evaluation, priming): one dataclass.

Everything else a YAML sets is TRL's ``GRPOConfig`` (`recipes.config` splits the two).
Each field's ``help`` is what ``--help``-style listings and the README's key tables say.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_REWARDS = "format_exact,format_approx,answer,number"
@dataclass
class RecipeArguments:
    """The recipe's own settings; everything else is TRL's ``GRPOConfig``."""

    # --- model and LoRA (recipes.model.PolicySpec) ---
    model_name: str = field(default="smollm2-135m-instruct", metadata={
        "help": "Hub id, local path, or packaged alias (smollm2-135m-instruct: ships in a pip package)."})
    backend: str = field(default="auto", metadata={
        "help": "unsloth (CUDA, 4-bit + vLLM), transformers (CPU or CUDA), or auto."})
    load_in_4bit: bool = field(default=True, metadata={
        "help": "4-bit base weights (fits Qwen3-4B on 16 GB); false = 16-bit LoRA, faster rollouts."})
    max_seq_length: int = field(default=2048, metadata={"help": "Context length Unsloth/vLLM allocate for."})
    lora_rank: int = field(default=32, metadata={"help": "LoRA rank r."})
    lora_alpha: int = field(default=64, metadata={"help": "LoRA alpha (scale = alpha / r)."})
    lora_dropout: float = field(default=0.0, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={"help": "Modules that get LoRA adapters (comma list or YAML list)."})
    fast_cpu_generation: bool = field(default=True, metadata={
        "help": "On CPU, generate with the LoRA merged, each prompt prefilled once, and an inverse-CDF sampler "
                "(same distribution, other random stream; recipes.cpu_generation); false: transformers' own "
                "sampling, LoRA beside."})
    gpu_memory_utilization: float = field(default=0.7, metadata={
        "help": "Share of GPU memory vLLM may take inside Unsloth (fast_inference)."})
    chat_template: str = field(default="auto", metadata={
        "help": "model (tokenizer's own), format (reasoning-format template for base models), auto."})
    # --- data ---
    format: str = field(default="unsloth", metadata={"help": "Reasoning format: unsloth, xml, r1, boxed."})
    system_prompt: str | None = field(default=None, metadata={
        "help": "Replaces the format's system prompt in every prompt (training, priming, evaluation). "
                "Each prompt token is computed at every step: the CPU demo uses a short one."})
    dataset: str = field(default="arithmetic", metadata={
        "help": "arithmetic, gsm8k, openr1_math, math500, aime24, or hub (any dataset: dataset_kwargs names its columns)."})
    data_file: str | None = field(default=None, metadata={"help": "Local jsonl/json/parquet/csv instead of the hub."})
    dataset_split: str = field(default="train", metadata={"help": "Training split."})
    dataset_limit: int | None = field(default=None, metadata={"help": "Use at most this many rows."})
    dataset_kwargs: dict | None = field(default=None, metadata={
        "help": "Builder knobs, e.g. {max_operand: 30, operations: '+-'} for arithmetic, {source: dapo}."})
    # --- rewards (weights: GRPOConfig.reward_weights) ---
    reward_funcs: list[str] = field(default_factory=lambda: DEFAULT_REWARDS.split(","), metadata={
        "help": "Reward names from rewards.REGISTRY, or your own with TRL's signature (sync or async): "
                "package.module:function (trl.rewards:think_format_reward) or path/to/file.py:function, a "
                "relative path read from the config file's folder, then the current one (comma list or YAML list)."})
    reward_params: dict | None = field(default=None, metadata={
        "help": "Per-reward parameters, e.g. {answer: {correct: 2.0}}; for your own reward, keyed by the entry or "
                "its function name: a factory's arguments (a callable that takes no completions, e.g. "
                "trl.rewards:get_soft_overlong_punishment) or keyword arguments bound to a reward function."})
    # --- evaluation before/after ---
    evaluate: bool = field(default=False, metadata={"help": "Evaluate base and tuned, write the report."})
    eval_dataset: str | None = field(default=None, metadata={"help": "Defaults to `dataset`."})
    eval_data_file: str | None = field(default=None, metadata={"help": "Defaults to `data_file`."})
    eval_split: str = field(default="test", metadata={"help": "Held-out split to evaluate on."})
    eval_limit: int | None = field(default=200, metadata={"help": "Held-out examples per evaluation."})
    eval_dataset_kwargs: dict | None = field(default=None, metadata={
        "help": "Builder knobs for the held-out set (defaults to dataset_kwargs)."})
    eval_max_new_tokens: int = field(default=512, metadata={"help": "Greedy tokens per evaluation answer."})
    eval_base_max_new_tokens: int | None = field(default=None, metadata={
        "help": "The base model's budget (it answers in prose: give it room to finish; flexible_accuracy)."})
    eval_batch_size: int = field(default=32, metadata={"help": "Prompts per generate() call."})
    eval_samples: int = field(default=1, metadata={
        "help": "Completions per problem: 1 is greedy accuracy; N > 1 reports pass@k (k = 1, 2, 4, ..., N) and "
                "maj@N, and the report asks whether GRPO sharpened or expanded the base (needs eval_temperature)."})
    eval_temperature: float = field(default=0.0, metadata={
        "help": "Sampling temperature of the evaluation (0: greedy). open-r1 reports 0.6 with top_p 0.95."})
    eval_top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling of the evaluation."})
    # --- accuracy over training: checkpoints on a validation split (never the test split) ---
    validation_split: str = field(default="validation", metadata={
        "help": "The split eval_steps evaluates checkpoints on: disjoint from eval_split, so choosing a "
                "checkpoint never peeks at the test set."})
    eval_limit_during_training: int | None = field(default=100, metadata={
        "help": "Validation problems per checkpoint evaluation (TRL's eval_steps sets how often)."})
    select_checkpoint: str = field(default="last", metadata={
        "help": "last, or best: the checkpoint with the highest validation accuracy becomes adapter/."})
    # --- decontamination: training rows that share an n-gram with an evaluation problem ---
    decontaminate: str = field(default="check", metadata={
        "help": "check (write decontamination.json and say how many rows overlap) or drop (also remove them)."})
    decontaminate_ngram: int = field(default=8, metadata={"help": "Word n-gram size (open-r1 uses 8)."})
    # --- optional SFT format priming before GRPO ---
    sft_prime: dict | None = field(default=None, metadata={
        "help": "Short SFT on formatted worked solutions, e.g. {rows: 300, num_train_epochs: 1, learning_rate: 2e-4}."})
    # --- pre-flight learnability check and difficulty filter (recipes.learnability) ---
    preflight: bool = field(default=False, metadata={
        "help": "Sample as GRPO will before training; stop with exit 3 if no group varies (--force trains anyway)."})
    preflight_prompts: int = field(default=16, metadata={"help": "Training prompts the pre-flight samples."})
    balance_by: str | None = field(default=None, metadata={
        "help": "A category column (e.g. operation): every GRPO batch takes its prompts from each category in "
                "turn, instead of TRL's shuffle."})
    difficulty_filter: dict | None = field(default=None, metadata={
        "help": "Keep prompts whose sampled pass rate is in (min_pass, max_pass), e.g. {samples: 8, limit: 256}."})
    # --- logging ---
    wandb_project: str = field(default="grpo-recipes", metadata={"help": "W&B project (report_to: wandb)."})
