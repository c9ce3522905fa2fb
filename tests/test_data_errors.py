"""Every bad input is a DataError: one line, starting with the option the user should fix."""

from __future__ import annotations

from pathlib import Path

import pytest

import data_prep.common
from data_prep import DataError, build_dataset
from data_prep.arithmetic import Problem, problem_split

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


CASES = {
    "unknown dataset": (
        dict(name="foo"),
        "dataset: unknown 'foo'; expected one of aime24, arithmetic, gsm8k, hub, math500, openr1_math",
    ),
    "file not found": (
        dict(name="gsm8k", data_file="/nonexistent/x.jsonl"),
        "data_file: /nonexistent/x.jsonl not found",
    ),
    "missing column": (
        dict(name="gsm8k", data_file=fixture("gsm8k_missing_column.jsonl")),
        "data_file: missing column 'question'",
    ),
    "row without ####": (
        dict(name="gsm8k", data_file=fixture("gsm8k_no_gold.jsonl")),
        "data_file: row 3 has no gold answer (expected '#### <number>' in 'answer')",
    ),
    "empty file": (
        dict(name="gsm8k", data_file=fixture("empty.jsonl")),
        "data_file: " + fixture("empty.jsonl") + " has no rows",
    ),
    "broken json line": (dict(name="gsm8k", data_file=fixture("bad_json.jsonl")), "data_file: line 2 of"),
    "unsupported file type": (
        dict(name="gsm8k", data_file=__file__),
        "data_file: " + __file__ + " has unsupported type '.py'",
    ),
    "directory": (
        dict(name="gsm8k", data_file=str(FIXTURES)),
        "data_file: " + str(FIXTURES) + " is a directory",
    ),
    "no rows for split": (
        dict(name="gsm8k", data_file=fixture("with_split.jsonl"), split="validation"),
        "split: no rows with split 'validation'",
    ),
    "unknown hub split": (dict(name="gsm8k", split="dev"), "split: unknown 'dev' for gsm8k"),
    "unknown arithmetic split": (
        dict(name="arithmetic", split="dev"),
        "split: unknown 'dev' for arithmetic",
    ),
    "limit zero": (dict(name="arithmetic", limit=0), "limit: must be >= 1"),
    "limit negative": (
        dict(name="gsm8k", limit=-5, data_file=fixture("gsm8k_sample.jsonl")),
        "limit: must be >= 1",
    ),
    "limit not a number": (dict(name="arithmetic", limit="lots"), "limit: expected a whole number"),
    "seed not a number": (dict(name="arithmetic", seed=1.5), "seed: expected a whole number"),
    "unknown format": (dict(name="arithmetic", format="yaml"), "format: unknown format 'yaml'"),
    "unknown knob": (dict(name="gsm8k", max_operand=5), "max_operand: not an option of dataset gsm8k"),
    "operand range reversed": (
        dict(name="arithmetic", min_operand=10, max_operand=3),
        "max_operand: must be >= min_operand",
    ),
    "negative operand": (dict(name="arithmetic", min_operand=-1), "min_operand: must be >= 0"),
    "operand not a number": (dict(name="arithmetic", max_operand="big"), "max_operand: expected an integer"),
    "bad operation": (dict(name="arithmetic", operations="+/"), "operations: expected some of '+-*'"),
    "no operations": (dict(name="arithmetic", operations=""), "operations: expected some of '+-*'"),
    "zero steps": (dict(name="arithmetic", steps=0), "steps: must be between 1 and"),
    "bad phrasing": (dict(name="arithmetic", phrasing="poetic"), "phrasing: unknown 'poetic'"),
    "unknown openr1 source": (
        dict(name="openr1_math", source="aime"),
        "source: unknown 'aime'; expected one of dapo, openr1",
    ),
    "renamed column missing": (
        dict(name="openr1_math", data_file=fixture("dapo_sample.jsonl"), answer_column="data_source_missing"),
        "data_file: missing column 'data_source_missing'",
    ),
}


@pytest.mark.parametrize(("kwargs", "expected"), list(CASES.values()), ids=list(CASES))
def test_bad_input_is_one_line_naming_the_field(kwargs, expected):
    kwargs = dict(kwargs)
    name = kwargs.pop("name")
    with pytest.raises(DataError) as info:
        build_dataset(name, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(expected), message


def test_operand_range_leaving_a_split_no_problems():
    # 1 + 1 is the only problem; it belongs to one split, so the other has none
    other = "train" if problem_split(Problem(1, (("+", 1),))) == "test" else "test"
    with pytest.raises(DataError, match=r"^max_operand: operands 1\.\.1 .* no problems for split"):
        build_dataset("arithmetic", split=other, min_operand=1, max_operand=1, operations="+", limit=5)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_local_row_without_gold_in_openr1_layout_names_the_row(tmp_path):
    path = tmp_path / "openr1.jsonl"
    path.write_text(
        '{"problem": "What is 2 + 2?", "answer": "4"}\n{"problem": "What is 3 + 3?", "answer": " "}\n'
    )
    with pytest.raises(
        DataError, match=r"^data_file: row 2 has no gold answer \(expected a value in 'answer'\)$"
    ):
        build_dataset("openr1_math", data_file=str(path))


def test_local_row_with_empty_question_names_the_row(tmp_path):
    path = tmp_path / "gsm.jsonl"
    path.write_text('{"question": "", "answer": "2 + 2 = 4\\n#### 4"}\n')
    with pytest.raises(DataError, match=r"^data_file: row 1 has an empty 'question'$"):
        build_dataset("gsm8k", data_file=str(path))


def test_not_a_parquet_file(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("not parquet")
    with pytest.raises(DataError, match=r"^data_file: .* is not a readable parquet file"):
        build_dataset("gsm8k", data_file=str(path))


def test_hub_unreachable_for_openr1_says_pass_data_file(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co'.\nCheck your connection")

    monkeypatch.setattr(data_prep.common, "load_dataset", offline)
    with pytest.raises(DataError) as info:
        build_dataset("openr1_math", source="openr1")
    message = str(info.value)
    assert message.startswith("dataset: could not load open-r1/OpenR1-Math-220k (default)")
    assert "--data_file" in message and "\n" not in message


def test_a_file_whose_rows_are_all_filtered_out_is_an_empty_result(tmp_path):
    path = tmp_path / "proofs.jsonl"
    path.write_text('{"problem": "Prove that 2 is prime.", "answer": "proof", "question_type": "proof"}\n')
    with pytest.raises(
        DataError, match=r"^data_file: .*proofs\.jsonl gave an empty result for split 'train'$"
    ):
        build_dataset("openr1_math", data_file=str(path))
