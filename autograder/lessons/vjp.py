"""Lesson 05a, the vector-Jacobian products of softmax and log_softmax: what ``softmax_backward`` and
``log_softmax_backward`` may not call, their references (autograd of ``torch.softmax`` / ``torch.log_softmax``), the
cases they are tested on and the mistakes they diagnose."""

from __future__ import annotations

from typing import Any

import torch

import autograder as ag
from autograder.lessons.backprop import AUTOGRAD_BAN, close

#: autograd, and the aten kernel that computes this very product
SOFTMAX_BACKWARD_BAN = (*AUTOGRAD_BAN, "torch._softmax_backward_data")
SOFTMAX_BACKWARD_HINT = "the output and grad_output: products and a sum along dim"


def softmax_backward_reference(grad_output: torch.Tensor, output: torch.Tensor, dim: int) -> torch.Tensor:
    """The gradient of sum(grad_output * softmax(x, dim)) at an x with softmax(x, dim) = output, by autograd.

    softmax is unchanged by a shift of its slice, so x = log(output) is such an input (an output of exactly 0
    gives x = -inf, where softmax and its gradient are still exact).
    """
    x = torch.log(output.detach()).requires_grad_(True)
    return torch.autograd.grad(ag.reference.get("torch.softmax")(x, dim), x, grad_output)[0]


def softmax_case(label: str, logits: torch.Tensor, dim: int, seed: int, log: bool = False) -> ag.Case:
    """(grad_output, softmax(logits, dim), dim) with a seeded random upstream gradient of the logits' shape
    (log_softmax(logits, dim) when ``log``)."""
    with ag.pristine():
        output = ag.reference.get("torch.log_softmax" if log else "torch.softmax")(logits, dim)
    grad_output = ag.inputs.randn(*logits.shape, seed=seed, dtype=logits.dtype)
    return ag.Case(label, (grad_output, output, dim))


def nan_row_case(label: str, seed: int, log: bool = False) -> ag.Case:
    """A (4, 5) batch whose row 2 is the softmax of logits holding a nan: that row is nan, the others are not."""
    logits = ag.inputs.randn(4, 5, seed=seed, scale=2.0)
    logits[2, 1] = float("nan")
    return softmax_case(label, logits, 1, seed + 1, log=log)


def nll_case(label: str, logits: torch.Tensor, target: torch.Tensor) -> ag.Case:
    """(dL/d log-probabilities of the mean NLL of target, log_softmax(logits, 1), 1): the cross-entropy chain."""
    with ag.pristine():
        output = ag.reference.get("torch.log_softmax")(logits, 1)
        grad_output = torch.zeros_like(logits)
        grad_output[torch.arange(len(target)), target] = -1.0 / len(target)
    return ag.Case(label, (grad_output, output, 1))


def check_softmax_backward(student: Any, cases: list[ag.Case]) -> None:
    """softmax_backward against autograd of torch.softmax on every case, naming the likely mistake."""
    ag.check_function(
        student,
        softmax_backward_reference,
        cases,
        forbid=SOFTMAX_BACKWARD_BAN,
        allowed_hint=SOFTMAX_BACKWARD_HINT,
        diagnose=softmax_backward_diagnosis,
    )


def softmax_backward_diagnosis(got: Any, case: ag.Case) -> str | None:
    """The likely mistake behind a wrong softmax_backward, or None."""
    g, y, dim = case.args
    if not isinstance(got, torch.Tensor) or got.shape != y.shape:
        return None
    with ag.pristine():
        g, y = g.double(), y.double()
        if close(got, g * y * (1 - y)):
            return (
                "this is only the diagonal of the Jacobian. Every output of a softmax depends on every input of "
                "its slice (they share one denominator), so each input also receives the terms j ≠ i."
            )
        if close(got, g - y * g.sum(dim, keepdim=True)):
            return "this is the backward of log_softmax, whose output is log(y); here output is y itself."
        if close(got, y * (g - g.sum(dim, keepdim=True))):
            return "the sum over the slice weighs each upstream gradient by its output y_i (a dot product with y)."
        if y.dim() > 1 and close(got, y * (g - (g * y).sum())):
            return "the sum runs over the whole tensor; each slice along dim is a softmax of its own."
        for other in range(y.dim()):
            if other != dim % y.dim() and close(got, y * (g - (g * y).sum(other, keepdim=True))):
                return f"the sum runs along dim {other}; it must run along dim={dim}, the dim softmax normalised."
        s = torch.softmax(y, dim)
        if close(got, s * (g - (g * s).sum(dim, keepdim=True))):
            return "you applied softmax to output, but output is already softmax(x): use it as it is."
    return None


# ---------------------------------------------------------------- log_softmax_backward
LOG_SOFTMAX_BACKWARD_BAN = (*AUTOGRAD_BAN, "torch._log_softmax_backward_data")
LOG_SOFTMAX_BACKWARD_HINT = "the output and grad_output: an exponential, a sum along dim and a product"


def log_softmax_backward_reference(grad_output: torch.Tensor, output: torch.Tensor, dim: int) -> torch.Tensor:
    """The gradient of sum(grad_output * log_softmax(x, dim)) at x = output, by autograd.

    log_softmax is idempotent (the log-probabilities of log-probabilities are themselves), so x = output is an input
    with this output.
    """
    x = output.detach().clone().requires_grad_(True)
    return torch.autograd.grad(ag.reference.get("torch.log_softmax")(x, dim), x, grad_output)[0]


def check_log_softmax_backward(student: Any, cases: list[ag.Case]) -> None:
    """log_softmax_backward against autograd of torch.log_softmax on every case, naming the likely mistake."""
    ag.check_function(
        student,
        log_softmax_backward_reference,
        cases,
        forbid=LOG_SOFTMAX_BACKWARD_BAN,
        allowed_hint=LOG_SOFTMAX_BACKWARD_HINT,
        diagnose=log_softmax_backward_diagnosis,
    )


def log_softmax_backward_diagnosis(got: Any, case: ag.Case) -> str | None:
    """The likely mistake behind a wrong log_softmax_backward, or None."""
    g, out, dim = case.args
    if not isinstance(got, torch.Tensor) or got.shape != out.shape:
        return None
    with ag.pristine():
        g, out = g.double(), out.double()
        y = out.exp()
        if close(got, y * (g - (g * y).sum(dim, keepdim=True))):
            return "this is softmax's backward; log_softmax's Jacobian is δ_ij - y_j, without softmax's factor y_i."
        if close(got, g - out * g.sum(dim, keepdim=True)):
            return "output holds log-probabilities: the Jacobian needs the probabilities y = exp(output)."
        if close(got, y * g.sum(dim, keepdim=True) - g):
            return "the sign is flipped: the δ_ij term passes grad_output through unchanged."
        if close(got, g - y):
            return "the sum of grad_output along dim is missing (it is 1 only by accident)."
        if out.dim() > 1 and close(got, g - y * g.sum()):
            return "the sum runs over the whole tensor; each slice along dim is a log_softmax of its own."
        for other in range(out.dim()):
            if other != dim % out.dim() and close(got, g - y * g.sum(other, keepdim=True)):
                return f"the sum runs along dim {other}; it must run along dim={dim}, the dim log_softmax normalised."
    return None
