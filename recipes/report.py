"""Render a comparison (the dict `recipes.compare` writes as comparison.json) as Markdown and HTML.

The comparison is turned once into rows -- plain data with every number
already worded (`recipes.report_wording`) -- and two Jinja2 templates in
``recipes/templates/`` lay the same rows out: ``report.md.j2`` and
``report.html.j2``.

The HTML is what people open after a run, so it is one self-contained file:
inline CSS (``report.css``), charts embedded as base64 data URIs, no scripts,
no external assets -- it can be mailed, attached to an issue or opened
offline. Model output is untrusted text full of ``<tags>``: the HTML template
is autoescaped, so every value is escaped on output, and the Markdown template
passes every string that came from a model or dataset through the ``md``
filter (`md_text`).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup

from recipes.report_wording import (
    ALPHA,
    METHOD,
    category_lines,
    ci,
    format_p,
    format_vs_answers,
    headline,
    headline_transitions,
    no_regression_sentence,
    p_cell,
    pct,
    pts,
    regression_clause,
    scope_name,
    train_log_sentence,
    transition_name,
    verdict,
)
from recipes.sharpen_or_expand import table_rows

__all__ = ["ALPHA", "category_lines", "format_p", "headline", "md_text", "render_html", "render_markdown"]

MAX_EXAMPLES = 50  # changed examples shown per transition; all ids stay in comparison.json
MD_TEXT_LIMIT = 240  # characters of a completion shown in a Markdown table cell

STAGE_HEADER = ["stage", "accuracy", "95% CI", "flexible", "format rate", "95% CI", "mean tokens", "n", "model"]
CHANGE_HEADER = ["comparison", "accuracy", "change", "fixed", "broken", "unchanged", "McNemar p", "verdict"]
REGRESSION_HEADER = ["where", "comparison", "accuracy", "change", "fixed", "broken", "McNemar p"]

Example = Mapping[str, Any]


def md_text(text: Any, limit: int | None = None) -> str:
    """Model/dataset text made safe for a Markdown table cell: no tags, pipes, emphasis or math.

    >>> md_text("<SOLUTION>4|2</SOLUTION>\\n*x*")
    '&lt;SOLUTION&gt;4\\\\|2&lt;/SOLUTION&gt;<br>\\\\*x\\\\*'
    """
    s = "" if text is None else str(text)
    if limit is not None and len(s) > limit:
        s = s[:limit].rstrip() + " …"
    s = html.escape(s, quote=False)
    for ch in "\\`*_[]|$#":  # backslash first, so the escapes added after it stay single
        s = s.replace(ch, "\\" + ch)
    return s.replace("\r\n", "\n").replace("\n", "<br>")


@pass_eval_context
def _html_escape(eval_ctx: EvalContext, value: Any) -> Any:
    """Every ``{{ value }}`` of the HTML template: ``None`` as empty, escaped by `html.escape` (``'`` is ``&#x27;``)."""
    if not eval_ctx.autoescape or isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html.j2"]), finalize=_html_escape,
                        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
TEMPLATES.filters["md"] = md_text


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_css_width(png: bytes, dpi_scale: float = 1.5) -> int:
    """CSS width of a chart saved at 144 dpi shown at CSS's 96 px/inch: chart text matches page text, crisp on HiDPI."""
    return int(int.from_bytes(png[16:20], "big") / dpi_scale)  # IHDR width


# ---------------------------------------------------------------- rows

def select_examples(examples: Sequence[Example], cap: int = MAX_EXAMPLES) -> list[Example]:
    """Up to ``cap`` changed examples, split fairly between fixed and broken (breaks are never crowded out)."""
    fixed = [e for e in examples if e["change"] == "fixed"]
    broken = [e for e in examples if e["change"] == "broken"]
    n_broken = min(len(broken), max(cap // 2, cap - len(fixed)))
    n_fixed = min(len(fixed), cap - n_broken)
    return fixed[:n_fixed] + broken[:n_broken]


def _shown_note(t: Mapping[str, Any], shown: Sequence[Example]) -> str:
    total = t["fixed"] + t["broken"]
    if len(shown) == total:
        return ""
    n_fixed = sum(e["change"] == "fixed" for e in shown)
    return (f"Showing {n_fixed} of {t['fixed']} fixed and {len(shown) - n_fixed} of {t['broken']} broken; "
            f"{total - len(shown)} omitted (all ids are in comparison.json).")


def _stage_row(s: Mapping[str, Any]) -> dict[str, Any]:
    flexible = s.get("flexible_accuracy")
    return {"label": s["label"], "accuracy": pct(s["accuracy"]), "correct": s["correct"], "n": s["n"],
            "ci": ci(s["accuracy_ci"]), "flexible": "–" if flexible is None else pct(flexible),
            "format_rate": pct(s["format_rate"]), "format_ci": ci(s["format_ci"]),
            "mean_tokens": f"{s['mean_tokens']:.1f}", "model": s.get("model") or "?", "adapter": s.get("adapter"),
            "dir": s["dir"]}


def _change_row(t: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": transition_name(t), "accuracy": f"{pct(t['before_accuracy'])} → {pct(t['after_accuracy'])}",
            "delta": pts(t["delta"]), "fixed": t["fixed"], "broken": t["broken"],
            "unchanged": t["both_right"] + t["both_wrong"], "p": p_cell(t["p"]), "p_text": format_p(t["p"]),
            "verdict": verdict(t), "significant": t["p"] < ALPHA}


def _regression_row(r: Mapping[str, Any]) -> list[str]:
    return [scope_name(r["column"], r["value"]), transition_name(r),
            f"{pct(r['before_accuracy'])} → {pct(r['after_accuracy'])}", pts(r["delta"]),
            str(r["fixed"]), str(r["broken"]), p_cell(r["p"])]


def _category_table(comparison: Mapping[str, Any], cat: Mapping[str, Any]) -> dict[str, Any]:
    header = [cat["column"], "n", *(s["label"] for s in comparison["stages"]),
              *(transition_name(t) for t in comparison["transitions"])]
    rows = [{"value": v["value"], "n": v["n"],
             "stages": [{"accuracy": pct(s["accuracy"]), "correct": s["correct"], "n": s["n"],
                         "ci": ci(s["accuracy_ci"])} for s in v["stages"]],
             "tests": [{"delta": pts(t["delta"]), "fixed": t["fixed"], "broken": t["broken"],
                        "p_text": format_p(t["p"]), "regressed": t["delta"] < 0 and t["p"] < ALPHA}
                       for t in v["transitions"]]}
            for v in cat["values"]]
    return {"column": cat["column"], "header": header, "rows": rows}


def _changed_examples(t: Mapping[str, Any], examples: Sequence[Example]) -> dict[str, Any]:
    shown = select_examples(examples)
    return {"before": t["before"], "after": t["after"], "fixed": t["fixed"], "broken": t["broken"],
            "shown": shown, "note": _shown_note(t, shown)}


def report_rows(comparison: Mapping[str, Any], examples: Sequence[Sequence[Example]]) -> dict[str, Any]:
    """Everything both pages show, as plain data; ``examples`` align with the transitions."""
    transitions = comparison["transitions"]
    return {
        "title": comparison["title"], "headline": headline(comparison),
        "chain": [{"label": s["label"], "accuracy": pct(s["accuracy"])} for s in comparison["stages"]],
        "verdicts": [_change_row(t) for t in headline_transitions(comparison)],
        "clause": regression_clause(comparison), "regressed": bool(comparison.get("regressions")),
        "format_vs_answers": format_vs_answers(comparison),
        "stages": {"header": STAGE_HEADER, "rows": [_stage_row(s) for s in comparison["stages"]]},
        "changes": {"header": CHANGE_HEADER, "rows": [_change_row(t) for t in transitions]},
        "regressions": {"header": REGRESSION_HEADER,
                        "rows": [_regression_row(r) for r in comparison.get("regressions") or []]},
        "no_regression": no_regression_sentence(comparison),
        "categories": [_category_table(comparison, c) for c in comparison.get("categories") or []],
        "train_log": " ".join(filter(None, (train_log_sentence(comparison["train_log"]) if comparison.get("train_log")
                                            else "", _validation_sentence(comparison.get("validation"))))),
        "alarms": comparison.get("alarms") or [], "notes": comparison.get("notes") or [],
        "examples": [_changed_examples(t, exs) for t, exs in zip(transitions, examples, strict=True)],
        "method": METHOD,
        "sampling": _sampling(comparison.get("sampling")),
    }


def _validation_sentence(v: Mapping[str, Any] | None) -> str:
    if not v:
        return ""
    return (f"Validation (eval_steps): best {v['best']} at {pct(v['best_accuracy'])}, "
            f"last {v['last']} at {pct(v['last_accuracy'])}.")


def _sampling(section: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The pass@k table, each comparison's strict and flexible verdicts, and its new and lost problems."""
    if not section:
        return None
    n = section["samples"]
    comparisons = [{"name": f"{c['after']} vs {c['before']}", "before": c["before"], "after": c["after"],
                    "sentences": [c[g]["sentence"] for g in ("strict", "flexible")],
                    "new": c["strict"]["new_rows"], "lost": c["strict"]["lost_rows"],
                    "n_new": len(c["strict"]["new"]), "n_lost": len(c["strict"]["lost"])}
                   for c in section["comparisons"]]
    return {"rows": table_rows(section), "n": n, "comparisons": comparisons,
            "header": ["stage", "pass@1 (95% CI)", f"pass@{n} (95% CI)", f"maj@{n}", "flexible pass@1",
                       f"flexible pass@{n}", f"flexible maj@{n}"],
            "decoding": f"{n} samples per problem, temperature {section['temperature']}, top_p {section['top_p']}"}


# ---------------------------------------------------------------- pages

def render_markdown(comparison: Mapping[str, Any], examples: Sequence[Sequence[Example]],
                    images: Sequence[str]) -> str:
    """The report as Markdown; ``images`` are PNG file names beside report.md; ``examples`` align with transitions."""
    return TEMPLATES.get_template("report.md.j2").render(
        report_rows(comparison, examples), images=images, limit=MD_TEXT_LIMIT)


def render_html(comparison: Mapping[str, Any], examples: Sequence[Sequence[Example]],
                images: Mapping[str, bytes]) -> str:
    """The report as one self-contained HTML page; ``images`` maps a caption to PNG bytes."""
    charts = [{"src": data_uri(png), "alt": caption, "width": png_css_width(png)} for caption, png in images.items()]
    return TEMPLATES.get_template("report.html.j2").render(
        report_rows(comparison, examples), charts=charts, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
