"""The DPO identity evaluation (recipes/identity_eval.py) and its retention questions (data_prep/facts.py)."""

from __future__ import annotations

import json

from data_prep.facts import FACTS, fact_questions, names_answer
from data_prep.identity import HELDOUT_PROMPTS, TRAIN_PROMPTS, normalize
from recipes.identity_eval import identity_eval, is_retained, name_rates, write_identity_eval

OLD, NEW = "SmolLM", "Deep SmolLM"


def test_at_least_40_distinct_factual_questions_none_about_identity():
    questions = [normalize(q) for q, _ in FACTS]
    assert len(set(questions)) == len(FACTS) >= 40
    assert not set(questions) & {normalize(p) for p in TRAIN_PROMPTS + HELDOUT_PROMPTS}
    assert all(answers for _, answers in FACTS)
    assert not any("your" in q.split() or "yourself" in q for q in questions)


def test_a_gold_answer_counts_as_a_whole_word_in_any_case():
    assert names_answer("the capital is PARIS.", ["Paris"])
    assert not names_answer("A Parisian cafe.", ["Paris"])
    assert names_answer("Water boils at 100°C.", ["100"]) and not names_answer("It is 1000.", ["100"])


def test_name_rates_count_the_old_name_only_outside_the_new_one():
    answers = ["I'm Deep SmolLM.", "I am SmolLM, made by Hugging Face.", "I'm Deep SmolLM, once SmolLM.", "Hi."]
    assert name_rates(answers, old=OLD, new=NEW) == {"new_name_rate": 0.5, "old_name_rate": 0.5}
    assert name_rates([], old=OLD, new=NEW) == {"new_name_rate": 0.0, "old_name_rate": 0.0}


def test_an_answer_is_retained_when_unchanged_or_still_correct():
    assert is_retained("I don't know.", " I don't know. ", ["Paris"])  # unchanged (even if wrong)
    assert is_retained("Paris.", "The capital of France is Paris.", ["Paris"])  # changed, still correct
    assert not is_retained("Paris.", "Lyon.", ["Paris"])  # changed and wrong


def test_identity_eval_has_the_documented_keys_and_values():
    facts = fact_questions(2)  # France -> Paris, Japan -> Tokyo
    result = identity_eval(["Who?", "Name?"], ["I'm an AI.", "I am SmolLM."], ["I'm Deep SmolLM.", "Hello."],
                           facts, ["Paris.", "Kyoto."], ["Paris.", "Osaka."], old=OLD, new=NEW)
    assert result["n"] == 2
    assert result["before"] == {"new_name_rate": 0.0, "old_name_rate": 0.5}
    assert result["after"] == {"new_name_rate": 0.5, "old_name_rate": 0.0}
    assert (result["retention"], result["retention_n"], result["retention_unchanged"]) == (0.5, 2, 1)
    assert (result["retention_correct_before"], result["retention_correct_after"]) == (1, 1)


def test_the_run_files_show_the_answers_side_by_side(tmp_path):
    facts = fact_questions(1)
    result = write_identity_eval(tmp_path, ["Who are you?"], ["I'm an AI."], ["I'm Deep SmolLM. I'm an AI."],
                                 facts, ["Paris."], ["Lyon."], old=OLD, new=NEW,
                                 system_prompt="You are a helpful assistant.")
    assert json.loads((tmp_path / "identity_eval.json").read_text()) == result
    rows = [json.loads(line) for line in (tmp_path / "identity_answers.jsonl").read_text().splitlines()]
    assert [(r["kind"], r.get("retained")) for r in rows] == [("heldout", None), ("retention", False)]
    report = (tmp_path / "report.md").read_text()
    assert "| naming Deep SmolLM | 0% | 100% |" in report
    assert "- before: I'm an AI.\n- after: I'm Deep SmolLM. I'm an AI." in report
    assert "**What is the capital of France?** (gold: Paris)" in report  # a broken fact is shown
