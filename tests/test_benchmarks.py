"""The field's benchmarks on a run: math500 and aime24 sampled, gsm8k greedy, each base vs tuned with a report."""

from __future__ import annotations

import json

import yaml

from recipes.benchmarks import BENCHMARKS, evaluate_args
from recipes.errors import run_cli
from tests.conftest import FIXTURES


def finished_run(tmp_path, model_dir):
    """A run folder as recipes.grpo leaves it: config.yaml and a LoRA adapter (fresh: B is zero)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run = tmp_path / "run"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(run / "adapter")
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(run / "adapter")
    # The run's own evaluation settings: its limit and data file must not leak into a benchmark.
    (run / "config.yaml").write_text(yaml.safe_dump({
        "model_name": str(model_dir), "backend": "transformers", "load_in_4bit": False, "chat_template": "model",
        "format": "boxed", "lora_rank": 4, "lora_alpha": 8, "lora_target_modules": ["q_proj", "v_proj"],
        "dataset": "gsm8k", "eval_limit": 2, "eval_data_file": str(FIXTURES / "gsm8k_sample.jsonl"),
        "eval_max_new_tokens": 5, "eval_batch_size": 8, "reward_funcs": ["math_verify"], "seed": 0}))
    return run


def test_each_benchmark_is_decoded_as_the_field_reports_it():
    assert BENCHMARKS["aime24"]["samples"] == 64 and BENCHMARKS["math500"]["samples"] == 4
    assert BENCHMARKS["gsm8k"]["temperature"] == 0.0
    args = evaluate_args("aime24", "tuned", FIXTURES, FIXTURES / "o", limit=None, samples=None, data_file=None)
    assert args[:2] == ["--adapter", str(FIXTURES / "adapter")]
    assert args[args.index("--samples") + 1] == "64" and args[args.index("--top-p") + 1] == "0.95"
    gsm8k = evaluate_args("gsm8k", "base", FIXTURES, FIXTURES / "o", limit=None, samples=2, data_file=None)
    assert gsm8k[:2] == ["--run", str(FIXTURES)] and gsm8k[gsm8k.index("--samples") + 1] == "1"


def test_benchmarks_evaluate_base_and_tuned_and_write_reports(tmp_path, tiny_model_dir, capsys):
    from recipes.benchmarks import main

    run = finished_run(tmp_path, tiny_model_dir)
    code = run_cli(main, [str(run), "--only", "math500", "gsm8k", "--samples", "2",
                          "--data-file", f"math500={FIXTURES / 'math500_sample.jsonl'}",
                          "--data-file", f"gsm8k={FIXTURES / 'gsm8k_sample.jsonl'}"])
    assert code == 0, capsys.readouterr().err
    for name, rows, samples in (("math500", 13, 2), ("gsm8k", 6, 1)):
        for stage in ("base", "tuned"):
            summary = json.loads((run / "benchmarks" / name / stage / "summary.json").read_text())
            assert summary["n"] == rows and summary["dataset"] == name and summary["format"] == "boxed"
            assert summary["decoding"]["samples"] == samples and summary["decoding"]["max_new_tokens"] == 5
            assert summary["grader"] == BENCHMARKS[name]["grader"]
        assert (run / "benchmarks" / name / "report" / "report.html").is_file()
    comparison = json.loads((run / "benchmarks" / "math500" / "report" / "comparison.json").read_text())
    assert {c["column"] for c in comparison["categories"]} >= {"subject", "level"}
    assert comparison["sampling"]["samples"] == 2
    results = json.loads((run / "benchmarks" / "benchmarks.json").read_text())
    assert set(results) == {"math500", "gsm8k"} and "pass@2" in results["math500"]["tuned"]
    assert results["gsm8k"]["verdicts"] == [] and len(results["math500"]["verdicts"]) == 2  # strict, flexible


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path, capsys):
    from recipes.benchmarks import main

    assert run_cli(main, [str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.yaml" in err
