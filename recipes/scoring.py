"""Score completions the way the rewards do, and sum them up the way the field reports them.

One problem, one or more completions (``--samples N``). Every completion is
judged with the recipe's own grader: the format's ``extract`` and the answer
check the rewards train on (*strict*), and lm-evaluation-harness's GSM8K
"flexible-extract", the last number of the text whatever the format (*flexible*,
fair to a base model that answers in prose).

A prediction row keeps the first completion's judgement at the top level
(``completion``, ``correct``, ...: what `recipes.compare` pairs by id), and with
several samples every one under ``samples``, plus the counts pass@k is computed
from and the majority answer (`recipes.pass_at_k`). ``summary.json`` gains
``decoding`` and, strict and flexible, ``pass_at_k`` and ``maj_at_n``; with
samples, ``accuracy`` is the first sample's and ``pass_at_k["1"]`` the mean over
all of them (the number to quote). Greedy is the case N = 1: pass@1 = maj@1 = accuracy.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable
from typing import Any

from data_prep.formats import ReasoningFormat
from recipes.pass_at_k import majority, pass_at_k_table
from rewards import is_correct

VERSIONED = ("torch", "transformers", "trl", "peft", "datasets", "unsloth", "vllm")
# Row fields of a sampled evaluation: numbers and answers per problem, never report categories.
SAMPLED_FIELDS = ("samples", "n_samples", "n_correct", "n_flexible_correct", "majority", "maj_correct",
                  "flexible_majority", "maj_flexible_correct")
Grade = Callable[[str | None, object], bool]


def library_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


# lm-evaluation-harness's GSM8K "flexible-extract": numbers (with $ , .) anywhere, the last one counts.
FLEXIBLE_NUMBER = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")


def last_number(text: str) -> str | None:
    """The completion's last number, format or no format (lm-eval's flexible-extract).

    >>> last_number("So 12 + 7 = 19, and she has $1,600."), last_number("no digits")
    ('$1,600.', None)
    """
    found = FLEXIBLE_NUMBER.findall(text)
    return next((m for m in found[-1] if m), None) if found else None


def judge(text: str, n_tokens: int, gold: object, fmt: ReasoningFormat, grade: Grade) -> dict[str, Any]:
    """One completion: what was extracted, strict and flexible correctness, the format, its length."""
    extracted = fmt.extract(text)
    flexible = last_number(text)
    return {
        "completion": text,
        "extracted": extracted,
        "correct": bool(grade(extracted, gold)),
        "flexible_extracted": flexible,
        "flexible_correct": bool(grade(flexible, gold)),
        "format_ok": bool(fmt.exact_match(text)),
        "n_tokens": int(n_tokens),
    }


def score(rows: list[dict], completions: list, fmt: ReasoningFormat, grade: Grade = is_correct) -> list[dict]:
    """Per-example records; ``completions[i]`` is (text, n_tokens), or a list of them (samples)."""
    records = []
    for row, group in zip(rows, completions, strict=True):
        group = group if isinstance(group, list) else [group]
        judged = [judge(text, n, row["answer"], fmt, grade) for text, n in group]
        # Short scalar columns of the data (arithmetic's phrasing/operation/steps, a MATH subject or
        # level) ride along: reports break accuracy down by every categorical one.
        categories = {k: v for k, v in row.items()
                      if k not in ("prompt", "answer", "question", "reasoning", "id")
                      and isinstance(v, str | int) and len(str(v)) <= 40}
        first = {k: v for k, v in judged[0].items() if k != "flexible_extracted"}
        record = {**categories, "id": int(row["id"]), "question": row["question"], "gold": row["answer"], **first}
        if len(judged) > 1:
            record.update(_sampled(judged, row["answer"], grade))
        records.append(record)
    return records


def _sampled(judged: list[dict[str, Any]], gold: object, grade: Grade) -> dict[str, Any]:
    """The sample fields of a row: counts for pass@k, and the majority vote under the grader's equivalence."""
    vote = majority([j["extracted"] for j in judged], grade)
    flexible_vote = majority([j["flexible_extracted"] for j in judged], grade)
    return {
        "n_samples": len(judged),
        "n_correct": sum(j["correct"] for j in judged),
        "n_flexible_correct": sum(j["flexible_correct"] for j in judged),
        "majority": vote, "maj_correct": bool(grade(vote, gold)),
        "flexible_majority": flexible_vote, "maj_flexible_correct": bool(grade(flexible_vote, gold)),
        "samples": judged,
    }


def sampled_counts(records: list[dict], flexible: bool = False) -> list[int]:
    """Right samples per problem (a greedy row is one sample)."""
    key, single = ("n_flexible_correct", "flexible_correct") if flexible else ("n_correct", "correct")
    return [int(r[key]) if key in r else int(bool(r.get(single))) for r in records]


def decoding_of(samples: int, temperature: float, top_p: float, max_new_tokens: int) -> dict[str, Any]:
    """summary.json's ``decoding``; greedy is samples 1, temperature 0 (top_p does not apply)."""
    return {"samples": samples, "temperature": temperature if samples > 1 or temperature else 0.0,
            "top_p": top_p, "max_new_tokens": max_new_tokens}


def summarize(records: list[dict], meta: dict[str, Any], decoding: dict[str, Any] | None = None) -> dict[str, Any]:
    n = len(records)
    samples = decoding["samples"] if decoding else 1
    correct = sum(r["correct"] for r in records)
    majority_key = ("maj_correct", "maj_flexible_correct") if samples > 1 else ("correct", "flexible_correct")
    return {
        **meta,
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "flexible_accuracy": sum(r.get("flexible_correct", False) for r in records) / n if n else 0.0,
        "format_rate": sum(r["format_ok"] for r in records) / n if n else 0.0,
        "mean_tokens": sum(r["n_tokens"] for r in records) / n if n else 0.0,
        "decoding": decoding or decoding_of(1, 0.0, 1.0, meta.get("max_new_tokens", 0)),
        "pass_at_k": pass_at_k_table(sampled_counts(records), samples) if n else {},
        "flexible_pass_at_k": pass_at_k_table(sampled_counts(records, flexible=True), samples) if n else {},
        "maj_at_n": sum(r.get(majority_key[0], False) for r in records) / n if n else 0.0,
        "flexible_maj_at_n": sum(r.get(majority_key[1], False) for r in records) / n if n else 0.0,
        "versions": library_versions(),
    }
