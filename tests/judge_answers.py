"""Answers that call the judge: for every exercise of a lesson, one answer per function of the judge that the
notebook's namespace reaches (its lesson modules, and anything a locked cell binds), found by reading the
namespace, so that a new helper cannot be missed.

Each answer is the reference solution with one change: before it computes anything, it calls the helper (with
``None`` for each required argument, its error swallowed). The guard must stop it at the call: the answer
then fails with "belongs to the tests", and a check that let it through would show it passing.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass
from typing import Any

from autograder import guard

#: what an answer adds after the solution's own code; {name} is the exercise, {call} the call into the judge
TEMPLATE = """

import functools as _functools
import inspect as _inspect


def _reach():
    try:
        {call}
    except Exception:
        pass


def _reaching(f):
    @_functools.wraps(f)
    def reached(*args, **kwargs):
        _reach()
        return f(*args, **kwargs)

    return reached


def _wrapped(obj):
    if not isinstance(obj, type):
        return _reaching(obj)
    for key, value in list(vars(obj).items()):
        if key.startswith("__") and key not in ("__init__", "__call__"):
            continue
        if isinstance(value, staticmethod):
            setattr(obj, key, staticmethod(_reaching(value.__func__)))
        elif isinstance(value, classmethod):
            setattr(obj, key, classmethod(_reaching(value.__func__)))
        elif _inspect.isfunction(value):
            setattr(obj, key, _reaching(value))
    return obj


{name} = _wrapped({name})
"""


@dataclass
class Answer:
    exercise: str
    helper: str  # the expression through which the notebook reaches it, e.g. "neurons.collapse_reference"
    source: str
    handed: bool = False  # a lesson module lists it in HANDED: the checks give it to the student's code


def _is_judge(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] == "autograder" and not module.startswith(guard._NOT_FORBIDDEN)


def _own_code(obj: Any) -> bool:
    """Whether calling ``obj`` runs Python code of its own (a class: its own ``__init__``)."""
    if isinstance(obj, type):
        return inspect.isfunction(vars(obj).get("__init__"))
    return inspect.isfunction(obj)


def helpers(ns: dict, exercises: set[str]) -> dict[str, Any]:
    """Every function or class of a lesson module, and every function a locked cell left in ``ns``, by name."""
    found: dict[str, Any] = {}
    for name, value in ns.items():
        if name.startswith("__") or name in exercises:
            continue
        if isinstance(value, types.ModuleType) and value.__name__.startswith("autograder.lessons."):
            for attr, obj in vars(value).items():  # its own, decorated ones (quiet) and those it imports
                if _is_judge(obj) and _own_code(obj):
                    found[f"{name}.{attr}"] = obj
        elif isinstance(value, types.FunctionType) and (_is_judge(value) or value.__code__.co_filename[:1] == "<"):
            if value.__code__.co_filename not in {f"<{e}>" for e in exercises}:  # not the student's own helper
                found[name] = value  # a function of the judge, or one a locked cell bound
        elif isinstance(value, type) and _is_judge(value) and _own_code(value):
            found[name] = value
    return found


def call_of(expr: str, obj: Any) -> str:
    """``expr(None, None)``: a call that binds (so that the helper's code starts), whatever it then does; a
    context manager is entered, a generator started."""
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        params = []
    args = [
        "None" if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) else f"{p.name}=None"
        for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    call = f"{expr}({', '.join(args)})"
    if inspect.isgeneratorfunction(inspect.unwrap(obj)):
        return f"with {call}: pass" if hasattr(obj, "__wrapped__") else f"next({call})"
    return call


def answers(ns: dict, solutions: dict[str, str]) -> list[Answer]:
    """For every exercise (name -> solution source), one answer per helper the namespace reaches."""
    found = helpers(ns, set(solutions))
    return [
        Answer(exercise, expr, source + TEMPLATE.format(name=exercise, call=call_of(expr, obj)), is_handed(ns, expr))
        for exercise, source in solutions.items()
        for expr, obj in sorted(found.items())
    ]


def is_handed(ns: dict, expr: str) -> bool:
    """Whether the lesson module of ``module.attr`` declares it handed to the student (``HANDED``)."""
    module, _, attr = expr.rpartition(".")
    return bool(module) and attr in getattr(ns.get(module), "HANDED", ())
