"""Lesson 03, modern activations (ELU, GELU, SiLU, softplus, Mish): what the grade cells of ``06_modern`` forbid
and diagnose."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

import autograder as ag
from autograder.lessons.activations import quiet
from autograder.lessons.nonfinite import check_nan_and_inf as check_nan_and_inf  # 06_modern's grade cells call it

# used by the tests below: what each activation may not call, and how a wrong derivative is diagnosed
AUTOGRAD_BAN = ag.AUTOGRAD
ELU_BAN = ("torch.nn.functional.elu", "torch.nn.functional.elu_", "torch.celu")
GELU_BAN = ("torch.nn.functional.gelu", "torch.special.ndtr", "torch.special.log_ndtr")
SILU_BAN = ("torch.nn.functional.silu",)
SOFTPLUS_BAN = (
    "torch.nn.functional.softplus",
    "torch.logaddexp",
    "torch.nn.functional.logsigmoid",
)  # log_sigmoid(z) = -softplus(-z)
MISH_BAN = ("torch.nn.functional.mish",) + SOFTPLUS_BAN
HINT = "torch.exp, torch.log1p, torch.erf, torch.tanh, torch.sigmoid and torch.where"


def _close(
    a: torch.Tensor, b: torch.Tensor
) -> bool:  # equal up to float32 rounding: tighter than the tests, so that a diagnosis is specific
    return bool(torch.allclose(a, b, rtol=2e-6, atol=2e-6 * max(1.0, float(b.abs().max()))))


def derivative_diagnosis(ref: str | Callable) -> Callable:
    """A diagnose= for <name>_grad: the kink convention, or an estimate that is close but not exact."""
    derivative = ag.autograd_derivative(ref)

    def diagnose(got: Any, case: ag.Case) -> str | None:
        x = case.args[0]
        if not isinstance(got, torch.Tensor) or got.shape != x.shape or got.dtype != x.dtype:
            return None
        with ag.pristine():
            want, g = derivative(x.double(), **case.kwargs), got.detach().double()
            if not bool((torch.isfinite(want) & torch.isfinite(g)).all()):
                return None
            if case.label.startswith("inputs exactly at"):
                return (
                    "at a kink the derivative does not exist, and this course follows PyTorch's convention, "
                    "stated in the exercise: check which side of your comparison (> or >=) the kink falls on."
                )
            err = float((g - want).abs().max())
            if err < 1e-2 * max(1.0, float(want.abs().max())):
                return (
                    "your values are close to the derivative but not exact. A finite-difference estimate "
                    "(f(x + h) - f(x - h)) / 2h always carries an error (of order h^2, plus rounding that grows "
                    "as h shrinks): differentiate by hand and return the exact formula."
                )
        return None

    return quiet(diagnose)


# used by the tests below: recognise the well-known GELU approximations
def gelu_diagnosis(derivative: bool = False) -> Callable:
    def tanh_form(t: torch.Tensor) -> torch.Tensor:
        return 0.5 * t * (1 + torch.tanh(math.sqrt(2 / math.pi) * (t + 0.044715 * t**3)))

    def sigmoid_form(t: torch.Tensor) -> torch.Tensor:
        return t * torch.sigmoid(1.702 * t)

    def diagnose(got: Any, case: ag.Case) -> str | None:
        x = case.args[0]
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            return None
        with ag.pristine():
            g = got.detach().double()
            exact = (
                ag.autograd_derivative("torch.nn.functional.gelu")
                if derivative
                else ag.reference.get("torch.nn.functional.gelu")
            )(x.double())
            miss = float((g - exact).abs().max())
            for name, form in (("tanh", tanh_form), ("sigmoid", sigmoid_form)):
                approx = ag.autograd_derivative(form)(x.double()) if derivative else form(x.double())
                if bool(torch.isfinite(approx).all()) and float((g - approx).abs().max()) < miss / 10:
                    return (
                        f"these are the values of the {name} approximation of "
                        f"GELU{'’s derivative' if derivative else ''}. "
                        "This exercise asks for the exact GELU, x * Phi(x), with Phi the standard normal "
                        "CDF 0.5 * (1 + erf(x / sqrt(2)))."
                    )
        return None

    return quiet(diagnose)


# used by the tests below: what a wrong softplus usually ignores
@quiet
def softplus_diagnosis(got: Any, case: ag.Case) -> str | None:
    x = case.args[0]
    params = {"beta": 1.0, "threshold": 20.0, **dict(zip(("beta", "threshold"), case.args[1:])), **case.kwargs}
    beta, threshold = params["beta"], params["threshold"]
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        return None
    if not bool(torch.isfinite(got).all()):
        return (
            "exp(beta * x) overflowed. Rewrite log(1 + e^z) so that the exponent is never positive (see the "
            "exercise), and return x itself where beta * x > threshold."
        )
    with ag.pristine():
        x64, g = x.double(), got.detach().double()

        def soft(b: float) -> torch.Tensor:  # no threshold
            return ag.reference.get("torch.nn.functional.softplus")(x64, b, math.inf)

        if _close(g, torch.where(x64 > threshold, x64, soft(beta))):
            return "compare beta * x with threshold, not x itself."
        if _close(g, torch.where(beta * x64 >= threshold, x64, soft(beta))):
            return "at beta * x == threshold PyTorch still uses the soft formula: the test is beta * x > threshold."
        if _close(g, soft(beta)):
            return (
                "your values ignore `threshold`: where beta * x > threshold, PyTorch returns x itself "
                "(the soft formula and x differ there by less than exp(-threshold) / beta)."
            )
        if beta != 1.0 and (_close(g, soft(1.0)) or _close(g, torch.where(x64 > threshold, x64, soft(1.0)))):
            return "your values ignore `beta`: softplus is log(1 + exp(beta * x)) / beta."
    return None


@quiet
def softplus_grad_diagnosis(got: Any, case: ag.Case) -> str | None:
    x = case.args[0]
    beta, threshold = case.kwargs.get("beta", 1.0), case.kwargs.get("threshold", 20.0)
    if isinstance(got, torch.Tensor) and got.shape == x.shape and bool(torch.isfinite(got).all()):
        with ag.pristine():
            x64, g = x.double(), got.detach().double()
            sig = ag.autograd_derivative("torch.nn.functional.softplus")(x64, beta=beta, threshold=math.inf)
            if _close(g, sig):
                return (
                    "your derivative ignores `threshold`: where beta * x > threshold PyTorch's softplus returns x, "
                    "whose derivative is exactly 1."
                )
            if beta != 1.0 and _close(g, torch.where(beta * x64 > threshold, 1.0, beta * sig)):
                return (
                    "your derivative carries an extra factor beta: the beta that the chain rule brings out of "
                    "exp(beta * x) cancels the 1 / beta in front."
                )
    return derivative_diagnosis("torch.nn.functional.softplus")(got, case)


# used by the tests below: a derivative's arguments varied, with PyTorch's value at the kink
def check_elu_grad_alpha(
    elu_grad: Callable, alphas: Sequence[float], tiers: tuple[str, ...] = ("example", "random", "kinks")
) -> None:
    """elu_grad is autograd's derivative of F.elu for each alpha, on ``tiers`` with the kink at x = 0 (ELU'(0) is
    alpha, as in PyTorch)."""
    for alpha in alphas:
        ag.check_derivative(elu_grad, "torch.nn.functional.elu", kwargs={"alpha": alpha}, tiers=tiers, kinks=(0.0,),
                            forbid=ELU_BAN + AUTOGRAD_BAN, allowed_hint=HINT,
                            diagnose=derivative_diagnosis("torch.nn.functional.elu"))  # fmt: skip


def check_softplus_grad_settings(
    softplus_grad: Callable,
    settings: Sequence[tuple[float, float]],
    tiers: tuple[str, ...] = ("example", "random", "edges", "kinks"),
) -> None:
    """softplus_grad is autograd's derivative of F.softplus for each (beta, threshold), on ``tiers`` with the kink
    where beta * x == threshold."""
    for beta, threshold in settings:
        ag.check_derivative(softplus_grad, "torch.nn.functional.softplus",
                            kwargs={"beta": beta, "threshold": threshold}, tiers=tiers, kinks=(threshold / beta,),
                            forbid=SOFTPLUS_BAN + AUTOGRAD_BAN, allowed_hint=HINT,
                            diagnose=softplus_grad_diagnosis)  # fmt: skip
