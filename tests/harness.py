"""Read a lesson's source notebook as the grader sees it: helper cells, solution cells, grade cells.

Conventions every source notebook follows (see CONTRIBUTING.md):
* solution cells have nbgrader ``solution: true`` and ``grade_id`` = the exercise name;
* grade cells have ``grade_id`` = ``test_<exercise>__<behaviour>``;
* grade cells use only the locked cells (setup and helpers) and the solution cells, never demo cells.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
HIDDEN = re.compile(r"^\s*### (BEGIN|END) (HIDDEN TESTS|SOLUTION)\s*$", re.MULTILINE)


def source_notebooks() -> list[Path]:
    return sorted(SOLUTIONS.glob("*/*.ipynb"))


def release_notebooks() -> list[Path]:
    return sorted(RELEASE.glob("*/*.ipynb"))


@dataclass
class Lesson:
    path: Path
    prelude: list[str]  # locked helper cells and solution cells, in order
    solutions: dict[str, str]  # exercise -> solution cell source
    grades: dict[str, str]  # grade_id -> grade cell source
    points: dict[str, float]

    def grade_ids(self, exercise: str) -> list[str]:
        return [g for g in self.grades if g.startswith(f"test_{exercise}__")]


def strip_markers(src: str) -> str:
    """Remove nbgrader's BEGIN/END lines, keeping what is between them (the solution, hidden tests)."""
    return HIDDEN.sub("", src)


def load(path: Path) -> Lesson:
    nb = json.loads(path.read_text())
    prelude, solutions, grades, points = [], {}, {}, {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if cell["cell_type"] != "code" or not meta:
            continue
        src = strip_markers("".join(cell["source"]))
        gid = meta["grade_id"]
        if meta.get("grade"):
            grades[gid] = src
            points[gid] = float(meta.get("points", 0))
        else:
            prelude.append(src)
            if meta.get("solution"):
                solutions[gid] = src
    return Lesson(path, prelude, solutions, grades, points)


def namespace_for(lesson: Lesson) -> dict:
    """Execute the locked helper cells and the solution cells; return the resulting globals."""
    ns: dict = {"__name__": "__lesson__"}
    for src in lesson.prelude:
        exec(compile(src, f"<{lesson.path.name}>", "exec"), ns)
    return ns


def run_grade_cells(lesson: Lesson, ns: dict, grade_ids: list[str]) -> dict[str, BaseException | None]:
    """Run grade cells in ``ns``; map each grade_id to the exception it raised (None when it passed)."""
    out: dict[str, BaseException | None] = {}
    for gid in grade_ids:
        try:
            exec(compile(lesson.grades[gid], f"<{gid}>", "exec"), ns)
            out[gid] = None
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            out[gid] = exc
    return out


def exec_variant(ns: dict, source: str) -> None:
    exec(compile(textwrap.dedent(source), "<variant>", "exec"), ns)
