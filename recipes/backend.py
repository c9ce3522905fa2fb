"""Which backend a run gets, which precision its GPU can train in, and Unsloth's import order.

Three facts about the pinned GPU stack (unsloth 2026.10.7) shape a run before
any model is loaded:

* Importing unsloth rewrites TRL: ``trl.GRPOConfig``/``trl.SFTConfig`` become
  Unsloth subclasses with ``unsloth_num_chunks`` and friends, and the trainers
  become Unsloth trainers whose loss reads those fields (unsloth
  ``models/rl.py`` `_patch_trl_rl_trainers`, ``models/rl_replacements.py``).
  A config object built from TRL's class *before* that import lacks them and
  the first GRPO step dies with ``AttributeError: ... unsloth_num_chunks``.
  So `resolve_backend` imports unsloth first, before anything builds a TRL
  config, whenever the run will use it.
* Unsloth loads float16 on GPUs below compute capability 8.0 (T4, V100) and
  its trainers raise ``TypeError`` when asked for bf16 there (unsloth
  ``models/rl.py``, the ``float16 and use_bf16`` check). `bf16_supported`
  asks the same question Unsloth asks (``models/_utils.py``
  ``SUPPORTS_BFLOAT16``: every visible GPU at capability >= 8), not
  ``torch.cuda.is_bf16_supported()``, which also says yes to emulated bf16.
* A CUDA build of torch needs a driver at least as new as its CUDA; with an
  older one ``torch.cuda.is_available()`` is False although ``nvidia-smi``
  lists the GPU. `choose_backend` says so instead of "no GPU found".

Nothing here imports torch, TRL or unsloth at module import.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from typing import Any

from recipes.errors import RecipeError

BACKENDS = ("auto", "unsloth", "transformers")
CPU_RECIPE_HINT = "run the CPU recipe instead: make demo (recipes/configs/grpo_smollm2_demo.yaml)"


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def bf16_supported() -> bool:
    """Unsloth's test for bfloat16: every visible GPU has compute capability >= 8.0 (Ampere or newer)."""
    import torch

    count = torch.cuda.device_count()
    return count > 0 and all(torch.cuda.get_device_capability(i)[0] >= 8 for i in range(count))


def peak_gpu_memory_gib() -> float | None:
    """Peak GPU memory torch's allocator handed out in this process (nvidia-smi shows more: its cache,
    CUDA context, and whatever vLLM allocates outside torch)."""
    import torch

    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def unsloth_installed() -> bool:
    """Whether unsloth is installed; checked without importing it (that needs a GPU)."""
    return importlib.util.find_spec("unsloth") is not None


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def nvidia_smi_sees_gpu() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "GPU" in out


def _no_cuda_reason() -> str:
    """Why torch sees no GPU, in one clause."""
    if not nvidia_smi_sees_gpu():
        return f"needs a CUDA GPU and none was found; {CPU_RECIPE_HINT}"
    try:
        import torch

        build = torch.version.cuda
    except ImportError:
        build = None
    if build is None:
        return "nvidia-smi sees a GPU but the installed torch is a CPU build; run `make setup` on this machine"
    return (f"nvidia-smi sees a GPU but torch (built for CUDA {build}) cannot use it: the NVIDIA driver "
            f"is older than CUDA {build} needs; update the driver (nvidia-smi shows its CUDA version)")


def choose_backend(requested: str, has_cuda: bool, has_unsloth: bool) -> str:
    """Resolve ``auto`` and refuse impossible requests with one clear line.

    >>> choose_backend("auto", has_cuda=False, has_unsloth=False)
    'transformers'
    >>> choose_backend("auto", has_cuda=True, has_unsloth=True)
    'unsloth'
    """
    if requested not in BACKENDS:
        raise RecipeError(f"backend: unknown {requested!r}; expected one of {', '.join(BACKENDS)}")
    if requested == "unsloth":
        if not has_cuda:
            raise RecipeError(f"backend: unsloth {_no_cuda_reason()}")
        if not has_unsloth:
            raise RecipeError("backend: unsloth is not installed; run `make setup` on the GPU machine")
        return "unsloth"
    if requested == "auto":
        return "unsloth" if has_cuda and has_unsloth else "transformers"
    return requested


def resolve_backend(requested: str) -> str:
    """`choose_backend` on this machine; imports unsloth now when it is the answer (see module doc)."""
    backend = choose_backend(requested, cuda_available(), unsloth_installed())
    if backend == "unsloth":
        import unsloth  # noqa: F401  (patches TRL's configs and trainers: before any is built)
    return backend


def resolve_for_config(requested: Any) -> tuple[str, str | None]:
    """(backend, problem): an unknown name is bad input now; unsloth without a GPU fails at load time,
    so that ``--dry-run`` can still show a GPU recipe on a laptop."""
    if requested not in BACKENDS:
        raise RecipeError(f"backend: unknown {requested!r}; expected one of {', '.join(BACKENDS)}")
    try:
        return resolve_backend(requested), None
    except RecipeError as err:
        return requested, str(err)


def set_precision(grpo: dict[str, Any]) -> None:
    """bf16/fp16 for the device at hand, unless the config chose.

    On a GPU without bfloat16 (below compute capability 8.0: T4, V100) Unsloth
    loads float16 and refuses ``bf16: true``, and TRL's default is bf16. So
    with neither key set: bf16 where the GPU has it, fp16 elsewhere; an explicit
    ``bf16: true`` there is one clear error instead of Unsloth's TypeError.
    Without a GPU: ``use_cpu`` (transformers refuses bf16 on CPU otherwise; with
    it, dry runs and CPU tests resolve the GPU configs as written).
    """
    if not cuda_available():
        grpo.setdefault("use_cpu", True)
        return
    has_bf16 = bf16_supported()
    if "bf16" not in grpo and "fp16" not in grpo:
        grpo["bf16"], grpo["fp16"] = has_bf16, not has_bf16
    elif grpo.get("bf16") and not has_bf16:
        raise RecipeError("bf16: this GPU has no bfloat16 (compute capability below 8.0, e.g. T4, V100); "
                          "remove bf16 from the config (fp16 is then chosen) or set fp16: true")
