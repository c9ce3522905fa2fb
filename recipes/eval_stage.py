"""A run's evaluation stages: the policy as it is now (base, primed, tuned) on the held-out split.

Each stage writes ``run_dir/eval/LABEL`` (predictions.jsonl, summary.json) and is skipped when a
resumed run already has it. Under ``accelerate launch`` every rank answers its share of the
problems and the main process writes (`recipes.distributed`, `recipes.evaluate.evaluate_policy`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from data_prep.formats import ReasoningFormat
from recipes.config import RunConfig
from recipes.io_utils import read_json
from recipes.model import has_vllm_engine
from recipes.run_inputs import eval_source
from rewards import grader_for


def evaluate_stage(policy, cfg: RunConfig, fmt: ReasoningFormat, run_dir: Path, label: str,
                   adapter_dir: Path | None, load_eval: Callable[[], Any]) -> dict[str, Any]:
    """Evaluate the policy as it is now on the held-out split; reuse a finished result on resume."""
    from recipes.evaluate import evaluate_policy, result_line

    out = run_dir / "eval" / label
    if (out / "summary.json").is_file():
        return read_json(out / "summary.json")
    if has_vllm_engine(policy.model):
        # vLLM generates from the base weights; the adapter rides along as a LoRA request.
        # (transformers' generate uses the live model, which already holds this stage's adapter.)
        policy.lora_request = policy.model.load_lora(str(adapter_dir)) if adapter_dir else None
    r = cfg.recipe
    dataset_name, data_file = eval_source(cfg)
    meta = {"label": label, "model": r.model_name, "adapter": str(adapter_dir) if adapter_dir else None,
            "dataset": dataset_name, "data_file": data_file,
            "split": r.eval_split, "seed": cfg.grpo.seed, "backend": policy.backend}
    tokens = r.eval_base_max_new_tokens if label == "base" and r.eval_base_max_new_tokens else r.eval_max_new_tokens
    with _adapter_off(policy) if adapter_dir is None else contextlib.nullcontext():
        summary = evaluate_policy(policy, load_eval(), fmt, out, max_new_tokens=tokens,
                                  batch_size=r.eval_batch_size, meta=meta, grader=grader_for(r.reward_funcs),
                                  samples=r.eval_samples, temperature=r.eval_temperature, top_p=r.eval_top_p)
    print(f"{label}: {result_line(summary)}", flush=True)
    return summary


def _adapter_off(policy):
    """The base stage scores the base weights: PEFT's ``disable_adapter`` where the policy has a LoRA.

    Before training the fresh LoRA's B is zero, so this changes no output (x + 0 is x), and it skips
    the adapter's small matmuls at every token: 25% of the demo's base evaluation on 2 CPU cores.
    """
    off = getattr(policy.model, "disable_adapter", None)
    return off() if off is not None else contextlib.nullcontext()
