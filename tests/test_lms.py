"""LMS round trip: a Canvas and a Moodle "download all submissions" zip (built here, named as each LMS names its
files) is graded with `grade --lms`, and the grades exported with `--export` in the CSV each LMS imports.

Lesson 01: one student submits the solution, another the release (nothing done); stray files the LMS would
also put in its zip (a PDF, Moodle's online text, a notebook without the LMS's name prefix) must be reported.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import hostile
import nbformat
import pytest
from hostile import lesson_01
from test_grading import FAST, grade

from autograder.__main__ import main
from autograder.grading import lms

LESSON = hostile.Lesson(*lesson_01.LESSON)
FULL = sum(LESSON.points.values())
NB = LESSON.name


def notebooks() -> dict[str, bytes]:
    return {"solution": nbformat.writes(LESSON.solved()).encode(), "release": nbformat.writes(LESSON.release).encode()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def header(path: Path) -> list[str]:
    return next(csv.reader(io.StringIO(path.read_text())))


def totals(out: Path) -> dict[str, tuple[float, float]]:
    """Per student: the sum of score and max_score over grades.csv."""
    sums: dict[str, list[float]] = {}
    for row in read_csv(out / "grades.csv"):
        s = sums.setdefault(row["student"], [0.0, 0.0])
        s[0] += float(row["score"])
        s[1] += float(row["max_score"])
    return {k: (v[0], v[1]) for k, v in sums.items()}


def build(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


#: Canvas: (lastfirst, user id, submission id, late?, what they submitted)
CANVAS = [("doejane", "1001", "5001", False, "solution"), ("smithbob", "1002", "5002", True, "release")]
#: Moodle: (full name, participant id, what they submitted)
MOODLE = [("Jane Doe", "310", "solution"), ("Bob van Smith", "311", "release")]


@pytest.fixture(scope="module")
def canvas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], object]:
    tmp = tmp_path_factory.mktemp("canvas")
    nbs = notebooks()
    members = {}
    for last_first, uid, sid, late, kind in CANVAS:
        members[f"{last_first}_{'late_' if late else ''}{uid}_{sid}_{NB}"] = nbs[kind]
    members["smithbob_late_1002_5002_notes.pdf"] = b"%PDF-1.4"  # the late scheme on a non-notebook
    members[NB] = nbs["solution"]  # no Canvas prefix: whose is it?
    archive = build(tmp / "submissions.zip", members)
    out = tmp / "graded"
    proc = grade(archive, "--lms", "canvas", "--export", "canvas", "--out", out, *FAST)
    return out, members, proc


@pytest.fixture(scope="module")
def moodle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], object]:
    tmp = tmp_path_factory.mktemp("moodle")
    nbs = notebooks()
    members = {}
    for name, pid, kind in MOODLE:
        members[f"{name}_{pid}_assignsubmission_file_/{NB}"] = nbs[kind]
    members["Jane Doe_310_assignsubmission_onlinetext_/onlinetext.html"] = b"<p>see my notebook</p>"
    members[f"stray/{NB}"] = nbs["release"]
    archive = build(tmp / "submissions.zip", members)
    out = tmp / "graded"
    proc = grade(archive, "--lms", "moodle", "--export", "moodle", "--out", out, *FAST)
    return out, members, proc


def check_import(out: Path, members: dict[str, bytes], proc: object, expected: dict[str, str]) -> None:
    """Every file of the zip is listed once; the LMS-named notebooks are collected for their student, the rest
    reported (with a reason, on stderr too, exit status 1); each student's grade is what they submitted."""
    assert proc.returncode == 1, proc.stderr[-3000:]
    report = read_csv(out / lms.IMPORT_REPORT)
    assert sorted(r["file"] for r in report) == sorted(members)
    collected = {r["student"]: r for r in report if r["status"] == "collected"}
    assert set(collected) == set(expected)
    unmapped = [r for r in report if r["status"] != "collected"]
    assert unmapped and all(r["reason"] and r["file"] in proc.stderr for r in unmapped), proc.stderr
    graded = totals(out)
    assert set(graded) == set(expected)
    for student, kind in expected.items():
        assert graded[student] == ((FULL if kind == "solution" else 0), FULL), (student, kind)


@pytest.mark.slow
def test_canvas_zip_is_graded_and_exported(canvas) -> None:
    out, members, proc = canvas
    check_import(out, members, proc, {uid: kind for _, uid, _, _, kind in CANVAS})
    report = {r["file"]: r for r in read_csv(out / lms.IMPORT_REPORT)}
    for last_first, uid, sid, late, _ in CANVAS:
        row = report[f"{last_first}_{'late_' if late else ''}{uid}_{sid}_{NB}"]
        assert (row["student"], row["name"], row["notebook"], row["late"]) == (uid, last_first, NB, "yes" * late)
    path = out / "canvas_grades.csv"
    assert header(path) == lms.CANVAS_FIXED + [LESSON.assignment]
    rows = read_csv(path)
    assert rows[0]["Student"].strip() == "Points Possible" and float(rows[0][LESSON.assignment]) == FULL
    graded = totals(out)
    assert {r["ID"]: float(r[LESSON.assignment]) for r in rows[1:]} == {k: v[0] for k, v in graded.items()}
    assert {r["ID"]: r["Student"] for r in rows[1:]} == {uid: name for name, uid, *_ in CANVAS}


@pytest.mark.slow
def test_moodle_zip_is_graded_and_exported(moodle) -> None:
    out, members, proc = moodle
    check_import(out, members, proc, {pid: kind for _, pid, kind in MOODLE})
    path = out / f"moodle_{LESSON.assignment}.csv"
    assert header(path) == lms.MOODLE_COLUMNS
    rows = read_csv(path)
    graded = totals(out)
    assert {r["Identifier"]: float(r["Grade"]) for r in rows} == {f"Participant {k}": v[0] for k, v in graded.items()}
    assert {r["Identifier"]: r["Full name"] for r in rows} == {f"Participant {pid}": name for name, pid, _ in MOODLE}
    assert all(float(r["Maximum Grade"]) == FULL for r in rows)


def test_moodle_flat_names_and_canvas_schemes_are_read(tmp_path: Path) -> None:
    """The collectors alone (no grading): Moodle's flat naming, Canvas's late_ variant, names with underscores."""
    extracted = tmp_path / "extracted"
    for cls, rel, want in [
        (lms.MoodleCollector, "m/Ann_Lee_77_assignsubmission_file_01_neurons.ipynb", ("77", "Ann_Lee", NB)),
        (lms.MoodleCollector, "m/Ann Lee_77_assignsubmission_file_/sub/x.ipynb", ("77", "Ann Lee", "sub/x.ipynb")),
        (lms.CanvasCollector, "c/leeann_late_42_9_01_neurons.ipynb", ("42", "leeann", NB)),
        (lms.CanvasCollector, "c/leeann_42_9_my_work.ipynb", ("42", "leeann", "my_work.ipynb")),
    ]:
        collector = cls()
        collector.extracted = str(extracted)
        info = collector.collect(str(extracted / rel))
        entry = collector.entries[0]
        assert info == {"student_id": want[0], "file_id": want[2]} and (entry.student, entry.name) == want[:2]
    for cls, rel in [(lms.CanvasCollector, "c/leeann_01_neurons.ipynb"), (lms.MoodleCollector, "m/Ann Lee.ipynb")]:
        collector = cls()
        collector.extracted = str(extracted)
        assert collector.collect(str(extracted / rel)) is None and collector.entries[0].reason


def test_export_of_a_folder_graded_without_an_lms(tmp_path: Path) -> None:
    """Hub usernames are no LMS ids: Canvas gets them as SIS Login IDs; Moodle cannot match them and says so."""
    rows = [["alice", "01_neurons", "7", "21"], ["2001", "01_neurons", "21", "21"]]
    lms._write_csv(tmp_path / "summary.csv", ["student", "assignment", "score", "max_score"], rows)
    (path,), problems = lms.export(tmp_path, "canvas")
    got = {r["Student"]: r for r in read_csv(path)[1:]}
    assert (got["alice"]["ID"], got["alice"]["SIS Login ID"], got["alice"]["01_neurons"]) == ("", "alice", "7")
    assert (got["2001"]["ID"], got["2001"]["01_neurons"]) == ("2001", "21") and not problems
    (path,), problems = lms.export(tmp_path, "moodle")
    assert [r["Identifier"] for r in read_csv(path)] == ["Participant 2001"]
    assert len(problems) == 1 and problems[0].startswith("alice/01_neurons")


@pytest.mark.parametrize("case", ["folder", "not_a_zip", "no_lms_names", "two_assignments"])
def test_unusable_lms_input_is_a_usage_error(tmp_path: Path, case: str, capsys: pytest.CaptureFixture) -> None:
    nbs = notebooks()
    target = {
        "folder": tmp_path,
        "not_a_zip": tmp_path / "x.zip",
        "no_lms_names": build(tmp_path / "a.zip", {NB: nbs["solution"], "b/c.ipynb": nbs["release"]}),
        "two_assignments": build(tmp_path / "b.zip", {f"x_1_2_{NB}": nbs["solution"]}),
    }[case]
    if case == "not_a_zip":
        target.write_bytes(b"not a zip")
    extra = ["--assignment", LESSON.assignment, "--assignment", "other"] if case == "two_assignments" else []
    code = main(["grade", str(target), "--lms", "canvas", "--out", str(tmp_path / "out"), *extra])
    assert code == 2
    message = capsys.readouterr().err
    assert message.startswith("grade: ") and "Traceback" not in message, message
