"""Reasoning formats: how a completion lays out its reasoning and its answer.

A format is data, not code paths: the system prompt that asks for it, its
markers, `render` (a completion that satisfies it exactly) and `extract` (the
answer a grader should read). Rewards, SFT priming, chat templates and the
evaluator all take a format, so "correct" means the same thing everywhere.

Extraction rule (documented because model text is messy): the answer is the
*last complete* answer section, i.e. the last `answer_start ... answer_end`
pair with no further `answer_start` inside it; for `boxed`, the last
`\\boxed{...}` whose braces balance. Nothing found -> None. Whitespace around
the answer is stripped.

The opening reasoning marker is optional in `exact_match`: Unsloth's recipe
puts it in the chat template's generation prompt, so the model never writes
it and completions start inside the reasoning.

>>> fmt = FORMATS["unsloth"]
>>> text = fmt.render("2 + 2 = 4", "4")
>>> fmt.extract(text), fmt.exact_match(text)
('4', True)
>>> FORMATS["boxed"].extract(r"so \\boxed{\\frac{1}{2}} or \\boxed{3}")
'3'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = ["FORMATS", "ReasoningFormat", "get_format", "last_boxed", "last_boxed_span"]

# Model text can be megabytes; regexes below are linear-time (no nested
# quantifiers), and extraction scans with str.rfind, so a pathological
# completion cannot stall a reward.
_BRACE = re.compile(r"[{}]")
MAX_BOXES = 256  # unclosed \boxed{ openings tried from the end before a completion counts as having none


def last_boxed_span(text: str) -> tuple[int, int] | None:
    r"""``(start, end)`` of the content of the last balanced ``\boxed{...}``; ``text[end]`` is its ``}``.

    Linear time: a ``\boxed{`` that reaches an already-known unbalanced one
    without closing is unbalanced too (it contains it), so no character is
    scanned twice, however many unclosed ``\boxed{`` a completion repeats. Only
    the last `MAX_BOXES` openings are tried (a megabyte of ``\boxed{`` took 49 ms
    to walk; no answer needs more than a few boxes), so the cost is bounded too.

    >>> text = r"\boxed{1} then \boxed{2"
    >>> start, end = last_boxed_span(text)
    >>> text[start:end]
    '1'
    """
    limit = len(text)  # everything from here on belongs to an unbalanced box
    pos = len(text)
    for _ in range(MAX_BOXES):
        start = text.rfind("\\boxed{", 0, pos)
        if start < 0:
            return None
        depth = 1
        for brace in _BRACE.finditer(text, start + len("\\boxed{"), limit):
            depth += 1 if brace.group() == "{" else -1
            if depth == 0:
                return start + len("\\boxed{"), brace.start()
        limit = pos = start  # unbalanced: try an earlier one
    return None


def last_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed{...}`` in ``text`` whose braces balance.

    >>> last_boxed(r"\boxed{1} then \boxed{\frac{a}{b}}")
    '\\frac{a}{b}'
    >>> last_boxed(r"\boxed{unclosed") is None
    True
    """
    span = last_boxed_span(text)
    return None if span is None else text[span[0] : span[1]].strip()


@dataclass(frozen=True)
class ReasoningFormat:
    """One reasoning layout. Marker formats set all four markers; `boxed` none."""

    name: str
    system_prompt: str
    reasoning_start: str = ""
    reasoning_end: str = ""
    answer_start: str = ""
    answer_end: str = ""
    separator: str = ""  # between reasoning_end and answer_start in render()
    @property
    def has_markers(self) -> bool:
        return bool(self.answer_start)

    @property
    def markers(self) -> tuple[str, str, str, str]:
        return (self.reasoning_start, self.reasoning_end, self.answer_start, self.answer_end)

    @property
    def generation_prefix(self) -> str:
        """What a base-model chat template appends after the prompt (opens the reasoning)."""
        return self.reasoning_start

    def render(self, reasoning: str, answer: str) -> str:
        """A completion that satisfies this format exactly (used for SFT priming and tests)."""
        if not self.has_markers:
            return f"{reasoning.strip()}\nThe answer is \\boxed{{{answer}}}."
        return (
            f"{self.reasoning_start}{reasoning.strip()}{self.reasoning_end}"
            f"{self.separator}{self.answer_start}{answer}{self.answer_end}"
        )

    def extract(self, text: str | None) -> str | None:
        """The answer a grader reads, by the module's extraction rule; None if absent."""
        if not isinstance(text, str) or not text:
            return None
        if not self.has_markers:
            return last_boxed(text) or None
        # Bare tags: a model that writes <answer>42</answer> on one line still
        # gets graded; exact_match is where the newlines of `xml` are enforced.
        # Walk the opening tags from the last one back; each pairs with the
        # first closing tag after it, searched only up to the next opening tag
        # (a section may not contain another), so every character is read once.
        open_tag, close_tag = self.answer_start.strip(), self.answer_end.strip()
        next_open = len(text)
        start = text.rfind(open_tag)
        while start >= 0:
            body = start + len(open_tag)
            end = text.find(close_tag, body, next_open)
            if end >= 0:
                answer = text[body:end].strip()
                if answer:
                    return answer
            next_open = start
            start = text.rfind(open_tag, 0, start)
        return None

    def exact_match(self, text: str | None) -> bool:
        """The whole completion is exactly reasoning-then-one-answer, nothing after.

        Marker formats: optional opening marker, non-empty reasoning, closing
        marker, whitespace, one non-empty answer section, then only whitespace;
        no marker twice. `boxed`: text, then the last balanced ``\\boxed{...}``
        (non-empty), then at most a closing ``$``, a full stop and whitespace.
        """
        if not isinstance(text, str):
            return False
        text = text.strip()
        if not self.has_markers:
            span = last_boxed_span(text)
            if span is None or not text[span[0] : span[1]].strip():
                return False
            tail = text[span[1] + 1 :].strip()
            return tail in ("", ".", "$", "$.")
        if any(text.count(m.strip()) > 1 for m in self.markers if m):
            return False
        sections = self._exact_sections(text)
        # Sections of only whitespace are not "non-empty": `<think> </think>` is no reasoning.
        return bool(sections and sections[0].strip() and sections[1].strip())

    def _exact_sections(self, text: str) -> tuple[str, str] | None:
        r"""(reasoning, answer) when ``text`` is ``rs? reasoning re \s* as answer ae``, else None.

        For a stripped text with each marker at most once (`exact_match` checks that first),
        the regular language ``\A(?:rs)?((?:(?!rs).)+?)re\s*as((?:(?!as|ae).)+?)ae\Z`` (DOTALL),
        found with ``str.find``: a regex's per-character lookaheads took 70 ms on a megabyte
        (bench/rewards_speed.py); tests/test_formats.py checks the two agree. Neither section
        may hold an occurrence of a marker that starts inside it.
        """
        rs, re_, as_, ae = self.markers
        start = len(rs) if text.startswith(rs) else 0
        end = text.find(re_, start + 1)  # the reasoning has at least one character
        if end < 0 or text.find(rs, start, end - 1 + len(rs)) >= 0:
            return None
        rest_at = end + len(re_)
        while rest_at < len(text) and text[rest_at].isspace():
            rest_at += 1
        a0, a1 = rest_at + len(as_), len(text) - len(ae)
        if not text.startswith(as_, rest_at) or not text.endswith(ae) or a1 <= a0:
            return None
        if any(text.find(m, a0, a1 - 1 + len(m)) >= 0 for m in (as_, ae)):
            return None
        return text[start:end], text[a0:a1]


def _prompt(layout: str) -> str:
    return (
        "You are given a problem. Think about the problem and provide your working out. "
        f"{layout}"
    )


FORMATS: dict[str, ReasoningFormat] = {
    f.name: f
    for f in (
        ReasoningFormat(
            name="unsloth",
            system_prompt=_prompt(
                "Place it between <start_working_out> and <end_working_out>. "
                "Then, provide your solution between <SOLUTION></SOLUTION>"
            ),
            reasoning_start="<start_working_out>",
            reasoning_end="<end_working_out>",
            answer_start="<SOLUTION>",
            answer_end="</SOLUTION>",
        ),
        ReasoningFormat(
            name="xml",
            system_prompt=(
                "Respond in the following format:\n<reasoning>\n...\n</reasoning>\n"
                "<answer>\n...\n</answer>"
            ),
            reasoning_start="<reasoning>\n",
            reasoning_end="\n</reasoning>",
            answer_start="<answer>\n",
            answer_end="\n</answer>",
            separator="\n",
        ),
        ReasoningFormat(
            name="r1",
            system_prompt=_prompt(
                "Place it between <think> and </think>. "
                "Then, provide your final answer between <answer> and </answer>."
            ),
            reasoning_start="<think>",
            reasoning_end="</think>",
            answer_start="<answer>",
            answer_end="</answer>",
            separator="\n",
        ),
        ReasoningFormat(
            name="boxed",
            system_prompt=(
                "Please reason step by step, and put your final answer within \\boxed{}."
            ),
        ),
    )
}


def get_format(name: str, system_prompt: str | None = None) -> ReasoningFormat:
    """Format by name, or ValueError naming the known ones (callers turn it into exit 2).

    ``system_prompt`` replaces the format's own (markers, render and extract stay):

    >>> get_format("r1", "Answer in <think></think><answer></answer>.").system_prompt
    'Answer in <think></think><answer></answer>.'
    """
    try:
        fmt = FORMATS[name]
    except KeyError:
        raise ValueError(
            f"format: unknown format {name!r}; expected one of {', '.join(sorted(FORMATS))}"
        ) from None
    return replace(fmt, system_prompt=system_prompt) if system_prompt is not None else fmt
