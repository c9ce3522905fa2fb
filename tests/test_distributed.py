"""The recipe under `accelerate launch` with 2 real processes on CPU (DDP over gloo: recipes/accelerate/cpu_ddp.yaml).

tests/ddp_driver.py makes generation rank-blind, so the 2-process run sees the very completions a
1-process run sees at the same global batch: rewards, group advantages (a group of 4 split over 2
ranks), loss and gradient must then agree, and the adapters to float tolerance.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.conftest import REPO
from tests.test_grpo_run import write_config

pytestmark = pytest.mark.slow
DRIVER = str(REPO / "tests" / "ddp_driver.py")
ACCELERATE = [str(Path(sys.executable).parent / "accelerate"), "launch", "--config_file",
              str(REPO / "recipes/accelerate/cpu_ddp.yaml")]


def env(tmp_path: Path, **extra: str) -> dict:
    return {**os.environ, "DDP_EXIT_DIR": str(tmp_path), "OMP_NUM_THREADS": "1", **extra}


def grpo_rows(run: Path) -> list[dict]:
    return [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "loss" in r]


def test_two_processes_train_what_one_does_and_one_of_them_writes(tmp_path, tiny_model_dir):
    config = write_config(tmp_path, tiny_model_dir, max_steps=2, save_steps=1, num_generations=4,
                          evaluate=True, eval_limit=4, eval_max_new_tokens=6, eval_batch_size=4)
    one = subprocess.run([sys.executable, DRIVER, str(config), "--per_device_train_batch_size", "4",
                          "--output_dir", str(tmp_path / "one")], cwd=REPO, capture_output=True, text=True,
                         timeout=600, env=env(tmp_path))
    assert one.returncode == 0, one.stderr[-3000:]
    # The same global batch (1 prompt x 4 completions a step), 2 completions on each of 2 ranks.
    two = subprocess.run([*ACCELERATE, DRIVER, str(config), "--per_device_train_batch_size", "2",
                          "--output_dir", str(tmp_path / "two")], cwd=REPO, capture_output=True, text=True,
                         timeout=600, env=env(tmp_path))
    assert two.returncode == 0, two.stderr[-3000:]
    assert (tmp_path / "rank-0").read_text() == (tmp_path / "rank-1").read_text() == "0"
    a, b = grpo_rows(tmp_path / "one"), grpo_rows(tmp_path / "two")
    assert [r["step"] for r in b] == [1, 2]  # each step logged once: one writer
    for key in ("reward", "reward_std", "frac_reward_zero_std", "num_tokens", "loss", "grad_norm"):
        assert b[0][key] == pytest.approx(a[0][key], rel=1e-5, abs=1e-7), key
    assert b[0]["reward_std"] > 0  # the group's rewards differ: its advantages need every rank's completions
    one_w, two_w = (load_file(str(tmp_path / r / "adapter" / "adapter_model.safetensors")) for r in ("one", "two"))
    assert max(float((one_w[k] - two_w[k]).abs().max()) for k in one_w) < 1e-3
    assert max(float(w.abs().max()) for k, w in two_w.items() if "lora_B" in k) > 0.01  # and it trained
    run = tmp_path / "two"
    for stage in ("base", "tuned"):
        summary = json.loads((run / "eval" / stage / "summary.json").read_text())
        rows = (run / "eval" / stage / "predictions.jsonl").read_text().splitlines()
        assert summary["n"] == len(rows) == 4  # both ranks' shares, gathered, written once
    assert (run / "report" / "report.html").is_file() and (run / "summary.json").is_file()
    assert two.stdout.count("\nrun        ") + two.stdout.startswith("run        ") == 1
    assert two.stdout.count("base: accuracy") == 1 and two.stdout.count("adapter: ") == 1


def test_sigterm_to_the_launcher_checkpoints_once_and_every_rank_resumes_from_it(tmp_path, tiny_model_dir):
    config = write_config(tmp_path, tiny_model_dir, max_steps=12, save_steps=3, num_generations=4,
                          per_device_train_batch_size=2, output_dir=str(tmp_path / "run"))
    slow = env(tmp_path, DDP_GENERATE_SECONDS="0.4")
    launcher = subprocess.Popen([*ACCELERATE, DRIVER, str(config)], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=slow)
    run = tmp_path / "run"
    deadline = time.time() + 300
    while not (run / "checkpoint-3" / "trainer_state.json").is_file():
        assert launcher.poll() is None and time.time() < deadline, launcher.stdout.read()[-3000:]
        time.sleep(0.2)
    launcher.send_signal(signal.SIGTERM)
    out, _ = launcher.communicate(timeout=300)
    assert [(tmp_path / f"rank-{r}").read_text() for r in (0, 1)] == ["143", "143"], out[-3000:]
    saved = sorted(int(p.name.split("-")[1]) for p in run.glob("checkpoint-*"))
    stopped = saved[-1]
    assert 3 < stopped < 12 and stopped % 3 != 0 or stopped == 6 or stopped == 9, saved  # the SIGTERM save
    assert json.loads((run / f"checkpoint-{stopped}" / "trainer_state.json").read_text())["global_step"] == stopped
    assert out.count("SIGTERM: saving a checkpoint after this step") >= 1

    again = subprocess.run([*ACCELERATE, DRIVER, str(config)], cwd=REPO, capture_output=True, text=True,
                           timeout=600, env=env(tmp_path))
    assert again.returncode == 0, again.stderr[-3000:]
    assert [(tmp_path / f"rank-{r}").read_text() for r in (0, 1)] == ["0", "0"]
    assert f"has checkpoint-{stopped}: resuming from it" in again.stdout
    assert [r["step"] for r in grpo_rows(run)] == list(range(1, 13))  # every step once, across the stop
