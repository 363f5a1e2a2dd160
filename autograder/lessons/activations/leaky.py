"""Lesson 03, ``04_leaky_relu``: leaky_relu, leaky_relu_grad and the LeakyReLU module: what they may not call,
the diagnosis of the usual mistakes, and the checks of the module (values, repr, in place, use in training)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import autograder as ag
from autograder.lessons.activations.common import as_float64, near

LEAKY_BAN = (
    "torch.nn.functional.leaky_relu", "torch.nn.functional.leaky_relu_", "torch.nn.LeakyReLU",
    "torch.relu", "torch.nn.functional.relu", "torch.nn.ReLU", "torch.nn.functional.prelu",
    "torch.nn.PReLU", "torch.nn.functional.rrelu", "torch.nn.functional.threshold",
    "torch.ops.aten.*rrelu*",  # rrelu_with_noise in eval mode is a leaky ReLU
)  # fmt: skip
LEAKY_GRAD_BAN = LEAKY_BAN + ag.AUTOGRAD
LEAKY_HINT = "torch.where (torch.maximum only for slopes up to 1)"


def slope_of(case: ag.Case) -> float:
    """The negative_slope a case passes (keyword, positional, or the default)."""
    return float(case.kwargs.get("negative_slope", case.args[1] if len(case.args) > 1 else 0.01))


def diagnose_leaky_relu(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong leaky_relu."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    a = slope_of(case)
    if a > 1 and near(y, torch.maximum(x, a * x)):
        return (
            f"max(x, a * x) is leaky ReLU only for slopes up to 1: with a = {a}, a * x is the larger one for every "
            "x > 0. PyTorch allows any slope: choose the branch by the sign of x."
        )
    if near(y, torch.where(x > 0, a * x, x)):
        return "the slope multiplies the positive inputs: it belongs on the negative side, positives pass unchanged."
    if a != 0.01 and near(y, torch.where(x > 0, x, 0.01 * x)):
        return f"you ignore the negative_slope argument (here {a}): use it instead of a fixed 0.01."
    if near(y, torch.where(x > 0, x, a)):
        return "on the negative side the output is negative_slope * x, not the constant negative_slope."
    return None


def diagnose_leaky_relu_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong leaky_relu_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    a = slope_of(case)
    if a != 1 and bool(((x == 0) & (y != a)).any()):
        return (
            "PyTorch's convention at the kink x = 0 is the negative slope: only x > 0 has slope 1 "
            "(with negative_slope = 0 this is ReLU'(0) = 0)."
        )
    if near(y, torch.where(x > 0, a, torch.ones_like(x))):
        return "the slopes are swapped: 1 for x > 0, negative_slope for x < 0."
    if a != 0.01 and near(y, torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01))):
        return f"you ignore the negative_slope argument (here {a}): use it instead of a fixed 0.01."
    if near(y, torch.where(x > 0, torch.ones_like(x), a * x)):
        return "the derivative of negative_slope * x is the constant negative_slope, not negative_slope * x."
    return None


def check_leaky_module(cls: type, *args: Any, **kwargs: Any) -> None:
    """The student's module ``cls(*args, **kwargs)`` must compute what nn.LeakyReLU with the same arguments does."""
    label = "LeakyReLU(" + ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"
    mine = ag.construct(cls, *args, forbid=LEAKY_BAN, **kwargs)
    ag.check(isinstance(mine, nn.Module), f"{label} should be an nn.Module (subclass nn.Module).")
    ag.check(
        not any(isinstance(m, nn.LeakyReLU | nn.ReLU | nn.PReLU | nn.RReLU) for m in mine.modules()),
        f"{label} contains one of PyTorch's own ReLU modules: compute the output yourself, with your leaky_relu.",
    )
    ag.check(
        not list(mine.parameters()),
        f"{label} has trainable parameters: negative_slope is a fixed "
        "hyper-parameter, a plain attribute, not an nn.Parameter (a learned slope is PReLU).",
    )
    case = ag.Case("a random (5, 8) batch", (ag.inputs.randn(5, 8, seed=3062, scale=3.0),))
    try:
        ag.check_module_matches(mine, nn.LeakyReLU(*args, **kwargs), [case], name=label, forbid=LEAKY_BAN)
    except ag.CheckFailed as failure:
        got = ag.call_student(mine, case, name=label, forbid=LEAKY_BAN)
        slope = nn.LeakyReLU(*args, **kwargs).negative_slope
        cause = diagnose_leaky_relu(got, ag.Case(case.label, case.args, {"negative_slope": slope}))
        raise ag.CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None
    if not kwargs.get("inplace", False):
        check_leaky_module_trains(mine, label, nn.LeakyReLU(*args, **kwargs).negative_slope)


def check_leaky_module_trains(mine: nn.Module, label: str, slope: float) -> None:
    """The use a module gets in a network: a float64 batch stays float64, and the gradient flows back through it,
    with PyTorch's slope at the kink (inputs of exactly 0, common after a layer of ReLUs)."""
    x = ag.inputs.randn(5, 8, seed=3064, scale=3.0, dtype=torch.float64)
    x[0, :4] = torch.tensor([0.0, -0.0, 0.0, -0.0], dtype=torch.float64)
    x.requires_grad_(True)
    case = ag.Case("a float64 (5, 8) batch that requires grad, with some entries exactly 0", (x,))
    out = ag.call_student(lambda: mine(x), ag.Case(case.label), name=label, forbid=LEAKY_BAN)
    with ag.pristine():
        ref = nn.functional.leaky_relu(x, slope)
    ag.compare(out, ref.detach(), name=label, case=case, elementwise_input=x.detach())
    ag.check(
        out.requires_grad and out.grad_fn is not None,
        f"{label}(x) is cut off from autograd (no grad_fn): a network that uses it would not train the layers "
        "before it. Compute the output from the input itself with tensor operations (not from .data, .detach() "
        "or a new torch.tensor).",
    )
    upstream = ag.inputs.randn(5, 8, seed=3065, dtype=torch.float64)
    with ag.pristine():
        (grad,) = torch.autograd.grad(out, x, upstream, allow_unused=True)
        (expected,) = torch.autograd.grad(ref, x, upstream)
    ag.check(grad is not None, f"the output of {label} does not depend on its input for autograd.")
    try:
        ag.compare(grad, expected, name=label, case=case, what="gradient with respect to the input")
    except ag.CheckFailed as failure:
        at_zero = bool(((grad - expected).abs() > 1e-9)[x.detach() == 0].any())
        cause = "at x = 0 autograd must give negative_slope, PyTorch's convention: torch.maximum splits it in two."
        raise ag.CheckFailed(f"{failure}\nLikely cause: {cause}" if at_zero else str(failure)) from None


def slope_case(x: torch.Tensor, how: str, slope: float, dtype: str = "float32") -> ag.Case:
    """x (in ``dtype``) with ``slope`` passed by "keyword" or by "position"."""
    x = x.double() if dtype == "float64" else x
    shown = f"{tuple(x.shape)}" + (" in float64" if dtype == "float64" else "")
    if how == "position":
        return ag.Case(f"x of shape {shown} with slope {slope} passed by position", (x, slope))
    relu = " (ReLU)" if slope == 0 else ""
    return ag.Case(f"x of shape {shown} with negative_slope={slope}{relu}", (x,), {"negative_slope": slope})


def check_negative_slope(leaky_relu: Any, settings: list[tuple]) -> None:
    """leaky_relu uses its negative_slope, for each ("keyword" or "position", slope[, dtype]) in ``settings``, on
    a random (6, 7) x."""
    x = ag.inputs.randn(6, 7, seed=3061, scale=3.0)
    cases = [slope_case(x, *setting) for setting in settings]
    ag.check_function(leaky_relu, "torch.nn.functional.leaky_relu", cases, elementwise=True, forbid=LEAKY_BAN,
                      allowed_hint=LEAKY_HINT, diagnose=diagnose_leaky_relu)  # fmt: skip


def check_grad_matches_autograd(leaky_relu_grad: Any, settings: list[dict]) -> None:
    """leaky_relu_grad is autograd's derivative of F.leaky_relu on random inputs away from the kink, for each
    keyword setting."""
    for kwargs in settings:
        ag.check_derivative(leaky_relu_grad, "torch.nn.functional.leaky_relu", kwargs=kwargs, tiers=("random",),
                            kinks=(0.0,), forbid=LEAKY_GRAD_BAN, allowed_hint=LEAKY_HINT,
                            diagnose=diagnose_leaky_relu_grad)  # fmt: skip


def check_grad_at_zero(leaky_relu_grad: Any, settings: list[dict]) -> None:
    """leaky_relu_grad(±0) is negative_slope, as autograd gives, and the example and edges are autograd's, for
    each keyword setting; no numerical warnings."""
    for kwargs in settings:
        zeros = ag.Case("x = 0.0 and x = -0.0", (torch.tensor([0.0, -0.0]),), kwargs)
        ag.check_function(leaky_relu_grad, ag.autograd_derivative("torch.nn.functional.leaky_relu"), [zeros],
                          elementwise=True, forbid=LEAKY_GRAD_BAN, allowed_hint=LEAKY_HINT,
                          diagnose=diagnose_leaky_relu_grad)  # fmt: skip
        ag.check_derivative(leaky_relu_grad, "torch.nn.functional.leaky_relu", kwargs=kwargs,
                            tiers=("example", "edges"), forbid=LEAKY_GRAD_BAN, allowed_hint=LEAKY_HINT,
                            diagnose=diagnose_leaky_relu_grad)  # fmt: skip
    ag.check_no_warnings(leaky_relu_grad, ag.inputs.edge_values(), name="leaky_relu_grad")


def check_leaky_modules(cls: type, settings: list[tuple[tuple, dict]]) -> None:
    """check_leaky_module for each (args, kwargs) in ``settings``."""
    for args, kwargs in settings:
        check_leaky_module(cls, *args, **kwargs)


def check_leaky_repr(cls: type, settings: list[tuple[tuple, dict]]) -> None:
    """``cls(*args, **kwargs)`` stores negative_slope and inplace as nn.LeakyReLU does, and prints like it."""
    for args, kwargs in settings:
        mine = ag.construct(cls, *args, forbid=LEAKY_BAN, **kwargs)
        theirs = nn.LeakyReLU(*args, **kwargs)
        ag.check(
            getattr(mine, "negative_slope", None) == theirs.negative_slope
            and getattr(mine, "inplace", None) == theirs.inplace,
            f"{theirs!r} stores self.negative_slope = {theirs.negative_slope} and self.inplace = {theirs.inplace}; "
            f"yours has {getattr(mine, 'negative_slope', 'no negative_slope')} and "
            f"{getattr(mine, 'inplace', 'no inplace')}.",
        )
        ag.check(
            repr(mine) == repr(theirs),
            f"print shows {mine!r}; nn.LeakyReLU shows {theirs!r}. Define extra_repr to return the text inside "
            "the parentheses.",
        )


def check_leaky_inplace(cls: type) -> None:
    """LeakyReLU(0.2, inplace=True) overwrites its input and returns it; inplace=False leaves the input alone."""
    module = ag.construct(cls, 0.2, inplace=True, forbid=LEAKY_BAN)
    x = ag.inputs.randn(40, seed=3063, scale=3.0)
    y = x.clone()
    out = ag.call_student(lambda: module(y), ag.Case("a random x of shape (40,)"), name="LeakyReLU(0.2, inplace=True)",
                          forbid=LEAKY_BAN)  # fmt: skip
    ag.check(
        isinstance(out, torch.Tensor) and out.data_ptr() == y.data_ptr(),
        "LeakyReLU(inplace=True) should write the result into its input and return that same tensor.",
    )
    with ag.pristine():
        expected, native = nn.functional.leaky_relu(x.double(), 0.2), nn.functional.leaky_relu(x, 0.2)
    ag.compare(y, expected, name="LeakyReLU(0.2, inplace=True)", case=ag.Case("a random x of shape (40,)", (x,)),
               expected_native=native, elementwise_input=x, what="input after the call")  # fmt: skip
    check_leaky_module(cls, 0.2, inplace=False)
