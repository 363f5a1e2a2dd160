"""Check a notebook's exercises the way its test cells do: one line per exercise.

    python -m autograder check notebooks/01_neurons/01_neurons.ipynb

or, in the notebook's last cell, ``ag.summary(globals(), "01_neurons.ipynb")``. Only the visible tests of
the student's copy run here; hidden tests run when the instructor grades.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.checks import NotAttempted
from autograder.notebook import Lesson, load, run_grade_cells, run_source

MARK = {"passed": "✓", "failed": "✗", "not attempted": "·", "not run yet": "○", "error": "!"}


@dataclass
class ExerciseResult:
    exercise: str
    status: str  # passed, failed, not attempted, not run yet, error
    message: str
    passed: int
    total: int


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {text}"


def _defined_by_cells(lesson: Lesson) -> set[str]:
    """Top-level names the lesson's set-up, helper and exercise cells define (what a grade cell may use)."""
    names: set[str] = set()
    for cell in lesson.cells:
        if cell.kind == "grade":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            names.add(cell.grade_id)
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            else:
                for target in ast.walk(node):
                    if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                        names.add(target.id)
    return names


def _not_run(exc: BaseException, cell_names: set[str]) -> bool:
    """A NameError for a name that a cell of the notebook defines: that cell has not been run yet."""
    return isinstance(exc, NameError) and getattr(exc, "name", None) in cell_names


def check_lesson(lesson: Lesson, ns: dict, broken: dict[str, BaseException] | None = None) -> list[ExerciseResult]:
    """Run each exercise's grade cells in ``ns``; ``broken`` maps exercises whose cell failed to run.

    An exercise whose cell (or a cell above it that its tests use) has not been run is "not run yet", not failed.
    """
    broken = broken or {}
    cell_names = _defined_by_cells(lesson)
    results = []
    for exercise in lesson.exercises():
        gids = lesson.grade_ids(exercise)
        if exercise in broken:
            msg = f"your exercise cell does not run: {_first_line(broken[exercise])}"
            results.append(ExerciseResult(exercise, "error", msg, 0, len(gids)))
            continue
        if exercise not in ns:
            msg = f"run the cell that defines `{exercise}` (and the cells above it), then this one again"
            results.append(ExerciseResult(exercise, "not run yet", msg, 0, len(gids)))
            continue
        outcome = run_grade_cells(lesson, ns, gids)
        failures = [exc for exc in outcome.values() if exc is not None]
        passed = len(gids) - len(failures)
        if not failures:
            results.append(ExerciseResult(exercise, "passed", "", passed, len(gids)))
        elif all(isinstance(exc, NotAttempted) for exc in failures):
            results.append(ExerciseResult(exercise, "not attempted", _first_line(failures[0]), passed, len(gids)))
        elif any(_not_run(exc, cell_names) for exc in failures):
            name = next(exc.name for exc in failures if _not_run(exc, cell_names))  # type: ignore[attr-defined]
            msg = f"`{name}` is not defined yet: run the cells above (from the top), then this one again"
            results.append(ExerciseResult(exercise, "not run yet", msg, passed, len(gids)))
        else:
            first = next(exc for exc in failures if not isinstance(exc, NotAttempted))
            results.append(ExerciseResult(exercise, "failed", _first_line(first), passed, len(gids)))
    return results


def check_file(path: Path | str) -> list[ExerciseResult]:
    """Execute a notebook's locked and exercise cells (each on its own) and check every exercise."""
    lesson = load(path)
    ns: dict = {"__name__": "__main__"}
    broken: dict[str, BaseException] = {}
    for cell in lesson.cells:
        if cell.kind == "grade":
            continue
        try:
            run_source(cell.source, ns, cell.grade_id)
        except Exception as exc:  # noqa: BLE001 - reported per exercise
            if cell.kind == "locked":
                raise RuntimeError(f"the locked cell {cell.grade_id} of {Path(path).name} failed: {exc}") from exc
            broken[cell.grade_id] = exc
    return check_lesson(lesson, ns, broken)


def format_results(results: list[ExerciseResult], title: str = "") -> str:
    lines = [title] if title else []
    for r in results:
        detail = f" — {r.message.splitlines()[0]}" if r.message and r.status != "not attempted" else ""
        lines.append(f"{MARK[r.status]} {r.exercise:28s} {r.status:13s} {r.passed}/{r.total} tests{detail}")
    done = sum(r.status == "passed" for r in results)
    lines.append(f"{done} of {len(results)} exercises pass.")
    return "\n".join(lines)


def summary(ns: dict, notebook: str) -> None:
    """For a notebook's last cell: check the live definitions against the notebook's own test cells.

    It prints the table and returns nothing, so the cell shows the table once (no repr of the results after it);
    :func:`check_lesson` returns the results themselves.
    """
    lesson = load(notebook)
    print(format_results(check_lesson(lesson, dict(ns))))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="a lesson notebook, e.g. notebooks/01_neurons/01_neurons.ipynb")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("NNLAB_FAST", "1")
    path = args.notebook.resolve()
    if not path.exists():
        print(f"no such notebook: {args.notebook}", file=sys.stderr)
        return 2
    os.chdir(path.parent)  # as Jupyter runs it: from the notebook's folder
    try:
        results = check_file(path)
    except (RuntimeError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
    else:
        print(format_results(results, title=str(args.notebook)))
    return 0 if all(r.status == "passed" for r in results) else 1
