"""Render a comparison (the dict `recipes.compare` writes as comparison.json) as Markdown and HTML.

The HTML is what people open after a run, so it is one self-contained file:
inline CSS, charts embedded as base64 data URIs, no scripts, no external
assets -- it can be mailed, attached to an issue or opened offline. Model
output is untrusted text full of ``<tags>``: every string that came from a
model or dataset is escaped (HTML) or neutralised (Markdown) before it is
placed in the page. The numbers and sentences themselves are worded by
`recipes.report_wording`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

__all__ = ["ALPHA", "category_lines", "format_p", "headline", "md_text", "render_html", "render_markdown"]

MAX_EXAMPLES = 50  # changed examples shown per transition; all ids stay in comparison.json
MD_TEXT_LIMIT = 240  # characters of a completion shown in a Markdown table cell

Example = Mapping[str, Any]


# ---------------------------------------------------------------- changed examples

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


# ---------------------------------------------------------------- Markdown

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


def flexible_cell(stage: Mapping[str, Any]) -> str:
    return "–" if stage.get("flexible_accuracy") is None else pct(stage["flexible_accuracy"])


def stage_cell(stage: Mapping[str, Any]) -> str:
    """``40.0% (20/50; CI 27.6% – 53.8%)``: one stage's accuracy within a category."""
    return f"{pct(stage['accuracy'])} ({stage['correct']}/{stage['n']}; CI {ci(stage['accuracy_ci'])})"


def transition_cell(t: Mapping[str, Any]) -> str:
    """``+12.0 pts (7 fixed, 1 broken; p = 0.07)``: one transition within a category."""
    return f"{pts(t['delta'])} ({t['fixed']} fixed, {t['broken']} broken; {format_p(t['p'])})"


def category_header(comparison: Mapping[str, Any], column: str) -> list[str]:
    return [column, "n", *(s["label"] for s in comparison["stages"]),
            *(transition_name(t) for t in comparison["transitions"])]


def regression_row(r: Mapping[str, Any]) -> list[str]:
    return [scope_name(r["column"], r["value"]), f"{r['after']} vs {r['before']}",
            f"{pct(r['before_accuracy'])} → {pct(r['after_accuracy'])}", pts(r["delta"]),
            str(r["fixed"]), str(r["broken"]), p_cell(r["p"])]


REGRESSION_HEADER = ["where", "comparison", "accuracy", "change", "fixed", "broken", "McNemar p"]


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _md_answer(side: Mapping[str, Any]) -> str:
    mark = "✓" if side["correct"] else "✗"
    return f"{mark} {md_text(side['extracted']) if side['extracted'] is not None else '*(none)*'}"


def render_markdown(comparison: Mapping[str, Any], examples: Sequence[Sequence[Example]],
                    images: Sequence[str]) -> str:
    """The report as Markdown; ``images`` are PNG file names beside report.md; ``examples`` align with transitions."""
    stages, transitions = comparison["stages"], comparison["transitions"]
    out = [f"# {md_text(comparison['title'])}", "", f"**{md_text(headline(comparison))}**", ""]
    if sentence := format_vs_answers(comparison):
        out += [md_text(sentence), ""]
    out += ["## Stages", ""]
    out += _md_table(
        ["stage", "accuracy", "95% CI", "flexible", "format rate", "95% CI", "mean tokens", "n", "model"],
        [[md_text(s["label"]), f"{pct(s['accuracy'])} ({s['correct']}/{s['n']})", ci(s["accuracy_ci"]),
          flexible_cell(s), pct(s["format_rate"]), ci(s["format_ci"]), f"{s['mean_tokens']:.1f}", s["n"], _md_model(s)]
         for s in stages])
    out += ["", "## Changes", ""]
    out += _md_table(
        ["comparison", "accuracy", "change", "fixed", "broken", "unchanged", "McNemar p", "verdict"],
        [[md_text(transition_name(t)), f"{pct(t['before_accuracy'])} → {pct(t['after_accuracy'])}",
          pts(t["delta"]), t["fixed"], t["broken"], t["both_right"] + t["both_wrong"],
          p_cell(t["p"]), verdict(t)] for t in transitions])
    out += ["", "## Regressions", ""]
    if comparison.get("regressions"):
        out += _md_table(REGRESSION_HEADER, [[md_text(c) for c in regression_row(r)]
                                             for r in comparison["regressions"]])
    else:
        out.append(no_regression_sentence(comparison))
    for cat in comparison.get("categories") or []:
        out += ["", f"### Accuracy by {md_text(cat['column'])}", ""]
        out += _md_table([md_text(h) for h in category_header(comparison, cat["column"])],
                         [[md_text(v["value"]), v["n"], *(stage_cell(s) for s in v["stages"]),
                           *(transition_cell(t) for t in v["transitions"])] for v in cat["values"]])
    out += ["", "## Charts", ""]
    out += [f"![{name.removesuffix('.png')}]({name})\n" for name in images]
    if comparison.get("train_log"):
        out += [md_text(train_log_sentence(comparison["train_log"])), ""]
    if comparison.get("alarms"):
        out += ["## Alarms", ""] + [f"- **{a['kind']}**: {md_text(a['message'])}" for a in comparison["alarms"]] + [""]
    if comparison.get("notes"):
        out += ["## Notes", ""] + [f"- {md_text(n)}" for n in comparison["notes"]] + [""]
    out += ["## Changed examples", ""]
    for t, exs in zip(transitions, examples, strict=True):
        shown = select_examples(exs)
        out += [f"### {md_text(t['before'])} → {md_text(t['after'])}: {t['fixed']} fixed, {t['broken']} broken", ""]
        if not shown:
            out += ["No example changed.", ""]
            continue
        if note := _shown_note(t, shown):
            out += [note, ""]
        b, a = md_text(t["before"]), md_text(t["after"])
        out += _md_table(
            ["id", "change", "question", "gold", f"{b} answer", f"{b} completion", f"{a} answer", f"{a} completion"],
            [[md_text(e["id"]), e["change"], md_text(e["question"], MD_TEXT_LIMIT), md_text(e["gold"]),
              _md_answer(e["before"]), md_text(e["before"]["completion"], MD_TEXT_LIMIT),
              _md_answer(e["after"]), md_text(e["after"]["completion"], MD_TEXT_LIMIT)] for e in shown])
        out.append("")
    out += ["## Method", "", METHOD, "", _md_inputs(stages), ""]
    return "\n".join(out)


def _md_model(stage: Mapping[str, Any]) -> str:
    text = md_text(stage.get("model") or "?")
    return text + (f" + {md_text(stage['adapter'])}" if stage.get("adapter") else "")


def _md_inputs(stages: Sequence[Mapping[str, Any]]) -> str:
    return "Inputs: " + ", ".join(f"{md_text(s['label'])} = `{s['dir']}`" for s in stages)


# ---------------------------------------------------------------- HTML

CSS = (Path(__file__).parent / "templates" / "report.css").read_text()  # inlined: one self-contained file


def esc(text: Any) -> str:
    """HTML-escape anything (model text included), ``None`` as empty."""
    return html.escape("" if text is None else str(text), quote=True)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_css_width(png: bytes, dpi_scale: float = 1.5) -> int:
    """CSS width of a chart saved at 144 dpi shown at CSS's 96 px/inch: chart text matches page text, crisp on HiDPI."""
    return int(int.from_bytes(png[16:20], "big") / dpi_scale)  # IHDR width


def _html_headline(comparison: Mapping[str, Any]) -> str:
    arrow = '<span class="arrow">→</span>'
    chain = arrow.join(f'{esc(s["label"])} <span class="acc">{pct(s["accuracy"])}</span>'
                       for s in comparison["stages"])
    items = []
    for t in headline_transitions(comparison):
        sig = t["p"] < ALPHA
        items.append(f'<li><b>{esc(transition_name(t))}</b>: {pts(t["delta"])} '
                     f'({t["fixed"]} fixed, {t["broken"]} broken), McNemar {format_p(t["p"])}'
                     f'<span class="pill{" sig" if sig else ""}">{esc(verdict(t))}</span></li>')
    if clause := regression_clause(comparison):
        cls = "regress" if comparison.get("regressions") else "muted"
        items.append(f'<li class="{cls}">{esc(clause[:1].upper() + clause[1:])}</li>')
    return (f'<div class="headline"><div class="chain">{chain}</div>'
            f'<ul class="verdicts">{"".join(items)}</ul></div>')


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    def cell(tag: str, i: int, content: str) -> str:
        return f'<{tag} class="num">{content}</{tag}>' if i in numeric else f"<{tag}>{content}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_model(stage: Mapping[str, Any]) -> str:
    text = f'<code>{esc(stage.get("model") or "?")}</code>'
    if stage.get("adapter"):
        text += f' + <code>{esc(stage["adapter"])}</code>'
    return f'{text}<div class="muted small">{esc(stage["dir"])}</div>'


def _html_side(side: Mapping[str, Any]) -> str:
    cls, mark = ("right", "✓") if side["correct"] else ("wrong", "✗")
    answer = esc(side["extracted"]) if side["extracted"] is not None else "<i>(no answer extracted)</i>"
    return (f'<div class="answer {cls}">{mark} {answer}</div>'
            f'<pre class="completion">{esc(side["completion"])}</pre>')


def _html_examples(t: Mapping[str, Any], examples: Sequence[Example], open_: bool) -> str:
    shown = select_examples(examples)
    title = (f'{esc(t["before"])} → {esc(t["after"])}: <span class="fixed">{t["fixed"]} fixed</span>, '
             f'<span class="broken">{t["broken"]} broken</span>')
    if not shown:
        return f'<details><summary>{title}</summary><div class="body muted">No example changed.</div></details>'
    note = _shown_note(t, shown)
    rows = "".join(
        f'<tr><td>{esc(e["id"])}<br><span class="badge {e["change"]}">{e["change"]}</span></td>'
        f'<td>{esc(e["question"])}</td><td class="answer">{esc(e["gold"])}</td>'
        f'<td>{_html_side(e["before"])}</td><td>{_html_side(e["after"])}</td></tr>' for e in shown)
    table = (f'<table class="examples"><colgroup><col class="id"><col class="q"><col class="g"><col><col>'
             f'</colgroup><thead><tr><th>id</th><th>question</th><th>gold</th><th>{esc(t["before"])}</th>'
             f'<th>{esc(t["after"])}</th></tr></thead><tbody>{rows}</tbody></table>')
    note_html = f'<p class="muted small">{esc(note)}</p>' if note else ""
    return (f'<details{" open" if open_ else ""}><summary>{title}</summary>'
            f'<div class="body">{note_html}{table}</div></details>')


def _html_stage_cell(stage: Mapping[str, Any]) -> str:
    return (f"{pct(stage['accuracy'])} <span class='muted'>({stage['correct']}/{stage['n']})</span>"
            f"<div class='muted small'>{esc(ci(stage['accuracy_ci']))}</div>")


def _html_test_cell(t: Mapping[str, Any]) -> str:
    cls = " class='broken'" if t["delta"] < 0 and t["p"] < ALPHA else ""
    return (f"<span{cls}>{esc(pts(t['delta']))}</span> <span class='muted small'>"
            f"(<span class='fixed'>{t['fixed']} fixed</span>, <span class='broken'>{t['broken']} broken</span>)</span>"
            f"<div class='small'>{esc(format_p(t['p']))}</div>")


def render_html(comparison: Mapping[str, Any], examples: Sequence[Sequence[Example]],
                images: Mapping[str, bytes]) -> str:
    """The report as one self-contained HTML page; ``images`` maps a caption to PNG bytes."""
    stages, transitions = comparison["stages"], comparison["transitions"]
    stage_table = _html_table(
        ["stage", "accuracy", "95% CI", "flexible", "format rate", "95% CI", "mean tokens", "n", "model"],
        [[f"<b>{esc(s['label'])}</b>", f"{pct(s['accuracy'])} <span class='muted'>({s['correct']}/{s['n']})</span>",
          ci(s["accuracy_ci"]), flexible_cell(s), pct(s["format_rate"]), ci(s["format_ci"]), f"{s['mean_tokens']:.1f}",
          str(s["n"]), _html_model(s)] for s in stages],
        numeric={1, 2, 3, 4, 5, 6, 7})
    if sentence := format_vs_answers(comparison):
        stage_table = f"<p>{esc(sentence)}</p>" + stage_table
    if comparison.get("regressions"):
        regressions = "<div class='regressions'>" + _html_table(
            REGRESSION_HEADER, [[esc(c) for c in regression_row(r)] for r in comparison["regressions"]],
            numeric={2, 3, 4, 5, 6}) + "</div>"
    else:
        regressions = f"<p>{esc(no_regression_sentence(comparison))}</p>"
    for cat in comparison.get("categories") or []:
        n_stages = len(cat["values"][0]["stages"])
        regressions += f"<h3>Accuracy by {esc(cat['column'])}</h3>" + _html_table(
            [esc(h) for h in category_header(comparison, cat["column"])],
            [[f"<b>{esc(v['value'])}</b>", str(v["n"]), *(_html_stage_cell(s) for s in v["stages"]),
              *(_html_test_cell(t) for t in v["transitions"])] for v in cat["values"]],
            numeric=set(range(1, 2 + n_stages)))
    change_table = _html_table(
        ["comparison", "accuracy", "change", "fixed", "broken", "unchanged", "McNemar p", "verdict"],
        [[f"<b>{esc(transition_name(t))}</b>", f"{pct(t['before_accuracy'])} → {pct(t['after_accuracy'])}",
          pts(t["delta"]), f"<span class='fixed'>{t['fixed']}</span>", f"<span class='broken'>{t['broken']}</span>",
          str(t["both_right"] + t["both_wrong"]), esc(p_cell(t["p"])), esc(verdict(t))]
         for t in transitions],
        numeric={1, 2, 3, 4, 5, 6})
    charts = "".join(f'<img src="{data_uri(png)}" alt="{esc(caption)}" style="width:{png_css_width(png)}px">'
                     for caption, png in images.items())
    if comparison.get("train_log"):
        charts += f'<p class="muted small">{esc(train_log_sentence(comparison["train_log"]))}</p>'
    notes = ""
    if comparison.get("alarms"):
        notes = "<h2>Alarms</h2><ul class='notes'>" + "".join(
            f"<li><b>{esc(a['kind'])}</b>: {esc(a['message'])}</li>" for a in comparison["alarms"]) + "</ul>"
    if comparison.get("notes"):
        notes += "<h2>Notes</h2><ul class='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in comparison["notes"]) + "</ul>"
    open_index = len(transitions) - 1  # first vs last (or the only transition) starts open
    changed = "".join(_html_examples(t, exs, i == open_index)
                      for i, (t, exs) in enumerate(zip(transitions, examples, strict=True)))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(comparison["title"])}</title>
<style>{CSS}</style></head>
<body><main>
<h1>{esc(comparison["title"])}</h1>
{_html_headline(comparison)}
<h2>Stages</h2>
{stage_table}
<h2>Changes</h2>
{change_table}
<h2>Regressions and accuracy by category</h2>
{regressions}
<h2>Charts</h2>
<div class="charts">{charts}</div>
{notes}
<h2>Changed examples</h2>
{changed}
<h2>Method</h2>
<p class="small">{esc(METHOD)}</p>
<footer>Generated {generated} by <code>python -m recipes.compare</code>.</footer>
</main></body></html>
"""
