"""nbgrader, configured as the course configures it, gives the solutions full marks and the release zero."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import harness
from autograder import release
from autograder.config import configure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(course_copy: Path) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """Autograde every lesson twice: student 'solution' submits the sources, 'release' the untouched release."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    root = course_copy  # the release generated once for the session (tests/conftest.py), with its gradebook
    config = configure(Config(), root=root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    students = {"solution": harness.SOLUTIONS, "release": harness.RELEASE}
    with Gradebook(config.CourseDirectory.db_url) as gb:
        for student in students:
            gb.update_or_create_student(student)
    out: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for aid in release.assignments(root):
        for student, folder in students.items():
            target = root / "submitted" / student / aid
            shutil.copytree(folder / aid, target)
            result = api.autograde(aid, student, force=True, create=True)
            assert result["success"], result.get("log", "") + result.get("error", "")
            with Gradebook(config.CourseDirectory.db_url) as gb:
                submission = gb.find_submission(aid, student)
                out[aid, student] = {
                    f"{nb.name}/{grade.name}": (grade.score, grade.max_score)
                    for nb in submission.notebooks
                    for grade in nb.grades
                }
    return out


def _assignments() -> list[str]:
    return sorted({p.parent.name for p in harness.source_notebooks()})


@pytest.mark.parametrize("aid", _assignments())
def test_solutions_get_full_marks(graded, aid: str) -> None:
    grades = graded[aid, "solution"]
    assert grades, f"no grade cells were graded in {aid}"
    short = {k: v for k, v in grades.items() if v[0] != v[1]}
    assert not short, f"the solution of {aid} lost marks: {short}"


@pytest.mark.parametrize("aid", _assignments())
def test_untouched_release_gets_zero(graded, aid: str) -> None:
    grades = graded[aid, "release"]
    assert grades and all(v[1] > 0 for v in grades.values())
    scored = {k: v for k, v in grades.items() if v[0] != 0}
    assert not scored, f"the untouched release of {aid} earned marks: {scored}"
