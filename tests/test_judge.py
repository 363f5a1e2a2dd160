"""Nothing of the judge is within a student's reach: lesson checks live in autograder/lessons/, locked cells
define nothing, every function of the judge called from an answer is caught (by code identity, never by a
name the student can set), and a grade cell displays nothing when it passes."""

from __future__ import annotations

import ast
import sys
import types

import judge_answers
import pytest

import autograder
import harness
from autograder import guard, notebook
from autograder.lessons import neurons

#: lessons whose locked helper cells have not moved to autograder/lessons/ yet
PENDING: set[str] = set()


def _nid(path) -> str:
    return f"{path.parent.name}/{path.name}"


def _definitions(source: str) -> list[str]:
    """What a cell defines that its namespace keeps: functions, classes, lambdas bound to a name."""
    found = []
    for node in ast.walk(ast.parse(notebook.strip_markers(source))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Lambda):
            found.append(ast.unparse(node)[:60])
    return found


@pytest.mark.parametrize("path", harness.release_notebooks(), ids=_nid)
def test_no_locked_cell_defines_a_function(path) -> None:
    """A function in a locked cell would be within the student's reach: the judge's live in autograder.lessons."""
    if path.parent.name in PENDING:
        pytest.xfail("lesson not moved to autograder/lessons/ yet")
    lesson = harness.load(path)
    defined = {
        c.grade_id: _definitions(c.source) for c in lesson.cells if c.kind != "exercise" and c.grade_id != "setup"
    }
    assert not {k: v for k, v in defined.items() if v}


@pytest.mark.parametrize("path", harness.source_notebooks(), ids=_nid)
def test_grade_cells_display_nothing(path) -> None:
    """nbgrader reads a grade cell's output as partial credit: a passing grade cell shows nothing at all."""
    lesson = harness.load(path)
    ns = harness.namespace_for(lesson)
    shown = {gid: notebook.run_cell_output(src, ns, gid) for gid, src in lesson.grades.items()}
    assert not {gid: out for gid, out in shown.items() if out}


# ---------------------------------------------------------------- the guard, by code identity


def _cheat_after(prelude: str) -> types.FunctionType:
    """A student function, compiled in a namespace of its own, that runs ``prelude`` and then calls the judge."""
    ns: dict = {"neurons": neurons, "sys": sys}
    exec(compile(prelude + "\ndef answer():\n    return neurons.collapse_reference(None)\n", "<answer>", "exec"), ns)
    return ns["answer"]


@pytest.mark.parametrize("prelude", ["", "__name__ = 'autograder.guard'", "__name__ = 'autograder.lessons.neurons'"])
def test_a_lesson_helper_is_forbidden_whatever_the_module_name(prelude: str) -> None:
    with pytest.raises(guard.ForbiddenCall, match="tests' own neurons.collapse_reference"), guard.forbid():
        _cheat_after(prelude)()


def test_switching_the_profiler_off_is_caught_whatever_the_module_name() -> None:
    ns: dict = {"sys": sys}
    exec(compile("__name__ = 'autograder.guard'\ndef off():\n    sys.setprofile(None)\n", "<answer>", "exec"), ns)
    with pytest.raises(guard.ForbiddenCall, match="sys.setprofile"), guard.forbid("torch.sigmoid"):
        ns["off"]()


def test_code_run_in_a_judge_module_dict_is_caught() -> None:
    with pytest.raises(guard.ForbiddenCall, match="tests' own"), guard.forbid():
        exec("collapse_reference", vars(neurons))


def test_a_judge_module_taken_out_of_sys_modules_is_still_caught() -> None:
    guard.judge_codes()
    saved = sys.modules.pop("autograder.lessons.neurons")
    try:
        with pytest.raises(guard.ForbiddenCall, match="tests' own"), guard.forbid():
            saved.seeded_stack([2, 2])
    finally:
        sys.modules["autograder.lessons.neurons"] = saved


def test_a_students_own_guard_is_caught() -> None:
    """Nested ``ag.forbid()``/``ag.time_limit`` would replace the check's guard: they belong to the tests too."""
    with pytest.raises(guard.ForbiddenCall, match="tests' own"), guard.forbid():
        with autograder.forbid():
            pass


def test_every_function_of_the_judge_is_caught() -> None:
    """Every function and class of every judge module (checks, references, inputs, lessons...), called with
    whatever arguments bind, from student code."""
    import autograder.lessons  # noqa: F401

    judge = guard.judge_codes()
    missed, tried = [], 0
    for name, module in sorted(guard._SEEN.items()):
        if name.startswith(guard._NOT_FORBIDDEN):
            continue
        for attr, obj in vars(module).items():
            if getattr(obj, "__module__", None) != name or not judge_answers._own_code(obj):
                continue
            tried += 1
            ns = {"obj": obj}
            exec(compile(f"def answer():\n    {judge_answers.call_of('obj', obj)}\n", "<answer>", "exec"), ns)
            try:
                with guard.forbid():
                    ns["answer"]()
            except guard.ForbiddenCall as exc:
                if str(exc).startswith(guard.TESTS_OWN):
                    continue
            except Exception:  # noqa: BLE001, S110 - reached the judge unseen: recorded below
                pass
            missed.append(f"{name}.{attr}")
    assert judge.forbidden and tried > 50 and not missed, (tried, missed)


# ---------------------------------------------------------------- every helper, through every exercise


def _answers(path) -> tuple[harness.Lesson, dict, list[judge_answers.Answer]]:
    """The lesson, its namespace once every cell ran (what grade cells bind is reachable too), the answers."""
    lesson = harness.load(path)
    ns = harness.namespace_for(lesson)
    harness.run_grade_cells(lesson, ns, list(lesson.grades))
    return lesson, ns, judge_answers.answers(ns, lesson.solutions)


@pytest.mark.parametrize("path", harness.source_notebooks(), ids=_nid)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_calling_the_judge_from_an_answer_is_rejected(path) -> None:
    """Every helper of the lesson, called from every exercise, fails that exercise with "belongs to the tests"."""
    if path.parent.name in PENDING:
        pytest.xfail("lesson not moved to autograder/lessons/ yet: its helpers are notebook code")
    lesson, ns, answers = _answers(path)
    passed = []
    for answer in answers:
        harness.exec_variant(ns, answer.source)
        verdict = None
        for gid in lesson.grade_ids(answer.exercise):
            verdict = harness.run_grade_cells(lesson, ns, [gid])[gid]
            if verdict is not None:
                break
        harness.exec_variant(ns, lesson.solutions[answer.exercise])
        if answer.handed and verdict is None:
            continue  # given to the student's code by the check itself (its model, a callback): theirs to call
        if verdict is None or "belongs to the tests" not in str(verdict):
            passed.append((answer.exercise, answer.helper, repr(verdict)[:200]))
    assert not passed
