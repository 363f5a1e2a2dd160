"""Through `python -m autograder grade` (the sandboxed grader), answers that call the judge are rejected too.

One student per notebook below; each calls a different helper of the lesson (generated from the notebook's
namespace, tests/judge_answers.py) in several of its exercises. Every such exercise must lose points with
"belongs to the tests"; the notebook's other tests are graded as usual.
"""

from __future__ import annotations

import os

import hostile
import judge_answers
import pytest
from test_grading import FAST, grade, read_grades

import harness
from autograder.grading import cli

#: (assignment, notebook): lessons whose helpers are references, diagnoses, test functions and probes
NOTEBOOKS = [
    ("01_neurons", "01_neurons.ipynb"),
    ("03_activations", "01_sigmoid.ipynb"),
    ("05_backprop", "05b_mlp_by_hand.ipynb"),
    ("07_cnn", "07_cnn.ipynb"),
]
PER_NOTEBOOK = 3  # exercises per student that call a helper
#: a notebook whose checks give the student functions of the judge to call (numerical_gradient(f, x) with f =
#: backprop.wavy): its solution keeps full marks
HANDING = ("05_backprop", "05b_mlp_by_hand.ipynb")


def _answers(assignment: str, name: str) -> dict[str, judge_answers.Answer]:
    """Up to PER_NOTEBOOK exercises, each calling a different helper (not one the checks hand over)."""
    lesson = harness.load(harness.SOLUTIONS / assignment / name)
    ns = harness.namespace_for(lesson)
    harness.run_grade_cells(lesson, ns, list(lesson.grades))
    chosen: dict[str, judge_answers.Answer] = {}
    used: set[str] = set()
    for answer in judge_answers.answers(ns, lesson.solutions):
        if answer.handed or answer.exercise in chosen or answer.helper in used or len(chosen) == PER_NOTEBOOK:
            continue
        chosen[answer.exercise] = answer
        used.add(answer.helper)
    return chosen


@pytest.mark.slow
def test_calling_the_judge_is_rejected_by_the_grader(tmp_path) -> None:
    os.environ["NNLAB_GRADER_VERSION"] = cli.grader_version()
    try:
        subs, out = tmp_path / "submitted", tmp_path / "graded"
        plan = {}
        for i, (assignment, name) in enumerate(NOTEBOOKS):
            answers = _answers(assignment, name)
            assert answers, f"no helper found in {assignment}/{name}"
            student = f"cheat-{i}"
            plan[student] = (name, answers)
            lesson = hostile.Lesson(assignment, name)
            case = hostile.Case(student, "calls the judge", exercises={e: a.source for e, a in answers.items()})
            lesson.write(case, subs / student)
        hostile.Lesson(*HANDING).write(hostile.Case("solution", "the solution"), subs / "solution")
        proc = grade(subs, "--out", out, "--jobs", "2", *FAST, timeout=300)
        grades = read_grades(out)
    finally:
        os.environ.pop("NNLAB_GRADER_VERSION", None)
    assert set(plan) | {"solution"} <= set(grades), proc.stderr[-3000:]
    rows = grades["solution"].items()
    handing = {t: (r["status"], r["message"][:120]) for t, r in rows if r["notebook"] == HANDING[1]}
    assert handing and all(status == "passed" for status, _ in handing.values()), handing
    missed = []
    for student, (name, answers) in plan.items():
        for exercise, answer in answers.items():
            rows = {t: r for t, r in grades[student].items() if t.startswith(f"test_{exercise}__")}
            if not any(r["status"] == "failed" and "belongs to the tests" in r["message"] for r in rows.values()):
                missed.append((student, exercise, answer.helper, {t: r["message"][:120] for t, r in rows.items()}))
        untouched = {
            t: r["status"]
            for t, r in grades[student].items()
            if r["notebook"] == name and not any(t.startswith(f"test_{e}__") for e in answers)
        }
        # the notebook itself was graded (exercises that use a cheating one, as MLP uses Linear, may fail too)
        assert not untouched or "passed" in untouched.values(), (student, untouched)
    assert not missed, missed
