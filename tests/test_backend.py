"""Backend and device: which backend a run gets, bf16 as Unsloth decides it, a driver too old said plainly."""

from __future__ import annotations

import pytest

import recipes.backend as backend
from recipes.backend import bf16_supported, choose_backend
from recipes.errors import RecipeError


@pytest.mark.parametrize(
    ("requested", "cuda", "unsloth", "expected"),
    [
        ("auto", False, False, "transformers"),
        ("auto", False, True, "transformers"),
        ("auto", True, False, "transformers"),
        ("auto", True, True, "unsloth"),
        ("transformers", True, True, "transformers"),
        ("unsloth", True, True, "unsloth"),
    ],
)
def test_backend_choice(requested, cuda, unsloth, expected):
    assert choose_backend(requested, cuda, unsloth) == expected


def test_unsloth_without_gpu_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(backend, "nvidia_smi_sees_gpu", lambda: False)
    with pytest.raises(RecipeError) as err:
        choose_backend("unsloth", has_cuda=False, has_unsloth=False)
    message = str(err.value)
    assert "CUDA GPU" in message and "make demo" in message and "\n" not in message


def test_gpu_that_torch_cannot_use_names_the_driver(monkeypatch):
    import torch

    monkeypatch.setattr(backend, "nvidia_smi_sees_gpu", lambda: True)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    with pytest.raises(RecipeError, match=r"^backend: unsloth nvidia-smi sees a GPU but torch \(built for CUDA 13.0\)"
                                          r".*driver"):
        choose_backend("unsloth", has_cuda=False, has_unsloth=True)
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(RecipeError, match="CPU build"):
        choose_backend("unsloth", has_cuda=False, has_unsloth=True)


def test_unknown_backend_rejected():
    with pytest.raises(RecipeError, match="backend: unknown 'tpu'"):
        choose_backend("tpu", True, True)


@pytest.mark.parametrize(("capabilities", "expected"), [
    ([(8, 0)], True), ([(9, 0)], True), ([(7, 5)], False), ([(7, 0)], False), ([(8, 6), (7, 5)], False), ([], False),
], ids=["a100", "h100", "t4", "v100", "mixed", "none"])
def test_bf16_is_unsloths_test_every_gpu_ampere_or_newer(monkeypatch, capabilities, expected):
    # unsloth/models/_utils.py SUPPORTS_BFLOAT16; torch.cuda.is_bf16_supported() also says yes to emulation.
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(capabilities))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=0: capabilities[i])
    assert bf16_supported() is expected
