"""Lesson 03, ``02_tanh``: tanh and tanh_grad: what they may not call, their properties and the diagnosis of the
usual mistakes."""

from __future__ import annotations

from typing import Any

import torch

import autograder as ag
from autograder.lessons.activations.common import (
    NOISY,
    REF_SIGMOID,
    REF_TANH,
    Exercise,
    as_float64,
    check_shape_and_dtype,
    close_but_noisy,
    near,
)

TANH_BAN = (
    "torch.tanh", "torch.nn.functional.tanh", "torch.nn.Tanh", "torch.nn.functional.tanhshrink",
    "torch.sigmoid", "torch.nn.functional.sigmoid", "torch.nn.Sigmoid", "torch.special.expit",
)  # fmt: skip
TANH_GRAD_BAN = TANH_BAN + ag.AUTOGRAD
TANH_HINT = "torch.exp, arithmetic and torch.where"


def diagnose_tanh(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong tanh."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        if bool(torch.isnan(y).any()):
            return (
                "e^x or e^-x overflowed to inf and inf/inf is nan. Rewrite the formula so that exp only "
                "ever sees numbers <= 0 (tanh is odd), or build it from a stable sigmoid."
            )
        if near(y, 2 * REF_SIGMOID(x) - 1):
            return "tanh(x) = 2 * sigmoid(2x) - 1: the argument of the sigmoid doubles too."
        if near(y, REF_SIGMOID(2 * x)):
            return "sigmoid(2x) lies in (0, 1); tanh(x) = 2 * sigmoid(2x) - 1 stretches it to (-1, 1)."
    return None


def diagnose_tanh_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong tanh_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        t = REF_TANH(x)
        if bool(torch.isnan(y).any()):
            return (
                "exp overflowed to inf somewhere (inf/inf = nan): write the derivative with tanh(x), "
                "computed with your stable tanh."
            )
        if near(y, 1 - t):
            return "1 - tanh(x) is not the derivative: the tanh in it should be squared."
        if near(y, 1 - x**2):
            return "1 - t**2 needs the output t = tanh(x), not the input x."
        if close_but_noisy(y, 1 - t**2):
            return NOISY
    return None


TANH = Exercise("torch.tanh", TANH_BAN, TANH_HINT, diagnose_tanh)
TANH_GRAD = Exercise("torch.tanh", TANH_GRAD_BAN, TANH_HINT, diagnose_tanh_grad, derivative=True, exact=(3042, 2.0))


def check_tanh_properties(tanh: Any) -> None:
    """tanh is odd, lies strictly in (-1, 1) where float64 can tell, and equals 2 * sigmoid(2x) - 1."""
    x = torch.linspace(-15, 15, 601, dtype=torch.float64)
    t = ag.call_student(tanh, ag.Case("x = linspace(-15, 15, 601) in float64", (x,)), name="tanh", forbid=TANH_BAN)
    check_shape_and_dtype(t, x, "tanh")
    mirror = ag.call_student(tanh, ag.Case("x = -linspace(-15, 15, 601) in float64", (-x,)), name="tanh",
                             forbid=TANH_BAN)  # fmt: skip
    ag.check(float((mirror + t).abs().max()) < 1e-12, "tanh should be odd: tanh(-x) = -tanh(x); yours is not.")
    ag.check(
        bool((t.abs() < 1).all()),
        "tanh(x) should lie strictly between -1 and 1 for |x| <= 15 in float64, where the exact values are "
        "representable; some of yours do not.",
    )
    with ag.pristine():
        gap = float((t - (2 * REF_SIGMOID(2 * x) - 1)).abs().max())
    ag.check(gap < 1e-12, f"tanh(x) should equal 2 * sigmoid(2x) - 1; yours is off by up to {gap:.3g}.")
