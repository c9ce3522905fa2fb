"""Synthetic arithmetic word problems: the offline default, seeded and deterministic.

The CPU demo needs a task a 135M model can learn by GRPO in minutes, with no network.
This generator makes one, with knobs for difficulty:

- `min_operand`, `max_operand` (default 1..50): the starting amount and every added or
  subtracted amount are drawn from this range.
- `operations` (default "+-"; any of "+-*"): the operations a problem may use.
  Subtraction never goes below zero (the amount taken is at most what is there), so
  no one has -3 apples. A multiplier is small: 2..9, capped at `max_operand`.
- `steps` (default 1): how many operations are chained; steps=2 gives "a + b - c". A list
  (or "1,1,1,2") mixes step counts: each problem draws one entry, so [1, 1, 1, 2] makes about
  a quarter of the problems two-step.
- `phrasing` ("train" | "heldout" | "mixed"): which word-problem templates to use.
  Default "train" for split="train" and "mixed" for split="test".

Phrasing. The *train* templates are personal and present tense: a named child has
things and buys, finds, gets, gives away or loses some ("Tom has 12 apples. He buys 7
more. How many apples does Tom have now?"). The *heldout* templates share no name,
object or verb with them: institutions in the past tense, often passive, sometimes
as one conditional sentence ("A baker made 31 loaves this morning. 9 loaves were sold.
How many loaves remain?" / "If a warehouse stored 40 crates, then a truck delivered 12
more, how many crates are there now?"). Evaluating on heldout phrasing shows whether a
model learned the arithmetic or the training sentences. `mixed` picks one per problem
at random; the `phrasing` column says which one each row got.

Splits. Every problem's arithmetic (start, operations, operands) is hashed; 1 in 5
belongs to `test`, the rest to `train`. The partition ignores seed, knobs and phrasing,
so no test problem ever repeats a train problem's arithmetic -- let alone its text --
whatever seeds or sizes the two splits are built with. Within a split the same
arithmetic may recur (with a small operand range it must), usually phrased differently.

Rows: `question`, `answer` (the final amount, as a string), `reasoning` (one line per
step, "12 + 7 = 19\\n19 - 4 = 15", which SFT priming renders into the answer format),
`phrasing`, and two category columns that reports break accuracy down by: `operation`
("add", "subtract", "multiply" for one step, "2-step" etc. for chains) and `steps`.
`limit` rows are generated (default 1000 for train, 300 for test), and
the first n rows of a bigger request equal a smaller request's rows.

>>> rows = generate(split="train", n=2, seed=0)
>>> [sorted(r) for r in rows][0]
['answer', 'operation', 'phrasing', 'question', 'reasoning', 'steps']
>>> generate(split="train", n=5, seed=3) == generate(split="train", n=5, seed=3)
True
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from data_prep.common import DataError, text_value
from data_prep.local_files import local_table

__all__ = [
    "DEFAULT_ROWS",
    "HELDOUT",
    "KNOBS",
    "PHRASINGS",
    "TRAIN",
    "Problem",
    "generate",
    "load",
    "problem_split",
]

KNOBS = ("min_operand", "max_operand", "operations", "steps", "phrasing")
PHRASINGS = ("train", "heldout", "mixed")
SPLITS = ("train", "test")
DEFAULT_ROWS = {"train": 1000, "test": 300}
TEST_EVERY = 5  # 1 problem in 5 (by hash of its arithmetic) is a test problem
MAX_STEPS = 10
MAX_FACTOR = 9
OPERATION_NAMES = {"+": "add", "-": "subtract", "*": "multiply"}
CATEGORY_COLUMNS = ("phrasing", "operation", "steps")  # what reports break accuracy down by
_GIVE_UP_AFTER = 5000  # consecutive rejected samples before declaring the knobs infeasible


@dataclass(frozen=True)
class Problem:
    """The arithmetic of one problem: a starting amount and a chain of (op, operand)."""

    start: int
    chain: tuple[tuple[str, int], ...]

    def totals(self) -> list[int]:
        """The running amount after each step (last = the answer)."""
        values, total = [], self.start
        for op, b in self.chain:
            total = total + b if op == "+" else total - b if op == "-" else total * b
            values.append(total)
        return values

    @property
    def answer(self) -> int:
        return self.totals()[-1]

    def reasoning(self) -> str:
        lines, before = [], self.start
        for (op, b), after in zip(self.chain, self.totals(), strict=True):
            lines.append(f"{before} {op} {b} = {after}")
            before = after
        return "\n".join(lines)

    def key(self) -> str:
        return str(self.start) + "".join(f"{op}{b}" for op, b in self.chain)

    def operation(self) -> str:
        """The category a report groups by: the operation of a one-step problem, else "N-step"."""
        return OPERATION_NAMES[self.chain[0][0]] if len(self.chain) == 1 else f"{len(self.chain)}-step"


def problem_split(problem: Problem) -> str:
    """`test` for 1 problem in TEST_EVERY, chosen by a stable hash of its arithmetic."""
    digest = int(hashlib.sha256(problem.key().encode()).hexdigest(), 16)
    return "test" if digest % TEST_EVERY == 0 else "train"


# --------------------------------------------------------------------------- templates
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
_HELDOUT_PLURAL = {singular: plural for singular, plural, *_ in HELDOUT_SCENES}


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _train_text(problem: Problem, rng: random.Random) -> str:
    name, he = rng.choice(TRAIN_NAMES)
    singular, plural = rng.choice(TRAIN_ITEMS)
    values = {
        "name": name,
        "He": _cap(he),
        "he": he,
        "items": plural,
        "a_items": _count(problem.start, singular, plural),
    }
    parts = [rng.choice(TRAIN.starts).format(**values)]
    for op, b in problem.chain:
        parts.append(rng.choice(TRAIN.clauses[op]).format(**values, **_b_values(b, singular, plural)))
    parts.append(rng.choice(_questions(TRAIN, problem)).format(**values))
    return " ".join(parts)


def _heldout_text(problem: Problem, rng: random.Random) -> str:
    singular = rng.choice(list(HELDOUT))
    style, plural = HELDOUT[singular], _HELDOUT_PLURAL[singular]
    values = {"items": plural, "a_items": _count(problem.start, singular, plural)}
    fragments = [rng.choice(style.starts).format(**values)]
    for op, b in problem.chain:
        fragments.append(rng.choice(style.clauses[op]).format(**values, **_b_values(b, singular, plural)))
    question = rng.choice(_questions(style, problem)).format(**values)
    if rng.random() < 0.5:  # one conditional sentence
        return f"If {', then '.join(fragments)}, {question}?"
    return " ".join(_cap(f) + "." for f in fragments) + f" {_cap(question)}?"


def _b_values(b: int, singular: str, plural: str) -> dict[str, object]:
    noun = singular if b == 1 else plural
    return {"b": b, "b_noun": noun, "b_items": f"{b} {noun}", "b_was": "was" if b == 1 else "were"}


def _questions(style: Style, problem: Problem) -> tuple[str, ...]:
    last_op = problem.chain[-1][0]
    return style.questions + (style.questions_after_minus if last_op == "-" else ())


# --------------------------------------------------------------------------- sampling


def _sample(rng: random.Random, lo: int, hi: int, operations: str, steps: int) -> Problem | None:
    """One random problem, or None when a subtraction-only chain runs out of amount."""
    total = start = rng.randint(lo, hi)
    chain = []
    for _ in range(steps):
        allowed = [op for op in operations if op != "-" or total >= lo]
        if not allowed:
            return None
        op = rng.choice(allowed)
        if op == "+":
            b = rng.randint(lo, hi)
        elif op == "-":
            b = rng.randint(lo, min(hi, total))
        else:
            b = rng.randint(2, max(2, min(MAX_FACTOR, hi)))
        total = total + b if op == "+" else total - b if op == "-" else total * b
        chain.append((op, b))
    return Problem(start, tuple(chain))


def generate(
    *,
    split: str = "train",
    n: int | None = None,
    seed: int = 0,
    min_operand: int = 1,
    max_operand: int = 50,
    operations: str = "+-",
    steps: int | str | list[int] = 1,
    phrasing: str | None = None,
) -> list[dict]:
    """`n` rows {question, answer, reasoning, phrasing, operation, steps} of `split`; see the module docstring."""
    if split not in SPLITS:
        raise DataError(f"split: unknown {split!r} for arithmetic; expected one of {', '.join(SPLITS)}")
    lo, hi = _int_knob("min_operand", min_operand), _int_knob("max_operand", max_operand)
    step_choices = _steps(steps)
    if lo < 0:
        raise DataError(f"min_operand: must be >= 0 (got {lo})")
    if hi < lo:
        raise DataError(f"max_operand: must be >= min_operand (got {hi} < {lo})")
    ops = _operations(operations)
    phrasing = phrasing or ("train" if split == "train" else "mixed")
    if phrasing not in PHRASINGS:
        raise DataError(f"phrasing: unknown {phrasing!r}; expected one of {', '.join(PHRASINGS)}")
    n = DEFAULT_ROWS[split] if n is None else n

    # One stream per (split, seed): string seeds hash deterministically (not with PYTHONHASHSEED).
    rng = random.Random(f"arithmetic/{split}/{seed}")
    rows, rejected = [], 0
    while len(rows) < n:
        # A single step count draws nothing, so those streams match the pre-mix generator's.
        n_steps = step_choices[0] if len(step_choices) == 1 else rng.choice(step_choices)
        problem = _sample(rng, lo, hi, ops, n_steps)
        if problem is None or problem_split(problem) != split:
            rejected += 1
            if rejected >= _GIVE_UP_AFTER:
                raise DataError(
                    f"max_operand: operands {lo}..{hi} with operations {ops!r} and steps={n_steps} "
                    f"leave (almost) no problems for split {split!r}; widen the operand range"
                )
            continue
        rejected = 0
        style = phrasing if phrasing != "mixed" else rng.choice(("train", "heldout"))
        text = _train_text(problem, rng) if style == "train" else _heldout_text(problem, rng)
        rows.append(
            {
                "question": text,
                "answer": str(problem.answer),
                "reasoning": problem.reasoning(),
                "phrasing": style,
                "operation": problem.operation(),
                "steps": len(problem.chain),
            }
        )
    return rows


def _int_knob(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise DataError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise DataError(f"{name}: expected an integer, got {value!r}") from None


def _steps(value: object) -> list[int]:
    """One step count, or a list of them (a list, tuple, or "1,1,2") drawn from per problem."""
    if isinstance(value, str) and "," in value:
        value = [v for v in value.split(",") if v.strip()]
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise DataError("steps: expected an integer or a non-empty list of them (got [])")
    choices = [_int_knob("steps", v) for v in items]
    for k in choices:
        if not 1 <= k <= MAX_STEPS:
            raise DataError(f"steps: must be between 1 and {MAX_STEPS} (got {k})")
    return choices


def _operations(value: object) -> str:
    text = "".join(value) if isinstance(value, list | tuple) else str(value)
    text = text.replace(",", "").replace(" ", "")
    bad = sorted(set(text) - set("+-*"))
    if not text or bad:
        raise DataError(f"operations: expected some of '+-*' (got {value!r})")
    return "".join(dict.fromkeys(text))


def load(
    *,
    split: str,
    data_file: str | None,
    limit: int | None = None,
    seed: int = 0,
    question_column: str = "question",
    answer_column: str = "answer",
    reasoning_column: str | None = None,
    **knobs: object,
) -> list[dict]:
    """Generated rows, or rows of a local file with plain `question` / `answer` columns.

    With a data_file the generator knobs do not apply and are ignored, so one config
    can switch between generated and saved problems with `--data_file` alone. Saved
    generator rows keep their category columns (`phrasing`, `operation`, `steps`) when
    the file has them, so reports on saved problems still break accuracy down by them.
    """
    if not data_file:
        return generate(split=split, n=limit, seed=seed, **knobs)  # type: ignore[arg-type]
    table = local_table(data_file, split)
    q, a = table.require(question_column), table.require(answer_column)
    r = (
        table.require(reasoning_column)
        if reasoning_column
        else ("reasoning" if table.has("reasoning") else None)
    )
    categories = [c for c in CATEGORY_COLUMNS if table.has(c)]
    rows = []
    for n, record in table.fetch([c for c in (q, a, r, *categories) if c]):
        question, gold = text_value(record.get(q)), text_value(record.get(a))
        if not question:
            raise table.row_error(n, f"has an empty {q!r}")
        if not gold:
            raise table.row_error(n, f"has no gold answer (expected a value in {a!r})")
        rows.append(
            {"question": question, "answer": gold, "reasoning": text_value(record.get(r)) if r else "",
             **{c: record[c] for c in categories if isinstance(record.get(c), str | int)}}
        )
    return rows
