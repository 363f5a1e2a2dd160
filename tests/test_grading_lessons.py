"""Remote equals local, on every lesson: `python -m autograder grade` gives each test the verdict that the
notebook's own checks give in one process (autograder.notebook's runner, as tests/test_corpus.py uses it).

One `grade` run (``--jobs 2``) over a few synthetic students, each submitting the whole course:

* ``solution`` — every exercise solved; ``release`` — the release untouched;
* ``wrong-K`` — every exercise answered by its K-th wrong corpus variant (tests/corpus/), at once;
* ``correct-K`` — every exercise answered by its K-th correct corpus variant.

For every (student, notebook, test) the grader's status (passed or not) must equal the verdict of the same
submission's grade cells run in one process. Noise (part of issue 12) rides along on lesson 03's sigmoid:
a correct sigmoid that warns ``"debug"`` or prints 300,000 lines per call keeps full marks, one that
overflows in numpy (a numerical warning) fails its stability test, one that prints forever times out.
"""

from __future__ import annotations

import contextlib
import csv
import io
import textwrap
import warnings

import hostile
import pytest
from test_corpus import lesson_for
from test_grading import ROOT, grade

import corpus
import harness
from autograder import guard, notebook

WRONG_ROUNDS = 2
#: the checks' own time limits, as in one process; generous cell and notebook limits (the machine is shared)
LIMITS = ["--cell-timeout", "60", "--deadline", "300", "--no-progress"]
CORRECT_ROUNDS = 1
#: the student whose sigmoid never returns is graded in a run of its own with every call capped at this many
#: seconds: under the checks' own limit (10 s) its 11 time-outs kept one of the two jobs spinning for about two
#: minutes, the longest task of the test suite (the message still names the check's limit)
ENDLESS, ENDLESS_CAP = "noise-endless-print", "2"
SIGMOID = ("03_activations", "01_sigmoid.ipynb")
NOISE = {
    "noise-debug-warning": """
        import warnings
        def sigmoid(x):
            warnings.warn("debug")
            return torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))
        """,
    "noise-print-flood": """
        def sigmoid(x):
            for i in range(300_000):
                print("sigmoid debug line", i)
            return torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))
        """,
    "noise-endless-print": """
        def sigmoid(x):
            while True:  # genuinely endless: noise or not, it runs out of time
                print("still here")
        """,
    "noise-numerical-warning": """
        import numpy as np
        def sigmoid(x):
            out = 1 / (1 + np.exp(-x.detach().numpy().astype("float64")))  # overflows for x < -709
            return torch.as_tensor(out, dtype=x.dtype)
        """,
}


def _notebooks() -> list[tuple[str, str]]:
    return [(p.parent.name, p.name) for p in harness.source_notebooks()]


def _students() -> dict[str, dict[tuple[str, str], dict[str, str] | None]]:
    """student -> (assignment, notebook) -> exercise -> code (None: the release as it is)."""
    by_exercise: dict[tuple[str, str, str], list[corpus.Variant]] = {}
    for v in corpus.all_variants():
        path = lesson_for(v).path
        by_exercise.setdefault((path.parent.name, path.name, v.exercise), []).append(v)
    students: dict[str, dict] = {"solution": {}, "release": {}}
    for key in _notebooks():
        students["solution"][key] = {}
        students["release"][key] = None
    for verdict, rounds in (("wrong", WRONG_ROUNDS), ("correct", CORRECT_ROUNDS)):
        for k in range(rounds):
            student = students[f"{verdict}-{k}"] = {}
            for key in _notebooks():
                chosen = {}
                for exercise in notebook.load(harness.SOLUTIONS / key[0] / key[1]).exercises():
                    options = [v for v in by_exercise.get((*key, exercise), []) if v.verdict == verdict]
                    assert options, f"{key[1]}: no {verdict} corpus variant of {exercise}"
                    chosen[exercise] = options[k % len(options)].source
                student[key] = chosen
    for name, code in NOISE.items():
        students[name] = {SIGMOID: {"sigmoid": code}}
    return students


STUDENTS = _students()


def _exercise_code(solution: str, variant: str | None) -> str:
    """The solution, then the variant redefining the exercise (what test_corpus.py executes)."""
    code = textwrap.dedent(solution).strip() + "\n"
    return code if variant is None else code + "\n\n" + textwrap.dedent(variant).strip() + "\n"


def _local_verdicts(key: tuple[str, str], answers: dict[str, str] | None) -> dict[str, BaseException | None]:
    """Run the submission's exercise cells and the source's other cells in one process; test -> what it
    raised (None: it passed)."""
    source = notebook.load(harness.SOLUTIONS / key[0] / key[1])
    release = notebook.load(harness.RELEASE / key[0] / key[1]).solutions
    ns: dict = {"__name__": "__lesson__"}
    for cell in source.cells:
        if cell.kind == "grade":
            continue
        code = cell.source
        if cell.kind == "exercise":
            code = release[cell.grade_id] if answers is None else _exercise_code(code, answers.get(cell.grade_id))
        with contextlib.suppress(Exception):  # the grader also goes on after a cell that fails
            notebook.run_source(code, ns, cell.grade_id)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return notebook.run_grade_cells(source, ns, list(source.grades))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("lessons")
    out = base / "graded"
    for student, notebooks in STUDENTS.items():
        subs = base / ("endless" if student == ENDLESS else "submitted")
        for key, answers in notebooks.items():
            target = subs / student / key[0]
            target.mkdir(parents=True, exist_ok=True)
            lesson = hostile.Lesson(*key)
            if answers is None:
                (target / key[1]).write_bytes((ROOT / "notebooks" / key[0] / key[1]).read_bytes())
                continue
            code = {ex: _exercise_code(sol, answers.get(ex)) for ex, sol in lesson.solutions.items()}
            lesson.write(hostile.Case(student, "remote equals local", exercises=code), subs / student)
    proc = grade(base / "submitted", "--out", out, "--jobs", "2", *LIMITS, timeout=1500)
    endless = grade(base / "endless", "--out", base / "endless-graded", "--call-timeout", ENDLESS_CAP, *LIMITS)
    rows: dict[tuple[str, str, str, str], dict] = {}
    for folder, student in ((out, None), (base / "endless-graded", ENDLESS)):
        with open(folder / "grades.csv", newline="") as f:
            for row in csv.DictReader(f):
                if student is None or row["student"] == student:
                    rows[(row["student"], row["assignment"], row["notebook"], row["test_id"])] = row
    return {"proc": proc, "endless": endless, "rows": rows, "out": out}


@pytest.mark.slow
def test_remote_verdicts_equal_local_on_every_lesson(graded: dict) -> None:
    rows, compared, differences, timed_out = graded["rows"], 0, [], []
    for student, notebooks in STUDENTS.items():
        if student.startswith("noise-"):
            continue
        for key, answers in notebooks.items():
            local = _local_verdicts(key, answers)  # (empty for a notebook without grade cells)
            for test, exc in local.items():
                row = rows.get((student, *key, test))
                assert row is not None, f"no grade for {student} {key[1]} {test}: {graded['proc'].stderr[-2000:]}"
                if row["status"] == "timeout" or _timed_out(exc):  # the machine's load, on one side: not a verdict
                    timed_out.append((student, key[1], test))
                    continue
                compared += 1
                if (row["status"] == "passed") != (exc is None):
                    differences.append((student, key[1], test, repr(exc)[:300], row["status"], row["message"][:300]))
    print(f"remote vs local: {compared} verdicts compared, {len(differences)} differences, "
          f"{len(timed_out)} left out (a time limit ran out on one side): {timed_out}")  # fmt: skip
    assert compared > 500 and len(timed_out) <= compared // 50, timed_out
    assert not differences, differences


def _timed_out(exc: BaseException | None) -> bool:
    return isinstance(exc, guard.StudentTimeout) or "did not return within" in str(exc or "")


@pytest.mark.slow
def test_every_student_scores_as_expected(graded: dict) -> None:
    """The solution gets full marks, the release zero, and every wrong round loses points in every notebook
    with exercises (each of its exercises is wrong)."""
    rows = graded["rows"]
    for key in _notebooks():
        mine = {s: [r for (st, a, n, _), r in rows.items() if st == s and (a, n) == key] for s in STUDENTS}
        if not mine["solution"] and not notebook.load(harness.SOLUTIONS / key[0] / key[1]).grades:
            continue  # a notebook without grade cells (a reading)
        assert mine["solution"] and all(r["status"] == "passed" for r in mine["solution"]), key
        assert all(float(r["score"]) == 0 for r in mine["release"]), key
        for k in range(WRONG_ROUNDS):
            assert any(r["status"] != "passed" for r in mine[f"wrong-{k}"]), key


@pytest.mark.slow
def test_noise_is_not_wrong(graded: dict) -> None:
    rows = graded["rows"]

    def tests_of(student: str) -> dict[str, dict]:
        return {t: r for (s, a, n, t), r in rows.items() if s == student and (a, n) == SIGMOID}

    got = tests_of("noise-debug-warning")
    assert got and all(r["status"] == "passed" for r in got.values()), {
        t: (r["status"], r["message"][:200]) for t, r in got.items() if r["status"] != "passed"
    }
    # The print flood is correct code: full marks. Once the output cap is spent, print writes to a discard and
    # is called through a partial the guard's profiler does not see, so the student's loop costs what it costs
    # without a check (gradcheck calls it ~42 times under one time limit: 13/15 before, a time-out).
    flood = tests_of("noise-print-flood")
    assert flood and all(r["status"] == "passed" for r in flood.values()), {
        t: (r["status"], r["message"][:200]) for t, r in flood.items() if r["status"] != "passed"
    }
    endless = tests_of(ENDLESS)
    sigmoid_tests = {t: r for t, r in endless.items() if t.startswith("test_sigmoid__")}
    assert sigmoid_tests and all(r["status"] == "timeout" for r in sigmoid_tests.values()), sigmoid_tests
    assert all("did not return within" in r["message"] for r in sigmoid_tests.values()), sigmoid_tests
    log = graded["out"] / "logs" / SIGMOID[0] / "noise-print-flood" / "01_sigmoid.txt"
    assert "more bytes of output were dropped" in log.read_text()[-500:]
    assert log.stat().st_size < 100_000
    numerical = tests_of("noise-numerical-warning")
    failed = {t for t, r in numerical.items() if r["status"] != "passed"}
    assert "test_sigmoid__stable_at_extremes" in failed, failed
    assert "numerical warning" in numerical["test_sigmoid__stable_at_extremes"]["message"]
    assert "overflow" in numerical["test_sigmoid__stable_at_extremes"]["message"]
    local = _local_verdicts(SIGMOID, STUDENTS["noise-numerical-warning"][SIGMOID])
    assert {t for t, exc in local.items() if exc is not None} == failed
    local = _local_verdicts(SIGMOID, STUDENTS["noise-debug-warning"][SIGMOID])
    assert not any(local.values()), local
