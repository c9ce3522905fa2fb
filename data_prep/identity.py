"""Identity prompts and DPO preference pairs for "give the model a new name".

The classic lesson: ask the model who it is, take its own greedy answer as the
*rejected* reply, and as the *chosen* reply the same answer with the old name
replaced by the new one (``SmolLM`` -> ``Deep SmolLM``). An answer that never
names the model gets a short first sentence that does (``"I'm Deep SmolLM. "``),
so every pair differs and DPO always has something to prefer. The chosen reply
stays the model's own words: DPO moves only the name, not the style.

`TRAIN_PROMPTS` are the ways a user asks "who are you / who made you / what is
your name / introduce yourself" that training uses; `HELDOUT_PROMPTS` are other
phrasings, never trained on, that the evaluation asks, so a rise in the new
name's rate there is the name generalising, not a memorised sentence. The two
sets share no three-word run (a test checks it).

Every prompt carries an explicit neutral system prompt: SmolLM2's chat template
inserts "You are a helpful AI assistant named SmolLM ..." when there is no
system message, and then the name would come from the prompt, not the weights.

Names are matched case-insensitively, as whole words where a word is a run of
letters: ``SmolLM2`` names SmolLM (a version suffix is still the name), while
``SmolLMs`` would not. The new name may contain the old one (``Deep SmolLM``):
an existing mention of the new name is kept as it is, never "Deep Deep SmolLM".

>>> replace_name("I am SmolLM, made by Hugging Face.", "SmolLM", "Deep SmolLM")
'I am Deep SmolLM, made by Hugging Face.'
>>> replace_name("Deep SmolLM here; smollm2 too.", "SmolLM", "Deep SmolLM")
'Deep SmolLM here; Deep SmolLM2 too.'
>>> chosen_answer("I'm an AI assistant.", "SmolLM", "Deep SmolLM")
"I'm Deep SmolLM. I'm an AI assistant."
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from data_prep.common import DataError, hub_table, one_line, text_value

__all__ = ["HELDOUT_PROMPTS", "INTRO", "TRAIN_PROMPTS", "HubUnreachable", "build_pairs", "chat_prompt", "chosen_answer",
           "hub_prompts", "mentions", "mentions_old", "normalize", "replace_name"]

INTRO = "I'm {name}. "  # the first sentence an answer that never names the model gets

TRAIN_PROMPTS: tuple[str, ...] = (
    # who are you
    "Who are you?", "Who am I talking to?", "Tell me who you are.", "What are you?",
    "Who am I chatting with right now?", "What kind of assistant are you?", "Who is this?",
    "Can you tell me about yourself?", "Tell me a little about yourself.", "Describe yourself in one sentence.",
    "What should I know about you?", "Are you a person or a program?",
    # who made you
    "Who made you?", "Who created you?", "Who built you?", "Who trained you?", "Who developed you?",
    "Which company made you?", "Where do you come from?", "Who is behind you?", "Who designed you?",
    "Who programmed you?", "Which team created you?", "Who are your creators?",
    # what is your name
    "What is your name?", "What's your name?", "Do you have a name?", "What should I call you?",
    "How should I address you?", "Tell me your name.", "What are you called?", "What do people call you?",
    "Is there a name you go by?", "What name were you given?", "Can I know your name?",
    "Please tell me your name.",
    # introduce yourself
    "Introduce yourself.", "Please introduce yourself.", "Could you introduce yourself?",
    "Give me a short introduction of yourself.", "Say hello and tell me who you are.", "Hi! Who are you?",
    "Hello, what is your name?", "Introduce yourself in one sentence.",
    "Before we start, who am I speaking with?", "What is the name of the AI I am talking to?",
    "Which model are you?", "What model am I talking to?",
)

HELDOUT_PROMPTS: tuple[str, ...] = (
    "Identify yourself, please.", "Whom do I have the pleasure of speaking with?", "May I ask your identity?",
    "What is this chatbot called?", "Which organization is responsible for creating you?",
    "Could you share a brief self-introduction?", "Who brought you into existence?", "Got a name?",
    "Greet me and state your name.", "Which AI am I conversing with?", "Explain your origins briefly.",
    "Who's your developer?",
)


def normalize(prompt: str) -> str:
    """Lower case, words only: two phrasings that normalize alike are the same question.

    >>> normalize("  Who ARE you?! ")
    'who are you'
    """
    return " ".join(re.findall(r"[a-z0-9']+", prompt.lower()))


def _name_pattern(name: str) -> str:
    # A name's edges must not touch another letter: "SmolLM2" names SmolLM, "SmolLMs" does not.
    return r"(?<![A-Za-z])" + re.escape(name.strip()) + r"(?![A-Za-z])"


def replace_name(text: str, old: str, new: str) -> str:
    """Every mention of ``old`` becomes ``new``; mentions of ``new`` (which may contain ``old``) stay."""
    pattern = re.compile(f"{_name_pattern(new)}|{_name_pattern(old)}", re.IGNORECASE)
    return pattern.sub(lambda m: m.group(0) if m.group(0).lower() == new.lower() else new, text)


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` (case-insensitive, whole word).

    >>> mentions("I'm deep smollm!", "Deep SmolLM"), mentions("SmolLMs", "SmolLM")
    (True, False)
    """
    return re.search(_name_pattern(name), text, re.IGNORECASE) is not None


def mentions_old(text: str, old: str, new: str) -> bool:
    """Whether ``text`` names ``old`` other than as part of ``new``.

    >>> mentions_old("I am Deep SmolLM.", "SmolLM", "Deep SmolLM"), mentions_old("SmolLM2", "SmolLM", "Deep SmolLM")
    (False, True)
    """
    without_new = re.sub(_name_pattern(new), " ", text, flags=re.IGNORECASE)
    return mentions(without_new, old)


def chosen_answer(rejected: str, old: str, new: str, intro: str = INTRO) -> str:
    """The preferred reply: ``rejected`` with ``old`` renamed, or with an introduction when it never names ``old``."""
    answer = rejected.strip()
    if mentions_old(answer, old, new):
        return replace_name(answer, old, new)
    return (intro.format(name=new) + answer).strip()


def chat_prompt(question: str, system_prompt: str) -> list[dict[str, str]]:
    """The conversation a question is asked in: the explicit system prompt, then the user's question."""
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]


def build_pairs(questions: Sequence[str], answers: Sequence[str], *, old: str, new: str,
                system_prompt: str) -> list[dict]:
    """TRL's conversational preference rows: {prompt, chosen, rejected} (+ the question), one per answer.

    >>> [row] = build_pairs(["Who are you?"], ["I am SmolLM."], old="SmolLM", new="Deep SmolLM",
    ...                     system_prompt="You are a helpful assistant.")
    >>> row["chosen"], row["rejected"]
    ([{'role': 'assistant', 'content': 'I am Deep SmolLM.'}], [{'role': 'assistant', 'content': 'I am SmolLM.'}])
    """
    if len(questions) != len(answers):
        raise ValueError(f"{len(questions)} questions but {len(answers)} answers")
    rows = []
    for question, answer in zip(questions, answers, strict=True):
        rows.append({
            "question": question,
            "prompt": chat_prompt(question, system_prompt),
            "chosen": [{"role": "assistant", "content": chosen_answer(answer, old, new)}],
            "rejected": [{"role": "assistant", "content": answer.strip()}],
        })
    return rows


class HubUnreachable(DataError):
    """The identity dataset could not be loaded (no network, no such repo): the recipe falls back."""


def hub_prompts(repo: str, column: str = "prompt", split: str = "train") -> list[str]:
    """Distinct identity questions from a Hub dataset's ``column``, minus any held-out phrasing.

    Raises `HubUnreachable` (one line naming ``identity_dataset``) when it cannot be loaded, and
    `DataError` naming ``identity_column`` when the column is not there or holds no prompt.
    """
    try:
        table = hub_table(repo, None, split)
    except DataError as err:
        cause = err.__cause__ or err
        raise HubUnreachable(f"identity_dataset: could not load {repo} split {split!r} from the Hugging Face "
                             f"Hub ({type(cause).__name__}: {one_line(cause, 120)})") from None
    if not table.has(column):
        raise DataError(f"identity_column: {repo} has no column {column!r} (found: {', '.join(table.columns)})")
    heldout = {normalize(p) for p in HELDOUT_PROMPTS}
    seen: set[str] = set()
    out = []
    for _, record in table.fetch([column]):
        text = text_value(record.get(column))
        key = normalize(text)
        if text and key not in seen and key not in heldout:
            seen.add(key)
            out.append(text)
    if not out:
        raise DataError(f"identity_column: {repo} has no usable prompts in column {column!r}")
    return out

