"""Decontamination: planted copies of evaluation problems are flagged, near misses and clean sets are not."""

from __future__ import annotations

import json

import pytest

from data_prep import build_dataset
from recipes.decontaminate import check, drop_flagged, find_overlaps, main, skip_reason
from recipes.errors import run_cli
from tests.conftest import FIXTURES, REPO

PLANTED = FIXTURES / "decon_train.jsonl"  # rows 1-3 copy gsm8k_sample rows 0-2; 0, 4-6 are clean
EVAL = FIXTURES / "gsm8k_sample.jsonl"
DEMO = REPO / "recipes/configs/grpo_smollm2_demo.yaml"


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _questions(path):
    return [r.get("question") or r.get("problem") or r.get("prompt") for r in _records(path)]


def test_planted_copies_are_flagged_and_nothing_else():
    overlaps = find_overlaps(_questions(PLANTED), _questions(EVAL))
    plants = [r["plant"] for r in _records(PLANTED)]
    assert [(o.index, o.eval_index) for o in overlaps] == [(1, 0), (2, 1), (3, 2)]
    assert [plants[o.index] for o in overlaps] == ["verbatim", "case-punct-space", "span"]
    assert overlaps[0].shared == "natalia sold clips to 48 of her friends"
    assert overlaps[2].shared == "a school library has 1 250 books it"
    # The clean rows 4 and 5 are near misses: they share a 7-word phrase, so only n <= 7 flags them.
    assert {4, 5} <= {o.index for o in find_overlaps(_questions(PLANTED), _questions(EVAL), 7)}


def test_a_clean_pair_flags_nothing():
    for other in ("openr1_sample.jsonl", "dapo_sample.jsonl"):
        assert find_overlaps(_questions(FIXTURES / other), _questions(EVAL)) == []
    split = _records(FIXTURES / "with_split.jsonl")
    train = [r["question"] for r in split if r["split"] == "train"]
    test = [r["question"] for r in split if r["split"] == "test"]
    assert find_overlaps(train, test) == []


def test_a_text_shorter_than_n_words_is_one_ngram():
    # open-r1's word_ngrams gives such a text no n-gram at all: it could never be flagged.
    evals = ["What is 2 + 3?", "What is 10 - 4?"]
    train = ["what is 2+3", "So, what is 2 + 3 then?", "What is 10 - 4 ?", "What is 2 + 4?"]
    assert [(o.index, o.eval_index, o.shared) for o in find_overlaps(train, evals)] == [
        (0, 0, "what is 2 3"), (2, 1, "what is 10 4")]
    assert [o.index for o in find_overlaps(train, evals, ngram=3)] == [0, 1, 2, 3]


def test_check_writes_the_report_and_drop_flagged_removes_those_rows(tmp_path):
    train = build_dataset("openr1_math", data_file=str(PLANTED))
    evals = [{"question": q, "id": f"gsm8k-{j}"} for j, q in enumerate(_questions(EVAL))]
    report = check(train, evals, 8, tmp_path, "planted", "gsm8k_sample")
    assert json.loads((tmp_path / "decontamination.json").read_text()) == report
    assert {k: report[k] for k in ("ngram", "train", "eval", "train_rows", "eval_rows", "flagged")} == {
        "ngram": 8, "train": "planted", "eval": "gsm8k_sample", "train_rows": 7, "eval_rows": 6, "flagged": 3}
    assert sorted(r["id"] for r in report["rows"]) == [1, 2, 3]  # source rows, whatever the shuffle
    for row in report["rows"]:
        assert set(row) == {"index", "id", "shared", "eval_index", "eval_id"}
        assert train[row["index"]]["id"] == row["id"] and row["eval_id"] == f"gsm8k-{row['eval_index']}"
    kept = drop_flagged(train, report)
    assert sorted(kept["id"]) == [0, 4, 5, 6]
    assert find_overlaps(kept["question"], _questions(EVAL)) == []


def test_drop_flagged_refuses_a_report_of_other_rows(tmp_path):
    report = check([{"question": "a b c"}], [{"question": "a b c"}], 8, tmp_path, "t", "e")
    assert report["flagged"] == 1 and report["rows"][0]["id"] is None
    with pytest.raises(ValueError, match="decontamination: the report is of 1 training rows"):
        drop_flagged(build_dataset("openr1_math", data_file=str(PLANTED)), report)


def test_cli_writes_the_file_and_prints_one_line(tmp_path, capsys):
    out = tmp_path / "decon"
    code = run_cli(main, ["--train", str(PLANTED), "--eval", str(EVAL), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out == (f"decontaminate: 3 of 7 training rows share an 8-gram with 6 evaluation problems "
                            f"-> {out / 'decontamination.json'}\n")
    report = json.loads((out / "decontamination.json").read_text())
    # A file is read in file order: index is the file row.
    rows = [(r["index"], r["id"], r["eval_index"]) for r in report["rows"]]
    assert rows == [(1, 1, 0), (2, 2, 1), (3, 3, 2)]
    assert report["eval"] == f"{EVAL} (test)" and "note" not in report


def test_cli_eval_split_limit_and_ngram(tmp_path, capsys):
    split_file = str(FIXTURES / "with_split.jsonl")
    args = ["--train", split_file, "--eval", split_file, "--out", str(tmp_path)]
    assert run_cli(main, args) == 0
    assert "0 of 4 training rows share an 8-gram with 2 evaluation problems" in capsys.readouterr().out
    assert run_cli(main, [*args, "--eval-split", "train", "--eval-limit", "3", "--ngram", "5"]) == 0
    assert "3 of 4 training rows share a 5-gram with 3 evaluation problems" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "field"), [
    (["--train", "missing.jsonl", "--eval", str(EVAL)], "data_file: missing.jsonl not found"),
    (["--train", "missing.yaml", "--eval", str(EVAL)], "config: missing.yaml not found"),
    (["--train", str(PLANTED), "--eval", "missing.parquet"], "data_file: missing.parquet not found"),
    (["--train", str(PLANTED), "--eval", "gsm9k"], "eval: unknown 'gsm9k'; expected arithmetic"),
    (["--train", "notes.txt", "--eval", str(EVAL)], "train: unknown 'notes.txt'"),
    (["--train", str(PLANTED), "--eval", str(EVAL), "--ngram", "0"], "ngram: expected a whole number >= 1"),
    (["--train", str(PLANTED), "--eval", str(EVAL), "--eval-limit", "0"], "eval-limit: expected a positive"),
    (["--train", str(PLANTED), "--eval", str(EVAL), "--seed", "3"], "arguments: --seed is a config override"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, field):
    code = run_cli(main, [*args, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and field in err, err
    assert not (tmp_path / "o").exists()


def test_the_demo_config_against_arithmetic_test_flags_template_words(tmp_path, capsys):
    """Generated arithmetic shares its templates between train and test on purpose (half the test
    problems use training phrasings); its splits never share a problem's arithmetic. An 8-gram check
    flags most of the training set on template words alone: the pipeline must not drop those rows."""
    args = ["--train", str(DEMO), "--eval", "arithmetic", "--out", str(tmp_path), "--dataset_limit", "400"]
    code = run_cli(main, args)
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "decontamination.json").read_text())
    assert report["train_rows"] == 400 and report["eval_rows"] == 300
    assert report["flagged"] > 250  # 789 of the full 1000 (recipes/decontaminate.py)
    assert report["note"] == skip_reason(("arithmetic", None), ("arithmetic", None))
    # The same test set the run evaluates on (the config's knobs), and only its training phrasings match.
    knobs = {"min_operand": 1, "max_operand": 12, "operations": "+-*", "steps": [1, 1, 1, 2]}
    test = build_dataset("arithmetic", split="test", **knobs)
    assert {test[r["eval_index"]]["phrasing"] for r in report["rows"]} == {"train"}
    train = build_dataset("arithmetic", split="train", limit=400, **knobs)
    assert not {q.lower() for q in train["question"]} & {q.lower() for q in test["question"]}


def test_skip_reason_names_one_generated_source_on_both_sides_only(tmp_path, capsys):
    arithmetic = ("arithmetic", None)
    assert "generated" in skip_reason(arithmetic, arithmetic)
    assert skip_reason(arithmetic, ("gsm8k", None)) is None  # another source: the check means something
    assert skip_reason(("arithmetic", "mine.jsonl"), ("arithmetic", "mine.jsonl")) is None
    assert skip_reason(("gsm8k", None), ("gsm8k", None)) is None
    assert run_cli(main, ["--train", str(DEMO), "--eval", str(EVAL), "--out", str(tmp_path)]) == 0
    assert "0 of 1000 training rows" in capsys.readouterr().out
    assert "note" not in json.loads((tmp_path / "decontamination.json").read_text())
