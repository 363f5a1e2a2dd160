"""Lesson 04, kl_div: PyTorch's kl_div with this exercise's default reduction, and the usual mistakes."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

import autograder as ag
from autograder.lessons.losses.classes import probs
from autograder.lessons.losses.common import check_gradient, check_unknown_reductions, loss_kwargs, same_value

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


# ---------------------------------------------------------------- the grade cells' checks
def kl_case(
    label: str,
    n: int,
    n_classes: int,
    seed: int,
    reduction: str | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    row: int | None = None,
    **kwargs: Any,
) -> ag.Case:
    """Seeded distributions: the model's log q (from ``seed``) and the target p (from ``seed + 1``), (n, C), in
    ``dtype``; ``row`` keeps one 1-D distribution of each."""
    lq, p = probs(n, n_classes, seed).log().to(dtype), probs(n, n_classes, seed + 1).to(dtype)
    args = (lq, p) if row is None else (lq[row], p[row])
    return ag.Case(label, args, loss_kwargs(reduction, kwargs))


def kl_cases(label: str, n: int, n_classes: int, seed: int, reductions: Sequence[str], **options: Any) -> list:
    """:func:`kl_case` once per reduction, the reduction named in the label."""
    return [kl_case(f'{label}, reduction "{r}"', n, n_classes, seed, r, **options) for r in reductions]


def check_kl_example(kl_div: Callable) -> None:
    """kl_div(log q, p) equals F.kl_div(..., reduction="batchmean") on two small rows and on random distributions."""
    q = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    p = torch.tensor([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4]])
    cases = [ag.Case("log q and p of two 3-class rows, reduction batchmean", (q.log(), p), {"reduction": "batchmean"}),
             kl_case("(16, 5) random distributions, reduction batchmean", 16, 5, 40, "batchmean")]  # fmt: skip
    ag.check_function(kl_div, kl_reference, cases, forbid=KL_BAN, allowed_hint="torch.xlogy and arithmetic",
                      diagnose=kl_hint)  # fmt: skip


def check_kl_reductions(kl_div: Callable, cases: Sequence[ag.Case]) -> None:
    """An unknown reduction raises ValueError; kl_div equals F.kl_div on the cases."""
    check_unknown_reductions(kl_div, ["avg"], kl_case("", 16, 5, 42).args, forbid=KL_BAN)
    ag.check_function(kl_div, kl_reference, cases, forbid=KL_BAN, diagnose=kl_hint)


def check_kl_zero_probabilities(kl_div: Callable) -> None:
    """A target probability of exactly 0 contributes 0 (0·log 0 = 0), not nan."""
    lq = probs(4, 4, seed=44).log()
    p = torch.tensor([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.9, 0.1]])
    cases = [ag.Case("targets with exact zeros, reduction none", (lq, p), {"reduction": "none"}),
             ag.Case("targets with exact zeros, reduction batchmean", (lq, p))]  # fmt: skip
    ag.check_function(kl_div, kl_reference, cases, forbid=KL_BAN, diagnose=kl_hint)


def check_kl_log_target(kl_div: Callable) -> None:
    """With log_target=True the target holds log-probabilities: kl_div equals F.kl_div in "none" and "batchmean"."""
    lq, lp = probs(16, 5, seed=45).log(), probs(16, 5, seed=46).log()
    cases = [ag.Case(f'log-probability targets, reduction "{r}"', (lq, lp), {"reduction": r, "log_target": True})
             for r in ("none", "batchmean")]  # fmt: skip
    ag.check_function(kl_div, kl_reference, cases, forbid=KL_BAN, diagnose=kl_hint)


def check_kl_gradient(kl_div: Callable) -> None:
    """kl_div stays connected to input: .backward() through it gives F.kl_div's gradient, log_target too."""
    lq, p = kl_case("", 10, 4, 95).args
    cases = [ag.Case("(10, 4) distributions, reduction batchmean", (lq, p)),
             ag.Case('(10, 4) distributions, log_target=True, reduction "none"', (lq, p.log()),
                     {"log_target": True, "reduction": "none"})]  # fmt: skip
    check_gradient(kl_div, kl_reference, cases, name="kl_div", forbid=KL_BAN)
