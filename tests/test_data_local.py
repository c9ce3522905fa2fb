"""Local files (jsonl / json / parquet) and the Open R1 sources (DAPO-Math-17k, OpenR1-Math-220k)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset

import data_prep.common
from data_prep import DATASETS, build_dataset
from data_prep.openr1_math import DAPO_PREFIX, DAPO_SUFFIX, is_heldout

FIXTURES = Path(__file__).parent / "fixtures"


def records(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def write_parquet(rows: list[dict], path: Path) -> str:
    Dataset.from_list(rows).to_parquet(str(path))
    return str(path)


def test_registry_names_the_sources():
    assert sorted(DATASETS) == ["aime24", "arithmetic", "gsm8k", "hub", "math500", "openr1_math"]


def test_parquet_gives_the_same_rows_as_jsonl(tmp_path):
    jsonl = str(FIXTURES / "gsm8k_sample.jsonl")
    parquet = write_parquet(records("gsm8k_sample.jsonl"), tmp_path / "gsm8k.parquet")
    assert (
        build_dataset("gsm8k", data_file=parquet).to_list()
        == build_dataset("gsm8k", data_file=jsonl).to_list()
    )


def test_openr1_layout_gold_from_answer_reasoning_from_solution_and_proofs_skipped():
    ds = build_dataset("openr1_math", data_file=str(FIXTURES / "openr1_sample.jsonl"), format="boxed")
    rows = {row["answer"]: row for row in ds}
    assert sorted(rows) == ["4", "720", "\\frac{3}{4}"], "the proof problem has no checkable answer"
    assert rows["4"]["question"] == "Find the value of $x$ such that $2x + 3 = 11$."
    assert rows["4"]["reasoning"].startswith("Subtract 3 from both sides")
    assert rows["720"]["prompt"][0]["content"].endswith("\\boxed{}.")


def test_dapo_layout_gold_from_solution_and_dapo_instruction_stripped(tmp_path):
    parquet = write_parquet(records("dapo_sample.jsonl"), tmp_path / "dapo.parquet")
    ds = build_dataset("openr1_math", data_file=parquet)
    by_answer = {row["answer"]: row for row in ds}
    assert sorted(by_answer) == ["13", "2", "9"]
    assert by_answer["9"]["question"] == "How many positive divisors does $36$ have?"
    assert by_answer["13"]["question"].startswith("In triangle $ABC$")
    for row in ds:
        assert "Answer:" not in row["question"] and "Solve the following" not in row["question"]
        assert row["reasoning"] == ""


@pytest.mark.parametrize(
    ("source", "repo", "config"),
    [("dapo", "open-r1/DAPO-Math-17k-Processed", "en"), ("openr1", "open-r1/OpenR1-Math-220k", "default")],
)
def test_hub_sources_and_a_disjoint_heldout_test_split(monkeypatch, source, repo, config):
    calls = []
    problems = [f"What is {i} + {i}?" for i in range(400)]
    if source == "dapo":
        hub_rows = [
            {"prompt": DAPO_PREFIX + p + DAPO_SUFFIX, "solution": str(2 * i)} for i, p in enumerate(problems)
        ]
    else:
        hub_rows = [
            {
                "problem": p,
                "solution": f"{i} + {i} = {2 * i}",
                "answer": str(2 * i),
                "question_type": "math-word-problem",
            }
            for i, p in enumerate(problems)
        ]

    def fake_load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        return Dataset.from_list(hub_rows)

    monkeypatch.setattr(data_prep.common, "load_dataset", fake_load_dataset)
    train = build_dataset("openr1_math", source=source)
    test = build_dataset("openr1_math", source=source, split="test")
    validation = build_dataset("openr1_math", source=source, split="validation")
    assert calls == [(repo, config, "train")] * 3, "both sources ship only a train split"
    assert len(train) + len(test) + len(validation) == 400 and 0 < len(test) < 40
    assert not set(train["question"]) & set(test["question"])
    assert all(is_heldout(q) for q in test["question"])
    assert set(train["question"]) | set(test["question"]) | set(validation["question"]) == set(problems)


def test_hub_rows_without_a_gold_answer_are_dropped_not_fatal(monkeypatch):
    hub_rows = [
        {"problem": "What is 1 + 1?", "solution": "", "answer": "2"},
        {"problem": "Odd?", "answer": ""},
    ]
    monkeypatch.setattr(data_prep.common, "load_dataset", lambda *a, **k: Dataset.from_list(hub_rows))
    split = "test" if is_heldout("What is 1 + 1?") else "train"
    assert build_dataset("openr1_math", source="openr1", split=split)["answer"] == ["2"]


def test_column_options_map_other_names(tmp_path):
    ds = build_dataset(
        "arithmetic",
        data_file=str(FIXTURES / "plain_qa.json"),
        question_column="q",
        answer_column="a",
        reasoning_column="work",
    )
    assert sorted(zip(ds["question"], ds["answer"], ds["reasoning"], strict=True)) == [
        ("What is 10 - 4?", "6", "10 - 4 = 6"),
        ("What is 2 + 3?", "5", "2 + 3 = 5"),
    ]
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text(
        "\n".join(
            json.dumps({"text": r["question"], "full": r["answer"]}) for r in records("gsm8k_sample.jsonl")
        )
    )
    gsm = build_dataset("gsm8k", data_file=str(renamed), question_column="text", answer_column="full")
    assert "1600" in gsm["answer"]


def test_generator_knobs_are_ignored_when_a_file_is_given():
    ds = build_dataset(
        "arithmetic",
        data_file=str(FIXTURES / "plain_qa.json"),
        question_column="q",
        answer_column="a",
        steps=3,
    )
    assert len(ds) == 2


def test_a_json_lines_file_named_json_also_reads(tmp_path):
    path = tmp_path / "lines.json"
    path.write_text((FIXTURES / "gsm8k_sample.jsonl").read_text())
    assert len(build_dataset("gsm8k", data_file=str(path))) == 6


def test_split_column_in_parquet_selects_rows(tmp_path):
    rows = [
        {**r, "split": "test" if i == 0 else "train"} for i, r in enumerate(records("openr1_sample.jsonl"))
    ]
    parquet = write_parquet(rows, tmp_path / "openr1.parquet")
    assert build_dataset("openr1_math", data_file=parquet, split="test")["answer"] == ["4"]
    assert sorted(build_dataset("openr1_math", data_file=parquet, split="train")["answer"]) == [
        "720",
        "\\frac{3}{4}",
    ]
