"""Autograd reached by a C function called from C (issue 12, part 6): caught by the saved-tensor watch
(autograder/guard/saved.py), in one process and through `python -m autograder grade`.

The corpus modules ``*_engine_routes`` hold one such answer per exercise that derives a derivative by hand. Each
is rejected with the watch's message; with the watch switched off it passes every check, so the watch (not a
wrong value) is what rejects it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import os
import weakref

import hostile
import pytest
import torch
from test_corpus import lesson_for
from test_grading import grade, read_grades

import autograder
import corpus
import harness
from autograder import guard
from autograder.grading import cli
from autograder.guard import saved

ROUTES = [v for v in corpus.all_variants() if v.module.endswith("_engine_routes")]
WRONG = [v for v in ROUTES if v.verdict == "wrong"]


def _failures(variant: corpus.Variant) -> dict[str, str]:
    """Grade cells of the variant's exercise that fail on it, with their messages (in one process)."""
    lesson = lesson_for(variant)
    ns = harness.namespace_for(lesson)
    harness.exec_variant(ns, variant.source)
    results = harness.run_grade_cells(lesson, ns, lesson.grade_ids(variant.exercise))
    for gid, exc in results.items():
        assert exc is None or isinstance(exc, autograder.CheckFailed), f"{gid} crashed: {exc!r}"
    return {gid: str(exc) for gid, exc in results.items() if exc is not None}


@contextlib.contextmanager
def _watch_off():
    original = guard.watches_unpacks
    guard.watches_unpacks = lambda paths: False
    try:
        yield
    finally:
        guard.watches_unpacks = original


#: exercises checked under a ban on autograd where an exact derivative is itself a wrong answer
NO_ROUTE = {"numerical_gradient": "its checks test the step eps: autograd's exact derivative fails them anyway"}


@pytest.mark.slow  # every solution's grade cells, one at a time (about a minute)
@pytest.mark.filterwarnings("ignore")
def test_every_exercise_checked_under_a_ban_on_autograd_has_a_route() -> None:
    """Found by running the checks (a ban list that watches saved tensors), not by a list kept by hand."""
    banned: set[str] = set()
    current = [""]
    original = guard.watches_unpacks

    def record(paths: tuple[str, ...]) -> bool:
        if original(paths):
            banned.add(current[0])
        return original(paths)

    guard.watches_unpacks = record
    try:
        for path in harness.source_notebooks():
            lesson = harness.load(path)
            ns = harness.namespace_for(lesson)
            for gid in lesson.grades:
                current[0] = gid[len("test_") :].split("__")[0]
                with contextlib.redirect_stdout(io.StringIO()):
                    harness.run_grade_cells(lesson, ns, [gid])
    finally:
        guard.watches_unpacks = original
    assert len(banned) > 10, banned
    assert banned - {v.exercise for v in WRONG} == set(NO_ROUTE), banned


@pytest.mark.parametrize("variant", WRONG, ids=lambda v: f"{v.module}:{v.exercise}:{v.why}")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_route_is_rejected_by_the_watch_alone(variant: corpus.Variant) -> None:
    failed = _failures(variant)
    assert failed and any(f"`{saved.UNPACKED}`" in msg for msg in failed.values()), failed
    with _watch_off():
        assert not _failures(variant), f"{variant.why}: wrong values too, not only the route"


# ---------------------------------------------------------------- the watch itself (autograder/guard/saved.py)
def _top() -> object:
    return torch._C._autograd._top_saved_tensors_default_hooks(False)


def _engine_grad(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    run = functools.partial(torch._C._ImperativeEngine().run_backward)  # no Python frame, no c_call event
    (grad,) = run((y,), (torch.ones_like(y),), False, False, (x,), False, False)
    return grad


def test_a_forward_with_a_graph_only_packs_and_the_judge_differentiates_it_afterwards() -> None:
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    with guard.forbid(*guard.AUTOGRAD) as hits:
        y = torch.sigmoid(x) * x  # saves tensors: packed by the watch, never read back here
        assert _top() is not None
    assert not hits and _top() is None
    (grad,) = torch.autograd.grad(y.sum(), x)  # the judge, after the call: the saved tensors as they were
    s = torch.sigmoid(x.detach())
    assert torch.allclose(grad, s + x.detach() * s * (1 - s))


def test_an_in_place_change_to_a_saved_tensor_is_still_an_error_afterwards() -> None:
    x = torch.randn(4, requires_grad=True)
    with guard.forbid(*guard.AUTOGRAD):
        a = x * 2
        y = a * a
        a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("route", ["engine", "node"])
def test_a_derivative_read_out_of_the_profilers_sight_is_a_hit(route: str) -> None:
    x = torch.randn(6).requires_grad_(True)
    with guard.forbid(*guard.AUTOGRAD) as hits, contextlib.suppress(BaseException):
        y = torch.exp(x)
        if route == "engine":
            _engine_grad(y, x)
        else:
            functools.partial(torch._C.TensorBase.grad_fn.__get__)(y)(torch.ones_like(y))
    assert hits == [saved.UNPACKED]


def test_only_a_ban_on_autograd_pushes_the_hooks() -> None:
    with guard.forbid("torch.sigmoid") as hits:
        assert _top() is None
        x = torch.randn(3, requires_grad=True)
        _engine_grad(torch.exp(x), x)
    assert not hits


def test_hooks_popped_or_covered_by_the_students_code_are_a_hit() -> None:
    pop = functools.partial(torch._C._autograd._pop_saved_tensors_default_hooks)
    push = functools.partial(torch._C._autograd._push_saved_tensors_default_hooks)
    with guard.forbid(*guard.AUTOGRAD) as popped:
        pop()
    with guard.forbid(*guard.AUTOGRAD) as covered:
        push(torch.Tensor.detach, torch.Tensor.detach)  # C functions: no call event, never popped
    assert popped == [saved.POPPED] and covered == [saved.POPPED]
    assert _top() is None  # what the student's code left was taken off


def test_nested_watches_keep_their_own_hooks() -> None:
    """A check that calls the student inside another (the judge nests guards; student code may not)."""
    x = torch.randn(3, requires_grad=True)
    outer: list[str] = []
    inner: list[str] = []
    with saved.watch_unpacks(outer):
        y = torch.exp(x)
        with saved.watch_unpacks(inner):
            z = torch.exp(x)
        with contextlib.suppress(BaseException):
            _engine_grad(y, x)
    assert not inner and outer == [saved.UNPACKED] and _top() is None
    assert torch.equal(_engine_grad(z, x), z.detach())  # both watches over: the judge reads them back


def test_a_graph_kept_from_an_earlier_call_is_watched_in_a_later_one() -> None:
    x = torch.randn(3, requires_grad=True)
    with guard.forbid(*guard.AUTOGRAD) as first:
        y = torch.exp(x)  # e.g. a forward the student returned, handed back to their backward
    with guard.forbid(*guard.AUTOGRAD) as second, contextlib.suppress(BaseException):
        _engine_grad(y, x)
    assert not first and second == [saved.UNPACKED]


def test_a_saved_output_does_not_keep_its_graph_alive() -> None:
    def record() -> weakref.ref:
        with guard.forbid(*guard.AUTOGRAD):
            y = torch.sigmoid(torch.randn(100, requires_grad=True))  # sigmoid saves its own output
        return weakref.ref(y)

    ref = record()
    gc.collect()
    assert ref() is None


# ---------------------------------------------------------------- through `python -m autograder grade`
LIMITS = ["--cell-timeout", "60", "--deadline", "300", "--no-progress"]  # generous: the machine is shared


def _students() -> dict[str, dict[tuple[str, str], dict[str, str]]]:
    """route-K -> (assignment, notebook) -> exercise -> the solution, then the K-th route redefining it."""
    by_exercise: dict[tuple[str, str, str], list[corpus.Variant]] = {}
    for v in WRONG:
        path = lesson_for(v).path
        by_exercise.setdefault((path.parent.name, path.name, v.exercise), []).append(v)
    students: dict[str, dict] = {}
    for (assignment, name, exercise), variants in by_exercise.items():
        for k, v in enumerate(variants):
            student = students.setdefault(f"route-{k}", {}).setdefault((assignment, name), {})
            student[exercise] = v.source
    return students


@pytest.mark.slow
def test_routes_are_rejected_by_the_grader(tmp_path) -> None:
    """The hooks are pushed in the worker, where the student's code runs: each route loses its exercise's points
    with the watch's message, and the notebook's other exercises are graded as usual."""
    os.environ["NNLAB_GRADER_VERSION"] = cli.grader_version()
    students = _students()
    try:
        subs, out = tmp_path / "submitted", tmp_path / "graded"
        for student, notebooks in students.items():
            for (assignment, name), routes in notebooks.items():
                lesson = hostile.Lesson(assignment, name)
                code = {ex: sol + "\n\n" + routes[ex] + "\n" for ex, sol in lesson.solutions.items() if ex in routes}
                lesson.write(hostile.Case(student, "autograd out of the profiler's sight", exercises=code),
                             subs / student)  # fmt: skip
        proc = grade(subs, "--out", out, "--jobs", "2", *LIMITS, timeout=900)
        grades = read_grades(out)
    finally:
        os.environ.pop("NNLAB_GRADER_VERSION", None)
    assert set(students) <= set(grades), proc.stderr[-3000:]
    missed, others = [], {}
    for student, notebooks in students.items():
        for (_, name), routes in notebooks.items():
            rows = {t: r for t, r in grades[student].items() if r["notebook"] == name}
            for exercise in routes:
                mine = {t: r for t, r in rows.items() if t.startswith(f"test_{exercise}__")}
                if not mine or not any(f"`{saved.UNPACKED}`" in r["message"] for r in mine.values()):
                    missed.append((student, exercise, {t: (r["status"], r["message"][:160]) for t, r in mine.items()}))
            rest = [r["status"] for t, r in rows.items() if not any(t.startswith(f"test_{e}__") for e in routes)]
            others[(student, name)] = rest
    assert not missed, missed
    # the notebook itself was graded (an exercise that builds on a rejected one, as MLP on Linear, may fail too)
    assert all(not rest or "passed" in rest for rest in others.values()), others
