"""`python -m autograder grade` against the hostile corpus of lesson 01 (tests/hostile/): one run, every case.

Each case is a student; the run is one `grade` command with two grading processes. A case passes when
every test scores what the case expects (0 for the tests it names, full marks for all others), with the
expected status, repairs and captured output; the grader itself must survive and grade everyone.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import hostile
import pytest
from hostile import lesson_01

import corpus

pytestmark = pytest.mark.slow  # whole `grade` runs through the sandboxed worker

ROOT = Path(__file__).resolve().parent.parent
LESSON = hostile.Lesson(*lesson_01.LESSON)
CASES = {c.name: c for c in lesson_01.cases(LESSON)}
#: lesson 01's corpus (tests/corpus/): graded through `grade`, each variant must get the in-process verdict
VARIANTS = {f"corpus-{i:02d}": v for i, v in enumerate(corpus.variants_of(ROOT / "tests/corpus/lesson_01_neurons.py"))}
FAST = ["--call-timeout", "3", "--cell-timeout", "5", "--deadline", "120", "--memory", "1024", "--no-progress"]


def grade(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "autograder", "grade", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def read_summary(out: Path) -> dict[str, dict]:
    with open(out / "summary.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def read_grades(out: Path) -> dict[str, dict[str, dict]]:
    rows: dict[str, dict[str, dict]] = {}
    with open(out / "grades.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["student"], {})[row["test_id"]] = row
    return rows


def _hostile_processes(out: Path) -> list[int]:
    """The background processes the hostile case started in this run (not in another test run on the machine):
    named nnlab-hostile, with this run's output folder in their environment (the grader's HOME lies in it)."""
    marker = str(out.resolve()).encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "nnlab-hostile":
                    if marker in Path(f"/proc/{entry}/environ").read_bytes():
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("hostile")
    subs, out = base / "submitted", base / "graded"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    paths = {
        "SOLUTIONS": str(ROOT / "solutions" / LESSON.assignment / LESSON.name),
        "GRADEBOOK": str(out / "gradebook.db"),
        "OTHER": str(subs / "solution" / LESSON.assignment),
        "RESULTS": str(out / "results"),
        "ROOT": str(ROOT),
        "PORT": str(listener.getsockname()[1]),
    }
    for case in CASES.values():
        case.exercises = {k: lesson_01.substitute(v, paths) for k, v in case.exercises.items()}
        LESSON.write(case, subs / case.name)
    for student, variant in VARIANTS.items():
        LESSON.write(hostile.Case(student, variant.why, exercises={variant.exercise: variant.source}), subs / student)
    seen: set[int] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.update(_hostile_processes(out))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    proc = grade(subs, "--out", out, "--jobs", "2", *FAST)
    stop.set()
    watcher.join()
    listener.close()
    grades, summary = read_grades(out), read_summary(out)
    return {"proc": proc, "out": out, "grades": grades, "summary": summary, "seen": seen,
            "seconds": time.monotonic() - started}  # fmt: skip


def test_the_run_survives_and_grades_everyone(run) -> None:
    proc = run["proc"]
    assert proc.returncode == 1, proc.stderr[-3000:]  # crashes and repairs need a look: exit status 1
    assert set(run["grades"]) == set(CASES) | set(VARIANTS), proc.stderr[-3000:]
    assert re.search(rf"graded {len(CASES) + len(VARIANTS)} submission", proc.stderr)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_scores(run, name: str) -> None:
    case = CASES[name]
    rows = run["grades"][name]
    assert set(rows) == set(LESSON.points), "every test of the notebook has a row"
    got = {t: float(r["score"]) for t, r in rows.items()}
    assert got == case.expected(LESSON.points), {t: (r["status"], r["message"][:200]) for t, r in rows.items()}
    for t, r in rows.items():
        if float(r["score"]) == 0:
            assert r["message"].strip(), f"{t}: a zero without a reason"
            if case.status:
                assert r["status"] == case.status, (t, r["status"], r["message"][:300])
        else:
            assert r["status"] == "passed"
    if case.repair:
        assert all(case.repair in r["message"] for r in rows.values()), next(iter(rows.values()))["message"]
    if case.log:
        log = (run["out"] / "logs" / LESSON.assignment / name / LESSON.name.replace(".ipynb", ".txt")).read_text()
        assert case.log in log, log[-2000:]
    if case.review:
        note = run["summary"][name]
        assert "review the code" in note["message"] and case.review in note["message"], note
        assert note["needs_attention"] == "yes", note


def test_only_code_that_hides_something_is_flagged_for_review(run) -> None:
    """The corpus's answers, right or wrong, and the solution are ordinary code: no "review the code" note;
    the corpus answer written to hide a forbidden call gets one."""
    for student in [*VARIANTS, "solution", "release"]:
        hides = student in VARIANTS and "to hide" in VARIANTS[student].why
        assert ("review the code" in run["summary"][student]["message"]) == hides, (student, run["summary"][student])
    assert any("to hide" in v.why for v in VARIANTS.values())


@pytest.mark.parametrize("student", sorted(VARIANTS))
def test_corpus_verdicts_hold_remotely(run, student: str) -> None:
    """Graded in a worker, a wrong variant still fails some test of its exercise and a correct one passes all."""
    variant = VARIANTS[student]
    rows = run["grades"][student]
    mine = {t: r for t, r in rows.items() if t.startswith(f"test_{variant.exercise}__")}
    assert mine and all(r["status"] in ("passed", "failed") for r in mine.values())
    passed = all(r["status"] == "passed" for r in mine.values())
    assert passed == (variant.verdict == "correct"), (variant.why, {t: r["message"][:200] for t, r in mine.items()})


def test_background_process_was_started_and_is_dead(run) -> None:
    assert run["seen"], "the forked background process never showed up: the case tests nothing"
    assert not _hostile_processes(run["out"]), "a process the submission started outlived its grading"


def test_flood_log_is_capped(run) -> None:
    log = run["out"] / "logs" / LESSON.assignment / "output_flood" / "01_neurons.txt"
    assert log.stat().st_size < 200_000


def test_messages_teach(run) -> None:
    rows = run["grades"]
    assert "changed its input in place" in rows["mutate_input"]["test_neuron__example"]["message"]
    assert "subclass of torch.Tensor" in rows["tensor_subclass"]["test_neuron__example"]["message"]
    assert "does not allow" in rows["patch_guard"]["test_linear__example"]["message"]
    assert (
        "calls your `linear`, which is not implemented yet"
        in rows["unfinished_dependency"]["test_Linear__forward"]["message"]
    )
    assert "not valid JSON" in rows["corrupt_json"]["test_neuron__example"]["message"]
    assert "belongs to the tests" in rows["calls_the_judge"]["test_collapse_linear_stack__with_bias"]["message"]
    assert "sys.setprofile" in rows["guard_name_spoof"]["test_MLP__matches_sequential"]["message"]
    assert "started more than" in rows["process_swarm"]["test_count_parameters__layers"]["message"]


def test_feedback_has_no_hidden_test(run) -> None:
    visible = {line.strip() for c in LESSON.source.cells for line in c.release.splitlines()}
    hidden = []
    for cell in LESSON.source.grade_cells():
        for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", cell.cell.source, re.S):
            hidden += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 12 and ln.strip() not in visible]
    assert hidden, "the lesson has hidden tests to hide"
    pages = list((run["out"] / "feedback").rglob("*.html"))
    assert len(pages) == len(CASES) + len(VARIANTS)
    for page in pages:
        text = page.read_text()
        from html import unescape

        text = unescape(text)
        assert not [line for line in hidden if line in text], page


def test_gradebook_matches_csv(run) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{run['out'] / 'gradebook.db'}") as gb:
        for student, rows in run["grades"].items():
            for test, row in rows.items():
                grade = gb.find_grade(test, "01_neurons", LESSON.assignment, student)
                assert grade.score == float(row["score"]), (student, test)
                assert grade.needs_manual_grade == (row["status"] not in ("passed", "failed"))


def test_corpus_is_big_enough() -> None:
    hostile_cases = [c for c in CASES if c not in ("solution", "release")]
    assert len(hostile_cases) >= 25
