"""Accuracy over training on a validation split, the best checkpoint as the adapter, and decontamination in a run."""

from __future__ import annotations

import json

import pytest
import yaml

from recipes.errors import RecipeError
from tests.conftest import FIXTURES
from tests.test_grpo_run import grpo, write_config


def lora_weights(adapter):
    from safetensors.torch import load_file

    return load_file(str(adapter / "adapter_model.safetensors"))


@pytest.mark.slow
def test_eval_steps_evaluates_checkpoints_on_validation_and_best_becomes_the_adapter(tmp_path, tiny_model_dir):
    config = write_config(tmp_path, tiny_model_dir, max_steps=3, save_steps=1, eval_steps=1,
                          eval_limit_during_training=4, select_checkpoint="best", evaluate=True, eval_limit=4,
                          eval_max_new_tokens=6, eval_batch_size=4)
    proc = grpo(config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "run"
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    validation = [r for r in lines if r["stage"] == "validation"]
    assert [r["step"] for r in validation] == [1, 2, 3]
    for r in validation:
        summary = json.loads((run / "eval" / "validation" / r["checkpoint"] / "summary.json").read_text())
        assert summary["split"] == "validation" and summary["n"] == 4 == r["n"]
        assert summary["accuracy"] == r["accuracy"]
    # A random tiny model scores the same at every step: the earliest of equals is the best, not the last.
    best = max(validation, key=lambda r: (r["accuracy"], -r["step"]))
    assert best["step"] == 1
    assert "validation: best checkpoint-1" in proc.stdout and "adapter/ holds it" in proc.stdout
    chosen, first, last = (lora_weights(run / p) for p in ("adapter", "checkpoint-1", "checkpoint-3"))
    assert all(chosen[k].equal(first[k]) for k in first)
    assert any(not chosen[k].equal(last[k]) for k in last)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["validation"]["adapter"] == "checkpoint-1" and summary["validation"]["best"] == "checkpoint-1"
    assert set(summary["validation"]["checkpoints"]) == {"checkpoint-1", "checkpoint-2", "checkpoint-3"}
    assert (run / "report" / "validation.png").is_file()
    decon = json.loads((run / "decontamination.json").read_text())
    assert "skipped" in decon and "decontaminate: skipped: arithmetic is generated" in proc.stdout

    # Killed after checkpoint-3 was saved, before its evaluation: the rerun evaluates it once, and still
    # makes the best checkpoint the adapter.
    import shutil

    for done in ("summary.json", "eval/validation/checkpoint-3", "eval/tuned", "report"):
        shutil.rmtree(run / done) if (run / done).is_dir() else (run / done).unlink()
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines if r.get("step") != 3
                                               or r["stage"] != "validation"))
    proc = grpo(config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in again if r["stage"] == "validation"] == [1, 2, 3]
    assert all(lora_weights(run / "adapter")[k].equal(first[k]) for k in first)


def test_the_best_checkpoint_has_the_highest_validation_accuracy(tmp_path):
    from recipes.checkpoint_eval import best_checkpoint, validation_summary

    lines = [{"stage": "grpo", "step": 2, "loss": 0.1}]
    lines += [{"stage": "validation", "step": s, "checkpoint": f"checkpoint-{s}", "accuracy": a, "n": 10}
              for s, a in ((2, 0.2), (4, 0.5), (6, 0.5), (8, 0.3))]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert best_checkpoint(tmp_path)["checkpoint"] == "checkpoint-4"  # a peak, then a plateau and a fall
    summary = validation_summary(tmp_path, "best")
    assert summary["best"] == "checkpoint-4" and summary["adapter"] == "last"  # nothing copied: no best_adapter/
    assert summary["checkpoints"]["checkpoint-8"] == 0.3


@pytest.mark.parametrize(("extra", "field"), [
    ({"eval_steps": 3, "save_steps": 2}, "eval_steps"),
    ({"select_checkpoint": "best"}, "select_checkpoint"),
    ({"select_checkpoint": "first", "eval_steps": 2, "save_steps": 2}, "select_checkpoint"),
    ({"eval_steps": 2, "save_steps": 2, "validation_split": "test"}, "validation_split"),
    ({"eval_steps": 2, "save_steps": 2, "eval_strategy": "steps"}, "eval_strategy"),
    ({"eval_samples": 4}, "eval_temperature"),
    ({"decontaminate": "yes"}, "decontaminate"),
])
def test_bad_evaluation_keys_are_one_line(tmp_path, tiny_model_dir, extra, field):
    from recipes.config import load_config

    with pytest.raises(RecipeError, match=rf"^{field}: ") as err:
        load_config(write_config(tmp_path, tiny_model_dir, **extra), [])
    assert "\n" not in str(err.value)


def test_a_run_decontaminates_its_training_rows_against_its_evaluation_set(tmp_path, capsys):
    import functools

    from recipes.config import load_config
    from recipes.pipeline import _decontaminate
    from recipes.run_inputs import eval_dataset, train_dataset

    base = {"model_name": "smollm2-135m-instruct", "dataset": "openr1_math",
            "data_file": str(FIXTURES / "decon_train.jsonl"), "eval_dataset": "gsm8k",
            "eval_data_file": str(FIXTURES / "gsm8k_sample.jsonl"), "evaluate": True, "use_cpu": True,
            "bf16": False, "report_to": "none", "output_dir": str(tmp_path / "run")}
    for mode, kept in (("check", 7), ("drop", 4)):
        path = tmp_path / f"{mode}.yaml"
        path.write_text(yaml.safe_dump({**base, "decontaminate": mode}))
        cfg = load_config(path, [])
        (tmp_path / "run").mkdir(exist_ok=True)
        rows = _decontaminate(cfg, train_dataset(cfg), tmp_path / "run", functools.cache(lambda c=cfg: eval_dataset(c)))
        assert len(rows) == kept
        report = json.loads((tmp_path / "run" / "decontamination.json").read_text())
        assert report["flagged"] == 3 and report["ngram"] == 8
        planted = {json.loads(x)["question"] for x in (FIXTURES / "decon_train.jsonl").read_text().splitlines()
                   if json.loads(x)["plant"] != "clean"}
        assert {r["question"] for r in rows}.isdisjoint(planted) == (mode == "drop")
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and "3 of 7 training rows share an n-gram (n = 8)" in out
