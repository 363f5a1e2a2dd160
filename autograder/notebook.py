"""A lesson notebook as the checks see it: locked cells, exercise cells and grade cells, by nbgrader id.

Used by the self-check (``python -m autograder check``), by progress, and by the test harness.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) (HIDDEN TESTS|SOLUTION)[ \t]*$\n?", re.MULTILINE)


@dataclass
class Cell:
    grade_id: str
    source: str
    kind: str  # "locked", "exercise" or "grade"
    points: float = 0.0


@dataclass
class Lesson:
    path: Path
    cells: list[Cell] = field(default_factory=list)

    @property
    def prelude(self) -> list[str]:
        """Sources of the locked and exercise cells, in order (what grade cells may use)."""
        return [c.source for c in self.cells if c.kind != "grade"]

    @property
    def solutions(self) -> dict[str, str]:
        return {c.grade_id: c.source for c in self.cells if c.kind == "exercise"}

    @property
    def grades(self) -> dict[str, str]:
        return {c.grade_id: c.source for c in self.cells if c.kind == "grade"}

    @property
    def points(self) -> dict[str, float]:
        return {c.grade_id: c.points for c in self.cells if c.kind == "grade"}

    def exercises(self) -> list[str]:
        return [c.grade_id for c in self.cells if c.kind == "exercise"]

    def grade_ids(self, exercise: str) -> list[str]:
        return [g for g in self.grades if g.startswith(f"test_{exercise}__")]


def strip_markers(src: str) -> str:
    """Drop nbgrader's BEGIN/END lines, keeping what is between them."""
    return MARKERS.sub("", src)


def cell_kind(cell_type: str, meta: dict | None) -> str:
    """A cell's role by its nbgrader metadata: the one rule every reader uses (checks, grader, tests).

    ``grade`` (a test: grade, not solution), ``exercise`` (a code cell with a solution), ``locked``,
    ``answer`` (a written answer or a task) or ``other``.
    """
    meta = meta if isinstance(meta, dict) else {}
    code = cell_type == "code"
    if code and meta.get("grade") and not meta.get("solution"):
        return "grade"
    if code and meta.get("solution"):
        return "exercise"
    if code and meta.get("locked"):
        return "locked"
    if meta.get("solution") or meta.get("task"):
        return "answer"
    return "other"


def load(path: Path | str) -> Lesson:
    """Read the nbgrader-tagged code cells of a notebook (a source or a student's copy)."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    lesson = Lesson(path)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader")
        kind = cell_kind(cell.get("cell_type", ""), meta)
        if kind not in ("grade", "exercise", "locked") or "grade_id" not in meta:
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        points = float(meta.get("points", 0)) if kind == "grade" else 0.0
        lesson.cells.append(Cell(meta["grade_id"], strip_markers(src), kind, points))
    return lesson


def run_source(source: str, ns: dict, name: str) -> None:
    """Execute one cell's source in ``ns`` (IPython magics are not supported here)."""
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), ns)


def namespace_for(lesson: Lesson) -> dict:
    """Execute the locked and exercise cells in order; return the globals (errors propagate)."""
    ns: dict = {"__name__": "__lesson__"}
    for cell in lesson.cells:
        if cell.kind != "grade":
            run_source(cell.source, ns, cell.grade_id)
    return ns


def run_grade_cells(lesson: Lesson, ns: dict, grade_ids: list[str]) -> dict[str, BaseException | None]:
    """Run grade cells in ``ns``; map each grade_id to the exception it raised (None when it passed)."""
    out: dict[str, BaseException | None] = {}
    for gid in grade_ids:
        try:
            run_source(lesson.grades[gid], ns, gid)
            out[gid] = None
        except BaseException as exc:  # noqa: BLE001 - recorded as the verdict
            out[gid] = exc
    return out


def run_cell_output(source: str, ns: dict, name: str) -> str:
    """Execute one cell as a notebook would and return what it shows: what it prints, and the value of its last
    expression unless that is None (nbgrader reads a grade cell's output as its score)."""
    import ast
    import contextlib
    import io

    tree = ast.parse(textwrap.dedent(source))
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, f"<{name}>", "exec"), ns)
        value = None if last is None else eval(compile(ast.Expression(last.value), f"<{name}>", "eval"), ns)
    return printed.getvalue() + ("" if value is None else repr(value))
