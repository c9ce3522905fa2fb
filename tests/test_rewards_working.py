"""`working`: a true working on the question's numbers that gives the answer earns credit; nothing else does."""

from __future__ import annotations

import pytest

from data_prep.arithmetic import generate
from data_prep.formats import FORMATS
from rewards import build_rewards

R1 = FORMATS["r1"]
QUESTION = "Ann has 23 cards. She gets 30 more, then gives away 3. How many cards does she have now?"


def score(reasoning: str, answer: object, question: object = QUESTION, fmt=R1) -> float:
    [reward] = build_rewards(["working"], fmt, params={"working": {"score": 1.0}})
    return reward([fmt.render(reasoning, str(answer))], question=[question])[0]


@pytest.mark.parametrize(
    ("reasoning", "answer", "expected"),
    [
        ("23 + 30 = 53\n53 - 3 = 50", 50, 1.0),  # the whole working
        ("23 + 30 = 53", 53, 2 / 3),  # true, but one of the three numbers unused
        ("23 - 3 = 20\n20 + 30 = 50", 50, 1.0),  # another true order
        ("23 + 30 = 51\n51 - 3 = 48", 48, 0.0),  # a slip
        ("23", 23, 0.0),  # the copy-a-number shortcut: no working
        ("1 + 1 = 2", 2, 0.0),  # true, but not on the question's numbers
        ("23 + 30 = 53\n53 - 3 = 50", 53, 0.0),  # the answer is not the working's result
        ("23 + 30 = 53\n53 - 3 = 50", "fifty", 0.0),  # no number to compare
        ("23 + 30 = 53 and then 7 x 3 = 21", 21, 0.0),  # a stray operand (7) spoils it
        ("23 × 30 = 690, 690 ÷ 3 = 230", 230, 1.0),  # other operator signs
        ("3 - 23 = -20", -20, 2 / 3),  # negative results are read
    ],
)
def test_working_scores(reasoning, answer, expected):
    assert score(reasoning, answer) == pytest.approx(expected)


def test_grouped_numbers_and_division_by_zero():
    q = "A shop took $1,600 and split it between 4 owners, then 0 more."
    assert score("1,600 / 4 = 400", 400, q) == pytest.approx(2 / 3)
    assert score("1,600 / 0 = 400", 400, q) == 0.0


def test_equations_in_the_answer_section_do_not_count():
    [reward] = build_rewards(["working"], R1)
    assert reward(["<think>no idea</think>\n<answer>23 + 30 = 53</answer>"], question=[QUESTION]) == [0.0]


def test_boxed_format_reads_the_text_before_the_box():
    assert score("23 + 30 = 53, and 53 - 3 = 50.", 50, fmt=FORMATS["boxed"]) == 1.0


def test_every_generated_worked_solution_earns_full_credit():
    # The priming targets (the generator's own reasoning) are exactly what this reward pays for.
    rows = generate(split="train", n=200, seed=1, max_operand=30, operations="+-*", steps=[1, 2, 3])
    [reward] = build_rewards(["working"], R1)
    completions = [R1.render(r["reasoning"], r["answer"]) for r in rows]
    assert reward(completions, question=[r["question"] for r in rows]) == [0.2] * len(rows)


def test_no_question_scores_zero_and_a_missing_column_is_an_error():
    assert score("23 + 30 = 53", 53, question=None) == 0.0
    [reward] = build_rewards(["working"], R1)
    with pytest.raises(ValueError, match="^working: reward needs the dataset's 'question' column"):
        reward([R1.render("23 + 30 = 53", "53")], answer=["53"])
