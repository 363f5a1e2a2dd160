"""Fixtures shared by the test modules (the root conftest.py sets the environment)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from filelock import FileLock

from autograder import release


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course folder where nbgrader generated the release of solutions/ (notebooks/, gradebook.db).

    nbgrader's generation is the slowest step shared by test_release and test_autograde: it runs once per test
    session, shared by pytest-xdist's workers through a lock in the session's temporary folder. Treat it as
    read-only: copy it before writing (see ``course_copy``).
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base  # xdist: one folder above the workers'
    target = shared / "generated-course"
    with FileLock(str(target) + ".lock"):
        if not (target / ".generated").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            release.generate_into(target)
            (target / ".generated").touch()
    return target


@pytest.fixture(scope="module")
def course_copy(generated_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the generated course, one per test module."""
    target = tmp_path_factory.mktemp("course") / "course"
    shutil.copytree(generated_course, target, ignore=shutil.ignore_patterns("*.lock", ".generated"))
    return target
