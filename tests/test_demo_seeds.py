"""bench/demo_seeds.py: per-seed gains read from each seed's report, and the spread over seeds."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("demo_seeds", REPO / "bench" / "demo_seeds.py")
demo_seeds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo_seeds)


def write_seed(tmp_path: Path, seed: int, fixed: int, broken: int, p: float, regressions=()) -> Path:
    d = tmp_path / f"seed-{seed}"
    (d / "report").mkdir(parents=True)
    before, after = 0.30, 0.30 + (fixed - broken) / 200
    comparison = {
        "transitions": [
            {"before": "base", "after": "primed", "kind": "step", "delta": 0.3, "fixed": 60, "broken": 0, "p": 1e-9, "n": 200,
             "before_accuracy": 0.0, "after_accuracy": 0.3},
            {"before": "primed", "after": "tuned", "kind": "step", "delta": after - before, "fixed": fixed,
             "broken": broken, "p": p, "n": 200, "before_accuracy": before, "after_accuracy": after}],
        "regressions": [{"column": c, "value": v, "after": "tuned"} for c, v in regressions],
    }
    (d / "report" / "comparison.json").write_text(json.dumps(comparison))
    return d


def test_gain_per_seed_is_the_primed_to_tuned_transition_of_its_report(tmp_path):
    r = demo_seeds.seed_result(3, write_seed(tmp_path, 3, fixed=30, broken=10, p=0.002,
                                             regressions=[("operation", "multiply")]))
    assert (r["seed"], r["fixed"], r["broken"], r["p"]) == (3, 30, 10, 0.002)
    assert r["gain"] == pytest.approx(0.10)
    assert r["regressions"] == ["operation=multiply"]


def test_mean_spread_and_counts_over_seeds(tmp_path, capsys):
    results = [demo_seeds.seed_result(s, write_seed(tmp_path, s, f, b, p))
               for s, f, b, p in ((0, 30, 10, 0.002), (1, 20, 10, 0.1), (2, 40, 10, 1e-5))]
    totals = demo_seeds.summarize(results)
    assert totals["mean_gain"] == pytest.approx(0.10) and totals["sd_gain"] == pytest.approx(0.05)
    assert (totals["min_gain"], totals["max_gain"]) == (pytest.approx(0.05), pytest.approx(0.15))
    assert totals["significant"] == 2 and totals["without_regression"] == 3
    demo_seeds.print_table(results, totals)
    out = capsys.readouterr().out
    assert "mean +10.0 pts, sd 5.0, range +5.0 .. +15.0" in out and "significant (p < 0.05) in 2 of 3" in out


def test_a_run_dir_without_the_primed_stage_is_one_line_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "bench/demo_seeds.py", str(tmp_path / "nope"), "--seeds", "0",
                           "--out", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope'}: missing eval/base "
                                                "(expected a finished run of the demo config)"]


def test_a_finished_seed_is_reused_only_when_trained_from_the_same_primed_adapter(tmp_path, capsys):
    run, out, config = tmp_path / "run", tmp_path / "out", tmp_path / "demo.yaml"
    (run / "sft_adapter").mkdir(parents=True)
    (run / "eval" / "primed").mkdir(parents=True)
    (run / "sft_adapter" / "adapter_model.safetensors").write_bytes(b"weights A")
    (run / "eval" / "primed" / "predictions.jsonl").write_text('{"id": 0}\n')
    config.write_text("max_steps: 6\n")
    data = out / "data"
    data.mkdir(parents=True)
    (data / "train.jsonl").write_text('{"question": "1 + 1?"}\n')
    (data / "test.jsonl").write_text('{"question": "2 + 2?"}\n')
    seed_dir = out / "seed-0"
    seed_dir.mkdir(parents=True)
    (seed_dir / "summary.json").write_text("{}")
    with pytest.raises(demo_seeds.RecipeError, match="trained from another run"):  # no stamp: an older tool's dir
        demo_seeds.run_seed(config, [], run, out, 0, data)
    stamp = demo_seeds.source_stamp(config, [], run, data)
    (seed_dir / "source.json").write_text(json.dumps(stamp))
    assert demo_seeds.run_seed(config, [], run, out, 0, data) == seed_dir  # same source: reused, not rerun
    assert "reusing" in capsys.readouterr().out
    for change in (lambda: (run / "sft_adapter" / "adapter_model.safetensors").write_bytes(b"weights B"),
                   lambda: config.write_text("max_steps: 7\n"),
                   lambda: (data / "train.jsonl").write_text('{"question": "1 + 2?"}\n')):
        (seed_dir / "source.json").write_text(json.dumps(demo_seeds.source_stamp(config, [], run, data)))
        change()  # each change alone makes the finished seed another run's
        with pytest.raises(demo_seeds.RecipeError, match="pass another --out"):
            demo_seeds.run_seed(config, [], run, out, 0, data)
    (seed_dir / "source.json").write_text(json.dumps(demo_seeds.source_stamp(config, [], run, data)))
    with pytest.raises(demo_seeds.RecipeError, match="trained from another run"):  # other overrides
        demo_seeds.run_seed(config, ["--learning_rate", "1e-4"], run, out, 0, data)
