"""Format rewards: does the completion lay itself out the way the format asks?

`format_exact`, `format_approx` are the first two rewards of Unsloth's Qwen3
GRPO notebook; `format_soft` and `xml_count` are the soft-format and tag-count
terms of the classic XML GRPO demo (willccbb's ``grpo_demo.py``), generalised
from ``<reasoning>/<answer>`` to any format's markers. For the `boxed` format
(no markers) each is documented with its ``\\boxed{}`` reading.

All four are linear in the completion length (``str.count``/``find`` and the
format's linear-time matchers), so megabytes of output cost milliseconds.
"""

from __future__ import annotations

import re

from data_prep.formats import ReasoningFormat, last_boxed_span
from rewards.base import reward

__all__ = ["format_approx", "format_exact", "format_soft", "xml_count"]

_BOX = "\\boxed{"
_SPACE = re.compile(r"\s*")


@reward(needs_answer=False)
def format_exact(
    text: str, gold: None, fmt: ReasoningFormat, *, score: float = 3.0, miss: float = 0.0
) -> float:
    r"""``score`` when the whole completion is exactly the format (`ReasoningFormat.exact_match`), else ``miss``.

    Range: {miss, score}, default {0.0, 3.0}. Deviation from the notebook: its
    regex searches for ``reasoning_end ... <SOLUTION>x</SOLUTION>`` and lets text
    follow on a later line (``$`` under MULTILINE) and markers repeat;
    `exact_match` wants nothing after the answer and every marker at most once,
    which is what "the format is seen exactly" means. The classic demo's strict
    format term is this reward with ``score=0.5``.

    >>> from data_prep.formats import FORMATS
    >>> reward = format_exact(FORMATS["unsloth"])
    >>> reward(["2+2=4<end_working_out><SOLUTION>4</SOLUTION>", "<SOLUTION>4</SOLUTION> and more"])
    [3.0, 0.0]
    """
    return score if fmt.exact_match(text) else miss


@reward(needs_answer=False)
def format_approx(
    text: str, gold: None, fmt: ReasoningFormat, *, once: float = 0.5, otherwise: float = -1.0, reward_opening: bool = False
) -> float:
    r"""Per marker: ``once`` when it appears exactly once, ``otherwise`` when missing or repeated.

    Follows the notebook: the opening reasoning marker earns nothing (the
    chat template writes it, see `ReasoningFormat.generation_prefix`) but is
    penalised with ``otherwise`` when it appears more than once; the other
    three markers score ``once``/``otherwise`` each. ``reward_opening=True``
    scores the opening marker like the others (for templates that do not
    pre-fill it). Markers are counted without their surrounding newlines, so
    ``<answer>42</answer>`` counts for `xml`.

    Range with defaults: [-4.0, 1.5] (``reward_opening``: [-4.0, 2.0]).
    `boxed` format: ``once`` for exactly one balanced ``\boxed{}``, else
    ``otherwise``: [-1.0, 0.5].

    >>> from data_prep.formats import FORMATS
    >>> reward = format_approx(FORMATS["r1"])
    >>> reward(["<think>a</think><answer>1</answer>", "</think><answer>1</answer><answer>2</answer>", ""])
    [1.5, -1.5, -3.0]
    """
    if not fmt.has_markers:
        return once if text.count(_BOX) == 1 and last_boxed_span(text) else otherwise
    opening, *rest = (m.strip() for m in fmt.markers)
    score = 0.0
    if reward_opening:
        rest.insert(0, opening)
    elif text.count(opening) > 1:
        score += otherwise
    for marker in rest:
        score += once if text.count(marker) == 1 else otherwise
    return score


@reward(needs_answer=False)
def format_soft(
    text: str, gold: None, fmt: ReasoningFormat, *, score: float = 0.5, miss: float = 0.0
) -> float:
    r"""``score`` when the markers appear in order anywhere: reasoning end, whitespace, answer start, ..., answer end.

    The demo's ``soft_format_reward_func`` (score 0.5), generalised. Deviations:
    the demo used ``re.match`` without DOTALL, so it only fired when the whole
    completion began with ``<reasoning>`` and the reasoning had no newline; here
    the markers may sit anywhere and span lines, and the opening reasoning
    marker is not required (templates pre-fill it). Whitespace between the
    reasoning end and the answer start is honoured up to 256 characters.
    `boxed` format: ``score`` for any balanced ``\boxed{}``.

    Range: {miss, score}, default {0.0, 0.5}.

    >>> from data_prep.formats import FORMATS
    >>> reward = format_soft(FORMATS["xml"])
    >>> reward(["hi <reasoning>a\nb</reasoning> <answer>3</answer> bye", "<answer>3</answer></reasoning>"])
    [0.5, 0.0]
    """
    if not fmt.has_markers:
        return score if last_boxed_span(text) else miss
    _, close, open_answer, close_answer = (m.strip() for m in fmt.markers)
    last_close_answer = text.rfind(close_answer)
    pos = text.find(close)
    while 0 <= pos < last_close_answer:
        after = pos + len(close)
        answer_at = _SPACE.match(text, after).end()  # runs after distinct tags are disjoint: linear
        if text.startswith(open_answer, answer_at) and answer_at + len(open_answer) <= last_close_answer:
            return score
        pos = text.find(close, after)
    return miss


def _tags(fmt: ReasoningFormat) -> tuple[str, str, str, str]:
    """The four tags as `render` writes them, separator included (xml: the demo's own strings)."""
    return (
        fmt.reasoning_start,
        fmt.reasoning_end + fmt.separator,
        fmt.separator + fmt.answer_start,
        fmt.answer_end,
    )


@reward(needs_answer=False)
def xml_count(
    text: str, gold: None, fmt: ReasoningFormat, *, per_tag: float = 0.125, trailing_penalty: float = 0.001, max_trailing_penalty: float = 0.5, opening_prefilled: bool = False
) -> float:
    r"""Partial credit per tag present exactly once, minus a little per character after the answer.

    The demo's ``xmlcount_reward_func``, generalised: the four tags as `render`
    writes them, separator included (for `xml` exactly the demo's
    ``"<reasoning>\n"``, ``"\n</reasoning>\n"``, ``"\n<answer>\n"``,
    ``"\n</answer>"``) earn ``per_tag`` each when they appear exactly once; when
    the answer end appears once, ``trailing_penalty`` per non-whitespace-bounded
    character after it is subtracted, capped at ``max_trailing_penalty``.
    Deviations: the demo also charged the text after ``"\n</answer>\n"`` (the
    whole completion when that string is absent) and its penalty had no floor;
    here trailing text is charged once and the total is bounded.
    ``opening_prefilled=True`` (the chat template writes the opening tag) pays
    the first ``per_tag`` for the opening tag's *absence* instead, so repeating
    it is never rewarded. `boxed` format: ``4 * per_tag`` for exactly one
    balanced ``\boxed{}``, minus the same trailing-text charge, else 0.

    Range with defaults: [-0.375, 0.5].

    >>> from data_prep.formats import FORMATS
    >>> reward = xml_count(FORMATS["xml"])
    >>> reward(["<reasoning>\nr\n</reasoning>\n<answer>\n4\n</answer>", "<answer>4</answer>"])
    [0.5, 0.0]
    """
    if not fmt.has_markers:
        span = last_boxed_span(text)
        if text.count(_BOX) != 1 or span is None:
            return 0.0
        trailing = text[span[1] + 1 :].strip().strip("$.").strip()
        return 4 * per_tag - min(max_trailing_penalty, trailing_penalty * len(trailing))
    opening, *rest = _tags(fmt)
    score = 0.0
    count = text.count(opening)
    if count == (0 if opening_prefilled else 1):
        score += per_tag
    for tag in rest:
        if text.count(tag) == 1:
            score += per_tag
    if text.count(fmt.answer_end) == 1:
        trailing = text.rpartition(fmt.answer_end)[2].strip()
        score -= min(max_trailing_penalty, trailing_penalty * len(trailing))
    return score
