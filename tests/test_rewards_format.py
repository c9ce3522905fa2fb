"""Format rewards on hand-written good, bad and garbage completions."""

from __future__ import annotations

import pytest

from data_prep.formats import FORMATS
from rewards.format_rewards import format_approx, format_exact, format_soft, xml_count

UNSLOTH, XML, R1, BOXED = (FORMATS[n] for n in ("unsloth", "xml", "r1", "boxed"))
GARBAGE = [None, "", "\x00\ufffd", 12, {"role": "assistant"}, [{"content": None}], "<" * 50]


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
def test_format_exact_gives_its_maximum_on_a_render(fmt):
    reward = format_exact(fmt)
    assert reward([fmt.render("Some working.", "42")]) == [3.0]
    assert reward(GARBAGE) == [0.0] * len(GARBAGE)


def test_format_exact_wants_nothing_after_the_answer():
    reward = format_exact(UNSLOTH, score=0.5)
    done = "2+2=4<end_working_out><SOLUTION>4</SOLUTION>"
    assert reward([done, done + "\n\n", done + "\nP.S. hi", done + "<SOLUTION>5</SOLUTION>"]) == [
        0.5,
        0.5,
        0.0,
        0.0,
    ]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("r<end_working_out><SOLUTION>4</SOLUTION>", 1.5),  # notebook: opening marker pre-filled
        (
            "<start_working_out>r<end_working_out><SOLUTION>4</SOLUTION>",
            1.5,
        ),  # written once: no credit, no penalty
        ("<start_working_out><start_working_out>r<end_working_out><SOLUTION>4</SOLUTION>", 0.5),
        ("r<end_working_out><SOLUTION>4</SOLUTION><SOLUTION>5</SOLUTION>", -1.5),
        ("r<end_working_out>", -1.5),
        ("", -3.0),
    ],
)
def test_format_approx_scores_each_marker(completion, expected):
    assert format_approx(UNSLOTH)([completion]) == [expected]


def test_format_approx_can_score_the_opening_marker_too():
    reward = format_approx(R1, reward_opening=True, once=1.0, otherwise=-2.0)
    assert reward(["<think>a</think><answer>1</answer>", "a</think><answer>1</answer>"]) == [4.0, 1.0]


def test_format_approx_counts_bare_xml_tags():
    assert format_approx(XML)(["<reasoning>r</reasoning><answer>4</answer>"]) == [1.5]


def test_format_approx_on_boxed_wants_exactly_one_box():
    reward = format_approx(BOXED)
    assert reward([r"so \boxed{4}", r"\boxed{4} \boxed{5}", "4", r"\boxed{4"]) == [0.5, -1.0, -1.0, -1.0]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("<reasoning>\nmulti\nline\n</reasoning>\n<answer>\n4\n</answer>", 0.5),
        ("preamble <reasoning>r</reasoning>  <answer>4</answer> trailing", 0.5),
        ("r</reasoning><answer>4</answer>", 0.5),  # opening tag pre-filled
        ("<answer>4</answer><reasoning>r</reasoning>", 0.0),  # out of order
        ("<reasoning>r</reasoning> text <answer>4</answer>", 0.0),  # answer must follow the reasoning
        ("<reasoning>r</reasoning><answer>4", 0.0),
        ("", 0.0),
    ],
)
def test_format_soft_wants_the_markers_in_order(completion, expected):
    assert format_soft(XML)([completion]) == [expected]


def test_format_soft_on_boxed_wants_a_balanced_box():
    assert format_soft(BOXED, score=1.0)([r"\boxed{\frac{1}{2}}", r"\boxed{1"]) == [1.0, 0.0]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("<reasoning>\nr\n</reasoning>\n<answer>\n4\n</answer>", 0.5),
        ("<reasoning>\nr\n</reasoning>\n<answer>\n4\n</answer>\n", 0.5),  # trailing whitespace is free
        ("<reasoning>\nr\n</reasoning>\n<answer>\n4\n</answer>\nextra", 0.5 - 0.005),
        ("<reasoning>\nr\n</reasoning>\n<answer>\n4\n</answer>\n" + "x" * 10_000, 0.0),  # capped at -0.5
        ("<reasoning>\nr\n</reasoning>\n<answer>\n4\n</answer>" * 2, 0.0),
        ("<reasoning>\nr\n</reasoning>\n", 0.25),
        ("<reasoning>r</reasoning><answer>4</answer>", 0.0),  # the demo's tags carry their newlines
    ],
)
def test_xml_count_is_the_demo_tag_count(completion, expected):
    assert xml_count(XML)([completion]) == [pytest.approx(expected)]


def test_xml_count_with_a_prefilled_opening_tag_pays_for_its_absence():
    reward = xml_count(XML, opening_prefilled=True)
    body = "r\n</reasoning>\n<answer>\n4\n</answer>"
    assert reward([body, "<reasoning>\n" + body]) == [0.5, 0.375]


def test_xml_count_on_boxed():
    reward = xml_count(BOXED)
    assert reward([r"so \boxed{4}.", r"so \boxed{4} " + "x" * 20, r"\boxed{1}\boxed{2}"]) == [
        0.5,
        pytest.approx(0.48),
        0.0,
    ]


@pytest.mark.parametrize("factory", [format_exact, format_approx, format_soft, xml_count])
@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
def test_format_rewards_read_chat_lists_and_ignore_the_answer_column(factory, fmt):
    text = fmt.render("working", "4")
    reward = factory(fmt)
    chat = [{"role": "assistant", "content": text}]
    assert reward([chat], answer=["nonsense"]) == reward([text])
