"""Answer rewards: correct GSM8K answers earn the top score in every format, wrong ones strictly less."""

from __future__ import annotations

import threading

import pytest

from data_prep.formats import FORMATS
from rewards import build_rewards, is_correct, parse_number
from rewards.answer_rewards import answer, correctness, integer, math_verify, number

TOP = {"answer": 5.0, "number": 3.5, "correctness": 2.0, "math_verify": 1.0}
REASONING = "Natalia sold 48/2 = 24 clips in May.\nAltogether she sold 48 + 24 = 72 clips."

# (gold as GSM8K writes it, a correct answer as a model might write it)
CORRECT = [
    ("72", "72"),
    ("1600", "1600"),
    ("1600", "1,600"),
    ("1600", "$1,600"),
    ("1,600", "1600"),
    ("1,600", "$1,600.00"),
    ("-3", "-3"),
    ("-3", "\u22123"),  # unicode minus
    ("5", "5."),
    ("0.5", ".50"),
    ("42", "\u0664\u0662"),  # Arabic-Indic digits
    ("1234567", "1,234,567"),
]
WRONG = [
    ("72", "73"),
    ("1600", "160"),
    ("1600", "16,000"),
    ("-3", "3"),
    ("72", "seventy-two"),
    ("72", "72 or 73"),
]


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
@pytest.mark.parametrize(("gold", "written"), CORRECT)
def test_a_correct_answer_in_any_format_gets_the_top_score(fmt, gold, written):
    funcs = build_rewards(list(TOP), fmt)
    completion = fmt.render(REASONING, written)
    for reward in funcs:
        assert reward([completion], answer=[gold]) == [TOP[reward.__name__]], reward.__name__
    assert is_correct(fmt.extract(completion), gold)


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
@pytest.mark.parametrize(("gold", "written"), WRONG)
def test_a_wrong_answer_scores_strictly_less(fmt, gold, written):
    completion = fmt.render(REASONING, written)
    for reward in build_rewards(["answer", "correctness", "math_verify"], fmt):
        assert reward([completion], answer=[gold])[0] < TOP[reward.__name__], reward.__name__
    assert not is_correct(fmt.extract(completion), gold)


def test_chat_list_completions_score_like_strings():
    fmt = FORMATS["unsloth"]
    text = fmt.render(REASONING, "72")
    chat = [{"role": "assistant", "content": text}]
    for reward in build_rewards(list(TOP), fmt):
        assert reward([chat], answer=["72"]) == reward([text], answer=["72"]) == [TOP[reward.__name__]]


def _unsloth(answer_text: str) -> str:
    return f"working<end_working_out><SOLUTION>{answer_text}</SOLUTION>"


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (_unsloth("1600"), 5.0),
        (_unsloth(" $1,600 "), 5.0),
        (_unsloth("1600 dollars"), 3.5),  # right number, extra words
        (_unsloth("x = 1600"), 3.5),
        (_unsloth("1700"), 2.0),  # within 10%
        (_unsloth("1300"), 1.5),  # within 20%
        (_unsloth("2000"), -2.5),  # wrong
        (_unsloth("-1600"), -2.5),
        (_unsloth("1500 or 1600"), -4.5),  # hedging is not the right number
        (_unsloth("sixteen hundred"), -4.5),  # non-numeric
        ("working, no solution section", -2.0),  # none
        ("<SOLUTION>1600", -2.0),  # unclosed section
    ],
)
def test_answer_tiers_follow_the_notebook(completion, expected):
    assert answer(FORMATS["unsloth"])([completion], answer=["1600"]) == [expected]


def test_answer_scores_are_parameters():
    reward = answer(FORMATS["unsloth"], correct=1.0, none=0.0, non_numeric=-1.0)
    assert reward([_unsloth("1600"), "nothing", _unsloth("many")], answer=["1600"] * 3) == [1.0, 0.0, -1.0]


def test_answer_with_zero_or_symbolic_gold_has_no_ratio_tiers():
    reward = answer(FORMATS["unsloth"])
    assert reward([_unsloth("0.01"), _unsloth("2")], answer=["0", "\\pi"]) == [-2.5, -2.5]
    assert reward([_unsloth("\\pi")], answer=["\\pi"]) == [5.0]  # exact string still counts


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (_unsloth("72"), 3.5),
        (_unsloth("She sold 72 clips"), 3.5),  # the first number in the section
        (_unsloth("$1,600"), -1.5),
        (_unsloth("71, not 72"), -1.5),
        (_unsloth("seventy-two"), -2.5),
        ("72", -2.5),  # no answer section
    ],
)
def test_number_reads_the_first_number_of_the_answer_section(completion, expected):
    assert number(FORMATS["unsloth"])([completion], answer=["72"]) == [expected]


def test_number_on_boxed_reads_inside_the_box_and_handles_separators():
    reward = number(FORMATS["boxed"])
    assert reward([r"so \boxed{1{,}600}", r"\boxed{1,600}", r"1600 \boxed{x}"], answer=["1600"] * 3) == [
        3.5,
        3.5,
        -2.5,
    ]


def test_number_with_non_numeric_gold_is_neutral():
    assert number(FORMATS["unsloth"])([_unsloth("3")], answer=["x + 1"]) == [0.0]


@pytest.mark.parametrize(
    ("answer_text", "expected"),
    [
        ("42", 0.5),
        ("-3", 0.5),
        ("1,600", 0.5),
        ("$1,600", 0.5),
        ("42.0", 0.5),
        ("2.5", 0.0),
        ("1/2", 0.0),
        ("\u00b2", 0.0),
        ("forty", 0.0),
    ],
)
def test_integer_means_an_integral_value(answer_text, expected):
    assert integer(FORMATS["r1"])([f"<think>r</think><answer>{answer_text}</answer>"]) == [expected]


def test_correctness_is_the_demo_term_with_is_correct():
    reward = correctness(FORMATS["xml"])
    good = FORMATS["xml"].render("r", "1,600")
    assert reward([good, FORMATS["xml"].render("r", "16"), "junk"], answer=["1600"] * 3) == [2.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("gold", "written", "expected"),
    [
        ("0.5", r"\frac{1}{2}", 1.0),
        (r"\frac{1}{2}", "0.5", 1.0),
        (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}", 1.0),
        ("x^2+1", "1+x^2", 1.0),
        ("3", "x = 3", 1.0),
        ("10\\%", "10", 1.0),
        (r"\frac{1}{3}", "0.5", 0.0),
        ("3", "}}{{\\frac", 0.0),
    ],
)
def test_math_verify_compares_by_value(gold, written, expected):
    reward = math_verify(FORMATS["boxed"])
    assert reward([FORMATS["boxed"].render("r", written)], answer=[gold]) == [expected]


def test_math_verify_works_off_the_main_thread():
    # signal.alarm is main-thread only; off it the reward must still answer (no ValueError -> 0.0).
    reward = math_verify(FORMATS["boxed"])
    results = []
    thread = threading.Thread(target=lambda: results.append(reward([r"\boxed{\frac{2}{4}}"], answer=["0.5"])))
    thread.start()
    thread.join(60)
    assert results == [[1.0]]


def test_math_verify_refuses_long_answers_and_bad_timeouts():
    reward = math_verify(FORMATS["boxed"], max_chars=10)
    assert reward([r"\boxed{\frac{1}{2} + 0 + 0 + 0 + 0}"], answer=["0.5"]) == [0.0]
    with pytest.raises(ValueError, match="^math_verify: timeout_s"):
        math_verify(FORMATS["boxed"], timeout_s=0.5)


@pytest.mark.parametrize("name", list(TOP) + ["integer"])
def test_missing_gold_is_neutral_and_a_missing_column_is_an_error(name):
    [reward] = build_rewards([name], FORMATS["r1"])
    good = FORMATS["r1"].render("r", "4")
    if name == "integer":  # does not read the gold
        assert reward([good]) == [0.5]
        return
    assert reward([good, good], answer=[None, 4]) == [0.0, TOP[name]]  # int golds are read as text
    with pytest.raises(ValueError, match=f"^{name}: reward needs the dataset's 'answer' column"):
        reward([good], prompts=["p"])


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("1600", "1600", True),
        (" 1,600 ", "1600", True),
        ("$1,600", "1,600", True),
        ("1600.0", "1600", True),
        ("25%", "25", True),
        ("\\frac{1}{2}", "0.5", True),
        ("abc", " abc ", True),  # same text
        ("12345678901234567891", "12345678901234567890", False),  # exact, not float, comparison
        ("1600 dollars", "1600", False),
        ("1,60", "160", False),  # not a thousands separator
        ("", "", False),
        (None, "1", False),
        ("1", None, False),
    ],
)
def test_is_correct(pred, gold, expected):
    assert is_correct(pred, gold) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,600", 1600.0),
        ("$1,600", 1600.0),
        ("-3", -3.0),
        ("3.50", 3.5),
        ("\u00bd", 0.5),
        ("1\u00bd", 1.5),
        ("\uff14\uff12", 42.0),
        ("\\$5", 5.0),
        ("1{,}600", 1600.0),
        ("\\boxed{7}", 7.0),
        ("3/4", 0.75),
        ("1/0", None),
        ("1e3", None),
        ("--3", None),
        ("\u00b2", None),
        ("", None),
        (None, None),
        ("9" * 101, None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_math_verify_never_hands_an_exponent_tower_to_sympy(capsys):
    """math-verify would compute 9^(9^9) exactly into its 5 s limit and print "Timeout during comparison"."""
    [reward] = build_rewards(["math_verify"], FORMATS["boxed"])
    towers = [r"\boxed{9^{9^{9}}}", r"\boxed{10^{10^{10}}}", r"\boxed{99999999999^{99999999}}", r"\boxed{2**2**2**2}"]
    logged = {}
    scores = reward(towers + [r"\boxed{2^{10}}"], answer=["1"] * 4 + ["1024"], log_metric=logged.__setitem__)
    assert scores == [0.0] * 4 + [1.0] and logged == {"rewards/math_verify/fallback_frac": 0.8}
    assert capsys.readouterr().out == ""
