"""Hostile and broken submissions, built from a lesson's release notebook, with the scores each must get.

A case starts from a *correct* submission (the release notebook with the solutions written into its
exercise cells) and changes one thing: an attack in an exercise cell, a damaged file, a file shipped
beside the notebook. Its expectation says which tests score 0 (``fnmatch`` patterns over test ids; all
others must score full marks), with which status, and what must show in the repairs or the log.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.grading.clean import load_source
from autograder.notebook import cell_kind, strip_markers

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Case:
    name: str
    attack: str
    zero: tuple[str, ...] = ()  # test ids expected to score 0 (fnmatch patterns); the rest full marks
    status: str | None = None  # the status every zeroed test must have (None: any)
    repair: str = ""  # a phrase the notebook's repairs must contain
    log: str = ""  # a phrase the captured output (logs/) must contain
    review: str = ""  # a phrase the summary's "review the code" note must contain ("": no such note)
    exercises: dict[str, str] = field(default_factory=dict)  # exercise -> code replacing the solution
    edit: Callable[[Any], Any] | None = None  # notebook -> notebook, or -> bytes (the file as written)
    filename: str = ""  # submitted file name (default: the source's)
    files: dict[str, str] = field(default_factory=dict)  # other files shipped beside the notebook

    def expected(self, tests: dict[str, float]) -> dict[str, float]:
        return {t: 0.0 if any(fnmatch.fnmatch(t, p) for p in self.zero) else pts for t, pts in tests.items()}


class Lesson:
    """The release notebook of one lesson and its source's solutions and points."""

    def __init__(self, assignment: str, name: str) -> None:
        self.assignment, self.name = assignment, name
        self.source = load_source(ROOT / "solutions" / assignment / name)
        self.release = nbformat.read(ROOT / "notebooks" / assignment / name, as_version=4)
        self.solutions = {c.grade_id: strip_markers(c.cell.source) for c in self.source.exercises()}
        self.points = {c.grade_id: c.points for c in self.source.grade_cells()}

    def solved(self, overrides: dict[str, str] | None = None) -> Any:
        """The release with every exercise solved (``overrides``: exercise -> other code)."""
        nb = copy.deepcopy(self.release)
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if cell_kind(cell.cell_type, cell.metadata.get("nbgrader")) == "exercise":
                cell.source = textwrap.dedent((overrides or {}).get(gid, self.solutions[gid])).strip() + "\n"
        return nb

    def write(self, case: Case, folder: Path) -> None:
        """The student folder ``<folder>/<assignment>/`` of one case."""
        target = folder / self.assignment
        target.mkdir(parents=True, exist_ok=True)
        nb = self.solved(case.exercises)
        data = case.edit(nb) if case.edit else nb
        raw = data if isinstance(data, bytes) else nbformat.writes(data).encode()
        (target / (case.filename or self.name)).write_bytes(raw)
        for name, text in case.files.items():
            (target / name).write_text(textwrap.dedent(text))


def cell_index(nb: Any, grade_id: str) -> int:
    return next(
        i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id
    )


def json_bytes(nb: Any) -> bytes:
    return json.dumps(nb, indent=1).encode()
