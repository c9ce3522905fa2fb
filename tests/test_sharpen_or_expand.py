"""The report's pass@k section: curves per stage, new and lost problems, and "sharpen" or "expand" with numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_prep.formats import FORMATS
from recipes.compare import main as compare_main
from recipes.errors import run_cli
from recipes.io_utils import write_json, write_jsonl_atomic
from recipes.scoring import decoding_of, score, summarize

FMT = FORMATS["r1"]
N = 8


def sampled_eval_dir(path: Path, label: str, right: dict[int, int], problems: int = 40) -> Path:
    """An evaluation dir scored by the real scorer: problem i has ``right.get(i, 0)`` right samples of N."""
    rows = [{"id": i, "question": f"What is {i} + {i}?", "answer": str(2 * i), "operation": "add" if i % 2 else "sub"}
            for i in range(problems)]
    groups = [[(FMT.render("", str(2 * i) if s < right.get(i, 0) else "-1"), 9) for s in range(N)] for i in range(problems)]
    records = score(rows, groups, FMT)
    write_jsonl_atomic(path / "predictions.jsonl", records)
    write_json(path / "summary.json", summarize(records, {"label": label, "model": "tiny", "dataset": "arithmetic"},
                                                decoding_of(N, 0.6, 0.95, 9)))
    return path


def compare(tmp_path: Path, base: dict[int, int], tuned: dict[int, int], capsys) -> dict:
    dirs = [str(sampled_eval_dir(tmp_path / label, label, right)) for label, right in (("base", base), ("tuned", tuned))]
    assert run_cli(compare_main, [*dirs, "--out", str(tmp_path / "report")]) == 0, capsys.readouterr().err
    return json.loads((tmp_path / "report" / "comparison.json").read_text())["sampling"]


def test_a_gain_at_k1_that_the_base_matches_at_k8_is_sharpening(tmp_path, capsys):
    section = compare(tmp_path, {i: 2 for i in range(30)}, {i: 6 for i in range(30)}, capsys)
    [tuned_vs_base] = section["comparisons"]
    strict = tuned_vs_base["strict"]
    assert strict["verdict"] == "sharpen" and strict["new"] == [] and strict["lost"] == []
    base, tuned = (s["strict"] for s in section["stages"])
    assert base["pass_at_1"] == pytest.approx(30 * 2 / 8 / 40) and tuned["pass_at_1"] == pytest.approx(30 * 6 / 8 / 40)
    assert base["pass_at_n"] == tuned["pass_at_n"] == 0.75
    assert [p["k"] for p in base["curve"]] == [1, 2, 4, 8]
    assert all(p["ci"][0] <= p["pass"] <= p["ci"][1] for p in base["curve"])
    sentence = strict["sentence"]
    assert sentence.startswith("Sharpen (tuned vs base, strict)") and "catches up" in sentence
    assert "pass@1 18.8% → 56.2%" in sentence and "pass@8 75.0% → 75.0%" in sentence
    report_md = (tmp_path / "report" / "report.md").read_text()
    assert "## pass@k: sharpen or expand?" in report_md and "Sharpen (tuned vs base, strict)" in report_md
    assert (tmp_path / "report" / "pass_at_k.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    assert sentence in out and tuned_vs_base["flexible"]["sentence"] in out


def test_problems_the_base_never_solved_make_it_expansion(tmp_path, capsys):
    section = compare(tmp_path, {i: 2 for i in range(20)}, {i: 3 for i in range(32)}, capsys)
    strict = section["comparisons"][0]["strict"]
    assert strict["verdict"] == "expand"
    assert strict["new"] == list(range(20, 32)) and strict["lost"] == [] and strict["p"] < 0.001
    html = (tmp_path / "report" / "report.html").read_text()
    assert "tuned vs base, new: 12 problem(s) tuned solves (strict) in some sample and base never does" in html
    assert "What is 20 + 20?" in html


def test_a_base_that_overtakes_at_k8_is_named(tmp_path, capsys):
    # Tuned: always right on 20 problems and never on the rest; base: sometimes right on 30 of them.
    section = compare(tmp_path, {i: 2 for i in range(30)}, {i: 8 for i in range(20)}, capsys)
    strict = section["comparisons"][0]["strict"]
    assert strict["verdict"] == "sharpen" and "overtakes" in strict["sentence"]
    assert strict["lost"] == list(range(20, 30))
    md = (tmp_path / "report" / "report.md").read_text()
    assert "### tuned vs base, lost: 10 problem(s) base solves (strict) in some sample and tuned never does" in md


def test_a_format_learned_is_expansion_strict_and_sharpening_flexible(tmp_path, capsys):
    """A base that answers right in prose (flexible) but never in the format: strict calls the tuned model's
    gain new problems, flexible shows the base could already sample those answers. The report gives both."""
    rows = [{"id": i, "question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(30)]
    dirs = []
    for label, right, render in (("base", 2, lambda a: f"It is {a}."), ("tuned", 6, lambda a: FMT.render("", a))):
        groups = [[(render(str(2 * i) if s < right else "-1"), 5) for s in range(N)] for i in range(30)]
        records = score(rows, groups, FMT)
        write_jsonl_atomic(tmp_path / label / "predictions.jsonl", records)
        write_json(tmp_path / label / "summary.json", summarize(records, {"label": label}, decoding_of(N, 0.6, 1.0, 5)))
        dirs.append(str(tmp_path / label))
    assert run_cli(compare_main, [*dirs, "--out", str(tmp_path / "report")]) == 0, capsys.readouterr().err
    [c] = json.loads((tmp_path / "report" / "comparison.json").read_text())["sampling"]["comparisons"]
    assert c["strict"]["verdict"] == "expand" and len(c["strict"]["new"]) == 30
    assert c["flexible"]["verdict"] == "sharpen" and c["flexible"]["new"] == []


def test_three_stages_compare_each_step_and_first_to_last(tmp_path, capsys):
    dirs = [str(sampled_eval_dir(tmp_path / label, label, right)) for label, right in
            (("base", {}), ("primed", {i: 1 for i in range(10)}), ("tuned", {i: 4 for i in range(10)}))]
    assert run_cli(compare_main, [*dirs, "--out", str(tmp_path / "report")]) == 0, capsys.readouterr().err
    section = json.loads((tmp_path / "report" / "comparison.json").read_text())["sampling"]
    assert [(c["before"], c["after"]) for c in section["comparisons"]] == [
        ("base", "primed"), ("primed", "tuned"), ("base", "tuned")]
    assert [c["strict"]["verdict"] for c in section["comparisons"]] == ["expand", "sharpen", "expand"]


def test_greedy_reports_have_no_pass_at_k_section_and_mixed_sample_counts_get_a_note(tmp_path, capsys):
    from tests.test_compare import write_eval_dir

    a, b = write_eval_dir(tmp_path / "a", "base", {1, 2}), write_eval_dir(tmp_path / "b", "tuned", {1, 2, 3})
    assert run_cli(compare_main, [str(a), str(b), "--out", str(tmp_path / "r")]) == 0
    comparison = json.loads((tmp_path / "r" / "comparison.json").read_text())
    assert comparison["sampling"] is None and not (tmp_path / "r" / "pass_at_k.png").exists()
    assert "pass@k" not in (tmp_path / "r" / "report.md").read_text()
    c = sampled_eval_dir(tmp_path / "c", "sampled", {1: 3}, problems=10)
    for row_file in (c / "predictions.jsonl",):  # the same golds as write_eval_dir's
        rows = [json.loads(line) for line in row_file.read_text().splitlines()]
        row_file.write_text("".join(json.dumps({**r, "gold": str(r["id"] * 7)}) + "\n" for r in rows))
    assert run_cli(compare_main, [str(a), str(c), "--out", str(tmp_path / "r2")]) == 0, capsys.readouterr().err
    notes = json.loads((tmp_path / "r2" / "comparison.json").read_text())["notes"]
    assert any("different numbers of samples" in n for n in notes)
