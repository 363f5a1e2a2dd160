"""README.md's first command opens the whole course in JupyterLab, as root too, with nbgrader working.

Runs the command as written in README.md (its install part skipped: the venv is the one running the tests) in
the repository, as the user running the tests (root under CI), and asks the live server what a newcomer sees.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness
import readme_lab as jupyter

pytestmark = pytest.mark.slow
LESSON_01 = "notebooks/01_neurons/01_neurons.ipynb"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[jupyter.Lab]:
    running = jupyter.start(harness.ROOT, tmp_path_factory.mktemp("first-command"))
    try:
        # touch what a newcomer's first minute touches: the course list and assignment list of nbgrader
        running.get("/formgraders")
        running.get("/assignments?course_id=nnlab")
        running.get("/nbgrader_version?version=0.9.6")
        yield running
    finally:
        running.stop()


def test_the_command_is_short_and_opens_jupyterlab() -> None:
    opener = jupyter.open_command()
    assert opener.startswith(".venv/bin/jupyter lab") and len(jupyter.readme_commands()[0]) <= 120, opener


def test_runs_as_the_current_user_root_included(server: jupyter.Lab) -> None:
    status, _, body = server.get("/api/status")
    assert status == 200, body
    if os.geteuid() == 0:
        assert "Running as root is not recommended" not in server.log.read_text()


def test_opens_lesson_01(server: jupyter.Lab) -> None:
    status, location, _ = server.get("/")
    assert status in (301, 302) and location.split("?")[0].endswith(f"/lab/tree/{LESSON_01}"), (status, location)
    status, _, _ = server.get(f"/lab/tree/{LESSON_01}")
    assert status == 200
    model = server.json(f"/api/contents/{LESSON_01}")
    assert model["type"] == "notebook" and model["content"]["cells"], "lesson 01 opens as a notebook"


def test_file_browser_shows_every_lesson(server: jupyter.Lab) -> None:
    listed = {item["name"] for item in server.json("/api/contents/notebooks")["content"]}
    lessons = {p.parent.name for p in harness.release_notebooks()}
    assert lessons and lessons <= listed, f"missing from the file browser: {sorted(lessons - listed)}"
    root = {item["name"] for item in server.json("/api/contents")["content"]}
    assert {"notebooks", "README.md", "GLOSSARY.md"} <= root, "the server is rooted at the repository"


def test_nbgrader_sees_the_course_and_logs_no_error(server: jupyter.Lab) -> None:
    courses = server.json("/formgraders")
    assert courses["success"] and any(c["course_id"] == "nnlab" for c in courses["value"]), courses
    log = server.log.read_text()
    for extension in ("formgrader", "assignment_list", "validate_assignment", "course_list"):
        assert f"nbgrader.server_extensions.{extension} | extension was successfully loaded" in log, extension
    problems = [ln for ln in log.splitlines() if re.match(r"\[[EC] ", ln) or "not a subdirectory" in ln]
    assert not problems, "\n".join(problems)


def test_log_names_the_repository_as_root(server: jupyter.Lab) -> None:
    assert f"local directory: {Path(harness.ROOT)}" in server.log.read_text()
