"""Whole `grade` runs: the same grades every time, with --jobs 1 or 2, from a folder or a zip, after an
interruption, and split into shards then merged. Three students of lesson 01 keep it quick."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import hostile
import pytest
from hostile import lesson_01
from test_grading import FAST, ROOT, grade

from autograder.__main__ import main as autograder_main
from autograder.grading import cli
from autograder.grading.discover import shard_of

pytestmark = pytest.mark.slow  # whole `grade` runs through the sandboxed worker

LESSON = hostile.Lesson(*lesson_01.LESSON)
CASES = {c.name: c for c in lesson_01.cases(LESSON)}
KINDS = ["solution", "release", "os_exit"]


def _students() -> dict[str, str]:
    """Student names for the three kinds, chosen so that both halves of --shard 1/2, 2/2 get someone."""
    for n in range(100):
        names = {f"{kind}-{n}": kind for kind in KINDS}
        if {shard_of(s, 2) for s in names} == {1, 2}:
            return names
    raise AssertionError("no split found")


STUDENTS = _students()


@pytest.fixture(scope="module", autouse=True)
def pinned_version() -> None:
    """Others may edit autograder/ while these runs go: pin the grader version the result cache keys on."""
    os.environ["NNLAB_GRADER_VERSION"] = cli.grader_version()
    yield
    os.environ.pop("NNLAB_GRADER_VERSION", None)


@pytest.fixture(scope="module")
def subs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs") / "submitted"
    for student, kind in STUDENTS.items():
        LESSON.write(CASES[kind], folder / student)
    archive = folder.parent / "submitted.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path("submitted") / path.relative_to(folder))
    return folder


def outputs(out: Path) -> tuple[str, str]:
    return (out / "grades.csv").read_text(), (out / "summary.csv").read_text()


def gradebook(out: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        subs = gb.assignment_submissions(LESSON.assignment)
        return {
            (s.student.id, nb.name, g.name): (g.score, g.needs_manual_grade)
            for s in subs
            for nb in s.notebooks
            for g in nb.grades
        }


@pytest.fixture(scope="module")
def reference(subs: Path) -> Path:
    """One run over the zip with two grading processes: what every other way of grading must reproduce."""
    out = subs.parent / "single"
    proc = grade(subs.parent / "submitted.zip", "--out", out, "--jobs", "2", *FAST)
    assert proc.returncode == 1, proc.stderr[-3000:]  # os_exit crashed: it needs a look
    return out


def test_reference_run(reference: Path) -> None:
    grades, summary = outputs(reference)
    assert grades.count("\n") == 1 + len(STUDENTS) * len(LESSON.points)
    for student, kind in STUDENTS.items():
        line = next(ln for ln in summary.splitlines() if ln.startswith(f"{student},"))
        expected = {"solution": "21,21", "release": "0,21", "os_exit": "19,21"}[kind]
        assert f",{expected}," in line, line
    assert len(gradebook(reference)) == len(STUDENTS) * len(LESSON.points)


def test_shards_with_one_job_then_merge_equal_one_run_with_two(subs: Path, reference: Path) -> None:
    """Shard + merge = a single run; --jobs 1 (the shards) = --jobs 2 (the reference); folder = zip."""
    parts = []
    for k in (1, 2):
        out = subs.parent / f"shard{k}"
        proc = grade(subs, "--out", out, "--shard", f"{k}/2", "--jobs", "1", *FAST)
        assert proc.returncode in (0, 1), proc.stderr[-3000:]
        graded = {ln.split(",")[0] for ln in outputs(out)[1].splitlines()[1:]}
        assert graded == {s for s in STUDENTS if shard_of(s, 2) == k}
        parts.append(out)
    merged = subs.parent / "merged"
    proc = grade("--merge", *parts, "--out", merged)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert outputs(merged) == outputs(reference)
    assert gradebook(merged) == gradebook(reference)
    assert sorted(p.name for p in (merged / "feedback").iterdir()) == sorted(STUDENTS)


def test_a_second_run_reuses_and_changes_nothing(subs: Path, reference: Path) -> None:
    before = outputs(reference)
    proc = grade(subs, "--out", reference, "--jobs", "2", *FAST)
    assert f"(0 now, {len(STUDENTS)} reused)" in proc.stderr, proc.stderr[-2000:]
    assert outputs(reference) == before


def _processes_of(out: Path) -> list[int]:
    """Grading processes of a run: their environment names its output folder."""
    marker = str(out.resolve()).encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if marker in Path(f"/proc/{entry}/environ").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def test_an_interrupted_run_resumes(subs: Path, reference: Path) -> None:
    out = subs.parent / "interrupted"
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--jobs", "1", *FAST]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results = out / "results" / LESSON.assignment
    end = time.monotonic() + 300
    while time.monotonic() < end and not (results.is_dir() and any(results.glob("*.json"))):
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only: its grading processes must follow it
    proc.wait()
    finished = len(list(results.glob("*.json")))
    assert 1 <= finished < len(STUDENTS), "the run was not interrupted in the middle"
    deadline = time.monotonic() + 60  # a loaded machine may take a while to schedule the orphans' exit
    while _processes_of(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _processes_of(out), "grading processes outlived their killed parent"
    again = grade(subs, "--out", out, "--jobs", "1", *FAST)
    assert f"({len(STUDENTS) - finished} now, {finished} reused)" in again.stderr, again.stderr[-2000:]
    assert outputs(out) == outputs(reference)
    assert gradebook(out) == gradebook(reference)


@pytest.mark.parametrize(
    "args",
    [
        ["/nonexistent/submissions"],
        ["{subs}", "--shard", "3/2"],
        ["{subs}", "--assignment", "99_nothing"],
        ["--merge", "{subs}"],
        [],
    ],
)
def test_usage_errors_exit_2(subs: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """In this process: `python -m autograder` exits with what ``main`` returns (``sys.exit(main())``, and every
    other run here goes through the command), so a usage error needs no interpreter start with nbgrader's imports."""
    status = autograder_main(["grade", *[a.format(subs=subs) for a in args], "--out", str(subs.parent / "unused")])
    stderr = capsys.readouterr().err
    assert status == 2, stderr
    assert stderr.startswith("grade: ")
