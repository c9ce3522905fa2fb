"""Every CLI imports unsloth before transformers, peft and trl when the run will use Unsloth.

Unsloth patches those three libraries when it is imported; imported after them it warns
that "Your code may run slower or encounter memory issues" (unsloth 2026.10.7
``_gpu_init.py``: ``critical_modules = ["trl", "transformers", "peft"]``). Each CLI runs
in a fresh interpreter that looks like a CUDA machine with unsloth installed to the
repo's probes; the import of unsloth itself is intercepted, and at that instant the
child prints which of the three are already loaded and exits.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO

CRITICAL = ("trl", "transformers", "peft")

HARNESS = """
import importlib.abc, importlib.machinery, json, os, runpy, sys

class AtUnslothImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "unsloth":
            return importlib.machinery.ModuleSpec(name, self)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        print("IMPORTED-BEFORE-UNSLOTH " + json.dumps([m for m in CRITICAL if m in sys.modules]), flush=True)
        os._exit(0)

CRITICAL = CRITICAL_NAMES
sys.meta_path.insert(0, AtUnslothImport())
import recipes.backend
recipes.backend.cuda_available = lambda: True
sys.argv = [sys.argv[1], *sys.argv[2:]]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
""".replace("CRITICAL_NAMES", repr(CRITICAL))


def unsloth_run(tmp_path):
    """A finished run folder whose config.yaml says backend: unsloth (what evaluate/export read)."""
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "adapter_config.json").write_text("{}")
    (run / "config.yaml").write_text(yaml.safe_dump({"model_name": "unsloth/Qwen3-4B-Base", "backend": "unsloth"}))
    return run


HEADLINE = "recipes/configs/grpo_qwen3_4b_openr1.yaml"
CLIS = {
    "grpo": lambda tmp: [HEADLINE, "--dry-run", "--data_file", "tests/fixtures/dapo_sample.jsonl"],
    "sft": lambda tmp: [HEADLINE, "--dry-run", "--data_file", "tests/fixtures/dapo_sample.jsonl"],
    "dpo": lambda tmp: ["recipes/configs/dpo_qwen25_identity.yaml", "--dry-run"],
    "preflight": lambda tmp: [HEADLINE, "--out", str(tmp / "pf"), "--data_file", "tests/fixtures/dapo_sample.jsonl"],
    "evaluate": lambda tmp: ["--adapter", str(unsloth_run(tmp) / "adapter"), "--out", str(tmp / "ev")],
    "export": lambda tmp: [str(unsloth_run(tmp)), "--out", str(tmp / "merged")],
}


@pytest.mark.parametrize("cli", sorted(CLIS))
def test_unsloth_is_imported_before_transformers_peft_and_trl(cli, tmp_path):
    proc = subprocess.run([sys.executable, "-c", HARNESS, f"recipes.{cli}", *CLIS[cli](tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    marker = [line for line in proc.stdout.splitlines() if line.startswith("IMPORTED-BEFORE-UNSLOTH ")]
    assert marker, f"recipes.{cli} never imported unsloth:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert json.loads(marker[0].split(" ", 1)[1]) == []
