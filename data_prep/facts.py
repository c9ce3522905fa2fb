"""Plain factual questions with short gold answers, written in the repo: what a fine-tune must not break.

A recipe that changes one behaviour (the DPO identity recipe: the model's name)
asks these before and after training; an answer is *retained* when it is the
same text as before, or still names the gold answer. They are common knowledge
that even a 135M instruct model mostly gets right, phrased as a user would ask,
and none is about the model itself.

Each line of the table is ``question = answer | other spelling``; any of the answers
(case-insensitive, as whole words) counts as correct.

>>> names_answer("The capital of France is Paris.", FACTS[0][1]), names_answer("It is Lyon.", FACTS[0][1])
(True, False)
>>> len(FACTS) >= 40 and len({q for q, _ in FACTS}) == len(FACTS)
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["FACTS", "fact_questions", "names_answer"]

_TABLE = """
What is the capital of France? = Paris
What is the capital of Japan? = Tokyo
What is the capital of Italy? = Rome
What is the capital of Germany? = Berlin
What is the capital of Spain? = Madrid
What is the capital of the United Kingdom? = London
What is the capital of Russia? = Moscow
What is the capital of China? = Beijing
What is the capital of Egypt? = Cairo
Which planet is known as the Red Planet? = Mars
What is the largest planet in our solar system? = Jupiter
Which planet do we live on? = Earth
What star is at the center of our solar system? = Sun
What color is a clear daytime sky? = blue
What color is fresh grass? = green
What is the chemical formula of water? = H2O | H₂O
What gas do humans need to breathe to live? = oxygen
What gas do plants absorb from the air for photosynthesis? = carbon dioxide | CO2 | CO₂
At what temperature in Celsius does water boil at sea level? = 100
At what temperature in Celsius does water freeze? = 0 | zero
How many days are there in a week? = 7 | seven
How many months are there in a year? = 12 | twelve
How many hours are there in a day? = 24 | twenty-four
How many legs does a spider have? = 8 | eight
How many legs does an insect have? = 6 | six
How many continents are there on Earth? = 7 | seven
Who wrote Romeo and Juliet? = Shakespeare
Who painted the Mona Lisa? = Leonardo | da Vinci
Who was the first president of the United States? = Washington
Who developed the theory of relativity? = Einstein
What is the largest ocean on Earth? = Pacific
What is the tallest mountain in the world? = Everest
What is the longest river in Africa? = Nile
In which city is the Eiffel Tower? = Paris
In which country is the Great Wall? = China
What is the largest mammal in the world? = blue whale | whale
What is the fastest land animal? = cheetah
Which insect makes honey? = bee | bees | honeybee | honeybees
What do caterpillars turn into? = butterfly | butterflies | moth | moths
What is the opposite of hot? = cold
What is the opposite of up? = down
What language is mainly spoken in Brazil? = Portuguese
What is the currency of Japan? = yen
What is the currency of the United States? = dollar | dollars | USD
What is the chemical symbol for gold? = Au
What is the freezing form of water called? = ice
What organ pumps blood through the human body? = heart
What is the name of the satellite that orbits the Earth? = Moon
"""

FACTS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (question.strip(), tuple(a.strip() for a in answers.split("|")))
    for question, answers in (line.rsplit(" = ", 1) for line in _TABLE.strip().splitlines())
)


def names_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether ``text`` names one of ``answers`` (case-insensitive, as whole words; text is only searched)."""
    for answer in answers:
        if re.search(r"(?<!\w)" + re.escape(answer) + r"(?!\w)", text, re.IGNORECASE):
            return True
    return False


def fact_questions(n: int | None = None) -> list[dict[str, object]]:
    """The first ``n`` facts (all by default) as rows {question, answers}."""
    return [{"question": q, "answers": list(a)} for q, a in FACTS[:n]]
