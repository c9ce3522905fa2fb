"""What a run is made of, built from its config: the policy to load, the data, the rewards.

The GRPO CLI (`recipes.grpo`), the stage pipeline (`recipes.pipeline`) and the
benchmarks all need these; they live here so that each of those imports this
module and none imports another.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from data_prep import build_dataset
from data_prep.formats import ReasoningFormat, get_format
from recipes.config import RunConfig
from recipes.errors import RecipeError
from rewards import build_rewards


def wants_colocated_vllm(cfg: RunConfig) -> bool:
    """Generation through a vLLM engine in this process (Unsloth's fast_inference), not a server.

    Never for a TRL config without vLLM settings (DPO's): its few greedy answers use HF generate.
    """
    return bool(getattr(cfg.grpo, "use_vllm", False)) and cfg.grpo.vllm_mode == "colocate"


def policy_spec(cfg: RunConfig, **changes: Any):
    from recipes.backend import vllm_installed
    from recipes.model import PolicySpec

    r = cfg.recipe
    spec = PolicySpec(
        model_name=r.model_name, backend=cfg.backend, load_in_4bit=r.load_in_4bit,
        max_seq_length=r.max_seq_length, lora_rank=r.lora_rank, lora_alpha=r.lora_alpha,
        lora_dropout=r.lora_dropout, lora_target_modules=tuple(r.lora_target_modules),
        # vLLM reserves gpu_memory_utilization of the card: only when GRPO generates with it.
        fast_inference=wants_colocated_vllm(cfg) and vllm_installed(),
        gpu_memory_utilization=r.gpu_memory_utilization, random_state=cfg.grpo.seed,
        gradient_checkpointing=bool(cfg.grpo.gradient_checkpointing), chat_template=r.chat_template,
        format=r.format, system_prompt=r.system_prompt, fast_cpu_generation=r.fast_cpu_generation,
    )
    return replace(spec, **changes)


def run_format(cfg: RunConfig) -> ReasoningFormat:
    """The config's reasoning format, with its ``system_prompt`` when the config sets one."""
    return get_format(cfg.recipe.format, cfg.recipe.system_prompt)


def train_dataset(cfg: RunConfig):
    r = cfg.recipe
    return build_dataset(r.dataset, split=r.dataset_split, limit=r.dataset_limit, seed=cfg.grpo.seed,
                         format=run_format(cfg), data_file=r.data_file, **(r.dataset_kwargs or {}))


def eval_source(cfg: RunConfig) -> tuple[str, str | None]:
    """(dataset, data_file) of the held-out set; data_file carries over only for the same dataset."""
    r = cfg.recipe
    if r.eval_dataset is None or r.eval_dataset == r.dataset:
        return r.dataset, r.eval_data_file or r.data_file
    return r.eval_dataset, r.eval_data_file


def eval_knobs(cfg: RunConfig) -> dict:
    """The held-out set's builder knobs: its own, else the training set's when it is the same dataset.

    (A gsm8k evaluation of an openr1_math run must not get ``source: dapo``.)
    """
    r = cfg.recipe
    same = eval_source(cfg)[0] == r.dataset
    return r.eval_dataset_kwargs or (r.dataset_kwargs if same else None) or {}


def eval_dataset(cfg: RunConfig):
    r = cfg.recipe
    name, data_file = eval_source(cfg)
    return build_dataset(name, split=r.eval_split, limit=r.eval_limit, seed=cfg.grpo.seed, format=run_format(cfg),
                         data_file=data_file, **eval_knobs(cfg))


def validation_dataset(cfg: RunConfig):
    """The problems ``eval_steps`` evaluates checkpoints on: the training source's ``validation_split``.

    The training source, not the evaluation set: a benchmark (math500, aime24) has only its test
    problems, and every builder's validation split is disjoint from its test split.
    """
    r = cfg.recipe
    return build_dataset(r.dataset, split=r.validation_split, limit=r.eval_limit_during_training,
                         seed=cfg.grpo.seed, format=run_format(cfg), data_file=r.data_file, **(r.dataset_kwargs or {}))


def reward_functions(cfg: RunConfig, fmt: ReasoningFormat, columns: list[str] | None = None) -> list:
    """The config's rewards; a user's file reward is looked up next to the config file first.

    ``columns``: the training data's, which a user's reward that requires a column is checked against.
    """
    try:
        return build_rewards(cfg.recipe.reward_funcs, fmt, params=cfg.recipe.reward_params,
                             base_dir=Path(cfg.source).parent, columns=columns)
    except (ValueError, TypeError) as err:
        raise RecipeError(str(err).splitlines()[0]) from None


def check_balance_column(dataset, column: str | None) -> None:
    """``balance_by`` must name a column of the training data (checked before the model loads)."""
    if column and column not in dataset.column_names:
        raise RecipeError(f"balance_by: the training data has no column {column!r}; "
                          f"its columns are {', '.join(dataset.column_names)}")


def balanced_order(dataset, column: str):
    """The rows in turns by ``column`` (round robin, each category in its own order), for GRPO's batches.

    With TRL's shuffle off, a generation batch is the next run of prompts, so every batch holds the
    categories in equal shares: an update cannot be steered by a draw that happened to be mostly
    one operation (the demo's small batches traded one operation for another; bench/NOTES.md).
    Written here because datasets' ``interleave_datasets`` either stops at the shortest category
    (dropping rows) or oversamples the short ones (repeating rows); this keeps every row once.
    """
    check_balance_column(dataset, column)
    groups: dict[Any, list[int]] = {}
    for i, value in enumerate(dataset[column]):
        groups.setdefault(value, []).append(i)
    queues = list(groups.values())
    order = [q[k] for k in range(max(map(len, queues), default=0)) for q in queues if k < len(q)]
    return dataset.select(order)
