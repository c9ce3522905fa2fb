"""The word-problem templates of `data_prep.arithmetic`: data, not code.

Two families that share no name, object or verb. *Train* templates are personal
and present tense ("Tom has 12 apples. He buys 7 more."); *heldout* templates
are institutions in the past tense, often passive, sometimes one conditional
sentence ("If a warehouse stored 40 crates, then a truck delivered 12 more, how
many crates are there now?"). Training uses only the first; the test split mixes
both, so a report can tell learned arithmetic from learned sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

# Placeholders: {name} {He} {he} (train only), {a_items} "12 apples", {b} "7",
# {b_noun} noun agreeing with b, {b_items} "7 apples", {b_was} was/were, {items} plural.


@dataclass(frozen=True)
class Style:
    """One family of templates. Heldout clauses are lower-case fragments so they can be
    sentences or joined into a single "If ..., then ..., how many ...?" question."""

    starts: tuple[str, ...]
    clauses: dict[str, tuple[str, ...]]  # op -> templates
    questions: tuple[str, ...]
    questions_after_minus: tuple[str, ...]  # extra choices when the last step subtracts


TRAIN_NAMES = (
    ("Tom", "he"), ("Anna", "she"), ("Ben", "he"), ("Lily", "she"), ("Sam", "he"),
    ("Mia", "she"), ("Jack", "he"), ("Emma", "she"), ("Leo", "he"), ("Zoe", "she"),
)  # fmt: skip
TRAIN_ITEMS = (
    ("apple", "apples"), ("marble", "marbles"), ("sticker", "stickers"), ("pencil", "pencils"),
    ("cookie", "cookies"), ("balloon", "balloons"), ("stamp", "stamps"), ("crayon", "crayons"),
)  # fmt: skip
TRAIN = Style(
    starts=(
        "{name} has {a_items}.",
        "{name} has a box with {a_items}.",
        "There are {a_items} in {name}'s bag.",
    ),
    clauses={
        "+": ("{He} buys {b} more.", "{He} finds {b} more {b_noun}.", "{name} gets {b} more from a friend."),
        "-": ("{He} gives away {b}.", "{He} loses {b} of them.", "{name} gives {b_items} to a friend."),
        "*": (
            "Now {name} has {b} times as many {items} as before.",
            "{He} ends up with {b} times as many as {he} had.",
        ),
    },
    questions=("How many {items} does {name} have now?", "How many {items} does {he} have in total now?"),
    questions_after_minus=("How many {items} does {name} have left?",),
)

# (singular, plural, starts, "+" clauses, "-" clauses) per scene; questions are shared.
HELDOUT_SCENES = (
    ("loaf", "loaves",
     ("a baker made {a_items} this morning", "a bakery had {a_items} on its shelves"),
     ("{b} more {b_noun} {b_was} baked", "the baker made another {b}"),
     ("{b} {b_noun} {b_was} sold", "customers bought {b} of them")),
    ("book", "books",
     ("a library owned {a_items}", "the town library held {a_items}"),
     ("a donation brought in {b} more", "{b} new {b_noun} arrived"),
     ("{b} {b_noun} {b_was} lent out", "{b} {b_was} sent away for repair")),
    ("egg", "eggs",
     ("a farmer collected {a_items} on Monday", "a hen house contained {a_items}"),
     ("{b} more {b_noun} {b_was} gathered in the afternoon", "another {b} {b_was} found in the straw"),
     ("{b} {b_noun} {b_was} used for breakfast", "{b} of them cracked")),
    ("crate", "crates",
     ("a warehouse stored {a_items}", "a loading dock held {a_items}"),
     ("a truck delivered {b} more", "{b} more {b_noun} {b_was} unloaded"),
     ("{b} {b_noun} {b_was} shipped out", "a van took away {b}")),
    ("car", "cars",
     ("a parking lot contained {a_items}", "there were {a_items} in a garage"),
     ("{b} more {b_noun} pulled in", "another {b} arrived"),
     ("{b} {b_noun} drove away", "{b} {b_was} towed")),
    ("fish", "fish",
     ("an aquarium held {a_items}", "a pond was home to {a_items}"),
     ("{b} more {b_noun} {b_was} added", "another {b} {b_was} released into it"),
     ("{b} {b_noun} {b_was} moved to a bigger tank", "{b} {b_was} sold to a pet shop")),
    ("seedling", "seedlings",
     ("a gardener planted {a_items}", "a greenhouse was growing {a_items}"),
     ("{b} more {b_noun} {b_was} potted", "a neighbour donated another {b}"),
     ("{b} {b_noun} wilted", "{b} {b_was} given to the school")),
)  # fmt: skip
HELDOUT_MULTIPLY = (
    "the number of {items} was multiplied by {b}",
    "the total grew to {b} times its size",
)
HELDOUT_QUESTIONS = ("how many {items} are there now", "what is the final number of {items}")
HELDOUT_AFTER_MINUS = ("how many {items} remain", "how many {items} are left")
HELDOUT = {
    singular: Style(
        starts=starts,
        clauses={"+": plus, "-": minus, "*": HELDOUT_MULTIPLY},
        questions=HELDOUT_QUESTIONS,
        questions_after_minus=HELDOUT_AFTER_MINUS,
    )
    for singular, _plural, starts, plus, minus in HELDOUT_SCENES
}
