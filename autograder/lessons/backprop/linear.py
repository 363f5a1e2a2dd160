"""Lesson 05a, ``linear_backward``: its reference (autograd of F.linear), its likely mistakes and its check."""

from __future__ import annotations

from typing import Any

import torch

import autograder as ag
from autograder.lessons.backprop.common import AUTOGRAD_BAN, BY_HAND, autograd_vjp, check_parts, close

LINEAR_PARTS = ("grad_input", "grad_weight", "grad_bias")


def linear_backward_reference(grad_output: torch.Tensor, input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    bias = torch.zeros(weight.shape[0], dtype=weight.dtype)
    return autograd_vjp(ag.reference.get("torch.nn.functional.linear"))(grad_output, input, weight, bias)


def linear_backward_diagnosis(got: Any, case: ag.Case) -> str | None:
    grad_input, grad_weight, grad_bias = ag.checks.run_reference(linear_backward_reference, case)
    n = case.args[1].numel() // case.args[1].shape[-1]
    if n > 1 and close(got[2], grad_bias / n):
        return "grad_bias is the batch mean; every sample uses the same bias, so their gradients add up."
    if close(got[1], grad_weight.T) and not close(got[1], grad_weight):
        return "grad_weight is transposed: it has the weight's layout (out, in), so grad_output comes first."
    if close(got[1], grad_weight / n) and n > 1:
        return "grad_weight is divided by the batch size; a weight's gradient is the sum over the samples."
    return None


def _linear_backward_args(input_shape: tuple[int, ...], out: int, seed: int, dtype: str = "float32") -> tuple:
    """Seeded (grad_output, input, weight): grad_output (*batch, out) from ``seed``, input from seed + 1, weight
    (out, in) from seed + 2; "float64" converts the float32 draws."""
    r, batch, width = ag.inputs.randn, input_shape[:-1], input_shape[-1]
    args = (r(*batch, out, seed=seed), r(*input_shape, seed=seed + 1), r(out, width, seed=seed + 2))
    return tuple(a.double() for a in args) if dtype == "float64" else args


def check_linear_backward(student: Any, cases: list[tuple]) -> None:
    """linear_backward matches autograd of F.linear on each case ``(label, input shape, out_features, seed[,
    "float64"])``, part by part (grad_input, grad_weight, grad_bias), by hand (no autograd)."""
    built = [ag.Case(label, _linear_backward_args(*spec)) for label, *spec in cases]
    check_parts(student, linear_backward_reference, built, LINEAR_PARTS, forbid=AUTOGRAD_BAN, allowed_hint=BY_HAND,
                diagnose=linear_backward_diagnosis)  # fmt: skip
