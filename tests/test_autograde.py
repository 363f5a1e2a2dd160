"""nbgrader, configured as the course configures it, gives the solutions full marks and the release zero."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import harness
from autograder.config import configure

pytestmark = pytest.mark.slow


STUDENTS = {"solution": harness.SOLUTIONS, "release": harness.RELEASE}


@pytest.fixture(scope="module")
def autograde(course_copy: Path) -> Callable[[str, str], dict[str, tuple[float, float]]]:
    """Autograde one assignment for one student: 'solution' submits the sources, 'release' the untouched release.

    Each test is its own unit of work for pytest-xdist (``pytest_xdist_make_scheduler`` in conftest.py), so
    the two workers share the gradings; a worker grades in its own copy of the release generated once for the
    session.
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    root = course_copy
    config = configure(Config(), root=root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    with Gradebook(config.CourseDirectory.db_url) as gb:
        for student in STUDENTS:
            gb.update_or_create_student(student)

    def grades(aid: str, student: str) -> dict[str, tuple[float, float]]:
        shutil.copytree(STUDENTS[student] / aid, root / "submitted" / student / aid)
        result = api.autograde(aid, student, force=True, create=True)
        assert result["success"], result.get("log", "") + result.get("error", "")
        with Gradebook(config.CourseDirectory.db_url) as gb:
            submission = gb.find_submission(aid, student)
            return {
                f"{nb.name}/{grade.name}": (grade.score, grade.max_score)
                for nb in submission.notebooks
                for grade in nb.grades
            }

    return grades


def _assignments() -> list[str]:
    return sorted({p.parent.name for p in harness.source_notebooks()})


@pytest.mark.parametrize("aid", _assignments())
def test_solutions_get_full_marks(autograde, aid: str) -> None:
    grades = autograde(aid, "solution")
    assert grades, f"no grade cells were graded in {aid}"
    short = {k: v for k, v in grades.items() if v[0] != v[1]}
    assert not short, f"the solution of {aid} lost marks: {short}"


@pytest.mark.parametrize("aid", _assignments())
def test_untouched_release_gets_zero(autograde, aid: str) -> None:
    grades = autograde(aid, "release")
    assert grades and all(v[1] > 0 for v in grades.values())
    scored = {k: v for k, v in grades.items() if v[0] != 0}
    assert not scored, f"the untouched release of {aid} earned marks: {scored}"
