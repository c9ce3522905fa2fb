"""Evaluation: the grader is the rewards' grader, files land where compare expects them."""

from __future__ import annotations

import json

from data_prep.formats import FORMATS
from recipes.errors import run_cli
from recipes.evaluate import main as evaluate_main
from recipes.scoring import score
from tests.conftest import FIXTURES


def test_score_uses_format_extract_and_is_correct():
    fmt = FORMATS["r1"]
    rows = [{"id": i, "question": f"q{i}", "answer": "1600"} for i in range(4)]
    completions = [
        (fmt.render("1250 + 350 = 1600", "1,600"), 12),  # separators: still correct
        (fmt.render("1250 + 350 = 1500", "1500"), 12),  # wrong answer, exact format
        ("The answer is 1600.", 5),  # right number, no format: not graded correct
        ("<think>x</think><answer>1600</answer><answer>7</answer>", 9),  # last answer section wins
    ]
    records = score(rows, completions, fmt)
    assert [r["correct"] for r in records] == [True, False, False, False]
    assert [r["format_ok"] for r in records] == [True, True, False, False]
    assert records[0]["extracted"] == "1,600" and records[2]["extracted"] is None
    assert [r["n_tokens"] for r in records] == [12, 12, 5, 9]


def test_evaluate_cli_writes_predictions_and_summary(tmp_path, tiny_model_dir, capsys):
    out = tmp_path / "eval"
    code = run_cli(evaluate_main, ["--model", str(tiny_model_dir), "--dataset", "gsm8k",
                                   "--data-file", str(FIXTURES / "gsm8k_sample.jsonl"), "--limit", "5",
                                   "--max-new-tokens", "8", "--format", "xml", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 5
    assert set(rows[0]) >= {"id", "question", "gold", "completion", "extracted", "correct", "format_ok", "n_tokens"}
    assert all(0 < r["n_tokens"] <= 8 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 5 and summary["format"] == "xml" and summary["label"] == "base"
    correct = sum(r["correct"] for r in rows)
    assert summary["correct"] == correct and summary["accuracy"] == correct / 5
    assert summary["grader"] == "exact" and "transformers" in summary["versions"]
    assert "accuracy" in capsys.readouterr().out


def test_evaluate_bad_input_is_one_line(tmp_path, capsys):
    code = run_cli(evaluate_main, ["--model", "x", "--dataset", "gsm8k", "--data-file",
                                   str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "data_file" in err
    code = run_cli(evaluate_main, ["--model", "x", "--format", "json", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "format" in err


def test_generation_leaves_the_shared_tokenizer_as_it_found_it(tiny_model_dir):
    # SFT and GRPO train with the same tokenizer object after each evaluation: right padding must survive.
    from recipes.generation import generate
    from recipes.model import PolicySpec, load_policy

    policy = load_policy(PolicySpec(model_name=str(tiny_model_dir), backend="transformers", load_in_4bit=False,
                                    trainable=False, format="r1", chat_template="model"))
    policy.tokenizer.padding_side = "right"
    prompts = [[{"role": "user", "content": "1 + 1?"}], [{"role": "user", "content": "a longer question, 2 + 2?"}]]
    assert len(generate(policy, prompts, max_new_tokens=3, batch_size=2)) == 2
    assert policy.tokenizer.padding_side == "right"


def test_flexible_accuracy_counts_the_last_number_of_prose_answers():
    # A base model answering in prose scores 0 on the strict format but not on flexible-extract.
    from recipes.scoring import summarize

    fmt = FORMATS["r1"]
    rows = [{"id": i, "question": f"q{i}", "answer": "19"} for i in range(3)]
    completions = [("12 + 7 is 19.", 6), (fmt.render("12 + 7 = 19", "19"), 12), ("It is 19, or maybe 20.", 8)]
    records = score(rows, completions, fmt)
    assert [r["correct"] for r in records] == [False, True, False]
    assert [r["flexible_correct"] for r in records] == [True, True, False]
    summary = summarize(records, {})
    assert summary["accuracy"] == 1 / 3 and summary["flexible_accuracy"] == 2 / 3


def test_evaluate_cli_uses_the_runs_system_prompt_only_with_the_runs_format(tmp_path, monkeypatch):
    import yaml

    import recipes.evaluate as evaluate

    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"model_name": "m", "format": "r1", "system_prompt": "Short."}))
    seen = []
    monkeypatch.setattr(evaluate, "load_policy", lambda spec: spec)
    monkeypatch.setattr(evaluate, "evaluate_policy", lambda policy, dataset, fmt, out, **kw: seen.append(
        ({p[0]["content"] for p in dataset["prompt"]}, fmt.system_prompt)) or {
        "accuracy": 0.0, "correct": 0, "n": len(dataset), "format_rate": 0.0, "mean_tokens": 0.0})
    base = ["--adapter", str(run / "adapter"), "--limit", "3", "--out", str(tmp_path / "o")]
    for extra in ([], ["--format", "xml"], ["--system-prompt", "Given."]):
        assert run_cli(evaluate.main, [*base, *extra]) == 0
    assert seen == [({"Short."}, "Short."), ({FORMATS["xml"].system_prompt}, FORMATS["xml"].system_prompt),
                    ({"Given."}, "Given.")]


def test_the_base_stage_scores_the_base_weights_whatever_the_adapter_holds(tmp_path, tiny_model_dir):
    """The pipeline's base evaluation switches the LoRA off, so it equals the plain model's evaluation."""
    import functools

    import torch
    import yaml

    from recipes.config import load_config
    from recipes.eval_stage import evaluate_stage
    from recipes.evaluate import evaluate_policy
    from recipes.model import load_policy
    from recipes.run_inputs import eval_dataset, policy_spec, run_format

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({
        "model_name": str(tiny_model_dir), "backend": "transformers", "load_in_4bit": False,
        "chat_template": "model", "lora_rank": 4, "lora_alpha": 8, "format": "r1", "dataset": "arithmetic",
        "eval_limit": 4, "eval_max_new_tokens": 8, "eval_batch_size": 4, "use_cpu": True, "bf16": False,
        "output_dir": str(tmp_path / "run")}))
    cfg = load_config(str(path), [])
    fmt = run_format(cfg)
    policy = load_policy(policy_spec(cfg))
    with torch.no_grad():  # an adapter that changes every output (a fresh one's B is zero)
        for name, weight in policy.model.named_parameters():
            if "lora_B" in name:
                weight.normal_(0, 1.0)
    base = evaluate_stage(policy, cfg, fmt, tmp_path / "run", "base", None, functools.cache(lambda: eval_dataset(cfg)))
    plain = load_policy(policy_spec(cfg, trainable=False))
    evaluate_policy(plain, eval_dataset(cfg), fmt, tmp_path / "plain", max_new_tokens=8, batch_size=4, meta={})
    with_adapter = evaluate_policy(policy, eval_dataset(cfg), fmt, tmp_path / "on", max_new_tokens=8, batch_size=4,
                                   meta={})

    def completions(out):
        return [json.loads(line)["completion"] for line in (out / "predictions.jsonl").read_text().splitlines()]

    assert base["n"] == 4
    assert completions(tmp_path / "run" / "eval" / "base") == completions(tmp_path / "plain")
    assert with_adapter["n"] == 4 and completions(tmp_path / "on") != completions(tmp_path / "plain")
