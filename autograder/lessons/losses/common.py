"""Lesson 04, losses: what every loss check shares — the reduction rules and their usual mistakes, the comparisons
the diagnoses use, and the checks of what a loss is used for (its gradient) and of NaN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import autograder as ag

AUTOGRAD_BAN = ag.AUTOGRAD  # what a derivative written by hand may not call

REDUCTION_WHY = (
    "PyTorch raises ValueError for a reduction it does not know: returning a number would hide a "
    "typo such as 'avg' or 'Mean'."
)


def same_as(got: Any, ref: str | Callable, case: ag.Case, **changes: Any) -> bool:
    """Whether got equals the reference on the case with some keyword arguments changed."""
    if not isinstance(got, torch.Tensor):
        return False
    other = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, **changes}))
    return got.shape == other.shape and bool(
        torch.allclose(got.detach().double(), other.double(), rtol=1e-4, atol=1e-5, equal_nan=True)
    )


def reduction_hint(ref: str | Callable) -> Callable:
    """diagnose= for a loss with a reduction argument: names the usual reduction mistakes."""

    def diagnose(got: Any, case: ag.Case) -> str | None:
        reduction = case.kwargs.get("reduction", "mean")
        if not isinstance(got, torch.Tensor) or reduction not in ("mean", "sum"):
            return None
        if got.dim() > 0:
            return f'reduction="{reduction}" returns one number, a 0-d tensor: reduce the per-element losses.'
        per = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, "reduction": "none"}))
        if per.numel() == 0:
            return (
                "the mean of an empty batch is 0/0 = nan in PyTorch (and the sum is 0): "
                "let the arithmetic give it, do not special-case it."
            )
        value = got.detach().double()
        if reduction == "mean" and same_as(got, ref, case, reduction="sum"):
            return '"mean" divides the sum by the number of elements; you returned the sum.'
        if reduction == "mean" and per.dim() > 1 and bool(torch.isclose(value, per.sum() / per.shape[0], rtol=1e-4)):
            return '"mean" averages over every element of the input, not only over the batch (the first dim).'
        if reduction == "sum" and same_as(got, ref, case, reduction="mean"):
            return '"sum" adds the per-element losses; you returned their mean.'
        return None

    return diagnose


def weight_of(case: ag.Case) -> Any:
    return case.args[2] if len(case.args) > 2 else case.kwargs.get("weight")


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.isclose(a.detach().double(), b.double(), rtol=1e-4, atol=1e-6))


def same_value(got: Any, ref: str | Callable, case: ag.Case, **changes: Any) -> bool:
    """Whether got equals the reference on the case with some keyword arguments changed."""
    other = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, **changes}))
    return got.shape == other.shape and bool(
        torch.allclose(got.detach().double(), other, rtol=1e-4, atol=1e-6, equal_nan=True)
    )


def value_and_grad(loss_fn: Callable) -> Callable:
    def run(input: torch.Tensor, target: torch.Tensor) -> Any:
        input = input.detach().clone().requires_grad_(True)
        loss = loss_fn(input, target)
        (grad,) = torch.autograd.grad(loss, input)
        return loss.detach(), grad

    return run
