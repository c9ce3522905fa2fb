"""pass@k is Chen et al.'s estimator, maj@n votes by the grader, and sampled evaluation reports both."""

from __future__ import annotations

import itertools
import json

import pytest

from data_prep.formats import FORMATS
from recipes.errors import run_cli
from recipes.pass_at_k import bootstrap_interval, ks_for, majority, pass_at_k, pass_at_k_table
from recipes.scoring import score, summarize
from rewards import GRADERS
from tests.conftest import FIXTURES


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_the_estimator_equals_counting_every_k_subset(n):
    # pass@k is the share of the C(n, k) ways to pick k of the n samples that hold a right one.
    for c in range(n + 1):
        outcomes = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(outcomes, k))
            brute = sum(any(s) for s in subsets) / len(subsets)
            assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12), (n, c, k)


def test_pass_at_1_is_the_mean_share_of_right_samples_and_the_table_has_powers_of_two():
    table = pass_at_k_table([0, 2, 8, 1], 8)
    assert list(table) == ["1", "2", "4", "8"]
    assert table["1"] == pytest.approx((0 + 2 + 8 + 1) / 32)
    assert table["8"] == pytest.approx(3 / 4)  # three problems solved in some sample
    assert list(table.values()) == sorted(table.values())
    assert ks_for(1) == [1] and ks_for(12) == [1, 2, 4, 8, 12]
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)


def test_the_majority_counts_equivalent_answers_as_one():
    same = GRADERS["math_verify"]
    # Three spellings of one half outvote two threes; strings alone would pick "3".
    assert majority(["3", r"\frac{1}{2}", "0.5", "3", "1/2"], same) in {r"\frac{1}{2}", "0.5", "1/2"}
    assert majority(["3", "3", "0.5"], same) == "3"
    assert majority([None, None], same) is None
    assert majority(["7", "8"], GRADERS["exact"]) == "7"  # a tie: the earlier answer


def test_bootstrap_interval_holds_the_mean_and_is_reproducible():
    values = [0.0] * 30 + [1.0] * 70
    lo, hi = bootstrap_interval(values, seed=3)
    assert lo < 0.7 < hi and lo > 0.55 and hi < 0.85
    assert bootstrap_interval(values, seed=3) == (lo, hi)


def test_sampled_records_and_summary_count_strict_flexible_and_majority():
    fmt = FORMATS["r1"]
    rows = [{"id": 0, "question": "q", "answer": "19"}, {"id": 1, "question": "r", "answer": "5"}]
    groups = [
        [(fmt.render("12 + 7 = 19", "19"), 9), ("It is 19.", 4), (fmt.render("x", "20"), 9), (fmt.render("y", "19"), 9)],
        [("maybe 5", 2), (fmt.render("z", "6"), 9), (fmt.render("z", "6"), 9), ("no idea", 2)],
    ]
    records = score(rows, groups, fmt, GRADERS["exact"])
    assert [r["n_correct"] for r in records] == [2, 0]
    assert [r["n_flexible_correct"] for r in records] == [3, 1]
    assert [r["majority"] for r in records] == ["19", "6"]
    assert [r["maj_correct"] for r in records] == [True, False]
    assert len(records[0]["samples"]) == 4 and records[0]["samples"][1]["completion"] == "It is 19."
    assert records[0]["correct"] is True and records[1]["correct"] is False  # the first sample's
    decoding = {"samples": 4, "temperature": 0.6, "top_p": 0.95, "max_new_tokens": 9}
    summary = summarize(records, {}, decoding)
    assert summary["decoding"] == decoding
    assert summary["pass_at_k"] == pytest.approx({"1": 2 / 8, "2": (1 - 1 / 6) / 2, "4": 0.5})
    assert summary["flexible_pass_at_k"]["4"] == 1.0 and summary["flexible_pass_at_k"]["1"] == pytest.approx(4 / 8)
    assert summary["maj_at_n"] == 0.5 and summary["flexible_maj_at_n"] == 0.5


def test_greedy_summary_reports_decoding_and_pass_at_1_equal_to_accuracy():
    fmt = FORMATS["r1"]
    rows = [{"id": i, "question": "q", "answer": "3"} for i in range(4)]
    records = score(rows, [(fmt.render("", "3"), 5), ("3", 1), (fmt.render("", "4"), 5), (fmt.render("", "3"), 5)],
                    fmt)
    summary = summarize(records, {"max_new_tokens": 5})
    assert summary["decoding"] == {"samples": 1, "temperature": 0.0, "top_p": 1.0, "max_new_tokens": 5}
    assert summary["pass_at_k"] == {"1": 0.5} and summary["maj_at_n"] == 0.5 == summary["accuracy"]
    assert summary["flexible_pass_at_k"] == {"1": 0.75}
    assert "samples" not in records[0]  # greedy rows stay as they were


def test_evaluate_cli_draws_n_samples_and_writes_pass_at_k(tmp_path, tiny_model_dir, capsys):
    from recipes.evaluate import main as evaluate_main

    out = tmp_path / "eval"
    code = run_cli(evaluate_main, ["--model", str(tiny_model_dir), "--dataset", "gsm8k",
                                   "--data-file", str(FIXTURES / "gsm8k_sample.jsonl"), "--limit", "3",
                                   "--max-new-tokens", "6", "--format", "xml", "--samples", "8",
                                   "--temperature", "0.6", "--top-p", "0.95", "--batch-size", "8", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["decoding"] == {"samples": 8, "temperature": 0.6, "top_p": 0.95, "max_new_tokens": 6}
    assert list(summary["pass_at_k"]) == list(summary["flexible_pass_at_k"]) == ["1", "2", "4", "8"]
    assert {"maj_at_n", "flexible_maj_at_n"} <= set(summary)
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [len(r["samples"]) for r in rows] == [8, 8, 8]
    texts = {s["completion"] for s in rows[0]["samples"]}
    assert len(texts) > 1  # sampled, not eight copies of the greedy answer
    assert "pass@8" in capsys.readouterr().out


def test_samples_without_a_temperature_are_one_line(tmp_path, capsys):
    from recipes.evaluate import main as evaluate_main

    code = run_cli(evaluate_main, ["--model", "x", "--samples", "4", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "temperature" in err
