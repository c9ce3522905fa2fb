"""GSM8K: gold after ####, thousands separators removed, calculator annotations gone from the reasoning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset

import data_prep.common
from data_prep import DataError, build_dataset
from data_prep.formats import FORMATS
from data_prep.gsm8k import split_answer

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = str(FIXTURES / "gsm8k_sample.jsonl")


def by_question_start(ds) -> dict[str, dict]:
    return {row["question"].split()[0]: row for row in ds}


def test_gold_is_the_text_after_hashes_with_separators_removed():
    rows = by_question_start(build_dataset("gsm8k", data_file=SAMPLE))
    assert rows["Natalia"]["answer"] == "72"
    assert rows["A"]["answer"] == "1600"  # "#### 1,600"
    assert rows["The"]["answer"] == "-3"  # negative golds survive
    assert rows["Betty"]["answer"] == "5"


def test_reasoning_is_the_worked_solution_without_calculator_annotations():
    rows = by_question_start(build_dataset("gsm8k", data_file=SAMPLE))
    assert rows["Natalia"]["reasoning"] == (
        "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May."
    )
    for row in rows.values():
        assert "<<" not in row["reasoning"] and "####" not in row["reasoning"]
        assert row["reasoning"]


def test_prompt_is_system_prompt_then_question():
    ds = build_dataset("gsm8k", data_file=SAMPLE, format="r1")
    for row in ds:
        assert row["prompt"][0] == {"role": "system", "content": FORMATS["r1"].system_prompt}
        assert row["prompt"][1] == {"role": "user", "content": row["question"]}
    assert sorted(ds["id"]) == list(range(6))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\n#### 1,000,000", ("a", "1000000")),
        ("x = <<2*3=6>>6\n####  6 ", ("x = 6", "6")),
        ("first #### 1\nthen\n#### 2", ("first #### 1\nthen", "2")),
        ("no marker", None),
        ("empty gold\n#### ", None),
    ],
)
def test_split_answer(text, expected):
    assert split_answer(text) == expected


def test_limit_and_seed_pick_a_reproducible_subset_with_stable_ids():
    full = {row["id"]: row["question"] for row in build_dataset("gsm8k", data_file=SAMPLE)}
    a = build_dataset("gsm8k", data_file=SAMPLE, limit=3, seed=1)
    assert len(a) == 3
    assert a.to_list() == build_dataset("gsm8k", data_file=SAMPLE, limit=3, seed=1).to_list()
    orders = {tuple(build_dataset("gsm8k", data_file=SAMPLE, seed=s)["id"]) for s in range(5)}
    assert len(orders) > 1, "seed shuffles"
    for s in range(5):
        for row in build_dataset("gsm8k", data_file=SAMPLE, seed=s):
            assert full[row["id"]] == row["question"], "an id names the same problem under any seed"


def test_a_split_column_in_the_file_selects_rows():
    test = build_dataset("gsm8k", data_file=str(FIXTURES / "with_split.jsonl"), split="test")
    train = build_dataset("gsm8k", data_file=str(FIXTURES / "with_split.jsonl"), split="train")
    assert sorted(test["answer"]) == ["-3", "72"]
    assert len(train) == 4 and not set(train["question"]) & set(test["question"])


def test_hub_loader_asks_for_openai_gsm8k_main(monkeypatch):
    calls = []
    rows = [json.loads(line) for line in Path(SAMPLE).read_text().splitlines()]

    def fake_load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        return Dataset.from_list(rows)

    monkeypatch.setattr(data_prep.common, "load_dataset", fake_load_dataset)
    ds = build_dataset("gsm8k", split="test", limit=2)
    assert calls == [("openai/gsm8k", "main", "test")]
    assert len(ds) == 2 and set(ds["answer"]) <= {"72", "10", "1600", "-3", "624", "5"}


def test_hub_failure_is_one_line_pointing_at_data_file(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub (LocalEntryNotFoundError)\nmore")

    monkeypatch.setattr(data_prep.common, "load_dataset", offline)
    with pytest.raises(DataError) as info:
        build_dataset("gsm8k")
    message = str(info.value)
    assert message.startswith("dataset: ") and "\n" not in message
    assert "openai/gsm8k" in message and "--data_file" in message
