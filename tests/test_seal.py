"""The worker's seal (autograder/grading/seal.py): every route to the judge's modules is seen, put back and named."""

from __future__ import annotations

import socket
import sys
import types
from collections.abc import Iterator

import pytest

from autograder import guard
from autograder.grading import seal as seal_module
from autograder.grading.seal import Seal, sealed_modules
from autograder.grading.worker import Worker

SOURCE = """
import functools

LIMIT = 3

def helper(x, scale=2, *, shift=1):
    return x * scale + shift

def _wrap(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper

@_wrap
def wrapped(x):
    return x + LIMIT

class Spy:
    kind = "spy"

    def forbidden(self, name):
        return name == "torch.sigmoid"

    @staticmethod
    def plain():
        return 1
"""


@pytest.fixture
def toy() -> Iterator[types.ModuleType]:
    """A module named like the judge's, with a global, a class, defaults, keyword defaults and a closure."""
    module = types.ModuleType("autograder._seal_toy")
    exec(compile(SOURCE, "<seal toy>", "exec"), vars(module))  # noqa: S102 - the test's own source
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


class _AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


ROUTES = {
    "module global": (lambda m: setattr(m, "helper", lambda x: 0), "autograder._seal_toy.helper"),
    "global deleted": (lambda m: delattr(m, "LIMIT"), "autograder._seal_toy.LIMIT"),
    "global added": (lambda m: setattr(m, "len", lambda x: 0), "autograder._seal_toy.len"),
    "global equal by __eq__": (lambda m: setattr(m, "LIMIT", _AlwaysEqual()), "autograder._seal_toy.LIMIT"),
    "class attribute": (
        lambda m: setattr(m.Spy, "forbidden", lambda s, n: False),
        "autograder._seal_toy.Spy.forbidden",
    ),
    "class attribute added": (lambda m: setattr(m.Spy, "__getattr__", len), "autograder._seal_toy.Spy.__getattr__"),
    "function __code__": (
        lambda m: setattr(m.helper, "__code__", (lambda x, scale=2, *, shift=1: 0).__code__),
        "autograder._seal_toy.helper.__code__",
    ),
    "function __defaults__": (
        lambda m: setattr(m.helper, "__defaults__", (0,)),
        "autograder._seal_toy.helper.__defaults__",
    ),
    "function __kwdefaults__": (
        lambda m: setattr(m.helper, "__kwdefaults__", {"shift": 0}),
        "autograder._seal_toy.helper.__kwdefaults__",
    ),
    "method __code__": (
        lambda m: setattr(m.Spy.forbidden, "__code__", (lambda self, name: False).__code__),
        "autograder._seal_toy.Spy.forbidden.__code__",
    ),
    "wrapped function": (
        lambda m: setattr(m.wrapped.__wrapped__, "__code__", (lambda x: x).__code__),
        "autograder._seal_toy.wrapped.__wrapped__.__code__",
    ),
    "closure cell": (
        lambda m: setattr(m.wrapped.__closure__[0], "cell_contents", lambda *a: 0),
        "autograder._seal_toy.wrapped.__closure__[0]",
    ),
    "module class": (
        lambda m: setattr(m, "__class__", type("Sneaky", (types.ModuleType,), {})),
        "autograder._seal_toy.__class__",
    ),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_is_seen_put_back_and_named(toy: types.ModuleType, route: str) -> None:
    seal = Seal({toy.__name__: toy})
    before = (toy.helper(5), toy.wrapped(1), toy.Spy().forbidden("torch.sigmoid"), toy.LIMIT, type(toy))
    assert seal.intact() and seal.check() == []
    tamper, name = ROUTES[route]
    tamper(toy)
    assert not seal.intact()
    assert name in seal.repair()
    assert seal.intact() and seal.check() == []
    assert (toy.helper(5), toy.wrapped(1), toy.Spy().forbidden("torch.sigmoid"), toy.LIMIT, type(toy)) == before
    assert not hasattr(toy, "len") and "__getattr__" not in vars(toy.Spy)


def test_a_warning_registry_is_not_a_change(toy: types.ModuleType) -> None:
    seal = Seal({toy.__name__: toy})
    vars(toy)["__warningregistry__"] = {}
    assert seal.check() == [] and seal.intact()


def test_the_judges_cache_is_renewed_by_the_judge_not_reported() -> None:
    from autograder.guard import judge

    seal = Seal(sealed_modules())
    honest = judge.judge_codes()
    forged = judge._Judge({})
    judge._JUDGE = forged
    assert seal.check() == []
    assert judge._JUDGE is not forged and judge._JUDGE.dicts == honest.dicts
    assert seal.intact()


def test_the_worker_seals_the_modules_its_guarded_calls_use() -> None:
    names = set(sealed_modules())
    wanted = {"autograder.guard", "autograder.guard.judge", "autograder.guard.names", "autograder.guard.saved",
              "autograder.checks.state", "autograder.reference", "autograder.grading.worker",
              "autograder.grading.worker_codec", "autograder.grading.protocol", "autograder.grading.wire"}  # fmt: skip
    assert wanted <= names
    assert not any(n.startswith("autograder.lessons") for n in names)
    assert seal_module.SEALED  # the list the worker reads


@pytest.fixture
def worker() -> Iterator[Worker]:
    a, b = socket.socketpair()
    try:
        yield Worker(a)
    finally:
        a.close()
        b.close()


def test_a_call_that_tampers_fails_and_the_guard_is_whole_again(worker: Worker) -> None:
    original = guard._resolve

    def answer() -> int:
        guard._resolve = lambda paths: (frozenset(), None, {})
        return 1

    status, desc, extras = worker.student({"forbid": ["torch.sigmoid"]}, answer)
    assert status == "raise" and desc["kind"] == "forbidden"
    assert "`autograder.guard._resolve`, which belongs to the grader" in desc["message"]
    assert extras["hits"][0] == guard.GRADERS_OWN + "autograder.guard._resolve"
    assert guard._resolve is original
    status, _, extras = worker.student({"forbid": ["torch.sigmoid"]}, lambda: 2)
    assert status == "ok" and extras["hits"] == []


def test_a_cell_that_tampers_is_reported_as_such(worker: Worker) -> None:
    original = guard._Spy.__dict__["forbidden"]
    source = "import autograder.guard as g\ng._Spy.forbidden = lambda self, name: False\ndef linear(x):\n    return x\n"
    status, desc, _ = worker.execute({"op": "exec", "source": source, "filename": "<exercise linear>"})
    assert status == "raise" and desc["kind"] == "tampered"
    assert "`autograder.guard.names._Spy.forbidden`, which belongs to the grader" in desc["message"]
    assert guard._Spy.__dict__["forbidden"] is original
    status, _, _ = worker.execute({"op": "exec", "source": "def linear(x):\n    return x\n", "filename": "<e>"})
    assert status == "ok" and "linear" in worker.ns


def test_a_change_made_between_requests_fails_the_next_one(worker: Worker) -> None:
    from autograder.checks import state

    original = state.snapshot
    state.snapshot = lambda: None  # as a student's __del__ run while the worker releases a handle would
    status, desc, _ = worker.student({}, lambda: 1)
    assert status == "raise" and "autograder.checks.state.snapshot" in desc["message"]
    assert state.snapshot is original
