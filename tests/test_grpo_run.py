"""Real GRPO on CPU with a tiny random model: training changes the adapter, resume, SIGTERM, W&B offline."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, model_dir: Path, **extra) -> Path:
    """A tiny run: arithmetic prompts, a length reward (random text still varies in length, so groups
    have non-zero advantages and the adapter must move)."""
    cfg = {
        "model_name": str(model_dir), "backend": "transformers", "load_in_4bit": False, "chat_template": "model",
        "lora_rank": 4, "lora_alpha": 8, "format": "r1", "dataset": "arithmetic", "dataset_limit": 16,
        "reward_funcs": ["length"], "reward_params": {"length": {"target": 0, "scale": 400, "unit": "chars"}},
        "learning_rate": 0.05, "num_generations": 4, "per_device_train_batch_size": 8,
        "max_completion_length": 12, "temperature": 1.0, "beta": 0.0, "max_steps": 2, "save_steps": 1,
        "logging_steps": 1, "bf16": False, "gradient_checkpointing": False, "use_cpu": True,
        "report_to": "none", "seed": 0, "output_dir": str(tmp_path / "run"),
    }
    cfg.update(extra)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def grpo(config: Path, *args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recipes.grpo", str(config), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, env=env)


def lora_b_norm(adapter: Path) -> float:
    from safetensors.torch import load_file

    weights = load_file(str(adapter / "adapter_model.safetensors"))
    return sum(float(t.float().norm()) for k, t in weights.items() if "lora_B" in k)


def test_two_steps_train_and_save_a_changed_adapter(tmp_path, tiny_model_dir):
    proc = grpo(write_config(tmp_path, tiny_model_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "run"
    # LoRA B starts at zero: a non-zero B means GRPO's update reached the weights.
    assert lora_b_norm(run / "adapter") > 0
    assert (run / "adapter" / "tokenizer_config.json").is_file()
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["max_steps"] == 2 and config["reward_funcs"] == ["length"]
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    grpo_rows = [r for r in rows if "rewards/length/mean" in r]
    assert [r["step"] for r in grpo_rows] == [1, 2]
    assert all("frac_reward_zero_std" in r for r in grpo_rows)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 2


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.2)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_killed_run_resumes_to_the_same_final_step(tmp_path, tiny_model_dir, sig):
    config = write_config(tmp_path, tiny_model_dir, max_steps=4, save_steps=2)
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "recipes.grpo", str(config)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(run / "checkpoint-2" / "trainer_state.json", proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=300)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, err[-3000:]
        assert "rerun the same command to resume" in out
    assert not (run / "adapter").exists() or proc.returncode == 0

    resumed = grpo(config, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    state = json.loads(max(run.glob("checkpoint-*/trainer_state.json"),
                           key=lambda p: int(p.parent.name.split("-")[1])).read_text())
    assert state["global_step"] == 4
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()
             if "rewards/length/mean" in line]
    assert steps == sorted(set(steps)) and steps[-1] == 4  # every step once, in order
    assert lora_b_norm(run / "adapter") > 0


def test_wandb_goes_offline_without_a_key(tmp_path, tiny_model_dir):
    pytest.importorskip("wandb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env["WANDB_SILENT"] = "true"
    proc = grpo(write_config(tmp_path, tiny_model_dir, max_steps=1, report_to="wandb"), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "logging offline" in proc.stdout
    assert list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert "WANDB_API_KEY" not in (tmp_path / "run" / "config.yaml").read_text()


def test_grpo_qwen3_target_fails_fast_without_gpu():
    if subprocess.run(["sh", "-c", "command -v nvidia-smi"], capture_output=True).returncode == 0:
        pytest.skip("this machine has nvidia-smi")
    # It must not start installing the GPU stack first: the timeout would catch that.
    proc = subprocess.run(["make", "-s", "grpo-qwen3"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "needs a CUDA GPU" in proc.stderr and "make demo" in proc.stderr


def test_wandb_login_in_netrc_counts_as_credentials(tmp_path, monkeypatch):
    # `wandb login` saves the key in ~/.netrc, not in the environment: that run must log online.
    pytest.importorskip("wandb")
    from recipes.tracking import wandb_credentials_found

    for key in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine example.com login me password x\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert wandb_credentials_found() is False
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "a" * 40 + "\n")
    assert wandb_credentials_found() is True
    monkeypatch.setenv("NETRC", str(tmp_path / "absent"))
    monkeypatch.setenv("WANDB_API_KEY", "b" * 40)
    assert wandb_credentials_found() is True


def test_the_gpu_smoke_tests_tiny_qwen3_trains_on_cpu(tmp_path):
    """tests/test_gpu_smoke.py runs this model through Unsloth on a GPU; here it must at least load, prime
    and take a GRPO step with the transformers backend and the format's chat template."""
    from tests.tiny_qwen3 import write_tiny_qwen3

    model = write_tiny_qwen3(tmp_path / "tiny-qwen3")
    config = write_config(tmp_path, model, chat_template="format", max_steps=1, save_steps=1,
                          sft_prime={"rows": 8, "per_device_train_batch_size": 8})
    proc = grpo(config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lora_b_norm(tmp_path / "run" / "adapter") > 0


def test_preflight_stops_a_run_that_cannot_learn_and_force_trains_anyway(tmp_path, tiny_model_dir):
    # A random tiny model never answers correctly: with correctness alone every group is flat.
    config = write_config(tmp_path, tiny_model_dir, reward_funcs=["correctness"], reward_params=None,
                          preflight=True, preflight_prompts=2, max_steps=1, save_steps=1)
    proc = grpo(config)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "preflight: no_signal" in proc.stdout and "--force" in proc.stdout
    result = json.loads((tmp_path / "run" / "preflight.json").read_text())
    assert result["verdict"] == "no_signal" and result["zero_std_frac"] == 1.0 and result["n_prompts"] == 2
    assert not (tmp_path / "run" / "adapter").exists()
    forced = grpo(config, "--force")
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()


def test_difficulty_filter_that_keeps_nothing_says_so_in_one_line(tmp_path, tiny_model_dir):
    config = write_config(tmp_path, tiny_model_dir, reward_funcs=["correctness"], reward_params=None,
                          difficulty_filter={"samples": 2, "limit": 4}, max_steps=1)
    proc = grpo(config)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: difficulty_filter: no training prompt")
    saved = json.loads((tmp_path / "run" / "difficulty_filter.json").read_text())
    assert saved["sampled"] == 4 and saved["kept"] == [] and all(p["pass_rate"] == 0 for p in saved["prompts"])


def test_sft_recipe_trains_evaluates_and_writes_a_run_directory(tmp_path, tiny_model_dir):
    config = write_config(tmp_path, tiny_model_dir, sft_prime={"rows": 8, "per_device_train_batch_size": 4},
                          evaluate=True, eval_limit=4, eval_max_new_tokens=6, eval_batch_size=4)
    proc = subprocess.run([sys.executable, "-m", "recipes.sft", str(config)], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "run"
    assert lora_b_norm(run / "adapter") > 0  # the SFT adapter is the run's adapter
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["stages"]) == {"base", "primed"} and summary["steps"] == 2
    assert (run / "report" / "report.html").is_file() and (run / "config.yaml").is_file()
    assert "base_model:" in (run / "adapter" / "README.md").read_text()
    assert any(json.loads(line)["stage"] == "sft" for line in (run / "metrics.jsonl").read_text().splitlines())
    bare = write_config(tmp_path, tiny_model_dir)
    refused = subprocess.run([sys.executable, "-m", "recipes.sft", str(bare)], cwd=REPO, capture_output=True,
                             text=True, timeout=300)
    assert refused.returncode == 2 and refused.stderr.strip().startswith("error: sft_prime:")


def test_a_resumed_run_keeps_the_primed_adapter_as_its_kl_reference(tmp_path, tiny_model_dir):
    """With beta > 0, TRL copies the adapter into a frozen "ref" when the trainer is built; a resumed
    run builds it from a fresh LoRA, so the checkpoint's "ref" must come back (Trainer reloads every
    adapter subfolder), or the KL would pull toward the bare base."""
    import shutil

    from safetensors.torch import load_file

    config = write_config(tmp_path, tiny_model_dir, beta=0.1, max_steps=2, save_steps=1,
                          sft_prime={"rows": 8, "per_device_train_batch_size": 4})
    run = tmp_path / "run"
    first = grpo(config)
    assert first.returncode == 0, first.stderr[-3000:]
    for done in ("checkpoint-2", "adapter"):  # as if killed after step 1 (before the summary, written last)
        shutil.rmtree(run / done)
    (run / "summary.json").unlink()
    resumed = grpo(config, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    primed = load_file(str(run / "sft_adapter" / "adapter_model.safetensors"))
    reference = load_file(str(run / "checkpoint-2" / "ref" / "adapter_model.safetensors"))
    assert primed.keys() == reference.keys()
    assert all(float(primed[k].abs().max()) > 0 and primed[k].equal(reference[k]) for k in primed if "lora_B" in k)


def test_sft_recipe_trains_on_a_chat_dataset(tmp_path, tiny_model_dir):
    chat = REPO / "tests" / "fixtures" / "chat_sample.jsonl"
    config = write_config(tmp_path, tiny_model_dir, sft_prime={"chat_dataset": str(chat), "rows": 8,
                                                               "per_device_train_batch_size": 4})
    proc = subprocess.run([sys.executable, "-m", "recipes.sft", str(config)], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "run"
    assert lora_b_norm(run / "adapter") > 0
    assert json.loads((run / "summary.json").read_text())["sft_prime"]["rows"] == 8
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    refused = subprocess.run([sys.executable, "-m", "recipes.sft", str(config), "--sft_prime",
                              json.dumps({"chat_dataset": str(broken)})], cwd=REPO, capture_output=True,
                             text=True, timeout=300)
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"error: sft_prime.chat_dataset: {broken} row 1 has no assistant turn to learn from"


def test_a_finished_run_rerun_trains_nothing_and_a_changed_config_is_refused(tmp_path, tiny_model_dir):
    import torch
    from safetensors.torch import load_file

    config = write_config(tmp_path, tiny_model_dir)
    run = tmp_path / "run"
    assert grpo(config).returncode == 0
    adapter, summary = (run / "adapter" / "adapter_model.safetensors").read_bytes(), (run / "summary.json").read_text()

    again = grpo(config)  # the same command: nothing to do
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert not (run / "checkpoint-3").exists()
    assert (run / "adapter" / "adapter_model.safetensors").read_bytes() == adapter
    assert (run / "summary.json").read_text() == summary

    changed = grpo(config, "--learning_rate", "0.01")
    assert changed.returncode == 2
    assert changed.stderr.strip().count("\n") == 0 and "learning_rate: 0.05 -> 0.01" in changed.stderr

    # Killed after the last checkpoint, before the adapter and summary: the rerun takes the checkpoint's adapter.
    shutil.rmtree(run / "adapter")
    (run / "summary.json").unlink()
    assert grpo(config).returncode == 0
    assert not (run / "checkpoint-3").exists()
    final, last = (load_file(str(p / "adapter_model.safetensors")) for p in (run / "adapter", run / "checkpoint-2"))
    assert final.keys() == last.keys() and all(torch.equal(final[k], last[k]) for k in final)
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()
             if json.loads(x)["stage"] == "grpo" and "loss" in json.loads(x)]
    assert steps == [1, 2]


def _in_process(tmp_path, model_dir, **extra):
    from recipes.config import load_config
    from recipes.run_inputs import reward_functions, run_format, train_dataset

    cfg = load_config(write_config(tmp_path, model_dir, **extra), [])
    fmt = run_format(cfg)
    return cfg, fmt, train_dataset(cfg), reward_functions(cfg, fmt)


def test_a_nan_reward_stops_the_run_by_name_after_saving_the_last_good_step(tmp_path, tiny_model_dir):
    from recipes import grpo
    from recipes.errors import RecipeError
    from recipes.pipeline import run_pipeline

    cfg, fmt, dataset, rewards = _in_process(tmp_path, tiny_model_dir, max_steps=3, save_steps=10)
    calls = []

    def flaky(completions, **kwargs):
        calls.append(len(completions))
        return [float("nan") if len(calls) == 2 and i == 3 else 0.0 for i in range(len(completions))]

    with pytest.raises(RecipeError, match=r"^reward flaky: row 3: returned nan; stopped before training on it, "
                                          r".*checkpoint-1 holds the last good step") as err:
        run_pipeline(cfg, fmt, dataset, [*rewards, flaky], resume=False, make_trainer=grpo.make_grpo_trainer)
    assert "\n" not in str(err.value)
    run = tmp_path / "run"
    assert (run / "checkpoint-1" / "trainer_state.json").is_file() and not (run / "adapter").exists()
    # Fixed, the same run resumes from that checkpoint and finishes.
    assert run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=grpo.make_grpo_trainer) == 0
    assert json.loads((run / "summary.json").read_text())["steps"] == 3


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    import errno

    import torch

    from recipes import grpo
    from recipes.errors import RecipeError
    from recipes.pipeline import run_pipeline

    cfg, fmt, dataset, rewards = _in_process(tmp_path, tiny_model_dir, max_steps=3, save_steps=1)
    real_save = torch.save

    def disk_full_at_step_2(obj, f, *args, **kwargs):
        if "checkpoint-2" in str(f):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", disk_full_at_step_2)
    run = tmp_path / "run"
    with pytest.raises(RecipeError, match=rf"^output_dir: the disk is full .* {run / 'checkpoint-1'} is intact"):
        run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=grpo.make_grpo_trainer)
    assert not (run / "checkpoint-2" / "trainer_state.json").exists()
    monkeypatch.setattr(torch, "save", real_save)  # space freed
    assert run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=grpo.make_grpo_trainer) == 0
    assert (run / "checkpoint-3" / "trainer_state.json").is_file()
