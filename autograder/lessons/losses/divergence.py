"""Lesson 04, kl_div: PyTorch's kl_div with this exercise's default reduction, and the usual mistakes."""

from __future__ import annotations

import warnings
from typing import Any

import torch

import autograder as ag
from autograder.lessons.losses.common import same_value

# ---------------------------------------------------------------- kl_div
# PyTorch's kl_div with our default reduction (and without its 'mean' warning), hints
KL_BAN = ("torch.nn.functional.kl_div", "torch.kl_div", "torch.nn.KLDivLoss")


def kl_reference(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ag.reference.get("torch.nn.functional.kl_div")(input, target, reduction=reduction, log_target=log_target)


def kl_swapped(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    """KL(model || target): the arguments' roles exchanged."""
    log_p = target if log_target else target.log()
    return kl_reference(log_p, input.exp(), reduction=reduction, log_target=False)


def kl_hint(got: Any, case: ag.Case) -> str | None:
    if not isinstance(got, torch.Tensor):
        return None
    if "reduction" not in case.kwargs and same_value(got, kl_reference, case, reduction="mean"):
        return "this exercise's default reduction is 'batchmean' (PyTorch's is still 'mean'): check your signature."
    reduction = case.kwargs.get("reduction", "batchmean")
    target = case.args[1]
    if not case.kwargs.get("log_target") and bool((target == 0).any()) and not bool(torch.isfinite(got).all()):
        return "0 · log 0 must count as 0: use torch.xlogy(target, target) (or torch.where) for p·log p."
    if bool((target > 0).all()) and same_value(got, kl_swapped, case):
        return (
            "you computed KL(model ‖ target): kl_div(input, target) is Σ target·(log target − input), with "
            "input the model's log-probabilities."
        )
    if reduction == "batchmean" and same_value(got, kl_reference, case, reduction="mean"):
        return '"batchmean" divides the sum by the batch size input.shape[0], not by the number of elements.'
    if reduction == "batchmean" and same_value(got, kl_reference, case, reduction="sum"):
        return '"batchmean" divides the sum by the batch size input.shape[0].'
    if case.kwargs.get("log_target"):
        return "with log_target=True, target holds log p: the terms are exp(target)·(target − input)."
    if same_value(got, kl_without_entropy, case):
        return (
            "that is the cross-entropy −Σ p·log q: KL also has the target's own term p·log p, which makes it 0 "
            "when the model equals the target."
        )
    return None


def kl_without_entropy(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    """-Σ target·input: kl_div without the target's p·log p term."""
    return kl_reference(input, target, reduction=reduction, log_target=log_target) - kl_reference(
        torch.zeros_like(input), target, reduction=reduction, log_target=log_target
    )
