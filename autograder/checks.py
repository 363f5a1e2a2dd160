"""The checks every grade cell calls.

Policy
------
* The reference is the PyTorch function of the same name, captured when
  ``autograder`` was imported (see :mod:`autograder.reference`), evaluated at test
  time in float64 on the same inputs, with the student's patches undone.
* Student inputs are float32 unless the exercise says otherwise; the result must
  be a plain ``torch.Tensor`` with the reference's shape, dtype and device.
* Tolerance: ``|got - expected| <= atol * scale + rtol * |expected|`` where
  ``scale = max(1, max |expected|)``; float32 results use rtol=1e-4, atol=1e-5,
  float64 results rtol=1e-7, atol=1e-9. Infinite or NaN values must appear
  exactly where the float32/float64 reference has them.
* The student's function runs on copies; changing the caller's input fails.
* A failure raises ``AssertionError`` whose message says what is wrong and,
  where it can tell, why; it never prints the solution.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from autograder import guard, inputs, reference
from autograder.reference import pristine

TOLERANCE = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-7, 1e-9), torch.float16: (1e-2, 1e-3)}
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


@dataclass
class Case:
    """One call of the function under test: positional and keyword arguments, and a label."""

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


class CheckFailed(AssertionError):
    """A grade check failed; the message teaches."""


class NotAttempted(CheckFailed):
    """The exercise still raises NotImplementedError."""


def fail(message: str) -> None:
    """Fail the current check with a teaching message."""
    raise CheckFailed(message)


def check(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(message)


# ---------------------------------------------------------------- calling student code


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
) -> tuple[Any, Exception | None]:
    """Call student code under the forbid guard and the time limit; return (result, exception it raised).

    Not implemented, a forbidden reference, a time-out or endless recursion fail here with a teaching message.
    """
    check(callable(fn), f"`{name}` is not a function here (it is {type(fn).__name__}): did a later cell rebind it?")
    hits: list[str] = []
    result, raised = None, None
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
    return result, raised


def call_student(
    fn: Callable,
    case: Case,
    *,
    name: str,
    forbid: Sequence[str] = (),
    allowed_hint: str = "",
    timeout: float | None = TIMEOUT_S,
) -> Any:
    """Call ``fn`` on copies of the case's arguments, guarded; return its result.

    Fails (with a teaching message) on NotImplementedError, any exception, a
    forbidden reference, a time-out, or a change to the caller's input.
    """
    args, kwargs = _copy(case.args), _copy(case.kwargs)
    result, exc = _run_guarded(
        fn, args, kwargs, case, name=name, forbid=forbid, allowed_hint=allowed_hint, timeout=timeout
    )
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


# ---------------------------------------------------------------- references


def _to64(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().to(torch.float64)
    if isinstance(value, tuple | list):
        return type(value)(_to64(v) for v in value)
    if isinstance(value, dict):
        return {k: _to64(v) for k, v in value.items()}
    return value


def resolve(ref: str | Callable) -> Callable:
    """A dotted reference path (``"torch.sigmoid"``) or a callable."""
    return reference.get(ref) if isinstance(ref, str) else ref


def run_reference(ref: str | Callable, case: Case, *, float64: bool = True) -> Any:
    """The reference's result on the case, with student patches undone (float64 by default)."""
    fn = resolve(ref)
    with pristine():
        args, kwargs = (_to64(case.args), _to64(case.kwargs)) if float64 else (_copy(case.args), _copy(case.kwargs))
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - e.g. student-made parameters of the wrong shape
            fail(f"the reference cannot run on {case.label} with what your code produced: {type(exc).__name__}: {exc}")


def autograd_derivative(ref: str | Callable) -> Callable:
    """d/dx of an elementwise reference, by autograd, as a function of (x, **kwargs)."""
    fn = resolve(ref)

    def derivative(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        x = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(fn(x, *args, **kwargs).sum(), x)
        return grad

    return derivative


# ---------------------------------------------------------------- comparing


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _index(flat: int, shape: torch.Size) -> tuple[int, ...]:
    idx = []
    for size in reversed(shape):
        idx.append(flat % size)
        flat //= size
    return tuple(reversed(idx))


def compare(
    got: Any,
    expected: Any,
    *,
    name: str,
    case: Case,
    expected_native: Any = None,
    rtol: float | None = None,
    atol: float | None = None,
    elementwise_input: torch.Tensor | None = None,
    what: str = "result",
) -> None:
    """Fail unless ``got`` matches ``expected`` (see the module's policy)."""
    with pristine():
        _compare(got, expected, expected_native, name, case, rtol, atol, elementwise_input, what)


def _compare(got, expected, native, name, case, rtol, atol, x, what) -> None:  # noqa: ANN001
    if isinstance(expected, tuple | list):
        check(
            isinstance(got, tuple | list) and len(got) == len(expected),
            f"`{name}` should return {len(expected)} values as a tuple; it returned {type(got).__name__} "
            f"on {case.label}.",
        )
        natives = native if isinstance(native, tuple | list) else [None] * len(expected)
        for i, (g, e, n) in enumerate(zip(got, expected, natives, strict=True)):
            _compare(g, e, n, name, case, rtol, atol, x, f"{what} [{i}]")
        return
    if not isinstance(expected, torch.Tensor):
        if isinstance(expected, bool | int | float) and not isinstance(got, bool | int | float):
            fail(
                f"`{name}` should return a Python {type(expected).__name__}; it returned {type(got).__name__} "
                f"on {case.label}. (For a one-element tensor, `.item()` gives the number.)"
            )
        ok = math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9) if isinstance(expected, float) else got == expected
        check(ok, f"`{name}` {what} on {case.label}: expected {expected!r}, got {got!r}.")
        return
    if isinstance(got, torch.Tensor) and type(got) is not torch.Tensor:
        fail(f"`{name}` returned a {type(got).__name__}, a subclass of torch.Tensor; return a plain torch.Tensor.")
    check(
        type(got) is torch.Tensor,
        f"`{name}` should return a torch.Tensor; it returned {type(got).__name__} on {case.label}.",
    )
    native = expected if native is None else native
    if got.shape != native.shape:
        hint = ""
        if got.numel() == native.numel():
            hint = " Same number of elements: a reshape, transpose or a missing squeeze?"
        elif got.dim() > native.dim() or got.numel() > native.numel():
            hint = " Bigger than expected: did two tensors broadcast against each other, or did you keep a dim?"
        elif got.numel() < native.numel():
            hint = " Smaller than expected: did you reduce (sum/mean) over a dimension that should stay?"
        fail(f"`{name}` {what} has shape {tuple(got.shape)} on {case.label}; expected {tuple(native.shape)}.{hint}")
    check(
        got.dtype == native.dtype,
        f"`{name}` {what} has dtype {got.dtype} on {case.label}; expected {native.dtype}, the dtype PyTorch returns "
        "for these inputs. Keep the input's dtype (beware of float64 constants and integer division).",
    )
    check(
        got.device == native.device,
        f"`{name}` {what} is on {got.device}; expected {native.device}, the input's device.",
    )
    got = got.detach()
    if not got.is_floating_point():
        bad = (got != native).flatten().nonzero()
        if len(bad):
            i = _index(int(bad[0]), got.shape)
            fail(
                f"`{name}` {what} is wrong at index {i} on {case.label}: "
                f"expected {native[i].item()}, got {got[i].item()}."
            )
        return
    exp = expected.detach().to(torch.float64)
    g64 = got.to(torch.float64)
    nat = native.detach()
    expected_finite = torch.isfinite(nat) & torch.isfinite(exp)
    bad_finite = expected_finite & ~torch.isfinite(g64)
    if bool(bad_finite.any()):
        i = _index(int(bad_finite.flatten().nonzero()[0]), got.shape)
        at = f" for input {_fmt(x[i].item())}" if x is not None and x.shape == got.shape else ""
        fail(
            f"`{name}` {what} is {got[i].item()} at index {i}{at} on {case.label}, where PyTorch gives a finite "
            f"{_fmt(exp[i].item())}. Something overflowed or divided by zero: rewrite the expression so that no "
            "intermediate value gets huge (e.g. exp of a large positive number)."
        )
    special = ~expected_finite
    if bool(special.any()):
        same = (torch.isnan(g64) & torch.isnan(nat.to(torch.float64))) | (g64 == nat.to(torch.float64))
        wrong = special & ~same
        if bool(wrong.any()):
            i = _index(int(wrong.flatten().nonzero()[0]), got.shape)
            fail(f"`{name}` {what} at index {i} on {case.label}: expected {nat[i].item()}, got {got[i].item()}.")
    d_rtol, d_atol = TOLERANCE.get(got.dtype, TOLERANCE[torch.float32])
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    finite = expected_finite
    if not bool(finite.any()):
        return
    scale = max(1.0, float(exp[finite].abs().max()))
    err = torch.where(finite, (g64 - exp).abs(), torch.zeros_like(exp))
    allowed = atol * scale + rtol * exp.abs()
    ratio = torch.where(finite, err / allowed, torch.zeros_like(err))
    worst = float(ratio.max())
    if worst > 1 or math.isnan(worst):
        i = _index(int(ratio.flatten().argmax()), got.shape)
        at = f", input {_fmt(x[i].item())}" if x is not None and x.shape == got.shape else ""
        n_bad = int((ratio > 1).sum())
        fail(
            f"`{name}` {what} is wrong on {case.label}: {n_bad} of {got.numel()} values are off. Worst at index "
            f"{i}{at}: expected {_fmt(exp[i].item())}, got {_fmt(g64[i].item())}."
        )


# ---------------------------------------------------------------- high-level checks


def check_function(
    student: Callable,
    ref: str | Callable,
    cases: Iterable[Case],
    *,
    name: str | None = None,
    forbid: Sequence[str] = (),
    allowed_hint: str = "",
    rtol: float | None = None,
    atol: float | None = None,
    elementwise: bool = False,
    diagnose: Callable[[Any, Case], str | None] | None = None,
    timeout: float | None = TIMEOUT_S,
) -> None:
    """Check ``student`` against the reference on every case; fail on the first wrong one.

    ``diagnose(got, case)`` may return a sentence naming the likely cause, added to the message.
    """
    name = name or getattr(student, "__name__", "your function")
    for case in cases:
        got = call_student(student, case, name=name, forbid=forbid, allowed_hint=allowed_hint, timeout=timeout)
        expected = run_reference(ref, case)
        native = run_reference(ref, case, float64=False)
        x = case.args[0] if elementwise and case.args else None
        try:
            compare(
                got, expected, name=name, case=case, expected_native=native, rtol=rtol, atol=atol, elementwise_input=x
            )
        except CheckFailed as failure:
            cause = diagnose(got, case) if diagnose else None
            if cause:
                raise CheckFailed(f"{failure}\nLikely cause: {cause}") from None
            raise


def elementwise_cases(
    kwargs: dict | None = None,
    *,
    tiers: Sequence[str] = ("example", "random", "edges"),
    kinks: tuple[float, ...] = (),
    scale: float = 3.0,
    seed: int = inputs.SEED,
) -> list[Case]:
    """Cases for an elementwise function: the visible example, seeded random 1-D and 2-D, edges, float64."""
    kw = dict(kwargs or {})
    cases = []
    if "example" in tiers:
        cases.append(Case("the example x = torch.linspace(-4, 4, 9)", (inputs.example(),), kw))
    if "random" in tiers:
        a = (
            inputs.away_from(inputs.randn(257, seed=seed, scale=scale), kinks)
            if kinks
            else inputs.randn(257, seed=seed, scale=scale)
        )
        b = (
            inputs.away_from(inputs.randn(6, 7, seed=seed + 1, scale=scale), kinks)
            if kinks
            else inputs.randn(6, 7, seed=seed + 1, scale=scale)
        )
        cases.append(Case(f"random float32 inputs (N(0, {scale:g}²), shape (257,))", (a,), kw))
        cases.append(Case("a random 2-D float32 input of shape (6, 7)", (b,), kw))
        cases.append(Case("a random float64 input (the result must stay float64)", (b.double(),), kw))
    if "edges" in tiers:
        label = "edge inputs (0, ±1e-7, ±1, ±20, ±88.7, ±89.5, ±1e4 in float32)"
        cases.append(Case(label, (inputs.edge_values(),), kw))
    if "kinks" in tiers and kinks:
        cases.append(Case(f"inputs exactly at {kinks}", (torch.tensor(kinks, dtype=torch.float32),), kw))
    return cases


def check_elementwise(
    student: Callable,
    ref: str | Callable,
    *,
    kwargs: dict | None = None,
    tiers: Sequence[str] = ("example", "random", "edges"),
    kinks: tuple[float, ...] = (),
    **options: Any,
) -> None:
    """Check an elementwise function on the visible example, random inputs and edge cases."""
    cases = elementwise_cases(kwargs, tiers=tiers, kinks=kinks)
    check_function(student, ref, cases, elementwise=True, **options)


#: What a numerical warning says (numpy's RuntimeWarnings, Python's and PyTorch's float errors).
NUMERICAL_WARNING = re.compile(
    r"overflow|underflow|invalid value|divide by zero|division by zero|\bnan\b|\binf\b|not finite", re.IGNORECASE
)


def is_numerical_warning(w: Any) -> bool:
    """Whether a recorded warning reports a numerical problem (not a student's own ``warnings.warn("debug")``)."""
    return issubclass(w.category, RuntimeWarning) and bool(NUMERICAL_WARNING.search(str(w.message)))


def check_no_warnings(fn: Callable, *args: Any, name: str, **kwargs: Any) -> None:
    """Call ``fn`` and fail if it emits a numerical warning (overflow, invalid value, division by zero).

    Other warnings (a student's debugging ``warnings.warn``, a deprecation) are noise, not a wrong answer. Returns
    nothing, so that a grade cell that ends with it displays nothing (nbgrader reads a value as partial credit).
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call_student(fn, Case("edge inputs", args, kwargs), name=name)
    numerical = [w for w in caught if is_numerical_warning(w)]
    check(not numerical, f"`{name}` emitted a numerical warning: {numerical[0].message if numerical else ''}")


def construct(cls: Callable, *args: Any, forbid: Sequence[str] = (), name: str | None = None, **kwargs: Any) -> Any:
    """Instantiate a student's class (e.g. ``Linear(3, 2)``) under the exercise's rules."""
    label = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    name = name or getattr(cls, "__name__", "your class")
    return call_student(cls, Case(f"{name}({label})", args, kwargs), name=name, forbid=forbid)


def check_module_matches(
    student: torch.nn.Module,
    ref_module: torch.nn.Module,
    cases: Iterable[Case],
    *,
    name: str,
    forbid: Sequence[str] = (),
) -> None:
    """Copy the student's parameters, in order, into an equivalent reference module; outputs must match."""
    import copy

    with pristine():
        mine = list(student.parameters())
        theirs = list(ref_module.parameters())
        check(
            len(mine) == len(theirs),
            f"`{name}` has {len(mine)} parameter tensors; the equivalent PyTorch network has {len(theirs)}. "
            "Register every layer (as an attribute, in nn.ModuleList or nn.Sequential) so that "
            "model.parameters() finds it.",
        )
        for i, (p, q) in enumerate(zip(mine, theirs, strict=True)):
            check(
                tuple(p.shape) == tuple(q.shape),
                f"parameter #{i} of `{name}` has shape {tuple(p.shape)}; expected {tuple(q.shape)} "
                "(layers in order, each weight then its bias).",
            )
        with torch.no_grad():
            for p, q in zip(mine, theirs, strict=True):
                q.copy_(p)
        ref64 = copy.deepcopy(ref_module).double()
    for case in cases:
        got = call_student(student, case, name=name, forbid=forbid)
        with pristine(), torch.no_grad():
            expected = ref64(*_to64(case.args))
            native = ref_module(*case.args)
        compare(got, expected, name=name, case=case, expected_native=native)


def check_derivative(
    student_grad: Callable,
    ref: str | Callable,
    *,
    kwargs: dict | None = None,
    tiers: Sequence[str] = ("example", "random", "edges"),
    kinks: tuple[float, ...] = (),
    **options: Any,
) -> None:
    """Check an analytic derivative ``<name>_grad(x, **kwargs)`` against autograd of the reference.

    The reference derivative is d/dx ref(x, **kwargs), elementwise, computed by autograd in float64.
    Include ``"kinks"`` in ``tiers`` to test the convention at non-differentiable points (PyTorch's).
    """
    cases = elementwise_cases(kwargs, tiers=tiers, kinks=kinks)
    check_function(student_grad, autograd_derivative(ref), cases, elementwise=True, **options)


def check_plotted_lines(
    draw: Callable[[], Any],
    refs: Sequence[str | Callable],
    *,
    name: str,
    forbid: Sequence[str] = (),
    allowed_hint: str = "",
) -> None:
    """Check what a figure shows: panel ``i``'s first line must hold ``refs[i]`` at its own x data.

    ``draw()`` builds the figure with the student's functions, e.g.
    ``lambda: plot.plot_function_and_derivative(sigmoid, sigmoid_grad, "sigmoid")``; it runs guarded like
    any student call. Each reference is evaluated in float64 on the plotted x (nbval ignores images, so
    this is how a grade cell checks a plot). The figure is closed afterwards.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    fig = call_student(draw, Case(f"drawing the figure of {name}"), name=name, forbid=forbid, allowed_hint=allowed_hint)
    try:
        check(isinstance(fig, plt.Figure), f"drawing the figure of {name} gave {type(fig).__name__}, not a Figure.")
        check(
            len(fig.axes) >= len(refs),
            f"the figure of {name} has {len(fig.axes)} panel(s); expected {len(refs)} (function, then derivative).",
        )
        for i, (ax, ref) in enumerate(zip(fig.axes, refs)):
            panel = f"panel {i + 1} ('{ax.get_title()}')"
            check(bool(ax.lines), f"{panel} of the figure of {name} shows no line.")
            line = ax.lines[0]
            x = torch.from_numpy(np.array(line.get_xdata()))
            y = torch.from_numpy(np.array(line.get_ydata()))
            check(
                x.is_floating_point() and x.shape == y.shape,
                f"{panel} of the figure of {name} does not plot one number per x (got {y.dtype} values of shape "
                f"{tuple(y.shape)} for {tuple(x.shape)} x values): return a float tensor of the input's shape.",
            )
            case = Case(f"the {x.numel()} x values plotted in {panel}", (x,))
            expected = run_reference(ref, case)
            native = run_reference(ref, case, float64=False)
            compare(y, expected, name=name, case=case, expected_native=native, elementwise_input=x, what="plotted line")
    finally:
        if isinstance(fig, plt.Figure):
            plt.close(fig)


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
