"""Paths of the course's notebooks, and the notebook reader the checks use (autograder.notebook)."""

from __future__ import annotations

from pathlib import Path

from autograder.notebook import Lesson, load, namespace_for, run_grade_cells, run_source

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"

__all__ = ["Lesson", "load", "namespace_for", "run_grade_cells", "exec_variant", "source_notebooks"]


def source_notebooks() -> list[Path]:
    return sorted(SOLUTIONS.glob("*/*.ipynb"))


def release_notebooks() -> list[Path]:
    return sorted(RELEASE.glob("*/*.ipynb"))


def exec_variant(ns: dict, source: str) -> None:
    """Define a corpus variant in the lesson's namespace, replacing the solution."""
    run_source(source, ns, "variant")
