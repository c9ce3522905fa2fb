"""Evaluation benchmarks: MATH-500 and AIME 2024, from the Hub (faked) or a local copy.

Fixtures: math500_sample.jsonl holds 13 MATH-500 test problems (several subjects and
levels) in the Hub's columns; aime24_sample.jsonl holds 5 AIME 2024 problems (I-1,
I-2, I-3, II-1, II-4) in the columns of HuggingFaceH4/aime_2024. The problems and
golds are real; the worked solutions were written for the fixtures, and every gold was
checked against its solution's boxed answer with math_verify and by direct computation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset

import data_prep.common
from data_prep import DATASETS, DataError, build_dataset
from data_prep.formats import FORMATS

FIXTURES = Path(__file__).parent / "fixtures"
MATH500 = str(FIXTURES / "math500_sample.jsonl")
AIME24 = str(FIXTURES / "aime24_sample.jsonl")
SAMPLES = {"math500": MATH500, "aime24": AIME24}


def records(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def by_answer(ds) -> dict[str, dict]:
    return {row["answer"]: row for row in ds}


def test_both_benchmarks_are_registered():
    assert {"math500", "aime24"} <= set(DATASETS)


def test_math500_rows_keep_the_latex_gold_and_the_worked_solution():
    rows = by_answer(build_dataset("math500", split="test", data_file=MATH500))
    polar = rows["\\left( 3, \\frac{\\pi}{2} \\right)"]
    assert polar["question"].startswith("Convert the point $(0,3)$ in rectangular coordinates")
    assert polar["reasoning"].endswith("$\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$")
    assert (polar["subject"], polar["level"], polar["unique_id"]) == ("Precalculus", 2, "test/precalculus/807.json")
    assert {"\\frac{14}{3}", "90^\\circ", "3\\sqrt{13}", "p - q", "6 - 5i"} <= set(rows)


def test_math500_subject_and_level_are_short_category_columns():
    ds = build_dataset("math500", split="test", data_file=MATH500)
    assert len(ds) == 13
    assert set(ds["subject"]) == {
        "Algebra", "Counting & Probability", "Geometry", "Intermediate Algebra", "Number Theory",
        "Prealgebra", "Precalculus",
    }
    assert all(type(level) is int for level in ds["level"]) and set(ds["level"]) == {2, 3, 4, 5}
    assert len(set(ds["unique_id"])) == len(ds), "unique_id is an identifier, one value per row"


def test_math500_level_written_as_text_is_read_as_a_number(tmp_path):
    path = tmp_path / "math.jsonl"
    rows = records(MATH500)[:3]
    for row in rows:
        row["level"] = f"Level {row['level']}"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert sorted(build_dataset("math500", split="test", data_file=str(path))["level"]) == [2, 3, 5]


def test_aime24_rows():
    ds = build_dataset("aime24", split="test", data_file=AIME24, format="boxed")
    assert sorted(ds["answer"], key=int) == ["25", "33", "73", "204", "809"]
    aya = by_answer(ds)["204"]
    assert aya["question"].startswith("Every morning Aya goes for a $9$-kilometer-long walk")
    assert aya["reasoning"].endswith("\\boxed{204}$ minutes.")
    assert ds.column_names == ["prompt", "answer", "question", "reasoning", "id"]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_ids_and_prompts(name):
    ds = build_dataset(name, split="test", data_file=SAMPLES[name], format="r1")
    assert sorted(ds["id"]) == list(range(len(records(SAMPLES[name]))))
    for row in ds:
        assert row["prompt"] == [
            {"role": "system", "content": FORMATS["r1"].system_prompt},
            {"role": "user", "content": row["question"]},
        ]
    full = {row["id"]: row["question"] for row in ds}
    for row in build_dataset(name, split="test", data_file=SAMPLES[name], limit=3, seed=4):
        assert full[row["id"]] == row["question"], "an id names the same problem under any seed and limit"


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("column", ["problem", "answer"])
def test_a_missing_column_is_one_line_naming_it_and_the_file(tmp_path, name, column):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(json.dumps({k: v for k, v in r.items() if k != column}) for r in records(SAMPLES[name])))
    with pytest.raises(DataError) as info:
        build_dataset(name, split="test", data_file=str(path))
    message = str(info.value)
    assert message.startswith(f"data_file: missing column {column!r} in {path}") and "\n" not in message


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_column_options_read_other_layouts(tmp_path, name):
    path = tmp_path / "renamed.jsonl"
    path.write_text("\n".join(json.dumps({"q": r["problem"], "gold": r["answer"]}) for r in records(SAMPLES[name])))
    ds = build_dataset(name, split="test", data_file=str(path), question_column="q", answer_column="gold")
    assert sorted(ds["answer"]) == sorted(r["answer"] for r in records(SAMPLES[name]))
    assert set(ds["reasoning"]) == {""}, "no solution column, no reasoning"


@pytest.mark.parametrize(
    ("name", "repo", "hub_split"),
    [("math500", "HuggingFaceH4/MATH-500", "test"), ("aime24", "HuggingFaceH4/aime_2024", "train")],
)
def test_hub_loader_asks_for_the_lighteval_repo_and_split(monkeypatch, name, repo, hub_split):
    calls = []

    def fake_load_dataset(path, config=None, split=None, **kwargs):
        calls.append((path, config, split))
        return Dataset.from_list(records(SAMPLES[name]))

    monkeypatch.setattr(data_prep.common, "load_dataset", fake_load_dataset)
    hub = build_dataset(name, split="test")
    assert calls == [(repo, "default", hub_split)]
    assert hub.to_list() == build_dataset(name, split="test", data_file=SAMPLES[name]).to_list()


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("split", ["train", "validation", "dev"])
def test_other_splits_are_refused_on_the_hub_before_loading(monkeypatch, name, split):
    def no_hub(*args, **kwargs):
        raise AssertionError("the Hub must not be asked")

    monkeypatch.setattr(data_prep.common, "load_dataset", no_hub)
    with pytest.raises(DataError) as info:
        build_dataset(name, split=split)
    message = str(info.value)
    assert message.startswith(f"split: unknown {split!r} for {name} on the Hub; expected test")
    assert "\n" not in message


def test_a_local_file_with_a_split_column_selects_rows(tmp_path):
    rows = records(MATH500)
    for i, row in enumerate(rows):
        row["split"] = "validation" if i < 4 else "test"
    path = tmp_path / "math.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert len(build_dataset("math500", split="validation", data_file=str(path))) == 4
    assert len(build_dataset("math500", split="test", data_file=str(path))) == 9
