"""Lesson 05b, ``numerical_gradient`` and ``relative_error``: the exact gradient (autograd), the test functions the
checks hand to the student, the likely mistakes and the checks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

import autograder as ag
from autograder.lessons.backprop.common import AUTOGRAD_BAN, close_to

# ---------------------------------------------------------------- numerical_references
# what the exercises may not call, the exact gradient by autograd, and test functions


def autograd_gradient(f: Any, x: torch.Tensor, eps: float | None = None) -> Any:
    """The exact gradient of f at x, in float64, by autograd (eps is ignored)."""
    leaf = x.detach().to(torch.float64).clone().requires_grad_(True)
    return torch.autograd.grad(f(leaf), leaf)[0]


def wavy(x: torch.Tensor) -> Any:
    """A curved test function: sum(sin(2x) + x²/2)."""
    return (torch.sin(2 * x) + 0.5 * x**2).sum()


def coupled(x: torch.Tensor) -> Any:
    """A test function whose elements interact: logsumexp of all elements plus products of neighbours."""
    v = x.flatten()
    return torch.logsumexp(v, 0) + (v[:-1] * v[1:]).sum()


def cube(x: torch.Tensor) -> Any:
    """sum(x³), whose central difference is exactly 3x² + eps² (the eps² is the truncation error)."""
    return (x**3).sum()


def numerical_gradient_diagnosis(got: Any, case: ag.Case) -> str | None:
    f, x = case.args
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        return None
    if got.dtype != torch.float64:
        return "return float64 whatever x's dtype: convert x with x.double() (or .to(torch.float64)) first."
    expected = autograd_gradient(f, x)
    if x.numel() > 1 and bool((got == got.flatten()[0]).all()):
        return "every element got the same value: perturb one element at a time, the others fixed."
    if close_to(got, 2 * expected):
        return "x + eps and x - eps are 2 eps apart: divide the difference by 2 eps."
    if x.dtype == torch.float32:
        return "x is float32 here: convert it to float64 before perturbing it (float32 rounds x ± 1e-6)."
    error = float((got - expected).abs().max())
    if 1e-8 < error < 1e-4:
        return "an error of the order of eps is what a one-sided difference makes: use the central difference."
    return None


def central_difference_diagnosis(got: Any, case: ag.Case) -> str | None:
    x, eps = case.args[1].double(), case.kwargs["eps"]
    if close_to(got, 3 * x**2 + 3 * x * eps + eps**2) or close_to(got, 3 * x**2 - 3 * x * eps + eps**2):
        return "this is a one-sided difference, whose error is proportional to eps: use f(x + eps) and f(x - eps)."
    if close_to(got, 3 * x**2):
        return "the eps argument is not used: perturb by the eps the caller passes."
    return None


def recording(seen: list) -> Callable:
    """A test function f = wavy that notes the dtype of every tensor it is called on in ``seen``."""

    def recorded(v: torch.Tensor) -> torch.Tensor:
        seen.append(v.dtype)
        return wavy(v)

    return recorded


# ---------------------------------------------------------------- relative_error_references
# the relative error, through PyTorch's infinity norms
def relative_error_reference(a: torch.Tensor, b: torch.Tensor) -> float:
    norm = ag.reference.get("torch.linalg.vector_norm")
    size = norm(a.abs() + b.abs(), ord=float("inf"))
    return 0.0 if size == 0 else (norm(a - b, ord=float("inf")) / size).item()


def relative_error_diagnosis(got: Any, case: ag.Case) -> str | None:
    a, b = (v.double() for v in case.args)
    if isinstance(got, float) and math.isnan(got):
        return "0/0 is nan: when a and b are both all zero, the relative error is 0.0 by definition."
    with ag.pristine():
        elementwise = ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-300)).max().item()
        if (
            isinstance(got, float)
            and math.isclose(got, elementwise, rel_tol=1e-6)
            and not math.isclose(elementwise, relative_error_reference(a, b), rel_tol=1e-6)
        ):
            return "this is the largest element-by-element ratio; divide the largest difference by the largest |a|+|b|."
    return None


# ---------------------------------------------------------------- the grade cells' checks
NUMERICAL_HINT = "evaluations of f"


def check_numerical_gradient(student: Callable, cases: list[ag.Case]) -> None:
    """numerical_gradient(f, x[, eps]) agrees with autograd's exact gradient on each case (f handed over)."""
    ag.check_function(student, autograd_gradient, cases, forbid=AUTOGRAD_BAN, allowed_hint=NUMERICAL_HINT,
                      diagnose=numerical_gradient_diagnosis)  # fmt: skip


def central_difference_of_cube(f: Any, x: torch.Tensor, eps: float) -> torch.Tensor:
    """The central difference of f = sum(x³) with step eps, exactly: 3x² + eps²."""
    return 3 * x**2 + eps**2


def check_central_difference(student: Callable, cases: list[tuple[str, torch.Tensor, float]]) -> None:
    """numerical_gradient(cube, x, eps=eps) is the central difference 3x² + eps² on each ``(label, x, eps)``."""
    built = [ag.Case(label, (cube, x), {"eps": eps}) for label, x, eps in cases]
    ag.check_function(student, central_difference_of_cube, built, forbid=AUTOGRAD_BAN, allowed_hint=NUMERICAL_HINT,
                      diagnose=central_difference_diagnosis)  # fmt: skip


def check_sees_float64(student: Callable, xs: list[torch.Tensor]) -> None:
    """numerical_gradient calls f on float64 tensors only, whatever x's dtype, and leaves each x unchanged."""
    seen: list = []
    recorded = recording(seen)  # f = wavy, noting the dtype of each tensor it is called on
    for x in xs:
        seen.clear()
        case = ag.Case(f"a {x.dtype} x of shape {tuple(x.shape)}", (recorded, x))
        ag.call_student(student, case, name="numerical_gradient", forbid=AUTOGRAD_BAN)
        ag.check(len(seen) > 0, "numerical_gradient never called f.")
        ag.check(
            set(seen) == {torch.float64},
            f"numerical_gradient called f on {sorted(set(map(str, seen)))} tensors for {case.label}: convert x to "
            "float64 before perturbing it. Float32 keeps about 7 digits: x ± 1e-6 gets rounded, and "
            "f(x + eps) - f(x - eps) keeps almost none of them.",
        )


def check_relative_error(student: Callable, cases: list[ag.Case]) -> None:
    """relative_error(a, b) = max|a - b| / max(|a| + |b|) (0.0 for all zeros), as a Python float, on each case."""
    ag.check_function(student, relative_error_reference, cases, diagnose=relative_error_diagnosis)


def check_relative_error_zeros(student: Callable) -> None:
    """All-zero tensors give 0.0 (never nan), zero against non-zero 1.0, zeros where a ReLU was off count as equal."""
    x = ag.inputs.randn(8, seed=23)
    relu_like = torch.where(x > 0, x, torch.zeros_like(x))
    cases = [
        ag.Case("a and b all zero", (torch.zeros(3), torch.zeros(3))),
        ag.Case("a all zero, b not", (torch.zeros(8), x)),
        ag.Case("equal tensors with zeros where a ReLU was off", (relu_like, relu_like.clone())),
    ]
    check_relative_error(student, cases)
