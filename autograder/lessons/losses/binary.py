"""Lesson 04, binary losses: what the grade cells of binary_cross_entropy, binary_cross_entropy_with_logits and
bce_with_logits_grad forbid, compare with and diagnose."""

from __future__ import annotations

from typing import Any

import torch

import autograder as ag
from autograder.lessons.losses.common import reduction_hint, same_as, weight_of

# ---------------------------------------------------------------- binary_cross_entropy
# what the binary losses may not call, and hints for their usual mistakes
BCE_BAN = (
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.BCELoss",
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.BCEWithLogitsLoss",
    "torch.binary_cross_entropy_with_logits",
)
BCE = "torch.nn.functional.binary_cross_entropy"


def bce_hint(got: Any, case: ag.Case) -> str | None:
    p = case.args[0]
    certain = bool(((p == 0) | (p == 1)).any())
    if certain and isinstance(got, torch.Tensor) and not bool(torch.isfinite(got).all()):
        return "log(0) = -inf, and 0 · (-inf) = nan: clamp each log at -100 before multiplying, as PyTorch does."
    if certain:
        return (
            "a certain, wrong prediction (p = 0 for y = 1) costs exactly 100 in PyTorch: clamp each log at "
            "-100; clamping p to [eps, 1 - eps] gives other values."
        )
    if weight_of(case) is not None and same_as(got, BCE, ag.Case(case.label, case.args[:2], case.kwargs), weight=None):
        return "your result ignores weight: multiply each element's loss by it (it broadcasts against input)."
    return reduction_hint(BCE)(got, case)


# ---------------------------------------------------------------- binary_cross_entropy_with_logits
# what binary_cross_entropy_with_logits may not call, and hints
BCEL = "torch.nn.functional.binary_cross_entropy_with_logits"
BCEL_BAN = BCE_BAN + (
    "torch.nn.functional.logsigmoid",
    "torch.nn.LogSigmoid",
    "torch.nn.functional.softplus",
    "torch.nn.Softplus",
    "torch.logaddexp",
)
BCEL_HINT = "exp, log1p, abs, clamp and arithmetic (the stable form above)"


def pos_weight_on_negatives(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    pos_weight: torch.Tensor | None = None,
) -> Any:
    """The usual pos_weight mistake, built from PyTorch's function: the factor on the negative term."""
    f = ag.reference.get(BCEL)
    loss = target * f(input, torch.ones_like(input), reduction="none")
    loss = loss + pos_weight * (1 - target) * f(input, torch.zeros_like(input), reduction="none")
    loss = loss if weight is None else loss * weight
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def bce_logits_hint(got: Any, case: ag.Case) -> str | None:
    x = case.args[0]
    pos_weight = case.kwargs.get("pos_weight")
    if pos_weight is not None and same_as(got, pos_weight_on_negatives, case):
        return (
            "pos_weight multiplies the positive term y·log σ(x), not the negative one: it makes the rare "
            "positives count more."
        )
    if pos_weight is not None and same_as(got, BCEL, case, pos_weight=None):
        return "your result is the loss without pos_weight: it multiplies the positive term y·log σ(x)."
    if weight_of(case) is not None and same_as(got, BCEL, ag.Case(case.label, case.args[:2], case.kwargs), weight=None):
        return "your result ignores weight: multiply each element's loss by it (it broadcasts against input)."
    finite = isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all())
    if x.numel() and float(x.abs().max()) > 15 and (not finite or pos_weight is None):
        return (
            "for large |x|, σ(x) rounds to exactly 0 or 1 and exp(x) overflows float32 past 88.7: compute "
            "log(1 + e^z) as max(z, 0) + log1p(exp(-|z|)), never from σ(x) or exp(x) directly."
        )
    if pos_weight is not None:
        return (
            "if your loss without pos_weight is right, look at pos_weight: it multiplies only the positive "
            "term y·log σ(x), one factor per class along the last dim; the negative term keeps weight 1."
        )
    return reduction_hint(BCEL)(got, case)


# ---------------------------------------------------------------- bce_with_logits_grad
# the reference gradient, by autograd, and hints
def bce_grad_reference(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    x = logits.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(ag.reference.get(BCEL)(x, target), x)
    return grad


def bce_grad_hint(got: Any, case: ag.Case) -> str | None:
    if not isinstance(got, torch.Tensor) or got.shape != case.args[0].shape:
        return None
    ref, g = ag.checks.run_reference(bce_grad_reference, case), got.detach().double()
    if torch.allclose(g, ref * ref.numel(), rtol=1e-3, atol=1e-6):
        return "the loss is a mean over all n elements, so every derivative carries a factor 1/n."
    if ref.dim() > 1 and torch.allclose(g, ref * ref[0].numel(), rtol=1e-3, atol=1e-6):
        return "n is the number of all elements of logits (N·C for a 2-D input), not only the batch size N."
    if torch.allclose(g, -ref, rtol=1e-3, atol=1e-6):
        return "the sign is flipped: every entry of your gradient has the opposite sign."
    return None
