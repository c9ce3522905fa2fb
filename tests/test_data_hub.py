"""`dataset: hub`: any Hub dataset or local file, read by the columns the config names.

Fixture hub_qa.jsonl: 8 problems written for it, columns problem, solution (a worked
solution: three GSM8K-style `#### gold`, three ending in `\\boxed{gold}`, two just the
gold), final (the plain gold), category (3 values), level (1..3), tags (a list) and uid
(one per row). The Hub is never reached: `data_prep.common.load_dataset` is faked.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from datasets import Dataset

import data_prep.common
from data_prep import DATASETS, DataError, build_dataset
from data_prep.formats import get_format
from data_prep.heldout import bucket
from data_prep.hub_dataset import gold_and_reasoning
from recipes.config import load_config
from recipes.errors import run_cli
from recipes.grpo import main as grpo_main
from recipes.run_stats import category_columns
from recipes.scoring import score

FIXTURES = Path(__file__).parent / "fixtures"
HUB_QA = str(FIXTURES / "hub_qa.jsonl")
GOLDS = ["-5", "120", "13", "1600", "21", "4", "9\\pi", "\\frac{3}{4}"]


def records() -> list[dict]:
    return [json.loads(line) for line in Path(HUB_QA).read_text().splitlines() if line.strip()]


def by_uid(ds) -> dict[str, dict]:
    return {row["uid"]: row for row in ds}


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def fake_hub(monkeypatch, rows: list[dict], splits=("train", "test")) -> list[tuple]:
    """Fake `load_dataset`: `rows` for any split in `splits`, datasets' own ValueError for another."""
    calls = []

    def load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        if split not in splits:
            raise ValueError(f'Unknown split "{split}". Should be one of {list(splits)}.')
        return Dataset.from_list(rows)

    monkeypatch.setattr(data_prep.common, "load_dataset", load_dataset)
    return calls


def error(**kwargs) -> str:
    with pytest.raises(DataError) as info:
        build_dataset("hub", **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_hub_is_registered():
    assert "hub" in DATASETS


def test_a_worked_solution_column_gives_gold_and_reasoning_in_every_format():
    rows = by_uid(build_dataset("hub", data_file=HUB_QA, question="problem", answer="solution"))
    assert sorted(r["answer"] for r in rows.values()) == GOLDS
    # gsm8k: the text before ####, calculator annotations gone; thousands separators dropped from the gold
    assert (rows["qa-1"]["answer"], rows["qa-1"]["reasoning"]) == ("1600", "She makes 1,250 + 350 = 1600 rolls.")
    # boxed: the last balanced box is the gold; the solution, box and all, is the reasoning
    assert rows["qa-5"]["answer"] == "\\frac{3}{4}"
    assert rows["qa-5"]["reasoning"] == records()[4]["solution"]
    # plain: the cell is the gold, and there is no reasoning
    assert (rows["qa-7"]["answer"], rows["qa-7"]["reasoning"]) == ("120", "")
    assert rows["qa-4"]["question"] == "Solve for $x$: $2x + 3 = 11$."


def test_default_columns_are_problem_and_solution():
    assert (build_dataset("hub", data_file=HUB_QA).to_list()
            == build_dataset("hub", data_file=HUB_QA, question="problem", answer="solution").to_list())


def test_a_plain_answer_column_takes_the_solution_column_as_reasoning():
    rows = by_uid(build_dataset("hub", data_file=HUB_QA, answer="final"))
    assert sorted(r["answer"] for r in rows.values()) == GOLDS
    worked = by_uid(build_dataset("hub", data_file=HUB_QA, answer="solution"))
    for uid in ("qa-2", "qa-5"):  # the same worked solution, whichever column holds the gold
        assert rows[uid]["reasoning"] == worked[uid]["reasoning"]
    assert rows["qa-2"]["reasoning"] == "Tom has 4 * 6 = 24 apples.\nAfter eating 3 he has 24 - 3 = 21 apples."
    assert rows["qa-7"]["reasoning"] == "120", "a reasoning column is kept as written"
    named = by_uid(build_dataset("hub", data_file=HUB_QA, answer="final", reasoning="category"))
    assert named["qa-2"]["reasoning"] == "arithmetic", "a reasoning column named wins"


@pytest.mark.parametrize(("text", "answer_format", "expected"), [
    ("a\n#### 1,000,000", "auto", ("1000000", "a")),
    ("x = <<2*3=6>>6\n#### 6", "gsm8k", ("6", "x = 6")),
    ("so \\boxed{1} or \\boxed{\\frac{1}{\\sqrt{2}}}.", "auto", ("\\frac{1}{\\sqrt{2}}", "so \\boxed{1} or \\boxed{\\frac{1}{\\sqrt{2}}}.")),
    ("$\\boxed{42}$.", "auto", ("42", "")),
    ("#### 5 then \\boxed{6}", "auto", ("5 then \\boxed{6}", "")),  # #### wins over a box
    (" 7 ", "plain", ("7", "")),
    ("#### 5", "plain", ("#### 5", "")),
    ("no marker", "gsm8k", None),
    ("empty gold\n#### ", "auto", None),
    ("\\boxed{unclosed", "auto", None),
    ("\\boxed{}", "boxed", None),
    ("42", "boxed", None),
])
def test_gold_and_reasoning(text, answer_format, expected):
    assert gold_and_reasoning(text, answer_format) == expected


@pytest.mark.parametrize(("answer_format", "answer", "expected"), [
    ("gsm8k", "solution", "answer: row 4 of {file} has no '#### <gold>' in column 'solution' (answer_format gsm8k)"),
    ("boxed", "final", "answer: row 1 of {file} has no balanced \\boxed{{...}} in column 'final' (answer_format boxed)"),
])
def test_a_forced_answer_format_names_the_first_row_without_that_gold(answer_format, answer, expected):
    assert error(data_file=HUB_QA, answer=answer, answer_format=answer_format) == expected.format(file=HUB_QA)


def test_plain_keeps_a_worked_solution_whole():
    rows = by_uid(build_dataset("hub", data_file=HUB_QA, answer_format="plain"))
    assert rows["qa-3"]["answer"] == "3 - 8 = -5 degrees.\n#### -5"


def test_scalar_columns_ride_along_and_lists_are_dropped():
    ds = build_dataset("hub", data_file=HUB_QA, answer="final")
    assert ds.column_names == ["prompt", "answer", "question", "reasoning", "id", "category", "level", "uid"]
    assert all(type(c) is str for c in ds["category"]) and all(type(v) is int for v in ds["level"])


def test_extra_columns_are_made_one_type_and_reserved_names_dropped(tmp_path):
    rows = [
        {"question": "1 + 1?", "answer": "2", "id": "x-1", "prompt": "old prompt", "completions": 3,
         "score": 1.0, "level": 3, "mixed": 1, "meta": {"a": 1}},
        {"question": "2 + 2?", "answer": "4", "id": "x-2", "prompt": "old prompt", "completions": 4,
         "score": 2.0, "level": None, "mixed": "Level 2", "meta": None},
    ]
    ds = build_dataset("hub", data_file=write_jsonl(tmp_path / "x.jsonl", rows))
    assert ds.column_names == ["prompt", "answer", "question", "reasoning", "id", "score", "level", "mixed"]
    got = {row["question"]: (row["score"], row["level"], row["mixed"], row["id"]) for row in ds}
    assert {q: v[:3] for q, v in got.items()} == {"1 + 1?": (1, 3, "1"), "2 + 2?": (2, None, "Level 2")}
    assert sorted(v[3] for v in got.values()) == [0, 1], "the builder's id, not the file's"
    assert all(row["prompt"][1]["content"] == row["question"] for row in ds)


def test_hub_path_asks_for_path_name_and_split_and_reads_like_the_file(monkeypatch):
    calls = fake_hub(monkeypatch, records())
    hub = build_dataset("hub", split="test", path="org/qa", name="main", answer="final")
    assert calls == [("org/qa", "main", "test")]
    assert hub.to_list() == build_dataset("hub", split="test", data_file=HUB_QA, answer="final").to_list()
    assert "tags" not in hub.column_names, "a list feature is not fetched"


def test_a_data_file_wins_over_path(monkeypatch):
    calls = fake_hub(monkeypatch, records())
    assert len(build_dataset("hub", data_file=HUB_QA, path="org/qa")) == 8
    assert calls == []


def test_a_split_the_hub_lacks_points_at_heldout(monkeypatch):
    calls = fake_hub(monkeypatch, records(), splits=("train",))
    message = error(split="test", path="org/qa")
    assert message.startswith("split: org/qa has no split 'test' (Unknown split \"test\". Should be one of ['train'].)")
    assert message.endswith("; set the recipe's eval_split/validation_split to one of its splits, "
                            "or hold it out of train: dataset_kwargs heldout: test (or true)")
    assert calls == [("org/qa", None, "test")]


def many(n: int = 400) -> list[dict]:
    return [{"problem": f"What is {i} + {i}?", "solution": f"{i} + {i} = {2 * i}\n#### {2 * i}",
             "kind": "even" if i % 2 else "odd"} for i in range(n)]


def test_heldout_true_carves_test_and_validation_out_of_the_hub_train_split(monkeypatch):
    calls = fake_hub(monkeypatch, many(), splits=("train",))
    parts = {s: set(build_dataset("hub", split=s, path="org/big", heldout=True)["question"])
             for s in ("train", "test", "validation")}
    assert calls == [("org/big", None, "train")] * 3
    assert sum(map(len, parts.values())) == 400 and all(parts.values())
    assert not parts["train"] & parts["test"] and not parts["train"] & parts["validation"]
    assert not parts["test"] & parts["validation"]
    assert {bucket(q) for q in parts["test"]} == {0} and {bucket(q) for q in parts["validation"]} == {1}


def test_heldout_validation_keeps_the_hubs_own_test_split(monkeypatch):
    calls = fake_hub(monkeypatch, many())
    train = build_dataset("hub", path="org/big", heldout="validation")
    validation = build_dataset("hub", split="validation", path="org/big", heldout=["validation"])
    test = build_dataset("hub", split="test", path="org/big", heldout="validation")
    assert calls == [("org/big", None, "train"), ("org/big", None, "train"), ("org/big", None, "test")]
    assert len(train) + len(validation) == 400 and len(test) == 400
    assert not set(train["question"]) & set(validation["question"])


def test_heldout_works_on_a_local_file_and_says_when_a_file_is_too_small(tmp_path):
    path = write_jsonl(tmp_path / "big.jsonl", many())
    test = build_dataset("hub", split="test", data_file=path, heldout=True)
    train = build_dataset("hub", split="train", data_file=path, heldout=True)
    assert 0 < len(test) < 40 and not set(test["question"]) & set(train["question"])
    small = write_jsonl(tmp_path / "small.jsonl", many(3))
    message = error(split="test", data_file=small, heldout=True)
    assert message.startswith(f"split: none of the 3 train rows of {small} falls in the held-out 'test'")


def test_without_heldout_a_file_without_split_column_is_every_split():
    assert len(build_dataset("hub", split="test", data_file=HUB_QA)) == 8


def test_a_split_column_selects_rows(tmp_path):
    rows = [{**r, "split": "test" if i < 3 else "train"} for i, r in enumerate(records())]
    path = write_jsonl(tmp_path / "split.jsonl", rows)
    assert sorted(build_dataset("hub", split="test", data_file=path)["uid"]) == ["qa-1", "qa-2", "qa-3"]
    assert "split" not in build_dataset("hub", split="train", data_file=path).column_names


def test_parquet_and_csv_read_like_jsonl(tmp_path):
    Dataset.from_list(records()).to_parquet(str(tmp_path / "qa.parquet"))
    parquet = build_dataset("hub", data_file=str(tmp_path / "qa.parquet"), answer="final")
    assert parquet.to_list() == build_dataset("hub", data_file=HUB_QA, answer="final").to_list()
    with (tmp_path / "qa.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["problem", "final", "category", "level"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records())
    table = build_dataset("hub", data_file=str(tmp_path / "qa.csv"), answer="final")
    assert sorted(table["answer"]) == GOLDS and set(table["level"]) == {"1", "2", "3"}, "CSV cells are text"


@pytest.mark.parametrize(("knobs", "expected"), [
    ({"question": "prob"}, "question: column 'prob' not in {file} (columns: problem, solution, final, category, "
                           "level, tags, uid)"),
    ({"answer": "gold"}, "answer: column 'gold' not in {file}"),
    ({"reasoning": "work"}, "reasoning: column 'work' not in {file}"),
    ({"answer_format": "latex"}, "answer_format: unknown 'latex'; expected one of auto, gsm8k, boxed, plain"),
    ({"heldout": "dev"}, "heldout: expected true, false, test, validation or a list of them (got 'dev')"),
    ({"question": ""}, "question: expected a column name (got '')"),
    ({"question_column": "problem"}, "question_column: not an option of dataset hub; its options are path, name"),
])
def test_bad_knobs_are_one_line(knobs, expected):
    assert error(data_file=HUB_QA, **knobs).startswith(expected.format(file=HUB_QA))


@pytest.mark.parametrize(("column", "expected"), [
    ("final", "answer: row 2 of {file} is empty (column 'final')"),
    ("problem", "question: row 2 of {file} is empty (column 'problem')"),
])
def test_an_empty_cell_names_the_column_the_row_and_the_file(tmp_path, column, expected):
    rows = records()
    rows[1][column] = "  "
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    assert error(data_file=path, answer="final") == expected.format(file=path)


def test_no_default_column_says_which_knob_to_set(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"text": "1 + 1?", "gold": "2"}])
    assert error(data_file=path) == (f"question: no column 'question' or 'problem' or 'prompt' in {path} "
                                     "(columns: text, gold); set dataset_kwargs question: COLUMN")
    assert build_dataset("hub", data_file=path, question="text", answer="gold")["answer"] == ["2"]


def test_hub_errors_name_the_repo_config_and_split(monkeypatch):
    rows = records()
    rows[6]["final"] = None
    fake_hub(monkeypatch, rows)
    assert error(path="org/qa", name="main", question="prob").startswith(
        "question: column 'prob' not in org/qa (main) split 'train' (columns: problem, solution, final,")
    assert error(path="org/qa", name="main", answer="final") == (
        "answer: row 7 of org/qa (main) split 'train' is empty (column 'final')")
    assert error(path="qa").startswith("path: dataset hub needs a Hub repo id ORG/NAME or a data_file")


def test_a_category_column_reaches_the_report():
    fmt = get_format("r1")
    rows = build_dataset("hub", data_file=HUB_QA, answer="final", format=fmt).to_list()
    completions = [(fmt.render("", row["answer"] if i % 2 else "0"), 8) for i, row in enumerate(rows)]
    records_ = score(rows, completions, fmt)
    assert [r["correct"] for r in records_] == [bool(i % 2) for i in range(8)]
    assert set(category_columns(records_)) == {"category", "level"}, "uid is one value per row: not a category"


def write_config(tmp_path: Path) -> Path:
    config = {
        "model_name": "smollm2-135m-instruct", "use_cpu": True, "report_to": "none",
        "dataset": "hub", "data_file": HUB_QA,
        "dataset_kwargs": {"question": "problem", "answer": "solution", "answer_format": "auto"},
        "format": "boxed", "max_steps": 1, "num_generations": 2, "per_device_train_batch_size": 2,
        "output_dir": str(tmp_path / "run"),
    }
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_recipe_config_takes_dataset_hub(tmp_path, capsys):
    path = write_config(tmp_path)
    cfg = load_config(path)
    assert (cfg.recipe.dataset, cfg.recipe.dataset_kwargs["answer"]) == ("hub", "solution")
    code = run_cli(grpo_main, [str(path), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0, err
    [line] = [x for x in out.splitlines() if x.startswith("data ")]
    assert f"hub {HUB_QA}: 8 prompts" in line
