"""The HTML grade report: one self-contained file (inline CSS, no scripts, no external
assets), every piece of learner-controlled text escaped."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from coursekit import labrun

if TYPE_CHECKING:
    from coursekit.grade import Graded

CSS = """
:root { --ok: #1b7f3b; --bad: #b42318; --warn: #9a6700; --dim: #6b7280; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #1f2328; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--line); }
.meta { color: var(--dim); margin-top: 0; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .6rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.6rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
td.r { text-align: center; font-weight: 600; }
.passed { color: var(--ok); } .failed { color: var(--bad); } .error { color: var(--warn); }
.not-started, .not-run { color: var(--dim); }
tfoot td { color: var(--dim); }
details { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0;
          padding: .3rem .8rem; }
summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; white-space: pre-wrap; }
.case { margin: .3rem 0 .6rem 1rem; } .case dt { font-weight: 600; }
.case dd { margin-left: 1rem; font-family: ui-monospace, monospace; white-space: pre-wrap; }
.note { color: var(--warn); }
"""

SYMBOL = {
    labrun.PASSED: "✓",
    labrun.FAILED: "✗",
    labrun.NOT_STARTED: "·",
    labrun.ERROR: "!",
    labrun.NOT_RUN: "-",
}


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _anchor(student: str) -> str:
    return "s-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", student).strip("-") or "student")


def _status_class(status: str) -> str:
    return status.replace(" ", "-")


def _lab_table(lab: str, rows: list[Graded]) -> str:
    ids: list[str] = []
    titles: dict[str, str] = {}
    for row in rows:
        assert row.run is not None
        for exercise_id, found in row.run.exercises.items():
            if exercise_id not in ids:
                ids.append(exercise_id)
            titles.setdefault(exercise_id, found.title)
    head = "".join(f'<th title="{_e(titles.get(i, ""))}">{_e(i)}</th>' for i in ids)
    body = []
    for row in rows:
        assert row.run is not None
        cells = []
        for exercise_id in ids:
            result = row.run.exercises.get(exercise_id)
            if result is None:
                cells.append("<td></td>")
                continue
            cells.append(
                f'<td class="r {_status_class(result.status)}" title="{_e(result.status)}: '
                f'{_e(result.summary())}">{SYMBOL.get(result.status, "?")}</td>'
            )
        score = "" if row.score is None else f"{row.score:g}%"
        body.append(
            f'<tr><td><a href="#{_anchor(row.student)}">{_e(row.student)}</a></td>'
            f"<td>{_e(row.file)}</td>{''.join(cells)}"
            f"<td>{row.passed}/{row.total} ({score})</td><td>{_e(row.status)}</td></tr>"
        )
    rates = []
    for exercise_id in ids:
        done = sum(
            1
            for row in rows
            if row.run
            and exercise_id in row.run.exercises
            and row.run.exercises[exercise_id].passed
        )
        rates.append(f"<td>{done}/{len(rows)}</td>")
    return (
        f"<h2>Lab {_e(lab)}</h2>\n<table><thead><tr><th>Student</th><th>File</th>{head}"
        f"<th>Passed</th><th>Status</th></tr></thead>\n<tbody>{''.join(body)}</tbody>\n"
        f"<tfoot><tr><td colspan=2>passed by</td>{''.join(rates)}<td></td><td></td></tr>"
        "</tfoot></table>"
    )


def _details(student: str, rows: list[Graded]) -> str:
    parts = [f'<section id="{_anchor(student)}"><h3>{_e(student)}</h3>']
    for row in rows:
        label = row.file or "(no file)"
        if row.run is None:
            parts.append(
                f'<p><b>{_e(label)}</b>: <span class="error">{_e(row.status)}</span> — '
                f"{_e(row.message)}</p>"
            )
            continue
        parts.append(
            f"<p><b>{_e(label)}</b> (lab {_e(row.lab)}): {row.passed} of {row.total} exercises "
            f"passed, {_e(row.status)}, {row.run.seconds:.1f} s</p>"
        )
        if row.message:
            parts.append(f'<p class="error">{_e(row.message)}</p>')
        parts.extend(f'<p class="note">note: {_e(note)}</p>' for note in row.notes)
        for result in row.run.exercises.values():
            if result.passed:
                continue
            title = f"{result.exercise_id} {result.title}".strip()
            parts.append(
                f'<details><summary><span class="{_status_class(result.status)}">'
                f"{SYMBOL.get(result.status, '?')} {_e(result.status)}</span> · {_e(title)}"
                f"</summary>"
            )
            if result.error:
                parts.append(f"<p>{_e(result.error)}</p>")
            for case in result.failures():
                parts.append(f'<dl class="case"><dt>✗ {_e(case.get("name", ""))}</dt>')
                for key in ("expected", "got", "hint"):
                    if case.get(key):
                        parts.append(f"<dd>{key}: {_e(case[key])}</dd>")
                parts.append("</dl>")
            parts.append("</details>")
    parts.append("</section>")
    return "\n".join(parts)


def render_html(rows: list[Graded], *, folder: Path, timeout: float, when: datetime) -> str:
    graded = [r for r in rows if r.run is not None]
    ungraded = [r for r in rows if r.run is None]
    full = sum(1 for r in graded if r.total and r.passed == r.total)
    students = list(dict.fromkeys(r.student for r in rows))
    by_lab: dict[str, list[Graded]] = defaultdict(list)
    for row in graded:
        by_lab[row.lab].append(row)
    cards = "".join(
        f'<div class="card"><b>{value}</b>{_e(label)}</div>'
        for value, label in (
            (len(students), "students"),
            (len(rows), "submissions"),
            (len(graded), "graded"),
            (full, "pass every exercise"),
            (len(ungraded), "could not be graded"),
        )
    )
    sections = [_lab_table(lab, by_lab[lab]) for lab in sorted(by_lab)]
    if ungraded:
        items = "".join(
            f'<tr><td><a href="#{_anchor(r.student)}">{_e(r.student)}</a></td>'
            f"<td>{_e(r.file)}</td><td>{_e(r.status)}</td><td>{_e(r.message)}</td></tr>"
            for r in ungraded
        )
        sections.append(
            "<h2>Could not be graded</h2><table><thead><tr><th>Student</th><th>File</th>"
            f"<th>Status</th><th>Why</th></tr></thead><tbody>{items}</tbody></table>"
        )
    per_student: dict[str, list[Graded]] = defaultdict(list)
    for row in rows:
        per_student[row.student].append(row)
    details = "\n".join(_details(s, per_student[s]) for s in students)
    legend = " &nbsp; ".join(f"{symbol} {_e(status)}" for status, symbol in SYMBOL.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Grade report · {_e(folder.name)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>Grade report</h1>
<p class="meta">{_e(folder)} · {_e(when.strftime("%Y-%m-%d %H:%M"))} · time limit {timeout:g} s
per notebook</p>
<div class="cards">{cards}</div>
<p class="meta">{legend}</p>
{"".join(sections)}
<h2>Per student</h2>
{details}
</body>
</html>
"""


def write_html(
    rows: list[Graded], target: Path, *, folder: Path, timeout: float, when: datetime
) -> None:
    target.write_text(
        render_html(rows, folder=folder, timeout=timeout, when=when), encoding="utf-8"
    )
