"""How fast the default reward stack scores completions, and its worst case on adversarial output.

    .venv/bin/python bench/rewards_speed.py [--n 10000]

GRPO scores every completion of every group with every reward, on the trainer's
process, between generation and the backward pass: rewards must never be what
a step waits for. Two measurements, printed with their goals:

1. throughput: the headline stack (format_exact, format_approx, answer, number in
   the unsloth format) on N realistic completions (rendered right and wrong
   answers, prose, truncated and malformed ones, built from GSM8K-like numbers),
   one process, as completions/s (goal >= 20,000/s);
2. worst case: the slowest single call of any registered reward on adversarial
   completions (1 MB walls of markers, digits, nested braces, repeated n-grams;
   answers that are exponent towers), in ms (goal <= 50 ms).

Results are ratios to goals, measured in one run; the machine's load shifts them
(print `uptime` beside them when you record one).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_prep.formats import FORMATS  # noqa: E402
from rewards import REGISTRY, build_rewards  # noqa: E402

HEADLINE = ["format_exact", "format_approx", "answer", "number"]
GOAL_PER_S, GOAL_WORST_MS = 20_000, 50.0


def realistic(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """N completions a GRPO group really produces, and their golds."""
    rng = random.Random(seed)
    fmt = FORMATS["unsloth"]
    completions, golds = [], []
    for _ in range(n):
        a, b = rng.randint(2, 999), rng.randint(2, 999)
        gold = str(a * b)
        work = f"First {a} times {b}. {a} * {b} = {a * b}. " * rng.randint(1, 6)
        kind = rng.random()
        if kind < 0.4:
            text = fmt.render(work, f"{a * b:,}" if rng.random() < 0.3 else gold)
        elif kind < 0.6:
            text = fmt.render(work, str(a * b + rng.randint(1, 50)))
        elif kind < 0.75:
            text = f"{work} So the answer is {gold} apples."
        elif kind < 0.9:
            text = fmt.render(work, gold)[: rng.randint(10, 200)]  # cut off by max_completion_length
        else:
            text = fmt.render(work, gold) + fmt.render("again", gold)  # repeated sections
        completions.append(text)
        golds.append(gold)
    return completions, golds


def adversarial() -> list[str]:
    mb = 1_000_000
    fmt = FORMATS["unsloth"]
    return [
        ("<start_working_out>" * (mb // 19))[:mb],
        ("9" * mb),
        ("\\boxed{" * (mb // 7))[:mb],
        (fmt.answer_start + "1," * (mb // 2))[:mb],
        ("the cat sat " * (mb // 12))[:mb],
        (fmt.render("x" * (mb // 2), "1" * (mb // 2)))[:mb],
        # exponent towers: math-verify would compute them exactly, into its 5 s time limit (rewards/screens.py)
        fmt.render("powers", "9^{9^{9}}") + " \\boxed{9^{9^{9}}}",
        fmt.render("powers", "99999999999^{99999999}") + " \\boxed{10^{10^{10}}}",
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000)
    args = p.parse_args()

    completions, golds = realistic(args.n)
    stack = build_rewards(HEADLINE, FORMATS["unsloth"])
    for f in stack:  # warm-up: regex compilation, imports
        f(completions[:100], answer=golds[:100])
    start = time.perf_counter()
    for f in stack:
        f(completions, answer=golds)
    per_s = args.n / (time.perf_counter() - start)
    print(f"throughput  {per_s:,.0f} completions/s through {', '.join(HEADLINE)} "
          f"(goal >= {GOAL_PER_S:,}/s: {per_s / GOAL_PER_S:.2f}x the goal)")

    worst, where = 0.0, ""
    for name in REGISTRY:
        for fmt_name in ("unsloth", "boxed"):
            [f] = build_rewards([name], FORMATS[fmt_name])
            f([FORMATS[fmt_name].render("2 + 3 = 5", "x^{2}")], answer=["12"], question=["q"])  # warm-up: parsers
            for i, text in enumerate(adversarial()):
                start = time.perf_counter()
                f([text], answer=["12"], question=[text])
                ms = (time.perf_counter() - start) * 1000
                if ms > worst:
                    worst, where = ms, f"{name} ({fmt_name}) on adversarial input #{i}"
    print(f"worst case  {worst:.1f} ms per adversarial completion, {where} "
          f"(goal <= {GOAL_WORST_MS:g} ms: {worst / GOAL_WORST_MS:.2f}x the limit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
