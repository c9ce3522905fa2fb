"""Did the new name take, and did nothing else break? The DPO identity recipe's before/after evaluation.

Two measurements on greedy answers, taken before training and again after, with
the same explicit neutral system prompt training used (so the name can only come
from the weights):

* **Name rates** on the held-out identity phrasings (`data_prep.identity.HELDOUT_PROMPTS`,
  never trained on): ``new_name_rate`` is the share of answers that name the new
  name; ``old_name_rate`` the share that name the old one *other than inside the new
  name* ("Deep SmolLM" does not count as a mention of "SmolLM").
* **Retention** on N plain factual questions written in the repo (`data_prep.facts`:
  capitals, planets, numbers of legs, ...): the share whose answer after training is
  the same text as before, or still names the gold answer (model output is only
  searched for it, never executed).

`identity_eval.json` holds ``{"n", "before": {new_name_rate, old_name_rate}, "after":
{...}, "retention", ...}``; `report.md` shows the rates, the retention and a few
answers side by side; `identity_answers.jsonl` every answer.

>>> name_rates(["I'm Deep SmolLM.", "I am SmolLM2.", "Hello."], old="SmolLM", new="Deep SmolLM")
{'new_name_rate': 0.3333, 'old_name_rate': 0.3333}
>>> is_retained("Paris.", "It is Paris.", ["Paris"]), is_retained("a", "a", ["Paris"]), is_retained("a", "b", ["Paris"])
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from data_prep.facts import names_answer
from data_prep.identity import mentions, mentions_old
from recipes.io_utils import atomic_write_text, write_json, write_jsonl_atomic

EXAMPLES = 4  # held-out answers shown side by side in the report


def _rate(hits: Sequence[bool]) -> float:
    return round(sum(hits) / len(hits), 4) if hits else 0.0


def name_rates(answers: Sequence[str], *, old: str, new: str) -> dict[str, float]:
    """Shares of ``answers`` naming ``new``, and naming ``old`` outside of ``new``."""
    return {"new_name_rate": _rate([mentions(a, new) for a in answers]),
            "old_name_rate": _rate([mentions_old(a, old, new) for a in answers])}


def is_retained(before: str, after: str, answers: Sequence[str]) -> bool:
    """The answer did not change, or it (still) names the gold answer."""
    return before.strip() == after.strip() or names_answer(after, answers)


def identity_eval(heldout: Sequence[str], before: Sequence[str], after: Sequence[str],
                  retention: Sequence[dict[str, Any]], retention_before: Sequence[str],
                  retention_after: Sequence[str], *, old: str, new: str) -> dict[str, Any]:
    """The contents of ``identity_eval.json``."""
    if not len(heldout) == len(before) == len(after) or not len(retention) == len(retention_before) == len(
            retention_after):
        raise ValueError("every question needs one answer before and one after")
    kept = [is_retained(b, a, q["answers"]) for q, b, a in zip(retention, retention_before, retention_after,
                                                              strict=True)]
    return {
        "n": len(heldout),
        "before": name_rates(before, old=old, new=new),
        "after": name_rates(after, old=old, new=new),
        "retention": _rate(kept),
        "retention_n": len(retention),
        "retention_unchanged": sum(b.strip() == a.strip() for b, a in zip(retention_before, retention_after,
                                                                           strict=True)),
        "retention_correct_before": sum(names_answer(b, q["answers"]) for q, b in zip(retention, retention_before,
                                                                                     strict=True)),
        "retention_correct_after": sum(names_answer(a, q["answers"]) for q, a in zip(retention, retention_after,
                                                                                    strict=True)),
        "old_name": old, "new_name": new,
    }


def _pct(rate: float) -> str:
    return f"{100 * rate:.0f}%"


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The terminal summary: one line for the name, one for retention."""
    b, a, n = result["before"], result["after"], result["n"]
    return [
        f"identity   {n} held-out questions: naming {result['new_name']!r} {_pct(b['new_name_rate'])} -> "
        f"{_pct(a['new_name_rate'])}, naming {result['old_name']!r} {_pct(b['old_name_rate'])} -> "
        f"{_pct(a['old_name_rate'])}",
        f"retention  {_pct(result['retention'])} of {result['retention_n']} non-identity prompts unchanged or "
        f"correct ({result['retention_unchanged']} unchanged; correct {result['retention_correct_before']} -> "
        f"{result['retention_correct_after']})",
    ]


def _quote(text: str) -> str:
    return " ".join(text.split()) or "(empty)"


def report_markdown(result: dict[str, Any], rows: Sequence[dict[str, Any]], system_prompt: str) -> str:
    """report.md: the rates, the retention and a few held-out answers before and after, side by side."""
    b, a, n = result["before"], result["after"], result["n"]
    old, new = result["old_name"], result["new_name"]
    lines = [
        f"# DPO identity: {old} -> {new}", "",
        f"Greedy answers to {n} held-out identity questions (phrasings training never saw), system prompt "
        f"`{system_prompt}`:", "",
        "| share of answers | before | after |", "|---|---|---|",
        f"| naming {new} | {_pct(b['new_name_rate'])} | {_pct(a['new_name_rate'])} |",
        f"| naming {old} (not as part of {new}) | {_pct(b['old_name_rate'])} | {_pct(a['old_name_rate'])} |", "",
        f"**Retention**: {_pct(result['retention'])} of {result['retention_n']} non-identity prompts (plain "
        f"factual questions, `data_prep/facts.py`) are answered as before or correctly after training "
        f"({result['retention_unchanged']} unchanged; correct {result['retention_correct_before']} before, "
        f"{result['retention_correct_after']} after).", "",
        "## Held-out identity questions, before and after", "",
    ]
    heldout = [r for r in rows if r["kind"] == "heldout"]
    changed = [r for r in heldout if r["before"].strip() != r["after"].strip()]
    for row in (changed + [r for r in heldout if r not in changed])[:EXAMPLES]:
        lines += [f"**{row['question']}**", "", f"- before: {_quote(row['before'])}",
                  f"- after: {_quote(row['after'])}", ""]
    lost = [r for r in rows if r["kind"] == "retention" and not r["retained"]]
    if lost:
        lines += ["## Non-identity answers that changed and are not correct", ""]
        for row in lost[:2]:
            lines += [f"**{row['question']}** (gold: {' / '.join(row['gold'])})", "", f"- before: {_quote(row['before'])}",
                      f"- after: {_quote(row['after'])}", ""]
    return "\n".join(lines)


def write_identity_eval(run_dir: Path, heldout: Sequence[str], before: Sequence[str], after: Sequence[str],
                        retention: Sequence[dict[str, Any]], retention_before: Sequence[str],
                        retention_after: Sequence[str], *, old: str, new: str,
                        system_prompt: str) -> dict[str, Any]:
    """Score, then write identity_eval.json, identity_answers.jsonl and report.md into ``run_dir``."""
    result = identity_eval(heldout, before, after, retention, retention_before, retention_after, old=old, new=new)
    rows = [{"kind": "heldout", "question": q, "before": b, "after": a} for q, b, a in zip(heldout, before, after,
                                                                                          strict=True)]
    rows += [{"kind": "retention", "question": q["question"], "gold": q["answers"], "before": b, "after": a,
              "retained": is_retained(b, a, q["answers"])}
             for q, b, a in zip(retention, retention_before, retention_after, strict=True)]
    write_json(run_dir / "identity_eval.json", result)
    write_jsonl_atomic(run_dir / "identity_answers.jsonl", rows)
    atomic_write_text(run_dir / "report.md", report_markdown(result, rows, system_prompt) + "\n")
    return result
