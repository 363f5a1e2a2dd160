"""Guards around a call to student code: forbidden references and a time limit.

``forbid("torch.sigmoid", "torch.nn.functional.sigmoid")`` catches a reference
however it is reached: ``torch.sigmoid(x)``, ``x.sigmoid()``, ``x.sigmoid_()``,
``nn.Sigmoid()``, ``torch.special.expit`` or an alias bound before the check ran.
Torch's built-in functions, Tensor methods and ``torch.ops`` operators are seen
through a ``TorchFunctionMode`` (matched by name); plain Python functions such as
``torch.nn.init.xavier_uniform_`` through ``sys.setprofile`` (matched by code), which also
sees every call of a built-in, so switching the function modes off does not hide one. A
``torch.nn.functional`` function is caught both ways, so that its kernel reached
directly (``torch._C._nn.mse_loss``, ``torch.ops.aten.mse_loss``) is caught too.

Under every guard, with or without a ban list, the judge itself is forbidden: a student's answer may not call
a function of ``autograder`` (a lesson's reference, ``ag.reference.get``, a check, its own ``ag.forbid``).
The profiler recognises the judge by code object and module dict, and trusts a caller only by the same
identity, never by a name the student can set (``__name__``); what a check passes as an argument
(:func:`handed`) stays callable.

A ban on autograd is also watched without seeing a call (:mod:`.saved`): a tensor saved for backward and read
back during the student's call means autograd computed a derivative, whatever C function reached it.

The package: :mod:`.names` (ban lists resolved, ``AUTOGRAD``), :mod:`.judge` (the judge by identity, what a check
hands over), :mod:`.attributes` (tensor attributes behind a property), :mod:`.saved` (saved-tensor hooks),
:mod:`.errors`.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from autograder.guard.attributes import _guard_attributes
from autograder.guard.errors import ForbiddenCall, StudentTimeout
from autograder.guard.judge import (
    _HANDED,
    _NOT_FORBIDDEN,
    _SEEN,
    GRADERS_OWN,
    TESTS_OWN,
    _codes,
    _judge_label,
    handed,
    judge_codes,
)
from autograder.guard.names import _ATTRIBUTES, ALIASES, AUTOGRAD, _from_torch, _label, _resolve, _Spy
from autograder.guard.saved import watch_unpacks, watches_unpacks

__all__ = [
    "ALIASES", "AUTOGRAD", "GRADERS_OWN", "TESTS_OWN", "ForbiddenCall", "StudentTimeout", "_ATTRIBUTES",
    "_NOT_FORBIDDEN", "_SEEN", "_codes", "forbid", "handed", "judge_codes", "raised_in", "time_limit",
]  # fmt: skip

# captured at import, before student code runs: the built-in that would switch the profiler below off
_SETPROFILE = sys.setprofile


@contextlib.contextmanager
def forbid(*paths: str) -> Iterator[list[str]]:
    """Make the listed references, and every function of the judge, raise :class:`ForbiddenCall` while the body
    runs.

    The judge (``autograder.lessons.*``, the references, the checks) is recognised by its code objects and its
    modules' own dicts; only the judge itself may call it. A hit on it starts with :data:`TESTS_OWN`.

    Yields the list of hits, which stays non-empty even if student code caught
    the exception with a bare ``except:``.
    """
    hits: list[str] = []
    names, patterns, codes = _resolve(paths) if paths else (set(), None, {})
    judge = judge_codes()
    spy = _Spy(names, patterns, hits)
    previous = sys.getprofile()

    def caught(name: str) -> None:
        hits.append(name)
        raise ForbiddenCall(name)

    watched = judge.watched | codes.keys() if codes else judge.watched
    judge_dicts = judge.dicts
    verdicts: dict[str, bool] = {}  # built-in name -> forbidden (the profiler runs on every call: keep it cheap)

    def profiler(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call":  # a built-in, seen even where PyTorch's function modes are switched off
            if arg is _SETPROFILE and not judge.trusted_frame(frame):
                caught("sys.setprofile")  # student code switching this profiler off
            name = getattr(arg, "__name__", "")
            verdict = verdicts.get(name)
            if verdict is None:
                verdict = verdicts[name] = spy.forbidden(name)
            if verdict and _from_torch(arg):
                caught(_label(arg, name))
        elif event == "call" and (frame.f_code in watched or id(frame.f_globals) in judge_dicts):
            if (
                (frame.f_code in judge.forbidden or id(frame.f_globals) in judge_dicts)
                and frame is not own  # this guard's own generator, resumed to end it
                and not judge.called_by_judge(frame)
                and not any(frame.f_code in codes for codes in _HANDED)
            ):
                caught(TESTS_OWN + _judge_label(frame))
            if frame.f_code in codes:
                caught(codes[frame.f_code] or frame.f_code.co_qualname)
            op = frame.f_locals.get("self")  # torch.ops.aten.NAME(...) or one of its overloads
            if spy.forbidden(getattr(op, "__name__", "")):
                caught(_label(op, op.__name__))

    own = sys._getframe()
    sys.setprofile(profiler)
    try:
        if paths:
            unpacks = watch_unpacks(hits) if watches_unpacks(paths) else contextlib.nullcontext()
            with spy, _guard_attributes(paths, judge, caught), unpacks:
                yield hits
        else:
            yield hits
    finally:
        sys.setprofile(previous)


_LIBRARIES = ("torch", "autograder", "nnlab", "numpy", "matplotlib")


def raised_in(exc: BaseException) -> str:
    """The student's function that raised ``exc``: the innermost frame outside the libraries ('' if none).

    The grading worker sends it along as ``exc.raised_in`` (a traceback does not cross processes).
    """
    where = getattr(exc, "raised_in", "")
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if not module.startswith(_LIBRARIES):
            where = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return where


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the body after ``seconds`` (POSIX main thread only; elsewhere no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not seconds or not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise StudentTimeout(f"no result after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
