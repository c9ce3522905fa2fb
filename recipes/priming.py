"""SFT format priming: a short supervised pass on worked solutions written in the format.

GRPO can only reinforce what the policy already samples. A base model (or a
135M instruct model) almost never writes ``<SOLUTION>42</SOLUTION>`` on its
own, so every completion in a group scores the same, the advantages are zero
and nothing is learned ("the loss is always 0"). Unsloth's Qwen3 notebook
therefore fine-tunes briefly on solutions rendered in its markers before
GRPO; this module does the same with TRL's ``SFTTrainer`` on the LoRA adapter
that GRPO then keeps training, so ``adapter/`` holds priming + GRPO.

Config (``sft_prime:`` in a recipe YAML; every key optional)::

    sft_prime: {rows: 300, num_train_epochs: 1, learning_rate: 2.0e-4,
                per_device_train_batch_size: 8, dataset: gsm8k, data_file: null,
                dataset_kwargs: {}}

The rows come from the recipe's training dataset unless ``dataset`` names
another; they need a ``reasoning`` column (GSM8K's worked solution, OpenR1's
``solution``, the arithmetic generator's steps). Or ``chat_dataset`` (a local
.jsonl/.parquet file or a Hub id, ``chat_config`` for its config) names a chat
dataset with a ``messages`` column: each conversation trains on its last
assistant turn (`data_prep.chat`), with the model's own chat template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from data_prep import build_dataset
from data_prep.chat import chat_rows
from data_prep.formats import ReasoningFormat
from recipes.callbacks import MetricsLogger
from recipes.distributed import is_main
from recipes.errors import RecipeError
from recipes.io_utils import atomic_write_text
from recipes.run_dir import save_trained
from recipes.trl_defaults import build_like_trl

DEFAULTS: dict[str, Any] = {
    "rows": 300,
    "num_train_epochs": 1.0,
    "learning_rate": 2e-4,
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "max_steps": -1,
    "lr_scheduler_type": "linear",
    "warmup_steps": 0.0,
    "logging_steps": 5,
    "dataset": None,
    "data_file": None,
    "dataset_kwargs": None,
    "chat_dataset": None,
    "chat_config": None,
}


def sft_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """Defaults + the user's keys; unknown keys are an input error naming the key."""
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise RecipeError(f"sft_prime.{unknown[0]}: unknown key; expected one of {', '.join(DEFAULTS)}")
    settings = {**DEFAULTS, **raw}
    if int(settings["rows"]) < 1:
        raise RecipeError(f"sft_prime.rows: expected a positive integer, got {settings['rows']}")
    return settings


def priming_indices(dataset, rows: int) -> list[int]:
    """Positions of the rows priming trains on: the first ``rows`` that have a worked solution."""
    reasoning = dataset["reasoning"] if "reasoning" in dataset.column_names else []
    with_reasoning = [i for i, worked in enumerate(reasoning) if worked]
    if not with_reasoning:
        raise RecipeError("sft_prime: the dataset has no worked solutions (empty 'reasoning' column); "
                          "set sft_prime.dataset to one that has them (arithmetic, gsm8k)")
    return with_reasoning[:rows]


def primes_from_training_data(settings: dict[str, Any]) -> bool:
    """Whether priming takes its rows from the recipe's own training data (no other dataset, file or chat set)."""
    return all(settings[k] is None for k in ("dataset", "data_file", "chat_dataset"))


def grpo_prompts(cfg, dataset):
    """The training prompts GRPO may use: all of them, less the rows priming trains on when it draws from them.

    GRPO on problems whose worked solutions priming has just taught mostly re-samples what priming fixed:
    the demo's 48 GRPO prompts were all among its 64 priming rows and gained +0 to +15 points (1 run in 4
    significant), where prompt orders holding 2-3 of them gained +10 to +22 (6 in 6; bench/NOTES.md).
    """
    if cfg.recipe.sft_prime is None:
        return dataset
    settings = sft_settings(cfg.recipe.sft_prime)
    if not primes_from_training_data(settings):
        return dataset
    primed = set(priming_indices(dataset, int(settings["rows"])))
    keep = [i for i in range(len(dataset)) if i not in primed]
    if not keep:
        raise RecipeError(f"sft_prime.rows: priming takes all {len(dataset)} training rows and leaves GRPO none; "
                          "expected fewer rows than the dataset has (or a larger dataset_limit)")
    return dataset.select(keep)


def priming_rows(dataset, fmt: ReasoningFormat, rows: int):
    """Prompt/completion pairs whose completion is the worked solution rendered in ``fmt``."""
    picked = dataset.select(priming_indices(dataset, rows))
    return picked.map(
        lambda r: {"completion": [{"role": "assistant", "content": fmt.render(r["reasoning"], r["answer"])}]},
        remove_columns=[c for c in picked.column_names if c != "prompt"],
    )


def priming_dataset(cfg, fmt: ReasoningFormat, settings: dict[str, Any], default_dataset):
    if settings["chat_dataset"] is not None:
        from datasets import Dataset

        return Dataset.from_list(chat_rows(str(settings["chat_dataset"]), config=settings["chat_config"],
                                           limit=int(settings["rows"]), field="sft_prime.chat_dataset"))
    if primes_from_training_data(settings):
        source = default_dataset
    else:
        source = build_dataset(settings["dataset"] or cfg.recipe.dataset, split="train",
                               seed=cfg.grpo.seed, format=fmt, data_file=settings["data_file"],
                               **(settings["dataset_kwargs"] or {}))
    return priming_rows(source, fmt, int(settings["rows"]))


def priming_args(cfg, settings: dict[str, Any], run_dir: Path):
    """TRL's ``SFTConfig`` for the priming stage (Unsloth's subclass, with TRL's defaults, after ``import unsloth``)."""
    from trl import SFTConfig

    trainer_keys = ("num_train_epochs", "learning_rate", "per_device_train_batch_size",
                    "gradient_accumulation_steps", "max_steps", "lr_scheduler_type", "warmup_steps",
                    "logging_steps")
    return build_like_trl(SFTConfig, dict(
        output_dir=str(run_dir / "sft"),
        **{k: settings[k] for k in trainer_keys},
        save_strategy="no",
        report_to=[],  # W&B follows the GRPO stage; SFT's log goes to metrics.jsonl
        bf16=cfg.grpo.bf16,  # the precision load_config chose for this device (Unsloth refuses bf16 on fp16 GPUs)
        fp16=cfg.grpo.fp16,
        seed=cfg.grpo.seed,
        gradient_checkpointing=cfg.grpo.gradient_checkpointing,
        max_length=cfg.recipe.max_seq_length,
        completion_only_loss=True,
        use_cpu=cfg.grpo.use_cpu,
    ))


def prime_format(policy, cfg, fmt: ReasoningFormat, train_rows, run_dir: Path) -> dict[str, Any]:
    """Train the policy's LoRA on formatted solutions; save it to ``run_dir/sft_adapter``."""
    from trl import SFTTrainer  # Unsloth's subclass when the run imported unsloth first

    settings = sft_settings(cfg.recipe.sft_prime or {})
    data = priming_dataset(cfg, fmt, settings, train_rows)
    args = priming_args(cfg, settings, run_dir)
    trainer = SFTTrainer(model=policy.model, args=args, train_dataset=data, processing_class=policy.tokenizer,
                         callbacks=[MetricsLogger(run_dir / "metrics.jsonl", "sft")])
    result = trainer.train()
    info = {"rows": len(data), "steps": result.global_step, "train_runtime": result.metrics.get("train_runtime")}
    if is_main():  # a resumed run's summary reads it
        atomic_write_text(run_dir / "priming.json", json.dumps(info) + "\n")
    save_trained(trainer, run_dir / "sft_adapter")
    return info
