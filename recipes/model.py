"""Load the policy a recipe trains: one entry point, two backends, one return shape.

`load_policy(spec)` returns `Policy(model, tokenizer, backend)`:

* ``unsloth`` (CUDA): Unsloth's ``FastLanguageModel`` in 4-bit (or 16-bit)
  with vLLM fast inference, then LoRA through ``get_peft_model`` with
  Unsloth's gradient checkpointing. This is the headline path of the repo.
  Trade-off: 4-bit fits Qwen3-4B GRPO on a 16 GB card; 16-bit LoRA
  (``load_in_4bit: false``) needs roughly 3x the weight memory but its vLLM
  rollouts run faster (an Unsloth PR measured 4-bit rollouts ~40% slower),
  which matters because GRPO spends most of its time generating.
* ``transformers`` (CPU, or CUDA without Unsloth): ``AutoModelForCausalLM``
  plus PEFT LoRA with the same rank/alpha/targets; optional bitsandbytes nf4.
* ``auto``: Unsloth when CUDA is present and Unsloth is installed, else
  transformers.

unsloth and vllm are imported lazily: they fail to import on a machine
without a CUDA GPU. A recipe imports unsloth even earlier, before it builds
its TRL config (``recipes.backend.resolve_backend``). Without a vLLM engine
(``fast_inference: false``, vllm missing, or a GPU Unsloth runs vLLM on
neither) the Unsloth policy generates with transformers' ``generate``.

Base models (Qwen3-4B-Base) don't follow a reasoning format out of the box,
so like Unsloth's notebook we can install a chat template per format whose
generation prompt opens the reasoning marker (``chat_template: format``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from data_prep.formats import ReasoningFormat, get_format
from recipes.backend import bf16_supported, choose_backend, cuda_available, unsloth_installed
from recipes.config import RecipeArguments
from recipes.errors import RecipeError
from recipes.packaged_models import PACKAGED_MODELS, resolve_packaged

_RECIPE = RecipeArguments()  # the one source of defaults: a spec built by hand gets the recipe's
ALL_LINEAR = tuple(_RECIPE.lora_target_modules)


@dataclass(frozen=True)
class PolicySpec:
    """Everything needed to load a policy; built from a recipe config (`recipes.run_inputs.policy_spec`)."""

    model_name: str
    backend: str = _RECIPE.backend
    load_in_4bit: bool = _RECIPE.load_in_4bit
    max_seq_length: int = _RECIPE.max_seq_length
    lora_rank: int = _RECIPE.lora_rank
    lora_alpha: int = _RECIPE.lora_alpha
    lora_dropout: float = _RECIPE.lora_dropout
    lora_target_modules: tuple[str, ...] = ALL_LINEAR
    fast_inference: bool = True  # vLLM inside Unsloth (only where vllm is installed: Unsloth raises otherwise)
    gpu_memory_utilization: float = _RECIPE.gpu_memory_utilization
    random_state: int = 3407  # GRPOConfig.seed in a recipe
    gradient_checkpointing: bool = True
    # "model": keep the tokenizer's template; "format": install the format's
    # template (base models); "auto": format template only when none exists.
    chat_template: str = _RECIPE.chat_template
    format: str = _RECIPE.format
    system_prompt: str | None = None  # the config's, when it replaces the format's (the template's default)
    trainable: bool = True  # attach a fresh LoRA adapter
    adapter: str | None = None  # load a trained adapter instead (evaluation)
    fast_cpu_generation: bool = _RECIPE.fast_cpu_generation  # recipes.cpu_generation


@dataclass
class Policy:
    model: Any
    tokenizer: Any
    backend: str
    lora_request: Any = None  # vLLM LoRARequest for fast_generate (unsloth + adapter)
    fast_cpu_generation: bool = True  # PolicySpec's: recipes.generation reads it


def resolve_model_path(model_name: str) -> str:
    """Packaged aliases become a local folder; hub ids and paths pass through."""
    if model_name in PACKAGED_MODELS:
        try:
            return str(resolve_packaged(model_name))
        except FileNotFoundError as err:
            raise RecipeError(str(err)) from None
    return model_name


def unsloth_load_kwargs(spec: PolicySpec) -> dict[str, Any]:
    """Arguments for ``FastLanguageModel.from_pretrained`` (pure: tested on CPU)."""
    return {
        "model_name": resolve_model_path(spec.model_name),
        "max_seq_length": spec.max_seq_length,
        "load_in_4bit": spec.load_in_4bit,
        "fast_inference": spec.fast_inference,
        "max_lora_rank": spec.lora_rank,
        "gpu_memory_utilization": spec.gpu_memory_utilization,
    }


def unsloth_peft_kwargs(spec: PolicySpec) -> dict[str, Any]:
    """Arguments for ``FastLanguageModel.get_peft_model`` (pure: tested on CPU)."""
    return {
        "r": spec.lora_rank,
        "lora_alpha": spec.lora_alpha,
        "lora_dropout": spec.lora_dropout,
        "target_modules": list(spec.lora_target_modules),
        "use_gradient_checkpointing": "unsloth" if spec.gradient_checkpointing else False,
        "random_state": spec.random_state,
    }


def lora_config(spec: PolicySpec):
    """PEFT LoRA config with the same settings Unsloth gets."""
    from peft import LoraConfig

    return LoraConfig(
        r=spec.lora_rank,
        lora_alpha=spec.lora_alpha,
        lora_dropout=spec.lora_dropout,
        target_modules=list(spec.lora_target_modules),
        task_type="CAUSAL_LM",
    )


def format_chat_template(fmt: ReasoningFormat) -> str:
    """Jinja chat template for a base model, in the style of Unsloth's Qwen3 GRPO notebook.

    System prompt (the format's when none is given) + eos, user text, then the
    assistant text + eos; the generation prompt opens the reasoning marker so
    the model starts reasoning at once.
    """
    # json.dumps quotes and escapes (backslashes of \\boxed, newlines of xml) as Jinja string literals.
    system, opener = json.dumps(fmt.system_prompt), json.dumps(fmt.generation_prefix)
    return (
        "{% if messages[0]['role'] == 'system' %}"
        "{{ messages[0]['content'] + eos_token }}{% set loop_messages = messages[1:] %}"
        f"{{% else %}}{{{{ {system} + eos_token }}}}{{% set loop_messages = messages %}}"
        "{% endif %}"
        "{% for message in loop_messages %}"
        "{% if message['role'] == 'user' %}{{ message['content'] }}"
        "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
        "{% endif %}{% endfor %}"
        f"{{% if add_generation_prompt %}}{{{{ {opener} }}}}{{% endif %}}"
    )


def apply_chat_template_choice(tokenizer: Any, spec: PolicySpec) -> None:
    if spec.chat_template not in ("auto", "model", "format"):
        raise RecipeError(f"chat_template: expected auto, model or format, got {spec.chat_template!r}")
    if spec.chat_template == "format" or (spec.chat_template == "auto" and not tokenizer.chat_template):
        tokenizer.chat_template = format_chat_template(get_format(spec.format, spec.system_prompt))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


def has_vllm_engine(model: Any) -> bool:
    """Whether Unsloth built a vLLM engine for this model (``fast_inference`` on, vLLM usable here).

    ``fast_generate(..., sampling_params=)`` and ``load_lora`` exist only then
    (unsloth ``models/llama.py`` sets ``vllm_engine``; ``models/_utils.py``
    ``patch_peft_fast_inference`` adds ``load_lora`` only with an engine).
    """
    return getattr(model, "vllm_engine", None) is not None


def load_adapter_weights(model: Any, adapter_dir: str | Path) -> None:
    """Copy a saved LoRA adapter's weights into a PEFT model that has the same LoRA layout."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(model, load_file(str(Path(adapter_dir) / "adapter_model.safetensors")))


def load_policy(spec: PolicySpec) -> Policy:
    backend = choose_backend(spec.backend, cuda_available(), unsloth_installed())
    if spec.adapter is not None and not (Path(spec.adapter) / "adapter_config.json").is_file():
        raise RecipeError(f"adapter: {spec.adapter} has no adapter_config.json (expected RUN_DIR/adapter)")
    loader = _load_unsloth if backend == "unsloth" else _load_transformers
    return replace(loader(spec), fast_cpu_generation=spec.fast_cpu_generation)


def _load_unsloth(spec: PolicySpec) -> Policy:
    from unsloth import FastLanguageModel  # noqa: I001  (must precede trl/transformers patches)

    model, tokenizer = FastLanguageModel.from_pretrained(**unsloth_load_kwargs(spec))
    apply_chat_template_choice(tokenizer, spec)
    if spec.fast_inference and not has_vllm_engine(model):
        print("Unsloth built no vLLM engine (vllm missing or unsupported on this GPU): "
              "generation falls back to transformers' generate, which is slower")
    lora_request = None
    if spec.trainable or spec.adapter:
        model = FastLanguageModel.get_peft_model(model, **unsloth_peft_kwargs(spec))
    if spec.adapter:
        if has_vllm_engine(model):
            # vLLM serves the base weights; the trained adapter rides along per request.
            lora_request = model.load_lora(spec.adapter)
        else:
            load_adapter_weights(model, spec.adapter)
    return Policy(model, tokenizer, "unsloth", lora_request)


def transformers_device_map() -> Any:
    """Where the transformers backend puts the weights.

    One process: ``auto`` (spread over the visible GPUs). Under ``accelerate
    launch``: each rank's whole model on its own GPU (accelerate refuses a
    model spread over several GPUs in distributed training), and no map at all
    under DeepSpeed ZeRO-3, which partitions the weights itself and refuses one.
    """
    from accelerate import PartialState
    from transformers.integrations import is_deepspeed_zero3_enabled

    state = PartialState()
    if state.num_processes == 1:
        return "auto"
    if is_deepspeed_zero3_enabled():
        return None
    return {"": state.local_process_index}


def _load_transformers(spec: PolicySpec) -> Policy:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_path(spec.model_name)
    on_cuda = cuda_available()
    gpu_dtype = torch.bfloat16 if on_cuda and bf16_supported() else torch.float16
    kwargs: dict[str, Any] = {"dtype": gpu_dtype if on_cuda else torch.float32}
    if spec.load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=kwargs["dtype"],
        )
    if on_cuda:
        kwargs["device_map"] = transformers_device_map()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as err:
        raise RecipeError(f"model_name: cannot load {spec.model_name!r}: {str(err).splitlines()[0]}") from None
    apply_chat_template_choice(tokenizer, spec)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    if spec.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, spec.adapter, is_trainable=spec.trainable)
    elif spec.trainable:
        from peft import get_peft_model, prepare_model_for_kbit_training

        if spec.load_in_4bit:
            model = prepare_model_for_kbit_training(
                model, use_gradient_checkpointing=spec.gradient_checkpointing
            )
        # LoRA's A matrices start random. Unsloth's get_peft_model seeds with random_state first
        # (transformers' set_seed; unsloth 2026.10.7 models/llama.py); without it every run started
        # its priming from a different adapter.
        from transformers import set_seed

        set_seed(spec.random_state)
        model = get_peft_model(model, lora_config(spec))
    return Policy(model, tokenizer, "transformers")
