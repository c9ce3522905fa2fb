"""Reasoning formats: render -> extract round-trips, and messy model text reads as documented."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from data_prep.formats import FORMATS, get_format, last_boxed

ALL_MARKERS = sorted({m.strip() for f in FORMATS.values() for m in f.markers if m} | {"\\boxed"})


def _clean(text: str) -> bool:
    return bool(text.strip()) and not any(m in text for m in ALL_MARKERS)


reasoning_text = st.text(min_size=1, max_size=80).filter(_clean)
answer_text = st.text(
    st.characters(blacklist_characters="{}\\", blacklist_categories=("Cs",)), min_size=1, max_size=20
).filter(_clean)


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=150, deadline=None)
@given(reasoning=reasoning_text, answer=answer_text)
def test_render_round_trips_through_extract_and_exact_match(name, reasoning, answer):
    fmt = FORMATS[name]
    text = fmt.render(reasoning, answer)
    assert fmt.extract(text) == answer.strip()
    assert fmt.exact_match(text)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_gsm8k_render_round_trips(name):
    fmt = FORMATS[name]
    text = fmt.render("Natalia sold 48/2 = 24 clips in May.\n48 + 24 = 72", "72")
    assert (fmt.extract(text), fmt.exact_match(text)) == ("72", True)


@pytest.mark.parametrize("name", ["unsloth", "xml", "r1"])
def test_completion_without_the_prefilled_opening_marker_is_exact(name):
    fmt = FORMATS[name]
    text = fmt.render("think", "5").removeprefix(fmt.generation_prefix)
    assert not text.startswith(fmt.reasoning_start)
    assert fmt.exact_match(text) and fmt.extract(text) == "5"


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("text", [None, "", "   ", "just prose, no answer", "<answer></answer>", "\\boxed{"])
def test_nothing_to_extract_is_none_and_not_exact(name, text):
    fmt = FORMATS[name]
    assert fmt.extract(text) is None
    assert fmt.exact_match(text) is False


def test_xml_one_line_answer_is_extracted_but_not_exact():
    xml = FORMATS["xml"]
    assert xml.extract("<answer>42</answer>") == "42"
    assert xml.extract("<reasoning>r</reasoning><answer>42</answer>") == "42"
    assert not xml.exact_match("<reasoning>r</reasoning><answer>42</answer>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<answer>1</answer> then <answer>2</answer>", "2"),  # the last complete section
        ("<answer>1</answer> then <answer>2", "1"),  # an unclosed last section does not count
        ("<answer>1</answer><answer> </answer>", "1"),  # nor does an empty one
        ("<answer>5</answer> blah </answer>", "5"),  # an opening tag pairs with the first close after it
        ("<answer><answer>7</answer>", "7"),  # a section never contains another opening tag
        ("</answer><answer>", None),
    ],
)
def test_repeated_markers_read_the_last_complete_section(text, expected):
    assert FORMATS["r1"].extract(text) == expected


@pytest.mark.parametrize("name", ["unsloth", "xml", "r1"])
def test_repeated_or_trailing_markers_are_not_exact(name):
    fmt = FORMATS[name]
    good = fmt.render("r", "1")
    assert not fmt.exact_match(good + fmt.answer_start + "2" + fmt.answer_end)
    assert not fmt.exact_match(good + " and then some")
    assert not fmt.exact_match(fmt.reasoning_start + good)
    assert not fmt.exact_match(fmt.answer_start + "1" + fmt.answer_end)  # no reasoning at all


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
        (r"\boxed{{1, 2}}", "{1, 2}"),
        (r"\boxed{1} then \boxed{\sqrt{\frac{a}{b}}}.", r"\sqrt{\frac{a}{b}}"),
        (r"\boxed{1} then \boxed{2", "1"),  # unbalanced last box: the one before
        (r"\boxed{x \boxed{y}", "y"),
        (r"\boxed{}", None),
    ],
)
def test_boxed_reads_the_last_balanced_box(text, expected):
    assert FORMATS["boxed"].extract(text) == expected


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        (r"so \boxed{3}", True),
        (r"so $\boxed{3}$.", True),
        (r"so \boxed{3} and more", False),
        (r"so \boxed{3}}", False),
        (r"\boxed{ }", False),
    ],
)
def test_boxed_exact_match_wants_the_box_at_the_end(text, exact):
    assert FORMATS["boxed"].exact_match(text) is exact


PATHOLOGICAL = {
    "open tags": "<answer>" * 100_000,
    "close tags": "</answer>" * 100_000,
    "unclosed boxes": "\\boxed{" * 100_000,
    "closed boxes": "\\boxed{x}a" * 100_000,
    "whitespace": " " * 500_000 + "x</think><answer>1</answer>",
    "prose": "lorem ipsum <think> dolor </think> " * 30_000,
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_pathological_text_is_read_in_linear_time(name):
    fmt = FORMATS[name]
    start = time.perf_counter()
    for text in PATHOLOGICAL.values():
        fmt.extract(text)
        fmt.exact_match(text)
    # Linear: well under a second. The quadratic versions took minutes.
    assert time.perf_counter() - start < 10


def test_last_boxed_on_plain_text():
    assert last_boxed("no box here") is None


def test_get_format_names_the_known_formats():
    assert get_format("xml") is FORMATS["xml"]
    with pytest.raises(ValueError, match=r"^format: unknown format 'json'; expected one of boxed, r1"):
        get_format("json")


def test_a_wall_of_unclosed_boxes_after_the_answer_hides_it():
    """last_boxed_span tries the last MAX_BOXES openings only, which bounds its work on runaway output."""
    from data_prep.formats import MAX_BOXES, last_boxed

    assert last_boxed(r"\boxed{42}" + r" \boxed{" * 10) == "42"
    assert last_boxed(r"\boxed{42}" + r" \boxed{" * (MAX_BOXES + 1)) is None


def _exact_regex(fmt):
    """The language `exact_match`'s sections are defined by (data_prep/formats.py `_exact_sections`)."""
    import re

    rs, re_, as_, ae = (re.escape(m) for m in fmt.markers)
    return re.compile(rf"\A(?:{rs})?(?P<reasoning>(?:(?!{rs}).)+?){re_}\s*{as_}"
                      rf"(?P<answer>(?:(?!{as_}|{ae}).)+?){ae}\Z", re.DOTALL)


@pytest.mark.parametrize("name", ["unsloth", "xml", "r1"])
@settings(max_examples=1000, deadline=None)
@given(data=st.data())
def test_exact_sections_are_what_the_exact_regex_matches(name, data):
    fmt = FORMATS[name]
    pieces = [*fmt.markers, *(m.strip() for m in fmt.markers), "x", "42", " ", "\n", "\t", "<", "/", "\u00a0"]
    text = "".join(data.draw(st.lists(st.sampled_from(pieces), max_size=9))).strip()
    assume(all(text.count(m.strip()) <= 1 for m in fmt.markers))  # exact_match refuses repeats first
    match = _exact_regex(fmt).match(text)
    assert fmt._exact_sections(text) == ((match["reasoning"], match["answer"]) if match else None)
