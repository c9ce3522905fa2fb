"""Synthetic arithmetic word problems: the offline default, seeded and deterministic.

A task a 135M model can learn by GRPO on a CPU in minutes, offline. Knobs:

- `min_operand`, `max_operand` (default 1..50): the starting amount and every added or
  subtracted amount are drawn from this range.
- `operations` (default "+-"; any of "+-*"): the operations a problem may use.
  Subtraction never goes below zero. A multiplier is small: 2..9, capped at `max_operand`.
- `steps` (default 1): how many operations are chained; steps=2 gives "a + b - c". A list
  (or "1,1,1,2") mixes step counts: each problem draws one entry, so [1, 1, 1, 2] makes about
  a quarter of the problems two-step.
- `phrasing` ("train" | "heldout" | "mixed"): which word-problem templates to use.
  Default "train" for split="train", "mixed" for "test" and "validation".

Phrasing. *Train* templates and *heldout* templates share no name, object or verb
(`data_prep.arithmetic_phrasings` holds both); `mixed` picks one per problem at random
and the `phrasing` column says which. Evaluating on heldout phrasing shows whether a
model learned the arithmetic or the training sentences.

Splits. Every problem's arithmetic (start, operations, operands) is hashed; 1 in 5
belongs to `test`. The partition ignores seed, knobs and phrasing, so no test problem
repeats a train problem's arithmetic, whatever seeds or sizes the splits are built with.
`validation` (for choosing checkpoints without peeking at `test`) draws from the train
side of the partition with its own random stream: disjoint from `test` by construction,
but it may share a problem's arithmetic with training rows (a dev set drawn from the
training distribution). Carving it out of train instead would change which rows
split="train" generates; this way train and test rows stay byte-identical for every seed.

Rows: `question`, `answer` (the final amount, as a string), `reasoning` (one line per
step, "12 + 7 = 19\\n19 - 4 = 15", which SFT priming renders into the answer format),
`phrasing`, and the category columns reports break accuracy down by: `operation` ("add",
"subtract", "multiply"; "2-step" etc. for chains) and `steps`. `limit` rows (default 1000
train, 300 test, 200 validation); the first n rows of a bigger request equal a smaller
request's rows.

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

from data_prep.arithmetic_knobs import int_knob, operations_knob, steps_knob
from data_prep.arithmetic_phrasings import HELDOUT, HELDOUT_SCENES, TRAIN, TRAIN_ITEMS, TRAIN_NAMES, Style
from data_prep.common import DataError
from data_prep.local_files import question_answer_rows

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
SPLITS = ("train", "test", "validation")
DEFAULT_ROWS = {"train": 1000, "test": 300, "validation": 200}
TEST_EVERY = 5  # 1 problem in 5 (by hash of its arithmetic) is a test problem
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
    lo, hi = int_knob("min_operand", min_operand), int_knob("max_operand", max_operand)
    step_choices = steps_knob(steps)
    if lo < 0:
        raise DataError(f"min_operand: must be >= 0 (got {lo})")
    if hi < lo:
        raise DataError(f"max_operand: must be >= min_operand (got {hi} < {lo})")
    ops = operations_knob(operations)
    phrasing = phrasing or ("train" if split == "train" else "mixed")
    if phrasing not in PHRASINGS:
        raise DataError(f"phrasing: unknown {phrasing!r}; expected one of {', '.join(PHRASINGS)}")
    n = DEFAULT_ROWS[split] if n is None else n
    side = "test" if split == "test" else "train"  # validation draws from the train side of the partition

    # One stream per (split, seed): string seeds hash deterministically (not with PYTHONHASHSEED).
    rng = random.Random(f"arithmetic/{split}/{seed}")
    rows, rejected = [], 0
    while len(rows) < n:
        # A single step count draws nothing, so those streams match the pre-mix generator's.
        n_steps = step_choices[0] if len(step_choices) == 1 else rng.choice(step_choices)
        problem = _sample(rng, lo, hi, ops, n_steps)
        if problem is None or problem_split(problem) != side:
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
    return question_answer_rows(data_file, split, question_column, answer_column, reasoning_column,
                                keep=CATEGORY_COLUMNS)
