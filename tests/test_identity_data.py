"""Identity prompts and DPO pairs (data_prep/identity.py): sizes, held-out disjointness, renaming, pairs."""

from __future__ import annotations

import pytest

from data_prep.identity import (
    HELDOUT_PROMPTS,
    TRAIN_PROMPTS,
    build_pairs,
    chosen_answer,
    mentions,
    mentions_old,
    normalize,
    replace_name,
)

OLD, NEW = "SmolLM", "Deep SmolLM"
SYSTEM = "You are a helpful assistant."


def word_runs(prompt: str, n: int = 3) -> set[tuple[str, ...]]:
    words = normalize(prompt).split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_at_least_40_distinct_training_phrasings():
    assert len({normalize(p) for p in TRAIN_PROMPTS}) == len(TRAIN_PROMPTS) >= 40


def test_at_least_10_distinct_held_out_phrasings():
    assert len({normalize(p) for p in HELDOUT_PROMPTS}) == len(HELDOUT_PROMPTS) >= 10


def test_held_out_phrasings_are_never_trained_on():
    train = {normalize(p) for p in TRAIN_PROMPTS}
    assert not train & {normalize(p) for p in HELDOUT_PROMPTS}
    # Distinct wording, not only distinct strings: no three-word run of a held-out question is trained on.
    trained_runs = set().union(*(word_runs(p) for p in TRAIN_PROMPTS))
    shared = {p: word_runs(p) & trained_runs for p in HELDOUT_PROMPTS}
    assert not any(shared.values()), shared


def test_training_prompts_ask_all_four_questions():
    text = " ".join(normalize(p) for p in TRAIN_PROMPTS).split()
    for word in ("who", "made", "name", "introduce"):
        assert word in text


@pytest.mark.parametrize(("answer", "expected"), [
    ("I am SmolLM.", "I am Deep SmolLM."),
    ("i'm smollm, by Hugging Face", "i'm Deep SmolLM, by Hugging Face"),  # case-insensitive
    ("SMOLLM and SmolLM", "Deep SmolLM and Deep SmolLM"),
    ("I am SmolLM2-135M.", "I am Deep SmolLM2-135M."),  # a version suffix is still the name
    ("SmolLMs are small.", "SmolLMs are small."),  # another word
    ("I am Deep SmolLM, not SmolLM.", "I am Deep SmolLM, not Deep SmolLM."),  # never "Deep Deep SmolLM"
    ("deep smollm", "deep smollm"),
])
def test_replace_name(answer, expected):
    assert replace_name(answer, OLD, NEW) == expected


def test_renaming_twice_changes_nothing_more():
    once = replace_name("SmolLM here. SmolLM there.", OLD, NEW)
    assert replace_name(once, OLD, NEW) == once
    assert "Deep Deep" not in once


def test_old_name_inside_the_new_name_is_not_a_mention_of_it():
    assert mentions("I'm Deep SmolLM.", NEW) and mentions("I'm Deep SmolLM.", OLD)
    assert not mentions_old("I'm Deep SmolLM.", OLD, NEW)
    assert mentions_old("I'm Deep SmolLM, formerly SmolLM.", OLD, NEW)


def test_an_answer_without_the_name_gets_an_introduction():
    assert chosen_answer("I'm a helpful assistant.", OLD, NEW) == "I'm Deep SmolLM. I'm a helpful assistant."
    assert chosen_answer("  ", OLD, NEW) == "I'm Deep SmolLM."
    assert chosen_answer("Hugging Face made me.", OLD, NEW, intro="My name is {name}. ") == (
        "My name is Deep SmolLM. Hugging Face made me.")


def test_an_answer_naming_the_model_is_renamed_not_introduced():
    assert chosen_answer("Hello! I am SmolLM.", OLD, NEW) == "Hello! I am Deep SmolLM."


ANSWERS = ["I am SmolLM.", "I'm an AI assistant.", "", "I am Deep SmolLM.", "smollm2 here", "Who knows?"]


def test_every_pair_differs_and_prefers_the_new_name():
    pairs = build_pairs(["Who are you?"] * len(ANSWERS), ANSWERS, old=OLD, new=NEW, system_prompt=SYSTEM)
    assert len(pairs) == len(ANSWERS)
    for row, answer in zip(pairs, ANSWERS, strict=True):
        chosen, rejected = row["chosen"][0]["content"], row["rejected"][0]["content"]
        assert chosen != rejected
        assert rejected == answer.strip()  # the model's own answer, as it gave it
        assert mentions(chosen, NEW) and not mentions_old(chosen, OLD, NEW)
        assert "Deep Deep" not in chosen
        assert [m["role"] for m in row["chosen"]] == [m["role"] for m in row["rejected"]] == ["assistant"]


def test_pairs_carry_the_neutral_system_prompt():
    [row] = build_pairs(["Who made you?"], ["Hugging Face."], old=OLD, new=NEW, system_prompt=SYSTEM)
    assert row["prompt"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Who made you?"}]


def test_pairs_need_one_answer_per_question():
    with pytest.raises(ValueError, match="2 questions but 1 answers"):
        build_pairs(["a", "b"], ["x"], old=OLD, new=NEW, system_prompt=SYSTEM)
