"""References evaluated on a case, and the comparison of a student's result with them (the tolerance policy)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from autograder import reference
from autograder.checks.calling import _copy
from autograder.checks.verdict import Case, check, fail
from autograder.reference import pristine

TOLERANCE = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-7, 1e-9), torch.float16: (1e-2, 1e-3)}


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
