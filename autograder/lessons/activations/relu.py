"""Lesson 03, ``03_relu``: relu and relu_grad: what they may not call, their properties and the diagnosis of the
usual mistakes."""

from __future__ import annotations

from typing import Any

import torch

import autograder as ag
from autograder.lessons.activations.common import as_float64, check_shape_and_dtype, near

RELU_BAN = (
    "torch.relu", "torch.nn.functional.relu", "torch.nn.ReLU", "torch.nn.functional.relu6",
    "torch.nn.functional.threshold", "torch.nn.functional.leaky_relu", "torch.nn.functional.hardtanh",
    # the ReLU family, set to be ReLU: elu(alpha=0), prelu(weight 0), rrelu(0, 0)
    "torch.nn.functional.elu", "torch.nn.functional.celu", "torch.nn.functional.prelu",
    "torch.nn.functional.rrelu", "torch.ops.aten.*rrelu*",
)  # fmt: skip
RELU_GRAD_BAN = RELU_BAN + ag.AUTOGRAD
RELU_HINT = "torch.clamp, torch.maximum or torch.where"


def diagnose_relu(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong relu."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    if near(y, x.clamp(0, 1)):
        return "ReLU has no upper bound: positive inputs pass unchanged, however large."
    if near(y, x.clamp(max=0)):
        return "you kept the negative part: ReLU keeps the positive inputs and zeroes the others."
    return None


def diagnose_relu_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong relu_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    if bool(((x == 0) & (y != 0)).any()):
        return "PyTorch's convention is ReLU'(0) = 0: at exactly x = 0 the derivative must be 0."
    if bool(((x < 0) & (y < 0)).any()):
        return "for x < 0 ReLU is constant (0), so its slope there is 0, not -1."
    if bool(((x > 0) & (y != 1)).any()):
        return "for x > 0 ReLU(x) = x, so its slope there is 1."
    return None


def check_relu_properties(relu: Any) -> None:
    """relu(x) >= 0, relu(x) - relu(-x) = x exactly, and relu(a * x) = a * relu(x) for a >= 0."""
    x = ag.inputs.randn(300, seed=3052, scale=5.0, dtype=torch.float64)
    r = ag.call_student(relu, ag.Case("random float64 x", (x,)), name="relu", forbid=RELU_BAN)
    check_shape_and_dtype(r, x, "relu")
    ag.check(bool((r >= 0).all()), "relu(x) should never be negative; yours is somewhere.")
    neg = ag.call_student(relu, ag.Case("-x for random float64 x", (-x,)), name="relu", forbid=RELU_BAN)
    ag.check(bool(torch.equal(r - neg, x)), "relu(x) - relu(-x) should give back x exactly; yours does not.")
    scaled = ag.call_student(relu, ag.Case("3.5 * x for random float64 x", (3.5 * x,)), name="relu", forbid=RELU_BAN)
    ag.check(
        float((scaled - 3.5 * r).abs().max()) < 1e-12,
        "relu(a * x) should equal a * relu(x) for a = 3.5; yours does not.",
    )
