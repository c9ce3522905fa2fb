"""Accuracy by category: an overall gain must not hide a skill that got worse.

Twenty examples: ids 0-9 are additions, 10-19 multiplications; even ids use training
phrasings, odd ids held-out ones. Who answers correctly:
  primed  add {0, 1}        multiply {10..19}   12/20
  tuned   add {0..9}        multiply {}         10/20
Hand-computed McNemar (b = broken, c = fixed), p = 2 * sum_{k<=min(b,c)} C(b+c,k) / 2^(b+c):
  add      b=0,  c=8:  2/256  = 0.0078125  (better)
  multiply b=10, c=0:  2/1024 = 0.001953125 (worse: a regression)
  overall  b=10, c=8:  2 * (1+18+153+816+3060+8568+18564+31824+43758)/2^18 = 2 * 106762/262144 = 0.8145 (not significant)
Wilson 95% of 10/10 = (0.7225, 1.0), of 0/10 = (0.0, 0.2775).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_prep.formats import FORMATS
from recipes.compare import main
from recipes.run_stats import category_columns
from recipes.scoring import score

PRIMED, TUNED = {0, 1, *range(10, 20)}, set(range(10))


def write_eval_dir(path: Path, label: str, correct: set[int], n: int = 20, extra=None) -> Path:
    path.mkdir(parents=True)
    rows = []
    for i in range(n):
        row = {"id": i, "question": f"q{i}", "gold": str(i), "completion": "", "extracted": str(i if i in correct else -1),
               "correct": i in correct, "format_ok": True, "n_tokens": 5}
        row.update(extra(i) if extra else {})
        rows.append(row)
    (path / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (path / "summary.json").write_text(json.dumps({"label": label, "dataset": "arithmetic", "split": "test"}))
    return path


def arithmetic_columns(i: int) -> dict:
    return {"operation": "add" if i < 10 else "multiply", "steps": 1, "phrasing": "train" if i % 2 == 0 else "heldout"}


def compare_two(tmp_path, primed=PRIMED, tuned=TUNED, tuned_extra=arithmetic_columns):
    dirs = [write_eval_dir(tmp_path / "primed", "primed", primed, extra=arithmetic_columns),
            write_eval_dir(tmp_path / "tuned", "tuned", tuned, extra=tuned_extra)]
    assert main([*map(str, dirs), "--out", str(tmp_path / "out")]) == 0
    return json.loads((tmp_path / "out" / "comparison.json").read_text())


def category(comparison, column):
    [cat] = [c for c in comparison["categories"] if c["column"] == column]
    return {v["value"]: v for v in cat["values"]}


def test_every_categorical_column_gets_accuracy_per_stage_with_wilson_intervals(tmp_path):
    comparison = compare_two(tmp_path)
    assert [c["column"] for c in comparison["categories"]] == ["operation", "phrasing"]  # steps has one value
    multiply = category(comparison, "operation")["multiply"]
    assert multiply["n"] == 10
    assert [(s["label"], s["correct"]) for s in multiply["stages"]] == [("primed", 10), ("tuned", 0)]
    assert multiply["stages"][0]["accuracy_ci"] == pytest.approx([0.7225, 1.0], abs=1e-4)
    assert multiply["stages"][1]["accuracy_ci"] == pytest.approx([0.0, 0.2775], abs=1e-4)


def test_mcnemar_per_category_matches_hand_computed_values(tmp_path):
    ops = category(compare_two(tmp_path), "operation")
    [add], [mul] = ops["add"]["transitions"], ops["multiply"]["transitions"]
    assert (add["fixed"], add["broken"], add["p"]) == (8, 0, pytest.approx(0.0078125))
    assert (mul["fixed"], mul["broken"], mul["p"]) == (0, 10, pytest.approx(0.001953125))
    assert mul["delta"] == pytest.approx(-1.0)


def test_a_category_that_got_significantly_worse_is_a_regression_named_in_the_headline(tmp_path, capsys):
    comparison = compare_two(tmp_path)
    [overall] = comparison["transitions"]
    assert overall["p"] == pytest.approx(2 * 106762 / 2**18) and not overall["significant"]
    [reg] = comparison["regressions"]
    assert (reg["column"], reg["value"], reg["before"], reg["after"], reg["broken"]) == ("operation", "multiply",
                                                                                          "primed", "tuned", 10)
    printed = capsys.readouterr().out
    assert "REGRESSION" in comparison["headline"] and "operation = multiply" in comparison["headline"]
    assert comparison["headline"] in printed
    assert "by operation" in printed and "multiply (n=10)" in printed  # the per-category table, on the terminal
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## Regressions" in md and "| operation = multiply | tuned vs primed | 100.0% → 0.0% |" in md
    html = (tmp_path / "out" / "report.html").read_text()
    assert "class='regressions'" in html and "Accuracy by operation" in html and "Accuracy by phrasing" in html


def test_without_a_regression_the_headline_says_none_was_found(tmp_path):
    comparison = compare_two(tmp_path, primed={0, 10}, tuned={0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12})
    assert comparison["regressions"] == []
    assert comparison["headline"].endswith("no significant regression in any of 4 categories")
    assert "None: in all examples and each of 4 categories" in (tmp_path / "out" / "report.md").read_text()


def test_an_overall_drop_is_a_regression_too(tmp_path):
    comparison = compare_two(tmp_path, primed=set(range(20)), tuned={0})
    assert {(r["column"], r["value"]) for r in comparison["regressions"]} >= {(None, None), ("operation", "add"),
                                                                              ("operation", "multiply")}
    assert "all examples tuned vs primed" in comparison["headline"]


def test_categories_come_from_the_first_stage_when_a_later_one_lacks_the_columns(tmp_path):
    comparison = compare_two(tmp_path, tuned_extra=None)
    assert category(comparison, "operation")["multiply"]["stages"][1]["correct"] == 0


def test_data_without_category_columns_reports_as_before(tmp_path):
    dirs = [write_eval_dir(tmp_path / "a", "base", {1}), write_eval_dir(tmp_path / "b", "tuned", {1, 2})]
    assert main([*map(str, dirs), "--out", str(tmp_path / "out")]) == 0
    comparison = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert comparison["categories"] == [] and comparison["regressions"] == []
    assert "regression" not in comparison["headline"]


def test_identifiers_free_text_and_constants_are_not_categories():
    rows = [{"id": i, "correct": True, "uid": f"u{i}", "level": f"Level {i % 3}", "source": "x",
             "weight": 0.5, "tags": ["a"]} for i in range(12)]
    assert category_columns(rows) == ["level"]


def test_evaluation_predictions_carry_the_data_category_columns():
    fmt = FORMATS["r1"]
    rows = [{"id": 0, "question": "q", "answer": "3", "prompt": [{"role": "user", "content": "q"}],
             "reasoning": "1 + 2 = 3", "operation": "add", "steps": 1, "phrasing": "heldout",
             "level": "Level 2", "solution": "x" * 200}]
    [record] = score(rows, [(fmt.render("1 + 2 = 3", "3"), 9)], fmt)
    assert (record["operation"], record["steps"], record["phrasing"], record["level"]) == ("add", 1, "heldout", "Level 2")
    assert "solution" not in record and "prompt" not in record and "reasoning" not in record
    assert record["correct"] is True
