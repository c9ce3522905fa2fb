"""One meaning per YAML on every machine: a key the YAML leaves out gets TRL's default, under Unsloth too.

Importing unsloth replaces ``trl.GRPOConfig`` (and SFT's, DPO's) with a class
whose hand-written ``__init__`` has other defaults (unsloth 2026.10.7
``models/rl.py``, the generated ``Unsloth<X>Config.__init__``):
``gradient_accumulation_steps`` 2, ``learning_rate`` 5e-5, ``warmup_steps``
0.1, ``optim`` adamw_8bit, ``weight_decay`` 0.001, ``seed`` 3407,
``per_device_train_batch_size`` 4, ... An explicit ``loss_type: dapo`` there
also turns on ``mask_truncated_completions`` and ``epsilon_high`` 0.28 (TRL: off, and
``epsilon``). So the
same YAML would train twice the prompts per step, at another learning rate,
on a GPU than in the CPU dry run and tests, which build TRL's own class.

`build_like_trl` builds the config with the class it is given and, where that
is Unsloth's, compares every field with what TRL's class makes of the same
values; each difference on a key the YAML did not set is passed back as TRL's
value. Keys that do not change what is trained stay Unsloth's
(`LEFT_TO_UNSLOTH`). tests/unsloth_real checks every shipped config against the
real generated classes.

>>> import trl
>>> build_like_trl(trl.GRPOConfig, {"output_dir": "x", "use_cpu": True}).gradient_accumulation_steps
1
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from typing import Any

# Unsloth's value is kept where it does not change what is trained: precision (recipes.backend.set_precision
# decides it), memory, logging, evaluation-loop and preprocessing knobs, the MoE-only aux loss, its reentrant
# gradient checkpointing, vLLM's spelling of "top_k off" (-1; a run without an engine resets it:
# recipes.trainer_setup) and the importance-sampling switch of its own vLLM rollouts.
# ``generation_batch_size``/``steps_per_generation`` follow from the batch keys.
LEFT_TO_UNSLOTH = frozenset({
    "bf16", "fp16", "torch_empty_cache_steps", "logging_steps", "logging_nan_inf_filter",
    "include_num_input_tokens_seen", "per_device_eval_batch_size", "eval_accumulation_steps",
    "router_aux_loss_coef", "generation_kwargs", "top_k", "vllm_importance_sampling_correction",
    "padding_free", "dataset_num_proc", "gradient_checkpointing_kwargs",
    "generation_batch_size", "steps_per_generation",
})


# A None that Unsloth's __init__ would fill in again, spelled as the value TRL's trainer reads it as
# (trl grpo_trainer.py: ``args.epsilon_high if args.epsilon_high is not None else args.epsilon``).
NONE_MEANS = {"epsilon_high": "epsilon"}


def trl_class_under(cls: type) -> type:
    """The TRL class a config class stands for: itself, or the TRL class Unsloth's subclasses.

    Unsloth's generated class takes its parent's module and name (unsloth ``models/rl.py``
    ``_patch_config_pickle_identity``), so the parent is the base of the same name in ``trl``.
    """
    for base in cls.__mro__[1:]:
        if base.__name__ == cls.__name__ and base.__module__.startswith("trl."):
            return base
    return cls


def build_like_trl(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)`` whose fields equal what TRL's own class makes of ``values``, except `LEFT_TO_UNSLOTH`.

    TRL's class is built first, so its ``ValueError`` (say, a generation batch that
    ``num_generations`` does not divide) comes before Unsloth quietly resizes the batch.
    Unsloth's class is built twice: a silent probe (its notices, like "we will set
    mask_truncated_completions", may not hold once TRL's values are passed), then the config.
    """
    trl_cls = trl_class_under(cls)
    reference = _trl_reference(trl_cls, values)
    if trl_cls is cls:
        return reference
    with contextlib.redirect_stdout(io.StringIO()):
        probe = cls(**values)
    pins = {f.name: getattr(reference, f.name) for f in dataclasses.fields(trl_cls)
            if f.init and f.name not in values and f.name not in LEFT_TO_UNSLOTH
            and getattr(probe, f.name) != getattr(reference, f.name)}
    for name, meaning in NONE_MEANS.items():
        if name in pins and pins[name] is None:
            pins[name] = getattr(reference, meaning)
    return cls(**values, **pins)


def differences(config: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """field -> (TRL's value, this config's) where ``config`` and TRL's class disagree on ``values``."""
    trl_cls = trl_class_under(type(config))
    reference = _trl_reference(trl_cls, values)

    def trained_as(cfg, name):
        value = getattr(cfg, name)
        return getattr(cfg, NONE_MEANS[name]) if value is None and name in NONE_MEANS else value

    return {f.name: (getattr(reference, f.name), getattr(config, f.name)) for f in dataclasses.fields(trl_cls)
            if f.init and trained_as(config, f.name) != trained_as(reference, f.name)}


def _trl_reference(trl_cls: type, values: dict[str, Any]) -> Any:
    """TRL's class on ``values``, less the keys only Unsloth's class has (``unsloth_num_chunks``, ...)."""
    names = {f.name for f in dataclasses.fields(trl_cls) if f.init}
    return trl_cls(**{k: v for k, v in values.items() if k in names})
