"""Lesson 03, ``01_sigmoid``: sigmoid, sigmoid_grad and SigmoidFunction: what they may not call, their properties,
the diagnosis of the usual mistakes, and the checks of the autograd.Function."""

from __future__ import annotations

from typing import Any

import torch

import autograder as ag
from autograder.lessons.activations.common import (
    NOISY,
    REF_SIGMOID,
    Exercise,
    as_float64,
    check_shape_and_dtype,
    close_but_noisy,
    near,
)

SIGMOID_BAN = (
    "torch.sigmoid", "torch.nn.functional.sigmoid", "torch.nn.Sigmoid", "torch.special.expit",
    "torch.nn.functional.logsigmoid", "torch.tanh",
    "torch.softmax", "torch.nn.functional.softmax",  # sigmoid(x) = softmax([x, 0])[0]
)  # fmt: skip
SIGMOID_GRAD_BAN = SIGMOID_BAN + ag.AUTOGRAD
SIGMOID_HINT = "torch.exp, arithmetic and torch.where"


def diagnose_sigmoid(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong sigmoid."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        if bool(torch.isnan(y).any()):
            return (
                "exp of a large number overflowed to inf and inf/inf is nan. Rearrange the formula so that "
                "exp only ever sees numbers <= 0."
            )
        if near(y, REF_SIGMOID(-x)):
            return "you computed sigmoid(-x): check the sign inside the exponential."
    return None


def diagnose_sigmoid_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong sigmoid_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        s = REF_SIGMOID(x)
        if bool(torch.isnan(y).any()):
            return (
                "exp overflowed to inf somewhere (inf/inf = nan) for large |x|: a formula written with exp "
                "alone is not stable. Express the derivative through the sigmoid's output, computed with your "
                "stable sigmoid."
            )
        if near(y, x * (1 - x)):
            return "your formula uses the input x where it needs the sigmoid's output s = sigmoid(x)."
        if near(y, s):
            return "you return sigmoid(x) itself, not its derivative."
        if close_but_noisy(y, s * (1 - s)):
            return NOISY
    return None


SIGMOID = Exercise("torch.sigmoid", SIGMOID_BAN, SIGMOID_HINT, diagnose_sigmoid)
SIGMOID_GRAD = Exercise("torch.sigmoid", SIGMOID_GRAD_BAN, SIGMOID_HINT, diagnose_sigmoid_grad, derivative=True,
                        exact=(3032, 4.0))  # fmt: skip


def check_sigmoid_properties(sigmoid: Any) -> None:
    """sigmoid lies strictly in (0, 1) where float64 can tell, is symmetric (sigmoid(-x) = 1 - sigmoid(x)) and
    never decreases."""
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    s = ag.call_student(sigmoid, ag.Case("x = linspace(-30, 30, 601) in float64", (x,)), name="sigmoid",
                        forbid=SIGMOID_BAN)  # fmt: skip
    check_shape_and_dtype(s, x, "sigmoid")
    ag.check(
        bool(((s > 0) & (s < 1)).all()),
        "sigmoid(x) should lie strictly between 0 and 1 for |x| <= 30 in float64, where the exact values are "
        "representable; some of yours do not.",
    )
    mirror = ag.call_student(sigmoid, ag.Case("x = -linspace(-30, 30, 601) in float64", (-x,)), name="sigmoid",
                             forbid=SIGMOID_BAN)  # fmt: skip
    ag.check(
        float((mirror - (1 - s)).abs().max()) < 1e-12,
        "sigmoid(-x) should equal 1 - sigmoid(x) (to float64 precision); yours does not.",
    )
    wide = torch.linspace(-200, 200, 4001)
    w = ag.call_student(sigmoid, ag.Case("x = linspace(-200, 200, 4001) in float32", (wide,)), name="sigmoid",
                        forbid=SIGMOID_BAN)  # fmt: skip
    ag.check(
        isinstance(w, torch.Tensor) and w.shape == wide.shape and bool((w[1:] >= w[:-1]).all()),
        "sigmoid should never decrease as x grows (x from -200 to 200 in float32); yours does somewhere "
        "(a nan also breaks it).",
    )


# ---------------------------------------------------------------- SigmoidFunction


def sigmoid_function_backward(function: type) -> Any:
    """SigmoidFunction's forward on x, then its backward called directly with grad_output."""

    def backward(x: torch.Tensor, grad_output: torch.Tensor) -> Any:
        y = function.apply(x.requires_grad_(True))
        ag.check(
            y.grad_fn is not None,
            "SigmoidFunction.apply(x) returned a tensor without grad_fn: return the "
            "result of forward as it is (do not detach it or wrap it in a new tensor).",
        )
        grad = function.backward(y.grad_fn, grad_output)
        return grad[0] if isinstance(grad, tuple) and len(grad) == 1 else grad

    return backward


def sigmoid_vjp_reference(x: torch.Tensor, grad_output: torch.Tensor) -> torch.Tensor:
    """grad_output times the sigmoid's derivative at x."""
    s = REF_SIGMOID(x)
    return grad_output * s * (1 - s)


def diagnose_backward(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong SigmoidFunction.backward."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        g, s = case.args[1].double(), REF_SIGMOID(x)
        if near(y, g * s):
            return "a factor of the sigmoid's derivative is missing: compare with your sigmoid_grad."
        if near(y, s * (1 - s)):
            return "multiply by grad_output: backward returns dL/dx = dL/dy * dy/dx (the chain rule)."
        if near(y, g * x * (1 - x)):
            return "the derivative needs the saved output s = sigmoid(x), not the input x."
    return None


def check_sigmoid_function_backward(function: Any) -> None:
    """forward saves its output s with ctx.save_for_backward, and backward returns grad_output * s * (1 - s)."""
    x = ag.inputs.randn(50, seed=3034, scale=3.0, dtype=torch.float64).requires_grad_(True)
    y = ag.call_student(function.apply, ag.Case("a random float64 input", (x,)), name="SigmoidFunction.apply",
                        forbid=SIGMOID_BAN)  # fmt: skip
    ag.check(
        isinstance(y, torch.Tensor) and y.grad_fn is not None,
        "SigmoidFunction.apply(x) should return the tensor forward computed, connected to autograd (do not detach it).",
    )
    saved = y.grad_fn.saved_tensors
    ag.check(
        len(saved) > 0,
        "forward saved nothing with ctx.save_for_backward: save the tensor backward needs (attributes such as "
        "ctx.s = ... bypass PyTorch's checks).",
    )
    ag.check(
        any(t.shape == x.shape and torch.allclose(t.detach().double(), REF_SIGMOID(x.detach())) for t in saved),
        "forward should save its output s = sigmoid(x): backward needs only s. You saved something else (the "
        "input x?).",
    )
    cases = [
        ag.Case("the example x with upstream gradient 1", (ag.inputs.example(), torch.ones(9))),
        ag.Case("random float32 x and a random upstream gradient",
                (ag.inputs.randn(50, seed=3036, scale=3.0), ag.inputs.randn(50, seed=3035))),
        ag.Case("edge inputs (±88.7, ±1e4, ...) with upstream gradient 1", (ag.inputs.edge_values(), torch.ones(14))),
    ]  # fmt: skip
    ag.check_function(sigmoid_function_backward(function), sigmoid_vjp_reference, cases,
                      name="SigmoidFunction.backward", elementwise=True, forbid=SIGMOID_BAN,
                      allowed_hint="the saved output", diagnose=diagnose_backward)  # fmt: skip


def gradcheck_of(function: type) -> Any:
    """x -> whether torch.autograd.gradcheck accepts ``function`` at x (float64)."""

    def run_gradcheck(x: torch.Tensor) -> bool:
        return torch.autograd.gradcheck(function.apply, (x.requires_grad_(True),), raise_exception=False)

    return run_gradcheck


def check_gradcheck(function: Any, cases: list[tuple[int, tuple[int, ...]]]) -> None:
    """torch.autograd.gradcheck accepts ``function`` on a random float64 x for each (seed, shape)."""
    for seed, shape in cases:
        x = ag.inputs.randn(*shape, seed=seed, scale=3.0, dtype=torch.float64)
        ok = ag.call_student(gradcheck_of(function), ag.Case(f"random float64 x of shape {shape}", (x,)),
                             name="SigmoidFunction", forbid=SIGMOID_BAN)  # fmt: skip
        ag.check(
            ok is True,
            f"torch.autograd.gradcheck fails on random float64 x of shape {shape}: your backward disagrees with "
            "finite differences of your forward. Check the chain rule and the saved tensor.",
        )
