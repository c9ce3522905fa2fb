"""The model card of a trained run (GRPO, SFT or DPO): what it was trained from, how, on what, what it measured.

TRL's trainers write a generic card ("fine-tuned version of [None]"); this one is
rendered by ``huggingface_hub.ModelCard`` from the run's resolved config and
summary, so the Hub page of an exported model names the real base model, the
recipe, the data and the accuracy the run measured (and only that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recipes.packaged_models import PACKAGED_MODELS

TEMPLATE = Path(__file__).parent / "templates" / "model_card.md"


def model_card(config: dict[str, Any], summary: dict[str, Any], *, merged: bool) -> str:
    """A Hub model card (YAML metadata + text) with the run's base, recipe, data and measured numbers."""
    from huggingface_hub import ModelCard, ModelCardData

    base, packaged = config.get("model_name", "unknown"), ""
    if base in PACKAGED_MODELS:  # the demo's alias: name the Hub model the package carries
        model = PACKAGED_MODELS[base]
        base = model.hub_id or base
        packaged = f" (dequantized from the {model.gguf_name} that pip package {model.package} ships)"
    method = summary.get("recipe", "grpo")  # recipes.grpo, recipes.sft or recipes.dpo made the run
    tags = [method, "trl", "lora"] + (["reasoning"] if method != "dpo" else [])
    data = ModelCardData(base_model=base, library_name="transformers" if merged else "peft",
                         tags=tags, pipeline_tag="text-generation")
    card = ModelCard.from_template(
        data, template_path=str(TEMPLATE), base=base, packaged=packaged, merged=merged,
        run_name=config.get("run_name", f"{method.upper()} run"), method=method, beta=config.get("beta"),
        old_name=config.get("old_name"), new_name=config.get("new_name"), identity=summary.get("identity"),
        chat=bool((config.get("sft_prime") or {}).get("chat_dataset")), recipe=Path(config.get("config_file", "?")).name,
        primed=bool(config.get("sft_prime")), steps=summary.get("steps", config.get("max_steps")),
        generations=config.get("num_generations"), rewards=", ".join(config.get("reward_funcs") or []),
        dataset=config.get("dataset", "?"), format=config.get("format", "?"),
        stages=summary.get("stages") or {}, eval_n=next(iter((summary.get("stages") or {}).values()), {}).get("n"),
        eval_dataset=config.get("eval_dataset") or config.get("dataset", "?"),
        eval_split=config.get("eval_split", "test"),
    )
    return str(card)
