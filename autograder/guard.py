"""Guards around a call to student code: forbidden references and a time limit.

``forbid("torch.sigmoid", "torch.nn.functional.sigmoid")`` catches a reference
however it is reached: ``torch.sigmoid(x)``, ``x.sigmoid()``, ``x.sigmoid_()``,
``nn.Sigmoid()``, ``torch.special.expit`` or an alias bound before the check ran.
Torch's built-in functions and Tensor methods are seen through a
``TorchFunctionMode`` (matched by name); plain Python functions such as
``torch.nn.init.xavier_uniform_`` through ``sys.setprofile`` (matched by code).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from torch.overrides import TorchFunctionMode

from autograder import reference

# Other names under which torch exposes the same built-in operation.
ALIASES: dict[str, tuple[str, ...]] = {
    "sigmoid": ("expit", "special_expit"),
    "softmax": ("_softmax", "special_softmax"),
    "log_softmax": ("_log_softmax", "special_log_softmax"),
    "silu": ("swish",),
}


# Every way to ask autograd for a derivative: forbidden inside exercises that compute one by hand.
AUTOGRAD: tuple[str, ...] = (
    "torch.autograd.grad",
    "torch.autograd.backward",
    "torch.Tensor.backward",
    "torch.autograd.forward_ad.make_dual",
    "torch.autograd.functional.jacobian",
    "torch.autograd.functional.hessian",
    "torch.autograd.functional.vjp",
    "torch.autograd.functional.jvp",
    "torch.autograd.functional.vhp",
    "torch.autograd.functional.hvp",
    "torch.func.grad",
    "torch.func.grad_and_value",
    "torch.func.vjp",
    "torch.func.jvp",
    "torch.func.jacrev",
    "torch.func.jacfwd",
    "torch.func.hessian",
    "torch.func.linearize",
)


class ForbiddenCall(BaseException):
    """Raised inside student code that reaches a forbidden reference.

    A BaseException, so that a student's ``except Exception`` cannot swallow it.
    """


class StudentTimeout(BaseException):
    """Raised inside student code that runs past its time limit."""


class _Spy(TorchFunctionMode):
    def __init__(self, names: set[str], hits: list[str]) -> None:
        super().__init__()
        self.names = names
        self.hits = hits

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = getattr(func, "__name__", "")
        if name in self.names or (name.endswith("_") and name[:-1] in self.names):
            self.hits.append(name)
            raise ForbiddenCall(name)
        return func(*args, **(kwargs or {}))


def _resolve(paths: tuple[str, ...]) -> tuple[set[str], set[Any]]:
    """Names of built-ins for the function mode and code objects for the profiler."""
    names: set[str] = set()
    codes: set[Any] = set()
    for path in paths:
        try:
            obj = reference.get(path)
        except KeyError:  # not a PyTorch reference: e.g. a course helper such as "nnlab.train.evaluate"
            module, _, attr = path.rpartition(".")
            obj = getattr(importlib.import_module(module), attr)
        obj = inspect.unwrap(obj)  # a decorated function (e.g. @torch.no_grad()) is caught by its own code
        if isinstance(obj, type):  # an nn.Module class: catch its forward
            codes.add(obj.forward.__code__)
        elif hasattr(obj, "__code__"):
            codes.add(obj.__code__)
        else:
            short = getattr(obj, "__name__", path.rpartition(".")[2])
            names.update({short, *ALIASES.get(short, ())})
    return names, codes


@contextlib.contextmanager
def forbid(*paths: str) -> Iterator[list[str]]:
    """Make the listed references raise :class:`ForbiddenCall` while the body runs.

    Yields the list of hits, which stays non-empty even if student code caught
    the exception with a bare ``except:``.
    """
    hits: list[str] = []
    if not paths:
        yield hits
        return
    names, codes = _resolve(paths)
    previous = sys.getprofile()

    def profiler(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            hits.append(frame.f_code.co_qualname)
            raise ForbiddenCall(frame.f_code.co_qualname)

    if codes:
        sys.setprofile(profiler)
    try:
        with _Spy(names, hits):
            yield hits
    finally:
        if codes:
            sys.setprofile(previous)


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
