"""Per-student feedback as one self-contained HTML page per notebook.

Built from the graded cells only: grade cells are shown as students received them (hidden tests removed,
as nbgrader's ClearHiddenTests does) with their score and message; no traceback is shown (a traceback
quotes the test's source, hidden lines included). Markdown is rendered with HTML escaped.
"""

from __future__ import annotations

import html
from typing import Any

from autograder.grading.status import Status

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;border-radius:4px}
.test{border-left:4px solid #999;padding-left:.6rem;margin:1rem 0}
.passed{border-color:#1a7f37}.failed,.timeout,.crashed,.memory,.killed,.deadline,.ungradable,.corrupt,.missing,
.error{border-color:#cf222e}.msg{background:#fff1f0;white-space:pre-wrap}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
.exercise pre{background:#eef6ff}
"""


def _markdown(text: str) -> str:
    try:
        import mistune

        return mistune.create_markdown(escape=True)(text)
    except Exception:  # noqa: BLE001 - plain text is fine
        return f"<pre>{html.escape(text)}</pre>"


def _fmt(x: float) -> str:
    return f"{x:g}"


def render(student: str, assignment: str, result: dict[str, Any], cells: list[dict]) -> str:
    """The feedback page of one notebook (``result``: a NotebookResult as a dict)."""
    tests = result.get("tests", [])
    score = sum(t["score"] for t in tests)
    total = sum(t["max_score"] for t in tests)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(assignment)}/{html.escape(result['notebook'])} — {html.escape(student)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(result['notebook'])}</h1>",
        f"<p>Student <b>{html.escape(student)}</b>, assignment <b>{html.escape(assignment)}</b>: "
        f"<b>{_fmt(score)} / {_fmt(total)}</b> points.</p>",
    ]
    if result.get("reason"):
        parts.append(f"<p class='msg'>{html.escape(result['reason'])}</p>")
    if result.get("repairs"):
        items = "".join(f"<li>{html.escape(r)}</li>" for r in result["repairs"])
        parts.append(f"<p>Repairs made before grading:</p><ul>{items}</ul>")
    rows = "".join(
        f"<tr><td>{html.escape(t['test'])}</td><td>{_fmt(t['score'])} / {_fmt(t['max_score'])}</td>"
        f"<td>{html.escape(t['status'])}</td></tr>"
        for t in tests
    )
    parts.append(f"<table><tr><th>test</th><th>score</th><th>status</th></tr>{rows}</table><hr>")
    for cell in cells:
        if cell["type"] == "markdown":
            parts.append(_markdown(cell["source"]))
        elif cell["kind"] == "grade":
            status = cell.get("status", Status.FAILED)
            head = f"{html.escape(cell['grade_id'])}: {_fmt(cell.get('score', 0))} / {_fmt(cell.get('max_score', 0))}"
            body = f"<pre>{html.escape(cell['source'])}</pre>"
            if cell.get("message"):
                body += f"<pre class='msg'>{html.escape(cell['message'])}</pre>"
            parts.append(f"<div class='test {html.escape(status)}'><b>{head}</b> ({html.escape(status)}){body}</div>")
        elif cell["type"] == "code":
            css = " class='exercise'" if cell["kind"] == "exercise" else ""
            parts.append(f"<div{css}><pre>{html.escape(cell['source'])}</pre></div>")
    parts.append("</body></html>")
    return "\n".join(parts)
