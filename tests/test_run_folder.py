"""One run per folder, one config per run (recipes.run_folder), without a model."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import yaml

from recipes import run_folder
from recipes.errors import RecipeError
from tests.conftest import REPO


def test_a_second_process_cannot_claim_a_live_run_folder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, pathlib
            from recipes import run_folder
            run_folder.claim(pathlib.Path({str(tmp_path)!r}))
            print("held", flush=True)
            sys.stdin.read()
        """)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RecipeError, match=rf"^output_dir: {tmp_path} is in use by another run "
                                              rf"\(PID {holder.pid}\)") as err:
            run_folder.claim(tmp_path)
        assert "\n" not in str(err.value)
    finally:
        holder.communicate("", timeout=30)
    run_folder.claim(tmp_path)  # the OS released the dead process's lock: no stale lock blocks a rerun


def test_a_result_affecting_change_is_refused_naming_old_and_new(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"learning_rate": 2e-4, "seed": 0, "logging_steps": 1}))
    with pytest.raises(RecipeError, match=r"learning_rate: 0\.0002 -> 0\.001.*--new-run") as err:
        run_folder.check_same_config(tmp_path, {"learning_rate": 1e-3, "seed": 0, "logging_steps": 1})
    assert "\n" not in str(err.value) and "seed" not in str(err.value)


def test_a_harmless_change_is_allowed_and_the_old_config_kept(tmp_path):
    old = yaml.safe_dump({"learning_rate": 2e-4, "logging_steps": 1, "report_to": ["wandb"]})
    (tmp_path / "config.yaml").write_text(old)
    run_folder.check_same_config(tmp_path, {"learning_rate": 2e-4, "logging_steps": 5, "report_to": []})
    assert (tmp_path / "config.previous.yaml").read_text() == old


def test_finished_means_a_summary_of_this_recipe(tmp_path):
    assert not run_folder.is_finished(tmp_path, "grpo")
    (tmp_path / "summary.json").write_text('{"recipe": "sft"}')
    assert run_folder.is_finished(tmp_path, "sft") and not run_folder.is_finished(tmp_path, "grpo")
    (tmp_path / "summary.json").write_text('{"recipe": "gr')  # torn by a kill
    assert not run_folder.is_finished(tmp_path, "grpo")


def test_new_run_moves_the_old_folder_aside(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("learning_rate: 0.1\n")
    assert run_folder.open_run(run, {"learning_rate": 0.5}, "grpo", new_run=True) is False
    assert (tmp_path / "run.1" / "config.yaml").is_file() and not (run / "config.yaml").exists()


KILLED_SAVE = """
import os, signal, sys, pathlib
from types import SimpleNamespace
from recipes import io_utils
from recipes.run_dir import save_trained

run, where = pathlib.Path(sys.argv[1]), sys.argv[2]
calls = []
real_replace = os.replace

def replace(src, dst):
    calls.append(dst)
    if where == "between renames" and len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # the old folder is aside, the new one not yet in place
    real_replace(src, dst)

io_utils.os.replace = replace

def save_model(path):
    (pathlib.Path(path) / "adapter_model.safetensors").write_text("new, half")
    if where == "while writing":
        os.kill(os.getpid(), signal.SIGKILL)
    (pathlib.Path(path) / "adapter_config.json").write_text("{}")

trainer = SimpleNamespace(accelerator=SimpleNamespace(num_processes=1), save_model=save_model)
save_trained(trainer, run / "adapter")
"""


@pytest.mark.parametrize("where", ["while writing", "between renames"])
def test_a_kill_inside_save_trained_keeps_the_previous_adapter(tmp_path, where):
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "adapter_model.safetensors").write_text("old")
    killed = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(run), where], cwd=REPO)
    assert killed.returncode == -9
    leftovers = sorted(p.name for p in run.iterdir() if p.name.startswith("."))
    assert leftovers  # the staging folder (and, between the renames, .adapter-old) the kill left behind

    run_folder.open_run(run, {}, "grpo")  # what every (re)start does first
    assert (run / "adapter" / "adapter_model.safetensors").read_text() == "old"
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == [".lock"]


def test_a_run_made_before_a_key_existed_resumes_when_the_key_is_at_its_default(tmp_path):
    # A folder written by an older version of the repo has no eval_samples; the default (1) is what it did.
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"learning_rate": 2e-4}))
    run_folder.check_same_config(tmp_path, {"learning_rate": 2e-4, "eval_samples": 1, "select_checkpoint": "last"})
    with pytest.raises(RecipeError, match=r"eval_samples: None -> 8"):
        run_folder.check_same_config(tmp_path, {"learning_rate": 2e-4, "eval_samples": 8})
