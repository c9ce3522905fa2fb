"""CPU stand-ins for the two pieces of unsloth 2026.10.7 that need CUDA: loading and the vLLM engine.

Everything else in tests/unsloth_real is Unsloth's real code (its generated
trainers and configs). These replace ``unsloth.FastLanguageModel`` for a test
(the ``fake_cuda`` fixture); each piece names the file of the pinned wheels it
mirrors (`pip download --no-deps unsloth==2026.10.7 unsloth_zoo==2026.10.7`):

* ``FastLanguageModel.from_pretrained`` (unsloth/models/loader.py): dtype None ->
  bfloat16 where every GPU has compute capability >= 8, else float16
  (unsloth/models/_utils.py ``SUPPORTS_BFLOAT16``); ``fast_inference=True`` needs
  vllm installed (loader.py: "Please install vLLM before enabling
  `fast_inference`!") and then sets ``vllm_engine`` and ``fast_generate =
  vllm_engine.generate`` (llama.py); without it ``fast_generate`` wraps HF generate
  and raises ``ValueError`` for ``sampling_params`` (_utils.py
  ``make_fast_generate_wrapper``). It binds Unsloth's real ``for_training`` /
  ``for_inference`` onto the model, as llama.py does after loading.
* ``get_peft_model`` (llama.py signature): the real one refuses to run unless
  ``from_pretrained`` patched transformers' training loop on a GPU (llama.py
  ``patch_peft_model``: "Unsuccessfully patched Trainer"), so PEFT's LoRA stands in.
  It keeps the engine and adds ``load_lora`` only with an engine (_utils.py
  ``patch_peft_fast_inference``); ``load_lora`` raises OSError for a missing folder
  and returns a ``LoRARequest`` (unsloth_zoo/vllm_utils.py ``load_lora``).
* The engine's ``generate(prompts, sampling_params=, use_tqdm=, lora_request=)``
  (vllm/entrypoints/llm.py) serves the *base* weights unless a LoRA request names
  an adapter folder or was built from the live model's tensors; text prompts are tokenized with special tokens
  (vllm/renderers/params.py ``add_special_tokens=True``), ``{"prompt_token_ids": ...}``
  prompts are used as given.
* ``save_pretrained_merged`` (unsloth/save.py) merges and saves;
  ``save_pretrained_gguf`` only records (the real one needs a built llama.cpp,
  which `recipes.export` checks for first with unsloth_zoo's own ``check_llama_cpp``).

Deviation, because this runs on a CPU: weights stay float32; the dtype Unsloth
would load is recorded in ``model.config.dtype``, which is what its trainers'
precision check reads. ``CALLS`` records what the repo called.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import torch

CALLS: list[tuple[str, Any]] = []


def _supports_bfloat16() -> bool:
    # unsloth/models/_utils.py: SUPPORTS_BFLOAT16 = all(major >= 8 for each visible GPU)
    count = torch.cuda.device_count()
    return count > 0 and all(torch.cuda.get_device_capability(i)[0] >= 8 for i in range(count))


def _bind_training_modes(model) -> None:
    """llama.py after loading: Unsloth's real for_training/for_inference on the model and each .model below."""
    from unsloth.models.llama import FastLlamaModel
    from unsloth.models.vision import FastBaseModel

    model.for_training = functools.partial(FastLlamaModel.for_training, model)
    model.for_inference = functools.partial(FastLlamaModel.for_inference, model)
    m = model
    while hasattr(m, "model"):
        m.for_training = functools.partial(FastBaseModel.for_training, m)
        m.for_inference = functools.partial(FastBaseModel.for_inference, m)
        m = m.model


# ------------------------------------------------------------------ the vLLM engine (vllm/entrypoints/llm.py)

class FakeLLM:
    """Generates with the training model: base weights, the live adapter, or the adapter folder a request names.

    ``generate`` returns vLLM's shapes (vllm/outputs.py ``RequestOutput`` with ``prompt_token_ids``
    and ``outputs``, each a ``CompletionOutput`` with ``text``, ``token_ids`` and, when
    ``sampling_params.logprobs`` is set, per-token ``{token_id: Logprob}``; vllm/logprobs.py),
    which is what TRL's ``VLLMGeneration.generate`` reads (trl/generation/vllm_generation.py).
    """

    shared_weights = True  # llama.py: Unsloth's engine serves the training model's own weights (LoRA rides along)

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer
        self.prompts_seen: list[list[int]] = []

    def generate(self, prompts, sampling_params=None, use_tqdm=True, lora_request=None):
        from vllm import SamplingParams
        from vllm.outputs import CompletionOutput, RequestOutput

        params = sampling_params or SamplingParams()
        CALLS.append(("fast_generate", {"lora_path": getattr(lora_request, "lora_path", None),
                                        "n_prompts": len(prompts),
                                        "text_prompts": sum(isinstance(p, str) for p in prompts)}))
        outputs = []
        for prompt in prompts:
            if isinstance(prompt, str):  # vllm/renderers/params.py: add_special_tokens=True for text
                ids = self.tokenizer(prompt, add_special_tokens=True)["input_ids"]
            else:
                ids = list(prompt["prompt_token_ids"])
            self.prompts_seen.append(ids)
            completions = []
            for index in range(params.n):  # vllm RequestOutput.outputs: n CompletionOutputs
                new, logprobs = self._generate(ids, params, lora_request)
                completions.append(CompletionOutput(index=index, text=self.tokenizer.decode(new, skip_special_tokens=True),
                                                    token_ids=new, logprobs=logprobs))
            outputs.append(RequestOutput(prompt_token_ids=ids, outputs=completions))
        return outputs

    def _generate(self, ids: list[int], params, lora_request):
        from vllm.logprobs import Logprob

        kwargs = {"max_new_tokens": params.max_tokens or 16, "pad_token_id": self.tokenizer.pad_token_id,
                  "output_scores": params.logprobs is not None, "return_dict_in_generate": True}
        if params.temperature == 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p,
                          top_k=params.top_k if params.top_k > 0 else None, min_p=params.min_p or None,
                          repetition_penalty=params.repetition_penalty)
        batch = torch.tensor([ids])
        with torch.inference_mode(), self._weights(lora_request):
            out = self.model.generate(input_ids=batch, **kwargs)
        new = out.sequences[0, len(ids):].tolist()
        eos = self.tokenizer.eos_token_id
        keep = new.index(eos) + 1 if eos in new else len(new)
        logprobs = None
        if params.logprobs is not None:  # the sampled token's logprob under the processed distribution, rank 1
            logprobs = [{tok: Logprob(logprob=float(torch.log_softmax(score[0].float(), -1)[tok]), rank=1)}
                        for tok, score in zip(new[:keep], out.scores, strict=False)]
        return new[:keep], logprobs

    def _weights(self, lora_request):
        """vLLM serves the base weights; a LoRA request adds the live adapter or one read from its folder."""
        import contextlib

        from peft import get_peft_model_state_dict, set_peft_model_state_dict
        from safetensors.torch import load_file

        model = self.model
        if lora_request is None:
            return model.disable_adapter() if hasattr(model, "disable_adapter") else contextlib.nullcontext()
        if lora_request.lora_int_id in _LIVE_REQUESTS:  # load_lora(load_tensors=True): the training weights
            return contextlib.nullcontext()

        @contextlib.contextmanager
        def from_folder():
            live = {k: v.clone() for k, v in get_peft_model_state_dict(model).items()}
            set_peft_model_state_dict(model, load_file(str(Path(lora_request.lora_path) / "adapter_model.safetensors")))
            try:
                yield
            finally:
                set_peft_model_state_dict(model, live)

        return from_folder()


def _fast_generate_without_vllm(model):
    """_utils.py make_fast_generate_wrapper: HF generate, refusing vLLM-style sampling_params."""
    def fast_generate(*args, **kwargs):
        if "sampling_params" in kwargs:
            raise ValueError("Unsloth: `sampling_params` is only supported when `fast_inference=True` (vLLM).")
        return model.generate(*args, **kwargs)
    return fast_generate


_LORA_REQUEST_ID = [1]
_LIVE_REQUESTS: set[int] = set()  # requests built from the model's tensors, not from a folder


def load_lora(model, save_directory, load_tensors=False, lora_request_id=None):
    """unsloth_zoo/vllm_utils.py load_lora -> _build_lora_request (``load_tensors``: the model's live LoRA)."""
    from vllm.lora.request import LoRARequest

    if not load_tensors and not Path(save_directory).exists():
        raise OSError(f"Unsloth: LoRA filepath = {save_directory} does not exist!")
    request_id = lora_request_id or _LORA_REQUEST_ID[0]
    _LORA_REQUEST_ID[0] += 1
    CALLS.append(("load_lora", {"path": str(save_directory), "load_tensors": load_tensors}))
    if load_tensors:
        _LIVE_REQUESTS.add(request_id)
    return LoRARequest(str(request_id), request_id, lora_path=str(save_directory))


# ------------------------------------------------------------------ saving (unsloth/save.py)

def save_pretrained_merged(model, save_directory, tokenizer=None, save_method="merged_16bit", push_to_hub=False,
                           token=None, **kwargs):
    """save.py unsloth_save_pretrained_merged: 'lora', 'merged_16bit' or 'merged_4bit' into save_directory."""
    import copy

    if save_method not in ("lora", "merged_16bit", "merged_4bit"):
        raise RuntimeError(f"Unsloth: save_method = {save_method} is not supported")
    CALLS.append(("save_pretrained_merged", {"save_method": save_method, "save_directory": str(save_directory)}))
    merged = copy.deepcopy(model).merge_and_unload()
    merged.save_pretrained(save_directory)
    if tokenizer is not None:
        tokenizer.save_pretrained(save_directory)


def save_pretrained_gguf(model, save_directory, tokenizer=None, quantization_method="fast_quantized", **kwargs):
    """save.py unsloth_save_pretrained_gguf: the real one builds llama.cpp and converts; the fake only records."""
    CALLS.append(("save_pretrained_gguf", {"quantization_method": quantization_method,
                                           "save_directory": str(save_directory)}))


# ------------------------------------------------------------------ FastLanguageModel (loader.py, llama.py)

_FROM_PRETRAINED_PARAMS = (  # loader.py FastLanguageModel.from_pretrained, named parameters
    "model_name", "max_seq_length", "dtype", "load_in_4bit", "load_in_8bit", "load_in_16bit",
    "full_finetuning", "token", "device_map", "rope_scaling", "fix_tokenizer", "trust_remote_code",
    "use_gradient_checkpointing", "resize_model_vocab", "revision", "use_exact_model_name",
    "fast_inference", "gpu_memory_utilization", "float8_kv_cache", "random_state", "max_lora_rank",
    "disable_log_stats", "qat_scheme", "load_in_fp8", "unsloth_tiled_mlp", "text_only",
)
_GET_PEFT_PARAMS = (  # llama.py FastLlamaModel.get_peft_model
    "r", "target_modules", "lora_alpha", "lora_dropout", "bias", "layers_to_transform", "layers_pattern",
    "finetune_last_n_layers", "use_gradient_checkpointing", "random_state", "max_seq_length", "use_rslora",
    "modules_to_save", "init_lora_weights", "loftq_config", "temporary_location", "qat_scheme",
    "target_parameters", "ensure_weight_tying", "offload_layers", "checkpoint_skip_layers",
)


class FastLanguageModel:
    @staticmethod
    def from_pretrained(model_name="unsloth/Llama-3.2-1B-Instruct", max_seq_length=2048, dtype=None,
                        load_in_4bit=True, fast_inference=False, gpu_memory_utilization=0.5,
                        max_lora_rank=64, **kwargs):
        unknown = sorted(set(kwargs) - set(_FROM_PRETRAINED_PARAMS))
        if unknown:
            raise TypeError(f"fake unsloth: from_pretrained got {unknown}, not in the pinned signature")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if fast_inference and importlib.util.find_spec("vllm") is None:
            raise ImportError("Unsloth: Please install vLLM before enabling `fast_inference`!")
        if dtype is None:
            dtype = torch.bfloat16 if _supports_bfloat16() else torch.float16
        CALLS.append(("from_pretrained", {"model_name": model_name, "load_in_4bit": load_in_4bit,
                                          "fast_inference": fast_inference, "dtype": str(dtype),
                                          "gpu_memory_utilization": gpu_memory_utilization}))
        tokenizer = AutoTokenizer.from_pretrained(model_name)
        model = AutoModelForCausalLM.from_pretrained(model_name, dtype=torch.float32)
        model.config.dtype = dtype  # CPU deviation: weights stay fp32; the declared dtype is what Unsloth checks
        model.max_seq_length = max_seq_length  # llama.py
        _bind_training_modes(model)
        if fast_inference:
            model.vllm_engine = FakeLLM(model, tokenizer)
            model.fast_generate = model.vllm_engine.generate
        else:
            model.fast_generate = _fast_generate_without_vllm(model)
        return model, tokenizer

    @staticmethod
    def get_peft_model(model, r=16, target_modules=None, lora_alpha=16, lora_dropout=0.0,
                       use_gradient_checkpointing="unsloth", random_state=3407, **kwargs):
        unknown = sorted(set(kwargs) - set(_GET_PEFT_PARAMS))
        if unknown:
            raise TypeError(f"fake unsloth: get_peft_model got {unknown}, not in the pinned signature")
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(random_state)
        engine = getattr(model, "vllm_engine", None)
        peft_model = get_peft_model(model, LoraConfig(r=r, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
                                                      target_modules=target_modules, task_type="CAUSAL_LM"))
        CALLS.append(("get_peft_model", {"r": r, "lora_alpha": lora_alpha,
                                         "use_gradient_checkpointing": use_gradient_checkpointing}))
        _bind_training_modes(peft_model)  # llama.py get_peft_model, after PEFT wrapped the model
        # save.py: saving methods bound onto the model (unsloth_generic_save_pretrained_merged, ..._gguf)
        peft_model.save_pretrained_merged = lambda *a, **kw: save_pretrained_merged(peft_model, *a, **kw)
        peft_model.save_pretrained_gguf = lambda *a, **kw: save_pretrained_gguf(peft_model, *a, **kw)
        if engine is not None:  # _utils.py patch_peft_fast_inference
            engine.model = peft_model
            peft_model.vllm_engine = engine
            peft_model.fast_generate = engine.generate
            peft_model.load_lora = lambda save_directory, **kw: load_lora(peft_model, save_directory, **kw)
        return peft_model

