"""`python -m recipes.compare`: the report of base -> (primed ->) tuned on runs with known outcomes.

Ten examples, ids 0-9. Who answers correctly:
  base   {0, 1}                    2/10
  primed {0, 2, 3, 4}              4/10   base -> primed: fixed 2,3,4 (c=3), broken 1 (b=1)
  tuned  {0, 2, 3, ..., 9}         9/10   primed -> tuned: fixed 5..9 (c=5), broken none (b=0)
                                          base -> tuned:   fixed 2..9 (c=8), broken 1  (b=1)
Hand-computed McNemar p = 2 * sum_{k<=min(b,c)} C(b+c,k) / 2^(b+c):
  b=1,c=3: 2*(1+4)/16 = 0.625    b=0,c=5: 2/32 = 0.0625    b=1,c=8: 2*(1+9)/512 = 0.0390625
Hand-computed Wilson 95% (z = 1.959964): 2/10 -> (0.0567, 0.5098), 9/10 -> (0.5958, 0.9821),
  3/10 -> (0.1078, 0.6032), 10/10 -> (0.7225, 1.0).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recipes import charts, report
from recipes.compare import main
from recipes.errors import run_cli

REPO = Path(__file__).resolve().parents[1]
BASE, PRIMED, TUNED = {0, 1}, {0, 2, 3, 4}, {0, *range(2, 10)}


def write_eval_dir(path: Path, label: str, correct: set[int], *, format_ok: set[int] | None = None,
                   ids=range(10), gold=lambda i: str(i * 7), completion=None, drop_field: str | None = None) -> Path:
    path.mkdir(parents=True)
    rows = []
    for i in ids:
        answer = gold(i) if i in correct else "-1"
        row = {"id": i, "question": f"What is {i} * 7?", "gold": gold(i),
               "completion": completion(i) if completion else f"<SOLUTION>{answer}</SOLUTION>",
               "extracted": answer, "correct": i in correct,
               "format_ok": i in (format_ok if format_ok is not None else set(ids)), "n_tokens": 10 + i}
        if drop_field:
            row.pop(drop_field)
        rows.append(row)
    (path / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    n, k = len(rows), sum(r["correct"] for r in rows)
    (path / "summary.json").write_text(json.dumps({
        "label": label, "accuracy": k / n, "format_rate": 1.0, "mean_tokens": 14.5, "n": n, "correct": k,
        "format": "unsloth", "model": "tiny-model", "adapter": None, "dataset": "arithmetic", "split": "test",
        "seed": 0, "versions": {}}))
    return path


def write_metrics(path: Path, steps: int = 30, tail: str = "") -> Path:
    lines = [{"stage": "sft", "step": s, "loss": 2.0 / s, "learning_rate": 1e-4} for s in range(1, 6)]
    lines += [{"stage": "grpo", "step": s, "loss": 0.01, "reward": 1.0 + s / 10, "reward_std": 0.5,
               "rewards/answer/mean": s / 30, "rewards/answer/std": 0.3, "rewards/format_exact/mean": 1.0 + s / 20,
               "frac_reward_zero_std": 0.5 - s / 100, "completions/mean_length": 40.0 - s / 2}
              for s in range(1, steps + 1)]
    lines.append({"stage": "grpo", "step": steps, "train_runtime": 12.3, "train_loss": 0.01})
    path.write_text("".join(json.dumps(r) + "\n" for r in lines) + tail)
    return path


@pytest.fixture
def two_runs(tmp_path):
    return (write_eval_dir(tmp_path / "eval" / "base", "base", BASE, format_ok={0, 1, 2}),
            write_eval_dir(tmp_path / "eval" / "tuned", "tuned", TUNED))


@pytest.fixture
def three_runs(tmp_path):
    return (write_eval_dir(tmp_path / "eval" / "base", "base", BASE),
            write_eval_dir(tmp_path / "eval" / "primed", "primed", PRIMED),
            write_eval_dir(tmp_path / "eval" / "tuned", "tuned", TUNED))


def run_compare(dirs, out: Path, *extra: str) -> int:
    return run_cli(main, [*map(str, dirs), "--out", str(out), *extra])


def load(out: Path) -> dict:
    return json.loads((out / "comparison.json").read_text())


# ---------------------------------------------------------------- the numbers


def test_two_runs_give_hand_computed_accuracy_intervals_and_p(two_runs, tmp_path, capsys):
    out = tmp_path / "report"
    assert run_compare(two_runs, out) == 0
    c = load(out)
    base, tuned = c["stages"]
    assert (base["label"], base["correct"], base["n"], base["accuracy"]) == ("base", 2, 10, 0.2)
    assert base["accuracy_ci"] == pytest.approx([0.0567, 0.5098], abs=1e-4)
    assert base["format_rate"] == 0.3 and base["format_ci"] == pytest.approx([0.1078, 0.6032], abs=1e-4)
    assert tuned["accuracy"] == 0.9 and tuned["accuracy_ci"] == pytest.approx([0.5958, 0.9821], abs=1e-4)
    assert tuned["format_ci"] == pytest.approx([0.7225, 1.0], abs=1e-4)
    [t] = c["transitions"]  # two stages: one comparison, no separate first-vs-last
    assert (t["before"], t["after"], t["fixed"], t["broken"], t["b"], t["c"]) == ("base", "tuned", 8, 1, 1, 8)
    assert (t["both_right"], t["both_wrong"]) == (1, 0)
    assert t["p"] == pytest.approx(0.0390625) and t["significant"] is True
    assert t["delta"] == pytest.approx(0.7)
    assert sorted(t["fixed_ids"]) == list(range(2, 10)) and t["broken_ids"] == [1]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "base 20.0% → tuned 90.0% (tuned vs base: +70.0 pts, McNemar p = 0.0391)"
    assert printed[-1] == f"report: {out / 'report.html'}"


def test_three_stages_compare_each_step_and_first_vs_last(three_runs, tmp_path, capsys):
    out = tmp_path / "report"
    assert run_compare(three_runs, out) == 0
    c = load(out)
    assert [s["accuracy"] for s in c["stages"]] == [0.2, 0.4, 0.9]
    got = [(t["before"], t["after"], t["kind"], t["fixed"], t["broken"]) for t in c["transitions"]]
    assert got == [("base", "primed", "step", 3, 1), ("primed", "tuned", "step", 5, 0),
                   ("base", "tuned", "overall", 8, 1)]
    assert [t["p"] for t in c["transitions"]] == pytest.approx([0.625, 0.0625, 0.0390625])
    assert [t["significant"] for t in c["transitions"]] == [False, False, True]
    headline = capsys.readouterr().out.splitlines()[0]
    assert headline == ("base 20.0% → primed 40.0% → tuned 90.0% (tuned vs primed: +50.0 pts, McNemar p = 0.0625, "
                        "not significant at 0.05; tuned vs base: +70.0 pts, p = 0.0391)")


def test_report_says_not_significant_when_p_is_at_least_005(three_runs, tmp_path):
    out = tmp_path / "report"
    run_compare(three_runs, out)
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    for text in (md, html):
        assert "not significant at 0.05" in text  # primed -> tuned, p = 0.0625
        assert "0.625" in text and "0.0625" in text


def test_changed_examples_are_listed_side_by_side_with_fixed_and_broken(two_runs, tmp_path):
    out = tmp_path / "report"
    run_compare(two_runs, out)
    html = (out / "report.html").read_text()
    assert html.count('<span class="badge fixed">fixed</span>') == 8
    assert html.count('<span class="badge broken">broken</span>') == 1
    assert "What is 1 * 7?" in html  # the broken one, with its question


def test_changed_examples_are_capped_fairly_and_the_rest_counted(tmp_path):
    ids = range(300)
    base = write_eval_dir(tmp_path / "a", "base", set(range(100, 300)), ids=ids)  # 100..299 right
    tuned = write_eval_dir(tmp_path / "b", "tuned", set(range(0, 280)), ids=ids)  # 0..99 fixed, 280..299 broken
    out = tmp_path / "report"
    assert run_compare([base, tuned], out) == 0
    html = (out / "report.html").read_text()
    assert html.count('class="badge fixed"') == 30 and html.count('class="badge broken"') == 20
    assert "Showing 30 of 100 fixed and 20 of 20 broken; 70 omitted" in html


# ---------------------------------------------------------------- the files


def test_report_files_are_written_and_html_is_self_contained(two_runs, tmp_path):
    out = tmp_path / "report"
    assert run_compare(two_runs, out, "--train-log", str(write_metrics(tmp_path / "metrics.jsonl"))) == 0
    assert {p.name for p in out.iterdir()} == {"report.md", "report.html", "comparison.json",
                                               "accuracy.png", "rewards.png"}
    for png in ("accuracy.png", "rewards.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 2
    for external in ('src="http', "src='http", 'href="http', "<link", "<script", "url(", "@import"):
        assert external not in html
    md = (out / "report.md").read_text()
    assert "![accuracy](accuracy.png)" in md and "![rewards](rewards.png)" in md


def test_without_a_training_log_there_is_no_reward_chart(two_runs, tmp_path):
    out = tmp_path / "report"
    assert run_compare(two_runs, out) == 0
    assert not (out / "rewards.png").exists()
    assert load(out)["train_log"] is None
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 1


def test_model_text_is_escaped_in_html_and_markdown(tmp_path):
    evil = "<script>alert('x')</script> <SOLUTION>7</SOLUTION> | *bold* <img src=http://e.vil/x.png>"
    base = write_eval_dir(tmp_path / "a", "base", set(), completion=lambda i: evil)
    tuned = write_eval_dir(tmp_path / "b", "<b>tuned</b>", set(range(10)), completion=lambda i: evil)
    out = tmp_path / "report"
    assert run_compare([base, tuned], out) == 0
    html = (out / "report.html").read_text()
    assert "<script" not in html and "<SOLUTION>" not in html and "<img src=http" not in html
    assert "<b>tuned</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &lt;SOLUTION&gt;7&lt;/SOLUTION&gt;" in html
    md = (out / "report.md").read_text()
    assert "<script" not in md and "<SOLUTION>" not in md and "<b>tuned" not in md
    assert "&lt;SOLUTION&gt;7&lt;/SOLUTION&gt; \\| \\*bold\\*" in md


def test_every_string_from_a_run_is_escaped_by_both_templates(tmp_path):
    """Title, labels, gold, ids, answers, completions, notes, alarms and chart captions: none gets through raw."""
    evil = "<script>alert(1)</script>"

    def gold(i):
        return f"{evil}{i}"

    base = write_eval_dir(tmp_path / "a", evil, set(), gold=gold, completion=lambda i: f"<think>{evil}</think>")
    tuned = write_eval_dir(tmp_path / "b", "tuned", set(range(10)), gold=gold, completion=lambda i: evil)
    out = tmp_path / "report"
    assert run_compare([base, tuned], out, "--title", evil) == 0
    comparison = load(out)
    comparison["notes"].append(evil)
    comparison["alarms"] = [{"kind": "no_signal", "message": evil}]
    side = {"extracted": evil, "completion": evil, "correct": False}
    examples = [[{"id": evil, "change": "fixed", "question": evil, "gold": evil, "before": side, "after": side}]]
    html = report.render_html(comparison, examples, {evil: (out / "accuracy.png").read_bytes()})
    md = report.render_markdown(comparison, examples, ["accuracy.png"])
    assert "<script" not in html and "<think>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 10
    assert "<script" not in md and "<think>" not in md
    assert md.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 10


# ---------------------------------------------------------------- the training log


def test_truncated_metrics_line_sft_lines_and_train_summary_are_tolerated(two_runs, tmp_path):
    log = write_metrics(tmp_path / "metrics.jsonl", steps=30, tail='{"stage": "grpo", "step": 31, "rew')
    out = tmp_path / "report"
    assert run_compare(two_runs, out, "--train-log", str(log)) == 0
    c = load(out)
    assert c["train_log"]["reward_points"] == 30  # not the 5 SFT lines, the summary or the torn line
    assert c["train_log"]["reward_keys"] == ["answer", "format_exact"]
    assert c["train_log"]["reward_start"] == pytest.approx(1.0 + (1 + 2 + 3) / 30)  # mean of the first 3 of 30
    assert c["train_log"]["reward_end"] == pytest.approx(1.0 + (28 + 29 + 30) / 30)
    assert any("cut short" in note for note in c["notes"])
    assert (out / "rewards.png").read_bytes()[:4] == b"\x89PNG"


def test_a_log_without_rewards_is_reported_not_plotted(two_runs, tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text(json.dumps({"step": 1, "loss": 1.0}) + "\n")
    out = tmp_path / "report"
    assert run_compare(two_runs, out, "--train-log", str(log)) == 0
    assert not (out / "rewards.png").exists()
    assert any("no line with rewards" in note for note in load(out)["notes"])


def test_reward_keys_cover_old_and_new_trl_names_and_skip_stds():
    rows = [{"rewards/answer/mean": 1, "rewards/answer/std": 0.1, "rewards/xml_count": 0.2, "reward": 1.2}]
    assert charts.reward_keys(rows) == ["rewards/answer/mean", "rewards/xml_count"]
    assert charts.reward_rows([{"loss": 1.0}, {"train_runtime": 3.0}, *rows]) == rows


# ---------------------------------------------------------------- bad input: one line, exit 2


def assert_refused(capsys, rc: int, *needles: str) -> None:
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err


def test_different_ids_are_refused_naming_the_dir(tmp_path, capsys):
    base = write_eval_dir(tmp_path / "base", "base", BASE)
    other = write_eval_dir(tmp_path / "other", "tuned", TUNED, ids=range(1, 11))
    rc = run_compare([base, other], tmp_path / "out")
    assert_refused(capsys, rc, str(other), "1 id(s) not in", "(10)", "1 id(s) of", "missing (0)")
    assert not (tmp_path / "out" / "report.html").exists()


def test_different_gold_for_an_id_is_refused(tmp_path, capsys):
    base = write_eval_dir(tmp_path / "base", "base", BASE)
    other = write_eval_dir(tmp_path / "other", "tuned", TUNED, gold=lambda i: "99" if i == 4 else str(i * 7))
    assert_refused(capsys, run_compare([base, other], tmp_path / "out"), str(other), "gold for id 4", "'99'", "'28'")


def test_missing_files_and_fields_are_refused(tmp_path, capsys):
    base = write_eval_dir(tmp_path / "base", "base", BASE)
    no_summary = write_eval_dir(tmp_path / "no_summary", "tuned", TUNED)
    (no_summary / "summary.json").unlink()
    assert_refused(capsys, run_compare([base, no_summary], tmp_path / "o"), "missing summary.json")
    assert_refused(capsys, run_compare([base, tmp_path / "nowhere"], tmp_path / "o"), "not a directory")
    partial = write_eval_dir(tmp_path / "partial", "tuned", TUNED, drop_field="format_ok")
    assert_refused(capsys, run_compare([base, partial], tmp_path / "o"), "row 1 misses field(s) format_ok")
    assert_refused(capsys, run_compare([base], tmp_path / "o"), "at least two")
    assert_refused(capsys, run_compare([base, base], tmp_path / "o", "--train-log", str(tmp_path / "x.jsonl")),
                   "training log not found")


def test_cli_entry_point_exits_2_with_one_line(tmp_path):
    base = write_eval_dir(tmp_path / "base", "base", BASE)
    other = write_eval_dir(tmp_path / "other", "tuned", TUNED, ids=range(5))
    proc = subprocess.run([sys.executable, "-m", "recipes.compare", str(base), str(other), "--out", str(tmp_path / "o")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and str(other) in proc.stderr


def test_same_labels_are_told_apart(tmp_path):
    a = write_eval_dir(tmp_path / "run1", "tuned", BASE)
    b = write_eval_dir(tmp_path / "run2", "tuned", TUNED)
    assert run_compare([a, b], tmp_path / "o") == 0
    assert [s["label"] for s in load(tmp_path / "o")["stages"]] == ["tuned", "tuned (run2)"]


# ---------------------------------------------------------------- wording helpers


def test_p_values_are_never_rounded_across_005():
    assert report.format_p(0.0496) == "p = 0.0496"
    assert report.format_p(0.04999) == "p = 0.04999"
    assert report.format_p(0.05) == "p = 0.05"
    assert report.format_p(0.0004) == "p < 0.001"


def test_flexible_accuracy_is_in_the_tables_and_the_gain_is_split_into_format_and_answers(tmp_path):
    dirs = [write_eval_dir(tmp_path / "base", "base", set()), write_eval_dir(tmp_path / "tuned", "tuned", {0, 1, 2, 3})]
    flexible = {"base": {0, 1}, "tuned": {0, 1, 2}}  # base answered 0 and 1 in prose; tuned also 2
    for d in dirs:
        rows = [json.loads(line) for line in (d / "predictions.jsonl").read_text().splitlines()]
        label = d.name
        text = "".join(json.dumps({**r, "flexible_correct": r["id"] in flexible[label]}) + "\n" for r in rows)
        (d / "predictions.jsonl").write_text(text)
    assert run_compare(dirs, tmp_path / "out") == 0
    base, tuned = load(tmp_path / "out")["stages"]
    assert (base["flexible_accuracy"], tuned["flexible_accuracy"]) == (0.2, 0.3)
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| flexible |" in md and "| 20.0% |" in md
    assert ("base → tuned: strict accuracy +40.0 pts, of which +10.0 pts are answers also right without the "
            "format (flexible accuracy) and +30.0 pts the format alone.") in md
