"""The ``ag`` guard as the grader sees it: which ban list and time limit a proxied call carries.

In one process ``ag.forbid``/``ag.time_limit`` watch the student's code directly; in the grader that code
runs in the worker, so the hooks installed here record what is active and proxies forward it with each
call. (``Session.quiet`` suspends the grader's own guards while the grader, not student code, moves data.)
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from autograder import guard


@dataclass
class _Guard:
    forbid: tuple[str, ...] = ()
    hits: list[str] | None = None
    deadline: float | None = None


_NO_GUARD = _Guard()
_ACTIVE: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar("autograder_remote_guard", default=None)


def active_guard() -> _Guard:
    """The ag guard active here (ban list, hits, deadline); an empty one outside any check."""
    return _ACTIVE.get() or _NO_GUARD


_HOOKED = False


def install_guard_hooks() -> None:
    """Make ``ag.forbid``/``ag.time_limit`` (as used by every check) also tell proxies what is active.

    In-process the guards watch the student's code directly; here that code runs in the worker, so the
    proxies forward the active ban list and the time left with each call. Done once per grading process.
    """
    global _HOOKED
    if _HOOKED:
        return
    original_forbid, original_limit = guard.forbid, guard.time_limit

    @contextlib.contextmanager
    def forbid(*paths: str) -> Iterator[list[str]]:
        with original_forbid(*paths) as hits:
            outer = active_guard()
            token = _ACTIVE.set(_Guard(outer.forbid + tuple(paths), hits, outer.deadline))
            try:
                yield hits
            finally:
                _ACTIVE.reset(token)

    @contextlib.contextmanager
    def time_limit(seconds: float | None) -> Iterator[None]:
        outer = active_guard()
        deadline = outer.deadline
        if seconds:
            deadline = min(deadline or float("inf"), time.monotonic() + seconds)
        token = _ACTIVE.set(_Guard(outer.forbid, outer.hits, deadline))
        try:
            with original_limit(seconds):
                yield
        finally:
            _ACTIVE.reset(token)

    functools.update_wrapper(forbid, original_forbid)
    functools.update_wrapper(time_limit, original_limit)
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "") or ""
        if name.split(".")[0] in ("autograder", "nnlab"):
            for attr, value in list(vars(module).items()):
                if value is original_forbid:
                    setattr(module, attr, forbid)
                elif value is original_limit:
                    setattr(module, attr, time_limit)
    _HOOKED = True
