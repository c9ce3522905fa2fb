"""A `validation` split for choosing checkpoints: disjoint from `test`, and `test` exactly as before."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from datasets import Dataset

import data_prep.common
from data_prep import build_dataset
from data_prep.arithmetic import Problem, generate, problem_split
from data_prep.heldout import TEST_BUCKET, VALIDATION_BUCKET, bucket
from data_prep.openr1_math import is_heldout

FIXTURES = Path(__file__).parent / "fixtures"

# sha256 of json.dumps(generate(split=..., n=200, seed=0)), captured before `validation` existed:
# the measured demo numbers depend on these rows, so adding a split must not move them.
FROZEN = {
    "train": "bed1b81c31d8ee3054063de9b485fdf061d69df220ed8457d77e069b69cb6291",
    "test": "11a25a3d357cf9290b0d106e91e98f26a2d414b6f23862e9faa4e6397930f2d9",
}


def sha(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def problem_of(reasoning: str) -> Problem:
    """The arithmetic of a generated row, read back from its "a op b = c" lines."""
    lines = [line.split() for line in reasoning.splitlines()]
    return Problem(int(lines[0][0]), tuple((op, int(b)) for _, op, b, _, _ in lines))


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize("split", sorted(FROZEN))
def test_arithmetic_train_and_test_rows_are_unchanged(split):
    assert sha(generate(split=split, n=200, seed=0)) == FROZEN[split]


def test_arithmetic_validation_never_hashes_to_test():
    knobs = {"max_operand": 12, "operations": "+-*", "steps": [1, 2]}  # small range: collisions likely
    rows = build_dataset("arithmetic", split="validation", limit=500, seed=3, **knobs)
    assert all(problem_split(problem_of(r)) == "train" for r in rows["reasoning"])
    test = set(build_dataset("arithmetic", split="test", limit=300, seed=3, **knobs)["reasoning"])
    assert not test & set(rows["reasoning"])


def test_arithmetic_validation_has_its_own_rows_and_defaults():
    validation = build_dataset("arithmetic", split="validation")
    assert len(validation) == 200
    assert set(validation["phrasing"]) == {"train", "heldout"}, "mixed phrasing, like test"
    train = build_dataset("arithmetic", split="train", limit=200)
    assert validation["question"] != train["question"], "its own random stream"
    assert generate(split="validation", n=20, seed=1) == generate(split="validation", n=20, seed=1)


# --------------------------------------------------------------------------- gsm8k


def gsm8k_hub(monkeypatch) -> list[tuple]:
    """Fake openai/gsm8k: 400 synthetic train problems, the fixture as test; returns the calls made."""
    calls = []
    train = [{"question": f"Tom has {i} apples and buys {i}. How many now?", "answer": f"#### {2 * i}"}
             for i in range(400)]
    test = [json.loads(line) for line in (FIXTURES / "gsm8k_sample.jsonl").read_text().splitlines()]

    def fake_load_dataset(path, config=None, split=None, **kwargs):
        calls.append((path, config, split))
        return Dataset.from_list(train if split == "train" else test)

    monkeypatch.setattr(data_prep.common, "load_dataset", fake_load_dataset)
    return calls


def test_gsm8k_validation_is_a_held_out_slice_of_hub_train(monkeypatch):
    calls = gsm8k_hub(monkeypatch)
    train = set(build_dataset("gsm8k", split="train")["question"])
    validation = set(build_dataset("gsm8k", split="validation")["question"])
    test = build_dataset("gsm8k", split="test")
    assert [c[2] for c in calls] == ["train", "train", "test"], "validation is read from the Hub's train split"
    assert 0 < len(validation) < 40 and len(train) + len(validation) == 400
    assert not train & validation and not validation & set(test["question"])
    assert all(bucket(q) == VALIDATION_BUCKET for q in validation)
    assert len(test) == 6, "GSM8K's own test split, whole"


def test_gsm8k_local_file_validation_is_just_a_split_name(tmp_path):
    rows = [json.loads(line) for line in (FIXTURES / "gsm8k_sample.jsonl").read_text().splitlines()]
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("\n".join(json.dumps({**r, "split": "validation" if i < 2 else "train"})
                              for i, r in enumerate(rows)))
    assert len(build_dataset("gsm8k", split="validation", data_file=str(path))) == 2
    assert len(build_dataset("gsm8k", split="validation", data_file=str(FIXTURES / "gsm8k_sample.jsonl"))) == 6


# --------------------------------------------------------------------------- openr1_math


def test_openr1_validation_is_another_residue_and_test_is_unchanged(monkeypatch):
    problems = [f"What is {i} + {i}?" for i in range(1000)]
    hub_rows = [{"problem": p, "answer": str(2 * i)} for i, p in enumerate(problems)]
    monkeypatch.setattr(data_prep.common, "load_dataset", lambda *a, **k: Dataset.from_list(hub_rows))
    got = {s: set(build_dataset("openr1_math", source="openr1", split=s)["question"])
           for s in ("train", "test", "validation")}
    old_test = {p for p in problems if int(hashlib.sha256(p.encode()).hexdigest(), 16) % 50 == 0}
    assert got["test"] == old_test == {p for p in problems if is_heldout(p)}, "test exactly as before"
    assert got["validation"] and all(bucket(q) == VALIDATION_BUCKET != TEST_BUCKET for q in got["validation"])
    assert not got["validation"] & got["test"] and not got["validation"] & got["train"]
    assert not got["train"] & got["test"]
    assert got["train"] | got["test"] | got["validation"] == set(problems)


def test_openr1_unknown_split_on_the_hub_is_one_line(monkeypatch):
    monkeypatch.setattr(data_prep.common, "load_dataset", lambda *a, **k: pytest.fail("no Hub call"))
    with pytest.raises(data_prep.common.DataError, match=r"^split: unknown 'dev' for openr1_math on the Hub"):
        build_dataset("openr1_math", split="dev")
