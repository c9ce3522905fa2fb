"""The offline default: seeded arithmetic word problems with difficulty knobs and held-out phrasing."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from data_prep import build_dataset
from data_prep.arithmetic import HELDOUT_SCENES, TRAIN, TRAIN_ITEMS, TRAIN_NAMES, Problem, problem_split
from data_prep.formats import FORMATS

STEP = re.compile(r"^(\d+) ([-+*]) (\d+) = (-?\d+)$")
NUMBER = re.compile(r"\d+")


def steps_of(reasoning: str) -> list[tuple[int, str, int, int]]:
    """Parse the worked arithmetic "a op b = c" lines (no eval)."""
    out = []
    for line in reasoning.splitlines():
        m = STEP.match(line)
        assert m, f"not a step line: {line!r}"
        out.append((int(m[1]), m[2], int(m[3]), int(m[4])))
    return out


def apply(a: int, op: str, b: int) -> int:
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def test_rows_have_the_common_columns_and_the_format_system_prompt():
    ds = build_dataset("arithmetic", limit=4, format="xml")
    assert ds.column_names == ["prompt", "answer", "question", "reasoning", "id", "phrasing", "operation", "steps"]
    for row in ds:
        assert row["prompt"] == [
            {"role": "system", "content": FORMATS["xml"].system_prompt},
            {"role": "user", "content": row["question"]},
        ]
        assert isinstance(row["answer"], str) and row["answer"].isdigit()
    assert ds["id"] == [0, 1, 2, 3]


def test_default_sizes_are_1000_train_and_300_test():
    assert len(build_dataset("arithmetic", split="train")) == 1000
    assert len(build_dataset("arithmetic", split="test")) == 300


def test_same_seed_same_rows_other_seed_other_rows():
    a = build_dataset("arithmetic", limit=50, seed=7).to_list()
    assert a == build_dataset("arithmetic", limit=50, seed=7).to_list()
    assert a != build_dataset("arithmetic", limit=50, seed=8).to_list()


def test_a_smaller_limit_is_a_prefix_of_a_bigger_one():
    small = build_dataset("arithmetic", limit=10, seed=3, steps=2).to_list()
    big = build_dataset("arithmetic", limit=40, seed=3, steps=2).to_list()
    assert big[:10] == small


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_reasoning_is_correct_chained_arithmetic_ending_in_the_answer(steps):
    ds = build_dataset("arithmetic", limit=200, steps=steps, operations="+-*", phrasing="mixed")
    for row in ds:
        chain = steps_of(row["reasoning"])
        assert len(chain) == steps
        for a, op, b, c in chain:
            assert apply(a, op, b) == c
        for (_, _, _, c), (a, _, _, _) in zip(chain, chain[1:], strict=False):
            assert a == c, "each step starts from the previous result"
        assert row["answer"] == str(chain[-1][3])
        # every number the question states is, in order, the start and the operands
        stated = [int(n) for n in NUMBER.findall(row["question"])]
        assert stated == [chain[0][0], *(b for _, _, b, _ in chain)], row["question"]


OPERATION_WORDS = {
    "+": {"buys", "finds", "gets", "more", "another", "arrived"},
    "-": {"gives", "loses", "sold", "bought", "lent", "sent", "used", "cracked", "shipped", "took", "drove",
          "towed", "moved", "caught", "wilted", "given"},
    "*": {"times", "multiplied"},
}  # fmt: skip


@pytest.mark.parametrize("phrasing", ["train", "heldout"])
def test_the_wording_says_the_operation_the_reasoning_does(phrasing):
    ds = build_dataset("arithmetic", limit=300, operations="+-*", phrasing=phrasing)
    for row in ds:
        [(_, op, _, _)] = steps_of(row["reasoning"])
        said = words([row["question"]])
        assert said & OPERATION_WORDS[op], row["question"]
        for other in set(OPERATION_WORDS) - {op}:
            assert not said & OPERATION_WORDS[other], row["question"]


def test_knobs_bound_the_operands_and_operations():
    ds = build_dataset("arithmetic", limit=300, min_operand=5, max_operand=12, operations="+", steps=2)
    for row in ds:
        chain = steps_of(row["reasoning"])
        assert chain[0][0] in range(5, 13)
        assert all(op == "+" and 5 <= b <= 12 for _, op, b, _ in chain)
    products = build_dataset("arithmetic", limit=300, operations="*", max_operand=50)
    factors = {b for row in products for _, op, b, _ in steps_of(row["reasoning"]) if op == "*"}
    assert factors and factors <= set(range(2, 10)), "multipliers are small"


def test_subtraction_never_goes_below_zero():
    ds = build_dataset("arithmetic", limit=500, operations="-", steps=3, min_operand=1, max_operand=30)
    for row in ds:
        assert all(c >= 0 for *_, c in steps_of(row["reasoning"])), row["reasoning"]
    assert any(op == "-" for row in ds for _, op, _, _ in steps_of(row["reasoning"]))


def test_train_and_test_never_share_a_problem_whatever_the_seeds():
    # a small operand range makes collisions likely if the splits were not partitioned
    knobs = {"max_operand": 12, "operations": "+-", "steps": 1}
    train = build_dataset("arithmetic", split="train", limit=1000, seed=1, **knobs)
    test = build_dataset("arithmetic", split="test", limit=300, seed=2, **knobs)
    assert not set(train["question"]) & set(test["question"])
    assert not set(train["reasoning"]) & set(test["reasoning"]), "not even the same arithmetic"
    assert len(set(test["reasoning"])) > 5, "test still covers several problems"


def test_problem_split_is_a_fixed_partition_of_about_one_in_five():
    problems = [Problem(a, (("+", b),)) for a in range(1, 41) for b in range(1, 41)]
    test_share = sum(problem_split(p) == "test" for p in problems) / len(problems)
    assert 0.15 < test_share < 0.25
    assert problem_split(Problem(12, (("+", 7),))) == problem_split(Problem(12, (("+", 7),)))


def words(texts) -> set[str]:
    return {w.lower() for t in texts for w in re.findall(r"[A-Za-z']+", t)}


TRAIN_VOCAB = {n.lower() for n, _ in TRAIN_NAMES} | {w for pair in TRAIN_ITEMS for w in pair}
HELDOUT_VOCAB = {w for scene in HELDOUT_SCENES for w in scene[:2]}
TRAIN_VERBS = {"buys", "finds", "gets", "gives", "loses", "has"}


def test_heldout_phrasing_shares_no_name_object_or_verb_with_train_phrasing():
    assert not TRAIN_VOCAB & HELDOUT_VOCAB
    train = build_dataset("arithmetic", limit=300, phrasing="train", operations="+-*", steps=2)
    heldout = build_dataset("arithmetic", limit=300, phrasing="heldout", operations="+-*", steps=2)
    assert set(train["phrasing"]) == {"train"} and set(heldout["phrasing"]) == {"heldout"}
    train_words, heldout_words = words(train["question"]), words(heldout["question"])
    assert not heldout_words & (TRAIN_VOCAB | TRAIN_VERBS)
    assert not train_words & HELDOUT_VOCAB
    assert any(q.startswith("If ") for q in heldout["question"]), "some heldout problems are one sentence"
    assert TRAIN.starts[0].format(name="Tom", a_items="12 apples") == "Tom has 12 apples."


def test_default_phrasing_is_train_for_train_and_mixed_for_test():
    assert set(build_dataset("arithmetic", split="train", limit=200)["phrasing"]) == {"train"}
    assert set(build_dataset("arithmetic", split="test", limit=200)["phrasing"]) == {"train", "heldout"}


def test_reasoning_renders_into_every_format_and_extracts_back():
    row = build_dataset("arithmetic", limit=1, steps=2)[0]
    for fmt in FORMATS.values():
        text = fmt.render(row["reasoning"], row["answer"])
        assert fmt.extract(text) == row["answer"] and fmt.exact_match(text)


def test_importing_and_building_loads_no_torch():
    code = (
        "import sys, data_prep; data_prep.build_dataset('arithmetic', limit=3); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_operation_and_steps_columns_name_what_the_reasoning_does():
    ds = build_dataset("arithmetic", limit=300, operations="+-*", steps=[1, 2], phrasing="mixed")
    names = {"+": "add", "-": "subtract", "*": "multiply"}
    for row in ds:
        chain = steps_of(row["reasoning"])
        assert row["steps"] == len(chain)
        assert row["operation"] == (names[chain[0][1]] if len(chain) == 1 else f"{len(chain)}-step")


def test_a_list_of_step_counts_mixes_one_and_two_step_problems_in_proportion():
    ds = build_dataset("arithmetic", limit=800, operations="+-*", steps=[1, 1, 1, 2])
    share = ds["steps"].count(2) / len(ds)
    assert 0.18 < share < 0.32, share  # a quarter, give or take sampling noise
    assert set(ds["operation"]) == {"add", "subtract", "multiply", "2-step"}
    as_text = build_dataset("arithmetic", limit=50, operations="+-*", steps="1,1,1,2").to_list()
    assert as_text == build_dataset("arithmetic", limit=50, operations="+-*", steps=[1, 1, 1, 2]).to_list()


def test_one_step_count_gives_the_same_rows_as_before_the_mix_knob():
    """A single step count draws no extra random number: configs that used steps: 1 keep their data."""
    assert build_dataset("arithmetic", limit=30, steps=2).to_list() == \
        build_dataset("arithmetic", limit=30, steps=[2]).to_list()


@pytest.mark.parametrize("steps, message", [
    ([], "steps: expected an integer or a non-empty list"),
    ([1, 0], "steps: must be between 1 and"),
    ("1,x", "steps: expected an integer, got 'x'"),
])
def test_a_bad_step_mix_is_one_line_naming_the_knob(steps, message):
    from data_prep.common import DataError

    with pytest.raises(DataError, match=message):
        build_dataset("arithmetic", limit=5, steps=steps)


def test_saved_generator_rows_keep_their_category_columns(tmp_path):
    import json

    rows = build_dataset("arithmetic", split="test", limit=20, operations="+-*", steps=[1, 2]).to_list()
    path = tmp_path / "test.jsonl"
    keep = ("question", "answer", "reasoning", "phrasing", "operation", "steps")
    path.write_text("".join(json.dumps({k: r[k] for k in keep}) + "\n" for r in rows))
    saved = build_dataset("arithmetic", split="test", data_file=str(path), limit=20, seed=5).to_list()
    by_id = {r["id"]: r for r in saved}
    assert len(by_id) == 20
    for r in rows:  # ids are file positions: the same problem, whatever order the seed shuffles them into
        assert {k: by_id[r["id"]][k] for k in keep} == {k: r[k] for k in keep}
