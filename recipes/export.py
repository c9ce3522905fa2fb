"""Export a run's LoRA adapter as a standalone model: merged 16-bit weights, optional GGUF, optional Hub upload.

    python -m recipes.export runs/grpo_smollm2_demo --merged 16bit --out exports/demo \\
        [--gguf q4_k_m] [--push-to-hub USER/NAME [--private]]

Merging folds each LoRA update into its base weight (W + alpha/r * B A), so the
result loads with plain ``AutoModelForCausalLM.from_pretrained(DIR)``, no PEFT,
and answers exactly as the adapter on its base does. The run's ``config.yaml``
says which base, backend and chat template the adapter was trained with; the
exported tokenizer keeps that chat template.

* transformers backend (CPU or CUDA): PEFT ``merge_and_unload`` on a 16-bit
  (bf16 on GPU, fp32 on CPU) copy of the base, then ``save_pretrained``.
* Unsloth backend: Unsloth's ``save_pretrained_merged(save_method="merged_16bit")``
  (it dequantizes a 4-bit base before merging) and, with ``--gguf``,
  ``save_pretrained_gguf``, which needs a built llama.cpp (checked first).
  GGUF is only offered there; elsewhere ``--gguf`` is one line saying what is needed.

The folder gets a model card (``README.md``) naming the real base model, the
recipe, the data and the run's measured before/after accuracy; the same card is
written into ``RUN_DIR/adapter/`` (TRL's own card there says "fine-tuned version
of [None]"). ``--push-to-hub`` uploads the folder with ``huggingface_hub``
(``create_repo`` + ``upload_folder``; the token comes from ``huggingface-cli
login`` or ``HF_TOKEN``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from recipes.backend import resolve_backend
from recipes.errors import RecipeError, run_cli
from recipes.model import PolicySpec, load_policy
from recipes.model_card import model_card

GGUF_ELSEWHERE = ("gguf: GGUF export goes through Unsloth's save_pretrained_gguf, which needs the unsloth backend "
                  "(a CUDA GPU and `make setup`); here, convert the merged folder with llama.cpp's "
                  "convert_hf_to_gguf.py")


def check_llama_cpp_built() -> None:
    """Unsloth's ``save_pretrained_gguf`` needs a built llama.cpp; without one it clones and builds it.

    Offline, or without a C++ toolchain, that fails deep inside Unsloth after the merge.
    unsloth_zoo's own ``check_llama_cpp`` (``llama_cpp.py``) looks where Unsloth will look:
    ``UNSLOTH_LLAMA_CPP_PATH``, else ``~/.unsloth/llama.cpp``, for ``llama-quantize`` and
    ``convert_hf_to_gguf.py``.
    """
    from unsloth_zoo import llama_cpp

    folder = llama_cpp.LLAMA_CPP_DEFAULT_DIR
    try:
        llama_cpp.check_llama_cpp(folder)
    except Exception:  # noqa: BLE001  (RuntimeError today; any failure means the same to the user)
        raise RecipeError(f"gguf: needs a built llama.cpp (llama-quantize and convert_hf_to_gguf.py) in {folder} "
                          "or UNSLOTH_LLAMA_CPP_PATH: build llama.cpp there, "
                          "or export without --gguf") from None


def read_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config.yaml, summary.json) of a finished run; one clear line when it is not one."""
    config, adapter = run_dir / "config.yaml", run_dir / "adapter" / "adapter_config.json"
    if not config.is_file() or not adapter.is_file():
        raise RecipeError(f"run_dir: {run_dir} is not a finished run (expected config.yaml and "
                          "adapter/adapter_config.json, as python -m recipes.grpo writes them)")
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    return yaml.safe_load(config.read_text()) or {}, summary


def hub_upload(api, repo_id: str, folder: Path, *, private: bool) -> str:
    """Create (or reuse) ``repo_id`` and upload ``folder``; returns the repo URL."""
    url = api.create_repo(repo_id=repo_id, private=private, exist_ok=True, repo_type="model")
    api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="model",
                      commit_message="Upload model exported by recipes.export")
    return str(url)


def export_merged(run_dir: Path, out: Path, *, gguf: str | None = None) -> dict[str, Any]:
    config, summary = read_run(run_dir)
    backend = resolve_backend(config.get("backend", "auto"))
    if gguf and backend != "unsloth":
        raise RecipeError(GGUF_ELSEWHERE)
    if gguf:
        check_llama_cpp_built()  # before the merge: the GGUF step would otherwise fail after it
    spec = PolicySpec(
        # transformers: merging into 4-bit weights would round the update away, so a 16-bit base.
        model_name=config["model_name"], backend=backend,
        load_in_4bit=backend == "unsloth" and bool(config.get("load_in_4bit", False)),
        max_seq_length=int(config.get("max_seq_length", PolicySpec.max_seq_length)),
        lora_rank=int(config.get("lora_rank", PolicySpec.lora_rank)),
        lora_alpha=int(config.get("lora_alpha", PolicySpec.lora_alpha)),
        lora_target_modules=tuple(config.get("lora_target_modules") or PolicySpec.lora_target_modules),
        chat_template=config.get("chat_template", "auto"), format=config.get("format", "unsloth"),
        system_prompt=config.get("system_prompt"),
        trainable=False, adapter=str(run_dir / "adapter"), fast_inference=False,
    )
    policy = load_policy(spec)
    out.mkdir(parents=True, exist_ok=True)
    if backend == "unsloth":
        policy.model.save_pretrained_merged(str(out), policy.tokenizer, save_method="merged_16bit")
        if gguf:
            policy.model.save_pretrained_gguf(str(out / "gguf"), policy.tokenizer, quantization_method=gguf)
    else:
        merged = policy.model.merge_and_unload()
        merged.save_pretrained(str(out))
        policy.tokenizer.save_pretrained(str(out))
    (out / "README.md").write_text(model_card(config, summary, merged=True))
    (run_dir / "adapter" / "README.md").write_text(model_card(config, summary, merged=False))
    return {"out": str(out), "backend": backend, "base": config["model_name"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m recipes.export", description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path, help="runs/<run_name> of a finished run")
    p.add_argument("--merged", choices=["16bit"], default="16bit", help="merged weights precision")
    p.add_argument("--out", type=Path, required=True, help="folder for the merged model")
    p.add_argument("--gguf", metavar="QUANT", help="also a GGUF (e.g. q4_k_m, q8_0); Unsloth backend only")
    p.add_argument("--push-to-hub", metavar="REPO", help="upload the folder to this Hub repo (USER/NAME)")
    p.add_argument("--private", action="store_true", help="create the Hub repo private")
    args = p.parse_args(argv)
    if args.push_to_hub and args.push_to_hub.count("/") != 1:
        raise RecipeError(f"push-to-hub: expected USER/NAME, got {args.push_to_hub!r}")
    done = export_merged(args.run_dir, args.out, gguf=args.gguf)
    print(f"merged {done['base']} + {args.run_dir / 'adapter'} -> {args.out} ({done['backend']}); "
          f"load it with AutoModelForCausalLM.from_pretrained({str(args.out)!r})")
    if args.push_to_hub:
        from huggingface_hub import HfApi

        print(f"uploaded: {hub_upload(HfApi(), args.push_to_hub, args.out, private=args.private)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
