"""Calling student code under a check: on copies, guarded (bans, time limit), leaving global state as found."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import torch

from autograder import guard
from autograder.checks import state
from autograder.checks.verdict import Case, NotAttempted, check, fail
from autograder.reference import pristine

TIMEOUT_S = 10.0
#: Known error messages and what they usually mean.
ERROR_HINTS = [
    (
        "shapes cannot be multiplied",
        "in `a @ b` the last dim of a must equal the first dim of b; "
        "print the shapes, and remember PyTorch stores a weight as (out_features, in_features).",
    ),
    (
        "must match the size of tensor",
        "two tensors do not broadcast: print their shapes; a missing "
        "`keepdim=True` or a wrong `dim` is the usual cause.",
    ),
    ("self must be a matrix", "torch.mm only takes 2-D tensors; `@` (torch.matmul) handles batch dimensions."),
    ("NoneType", "an optional argument (such as bias=None) reached arithmetic: test `is not None` first."),
    ("Dimension out of range", "a `dim` argument does not exist for this input's number of dimensions."),
    ("expected scalar type", "two tensors of different dtypes met: keep the input's dtype throughout."),
    ("does not require grad", "the tensor you differentiate is not connected to the input by autograd."),
]


def _copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        with torch.no_grad():
            copy = value.detach().clone()
        return copy.requires_grad_(value.requires_grad) if value.is_leaf else copy
    if isinstance(value, tuple | list):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        a, b = a.detach(), b.detach()
        both_nan = torch.isnan(a) & torch.isnan(b) if a.is_floating_point() else torch.zeros_like(a, dtype=torch.bool)
        return bool(((a == b) | both_nan).all())
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return True


def _not_implemented(name: str, where: str) -> str:
    """Teach which function still raises NotImplementedError: ``name`` itself, or one it builds on."""
    own = f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code."
    if not where or where.startswith(("<", "_")) or name == where or name.endswith("." + where):
        return own  # sigmoid, Linear.forward, Linear.__init__
    if re.search(rf"\b{re.escape(where)}\b", name):  # e.g. the figure of sigmoid_grad: name the function
        return f"`{where}` is not implemented yet: replace `raise NotImplementedError()` with your code."
    return (
        f"`{name}` calls your `{where}`, which is not implemented yet: finish `{where}` first, "
        f"then come back to `{name}`."
    )


def _run_guarded(
    fn: Callable,
    args: tuple,
    kwargs: dict,
    case: Case,
    *,
    name: str,
    forbid: Sequence[str],
    allowed_hint: str,
    timeout: float | None,
    keeps_mode: bool = True,
    keeps_rng: bool = False,
) -> tuple[Any, Exception | None]:
    """Call student code under the forbid guard and the time limit; return (result, exception it raised).

    Not implemented, a forbidden reference, a time-out, endless recursion or a global setting left changed
    (:mod:`autograder.checks.state`) fail here with a teaching message. ``keeps_mode``: the modules the call
    receives (or is a method of) keep their train/eval mode (off where switching it is the exercise);
    ``keeps_rng``: the call must not draw from the global random generator (where the answer is deterministic).
    """
    check(callable(fn), f"`{name}` is not a function here (it is {type(fn).__name__}): did a later cell rebind it?")
    hits: list[str] = []
    result, raised = None, None
    before = after = state.snapshot()
    owned = state.modules_in((fn, args, kwargs)) if keeps_mode else []
    modes_before = modes_after = state.modes(owned)
    rng_before = rng_after = state.rng() if keeps_rng else None
    if rng_before is not None:  # a state of its own, so that a reseed (torch.manual_seed(0)) shows too
        state.set_rng(state.PROBE_RNG)
    try:
        with guard.time_limit(timeout), guard.handed(args, kwargs), guard.forbid(*forbid) as hits:
            result = fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted(_not_implemented(name, guard.raised_in(exc))) from None
    except guard.ForbiddenCall:
        pass
    except guard.StudentTimeout:
        fail(f"`{name}` did not return within {timeout:g} s on {case.label}: is there a loop that never ends?")
    except RecursionError:
        fail(f"`{name}` recursed without end on {case.label}: does it call itself?")
    except Exception as exc:  # noqa: BLE001 - the caller turns it into a verdict
        raised = exc
    finally:
        after = state.snapshot()
        if after != before:  # the caller (the check, the next call) gets the state it had
            state.restore(before)
        modes_after = state.modes(owned)
        if modes_after != modes_before:
            state.restore_modes(owned, modes_before)
        if rng_before is not None:
            rng_after = state.rng()
            state.set_rng(rng_before)
    if hits and str(hits[0]).startswith(guard.GRADERS_OWN):
        fail(
            f"`{name}` rebinds `{str(hits[0])[len(guard.GRADERS_OWN) :]}`, which belongs to the grader: it was put "
            f"back. Leave the grader's modules alone and compute the answer yourself in `{name}`."
        )
    if hits and str(hits[0]).startswith(guard.TESTS_OWN):
        fail(
            f"`{name}` calls `{str(hits[0])[len(guard.TESTS_OWN) :]}`, which belongs to the tests: compute it "
            f"yourself in `{name}`."
        )
    if hits:
        uses = f" Build it from {allowed_hint}." if allowed_hint else ""
        fail(
            f"`{name}` calls `{hits[0]}`, which this exercise does not allow: the point is to write it yourself.{uses}"
        )
    said = state.changes(before, after)
    if said:
        fail(state.message(name, case.label, said))
    for module, was, now in zip(owned, modes_before, modes_after, strict=True):
        if was != now:
            fail(state.mode_message(name, case.label, module, was))
    if rng_before is not None and not state.same_rng(state.PROBE_RNG, rng_after):
        fail(state.RNG_MESSAGE.format(name=name, label=case.label))
    return result, raised


def call_student(
    fn: Callable,
    case: Case,
    *,
    name: str,
    forbid: Sequence[str] = (),
    allowed_hint: str = "",
    timeout: float | None = TIMEOUT_S,
    keeps_mode: bool = True,
    keeps_rng: bool = False,
) -> Any:
    """Call ``fn`` on copies of the case's arguments, guarded; return its result (``keeps_mode``, ``keeps_rng``:
    see :func:`_run_guarded`).

    Fails (with a teaching message) on NotImplementedError, any exception, a
    forbidden reference, a time-out, or a change to the caller's input.
    """
    args, kwargs = _copy(case.args), _copy(case.kwargs)
    result, exc = _run_guarded(
        fn, args, kwargs, case, name=name, forbid=forbid, allowed_hint=allowed_hint, timeout=timeout,
        keeps_mode=keeps_mode, keeps_rng=keeps_rng,
    )  # fmt: skip
    if exc is not None:
        hint = next((h for pattern, h in ERROR_HINTS if pattern in str(exc)), "")
        fail(f"`{name}` raised {type(exc).__name__} on {case.label}: {exc}" + (f"\nHint: {hint}" if hint else ""))
    with pristine():
        changed = not (_same(args, case.args) and _same(kwargs, case.kwargs))
    check(
        not changed,
        f"`{name}` changed its input in place on {case.label}. Leave the caller's tensors alone: "
        "compute a new tensor instead of using in-place operations (`x[...] = `, `x.clamp_()`, `x += `).",
    )
    return result


def construct(cls: Callable, *args: Any, forbid: Sequence[str] = (), name: str | None = None, **kwargs: Any) -> Any:
    """Instantiate a student's class (e.g. ``Linear(3, 2)``) under the exercise's rules."""
    label = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    name = name or getattr(cls, "__name__", "your class")
    return call_student(cls, Case(f"{name}({label})", args, kwargs), name=name, forbid=forbid)


def check_raises(
    fn: Callable,
    case: Case,
    exceptions: type[BaseException] | tuple[type[BaseException], ...] = Exception,
    *,
    name: str | None = None,
    forbid: Sequence[str] = (),
    allowed_hint: str = "",
    why: str = "",
    timeout: float | None = TIMEOUT_S,
) -> BaseException:
    """Fail unless ``fn`` raises one of ``exceptions`` on the case (e.g. ValueError for a bad argument).

    Returns the exception. A result instead of an error, another exception type, a forbidden reference or
    ``NotImplementedError`` fail with a teaching message; ``why`` says why an error is the right answer.
    """
    name = name or getattr(fn, "__name__", "your function")
    wanted = exceptions if isinstance(exceptions, tuple) else (exceptions,)
    names = " or ".join(e.__name__ for e in wanted)
    result, raised = _run_guarded(
        fn, _copy(case.args), _copy(case.kwargs), case,
        name=name, forbid=forbid, allowed_hint=allowed_hint, timeout=timeout,
    )  # fmt: skip
    if raised is not None and not isinstance(raised, wanted):
        fail(f"`{name}` raised {type(raised).__name__} on {case.label}; it should raise {names}. {why}".rstrip())
    if raised is None:
        shown = f"a tensor of shape {tuple(result.shape)}" if isinstance(result, torch.Tensor) else repr(result)[:80]
        fail(f"`{name}` returned {shown} on {case.label} instead of raising {names}. {why}".rstrip())
    return raised
