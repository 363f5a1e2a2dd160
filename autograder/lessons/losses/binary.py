"""Lesson 04, binary losses: what the grade cells of binary_cross_entropy, binary_cross_entropy_with_logits and
bce_with_logits_grad forbid, compare with and diagnose."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

import autograder as ag
from autograder.lessons.losses.common import (
    AUTOGRAD_BAN,
    check_gradient,
    check_unknown_reductions,
    loss_kwargs,
    reduction_hint,
    same_as,
    weight_of,
)

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


# ---------------------------------------------------------------- the grade cells' checks
BCE_ALLOWED = "torch.log, clamp and arithmetic"


def check_bce_example(binary_cross_entropy: Callable) -> None:
    """binary_cross_entropy equals F.binary_cross_entropy on the example and on random probabilities, and its
    gradient through .backward() is PyTorch's, with a weight too."""
    u = ag.inputs.uniform
    p, y = torch.tensor([0.9, 0.2, 0.6, 0.99, 0.0, 1.0]), torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    cases = [ag.Case("the example above, reduction none", (p, y), {"reduction": "none"}),
             ag.Case("the example above, default reduction", (p, y)),
             ag.Case("random (32, 4) probabilities with soft targets", (u(32, 4, low=0.01, high=0.99, seed=50),
                     u(32, 4, low=0, high=1, seed=51)))]  # fmt: skip
    check_bce_values(binary_cross_entropy, cases)
    p, y, w = u(8, 3, low=0.05, high=0.95, seed=96), u(8, 3, low=0, high=1, seed=97), u(3, low=0, high=2, seed=98)
    cases = [
        ag.Case("(8, 3) probabilities, soft targets", (p, y)),
        ag.Case('(8, 3) probabilities with a (3,) weight, reduction "none"', (p, y, w), {"reduction": "none"}),
    ]
    check_gradient(binary_cross_entropy, BCE, cases, name="binary_cross_entropy", forbid=BCE_BAN)


def check_bce_values(binary_cross_entropy: Callable, cases: Sequence[ag.Case]) -> None:
    """binary_cross_entropy equals F.binary_cross_entropy on the cases (certain predictions included)."""
    ag.check_function(binary_cross_entropy, BCE, cases, forbid=BCE_BAN, allowed_hint=BCE_ALLOWED, diagnose=bce_hint)


def check_bce_weight_and_reduction(binary_cross_entropy: Callable) -> None:
    """weight rescales each element's loss (broadcasting); reductions, empty batches and unknown reductions as
    PyTorch."""
    u = ag.inputs.uniform
    p, y = u(16, 3, low=0.01, high=0.99, seed=52), (u(16, 3, seed=53) > 0).float()
    w_col, w_all = u(3, low=0, high=2, seed=54), u(16, 3, low=0, high=2, seed=55)
    cases = [ag.Case("a (3,) weight on a (16, 3) batch, reduction none", (p, y, w_col), {"reduction": "none"}),
             ag.Case("a (16, 3) weight, reduction mean", (p, y), {"weight": w_all}),
             ag.Case("a (3,) weight, reduction sum", (p, y, w_col), {"reduction": "sum"}),
             ag.Case("an empty batch, reduction mean", (torch.empty(0), torch.empty(0)))]  # fmt: skip
    check_unknown_reductions(binary_cross_entropy, ["avg"], (p, y), forbid=BCE_BAN)
    ag.check_function(binary_cross_entropy, BCE, cases, forbid=BCE_BAN, diagnose=bce_hint)


def logits(
    label: str,
    shape: tuple[int, ...],
    seed: int,
    reduction: str | None = None,
    *,
    scale: float = 1.0,
    above: float = 0.0,
    dtype: torch.dtype = torch.float32,
    **kwargs: Any,
) -> ag.Case:
    """Seeded random logits (from ``seed``, times ``scale``) and 0/1 targets (1 where a draw from ``seed + 1`` is
    above ``above``), in ``dtype``; list keywords become tensors."""
    x, y = ag.inputs.randn(*shape, seed=seed, scale=scale), (ag.inputs.randn(*shape, seed=seed + 1) > above).float()
    return ag.Case(label, (x.to(dtype), y.to(dtype)), loss_kwargs(reduction, kwargs))


def edge_logits(label: str, target: float, *, dtype: torch.dtype = torch.float32, **kwargs: Any) -> ag.Case:
    """The edge logits (0, ±1e-7, ±1, ±20, ±88.7, ±89.5, ±1e4) against one target value, reduction none."""
    x = ag.inputs.edge_values().to(dtype)
    return ag.Case(label, (x, torch.full_like(x, target)), loss_kwargs("none", kwargs))


def check_bce_logits_values(binary_cross_entropy_with_logits: Callable, cases: Sequence[ag.Case]) -> None:
    """binary_cross_entropy_with_logits equals PyTorch's on the cases."""
    ag.check_function(binary_cross_entropy_with_logits, BCEL, cases, forbid=BCEL_BAN, allowed_hint=BCEL_HINT,
                      diagnose=bce_logits_hint)  # fmt: skip


def check_bce_logits_example(binary_cross_entropy_with_logits: Callable) -> None:
    """binary_cross_entropy_with_logits equals PyTorch on moderate logits, hard and soft targets, and its gradient
    through .backward() is PyTorch's, pos_weight included."""
    r, u = ag.inputs.randn, ag.inputs.uniform
    cases = [ag.Case("logits -4..4 with targets 1, reduction none", (ag.inputs.example(), torch.ones(9)),
                     {"reduction": "none"}),
             logits("random (32, 4) logits with 0/1 targets", (32, 4), 60, scale=3),
             ag.Case("random logits with soft targets, reduction sum", (r(32, 4, seed=62, scale=3),
                     u(32, 4, low=0, high=1, seed=63)), {"reduction": "sum"})]  # fmt: skip
    check_bce_logits_values(binary_cross_entropy_with_logits, cases)
    x, y = r(8, 3, seed=99, scale=3), u(8, 3, low=0, high=1, seed=100)
    cases = [ag.Case("(8, 3) logits, soft targets", (x, y)),
             ag.Case('(8, 3) logits with pos_weight [1, 4, 0.25] and a weight, reduction "sum"', (x, y),
                     {"reduction": "sum", "pos_weight": torch.tensor([1.0, 4.0, 0.25]),
                      "weight": u(3, low=0, high=2, seed=101)})]  # fmt: skip
    check_gradient(binary_cross_entropy_with_logits, BCEL, cases, name="binary_cross_entropy_with_logits",
                   forbid=BCEL_BAN)  # fmt: skip


def pos_weight_cases() -> list[ag.Case]:
    """The visible cases of pos_weight: hard targets (reduction none) and soft ones (mean), on (16, 3) logits."""
    pw = torch.tensor([1.0, 4.0, 0.25])
    case = logits("pos_weight [1, 4, 0.25] on a (16, 3) batch, reduction none", (16, 3), 64, "none", scale=2,
                  above=0.3, pos_weight=pw)  # fmt: skip
    soft = ag.inputs.uniform(16, 3, low=0, high=1, seed=66)
    return [case, ag.Case("pos_weight with soft targets, reduction mean", (case.args[0], soft), {"pos_weight": pw})]


def check_bce_logits_weight_and_reduction(binary_cross_entropy_with_logits: Callable) -> None:
    """weight rescales each element's loss; empty batches and unknown reductions as PyTorch."""
    u = ag.inputs.uniform
    x, y = logits("", (16, 3), 68, scale=2).args
    cases = [
        ag.Case("a (3,) weight, reduction none", (x, y, u(3, low=0, high=2, seed=70)), {"reduction": "none"}),
        ag.Case("a (16, 3) weight, reduction mean", (x, y), {"weight": u(16, 3, low=0, high=2, seed=71)}),
        ag.Case("an empty batch, reduction mean", (torch.empty(0, 3), torch.empty(0, 3))),
        ag.Case("an empty batch, reduction sum", (torch.empty(0, 3), torch.empty(0, 3)), {"reduction": "sum"}),
    ]
    check_unknown_reductions(binary_cross_entropy_with_logits, ["avg"], (x, y), forbid=BCEL_BAN)
    check_bce_logits_values(binary_cross_entropy_with_logits, cases)


def bce_grad_cases() -> list[ag.Case]:
    """The visible cases of bce_with_logits_grad: the example, random logits and soft targets, the edge logits."""
    return [ag.Case("logits -4..4 with targets 1", (ag.inputs.example(), torch.ones(9))),
            ag.Case("random (16, 3) logits, soft targets", (ag.inputs.randn(16, 3, seed=72, scale=3),
                    ag.inputs.uniform(16, 3, low=0, high=1, seed=73))),
            ag.Case("edge logits up to ±1e4, targets 0", (ag.inputs.edge_values(), torch.zeros(14)))]  # fmt: skip


def check_bce_grad(bce_with_logits_grad: Callable, cases: Sequence[ag.Case]) -> None:
    """bce_with_logits_grad equals autograd's gradient of the mean loss on the cases, without autograd."""
    ag.check_function(bce_with_logits_grad, bce_grad_reference, cases, forbid=BCE_BAN + AUTOGRAD_BAN,
                      allowed_hint="torch.sigmoid and arithmetic", diagnose=bce_grad_hint)  # fmt: skip


def edge_logit_cases(targets: Sequence[float]) -> list[ag.Case]:
    """:func:`edge_logits` once per target value, the values named in the label."""
    label = "edge logits (0, ±1e-7, ±1, ±20, ±88.7, ±89.5, ±1e4) with target {}"
    return [edge_logits(label.format(t), t) for t in targets]
