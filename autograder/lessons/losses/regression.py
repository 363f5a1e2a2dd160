"""Lesson 04, regression losses: what the grade cells of mse_loss, l1_loss, huber_loss and MSELoss forbid and diagnose
(huber_loss also against smooth L1, the usual confusion)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

import autograder as ag
from autograder.lessons.losses.common import (
    REDUCTION_WHY,
    batch,
    batches,
    check_gradient,
    check_unknown_reductions,
    empty_cases,
    nan_cases,
    nan_hint,
    reduction_hint,
    same_as,
    value_and_grad,
)

# ---------------------------------------------------------------- mse_loss
MSE_BAN = ("torch.nn.functional.mse_loss", "torch.nn.MSELoss")
MSE = "torch.nn.functional.mse_loss"
MSE_ALLOWED = "-, ** and your apply_reduction"
EXAMPLE = ([2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0])  # the notebook's worked example: prediction, target


def _example(label: str) -> list[ag.Case]:
    x, y = (torch.tensor(v) for v in EXAMPLE)
    return [ag.Case(f"{label}, default reduction", (x, y))] + [
        ag.Case(f'{label}, reduction="{r}"', (x, y), {"reduction": r}) for r in ("none", "mean", "sum")
    ]


def check_mse_example(mse_loss: Callable) -> None:
    """mse_loss equals F.mse_loss on the worked example, in the default and every named reduction."""
    ag.check_function(mse_loss, MSE, _example("the example"), forbid=MSE_BAN, allowed_hint=MSE_ALLOWED,
                      diagnose=reduction_hint(MSE))  # fmt: skip


def check_mse_batches(mse_loss: Callable, cases: Sequence[ag.Case]) -> None:
    """mse_loss equals F.mse_loss on the cases, and .backward() through it gives F.mse_loss's gradient."""
    ag.check_function(mse_loss, MSE, cases, forbid=MSE_BAN, allowed_hint=MSE_ALLOWED, diagnose=reduction_hint(MSE))
    check_gradient(mse_loss, MSE, batches("an (8, 3) batch", (8, 3), 90, ("mean", "sum", "none")), name="mse_loss",
                   forbid=MSE_BAN)  # fmt: skip


def check_mse_unknown_reduction(mse_loss: Callable, bad: Sequence[str]) -> None:
    """Each reduction in ``bad`` raises ValueError."""
    check_unknown_reductions(mse_loss, bad, batch("", (4,), 9).args, forbid=MSE_BAN)


# ---------------------------------------------------------------- l1_loss
# what l1_loss may not call
L1_BAN = ("torch.nn.functional.l1_loss", "torch.nn.L1Loss")
L1 = "torch.nn.functional.l1_loss"


def l1_example() -> ag.Case:
    """The worked example of Exercise 1, default reduction."""
    return _example("the example of Exercise 1")[0]


def check_l1_values(l1_loss: Callable, cases: Sequence[ag.Case]) -> None:
    """l1_loss equals F.l1_loss on the cases, and .backward() through it gives F.l1_loss's gradient."""
    ag.check_function(l1_loss, L1, cases, forbid=L1_BAN, allowed_hint="abs and your apply_reduction",
                      diagnose=reduction_hint(L1))  # fmt: skip
    check_gradient(l1_loss, L1, batches("an (8, 3) batch", (8, 3), 92, ("mean", "sum", "none")), name="l1_loss",
                   forbid=L1_BAN)  # fmt: skip


def check_l1_reduction_edges(l1_loss: Callable) -> None:
    """An unknown reduction raises ValueError; empty batches, NaN and ±inf give what F.l1_loss gives."""
    check_unknown_reductions(l1_loss, ["avg"], (torch.ones(3), torch.zeros(3)), forbid=L1_BAN)
    ag.check_function(l1_loss, L1, empty_cases([(0, 3)]), forbid=L1_BAN, diagnose=reduction_hint(L1))
    ag.check_function(l1_loss, L1, nan_cases(), forbid=L1_BAN, diagnose=nan_hint)


# ---------------------------------------------------------------- huber_loss
# what huber_loss may not call, and hints for its usual mistakes
HUBER_BAN = (
    "torch.nn.functional.huber_loss",
    "torch.nn.HuberLoss",
    "torch.nn.functional.smooth_l1_loss",
    "torch.nn.SmoothL1Loss",
)
HUBER = "torch.nn.functional.huber_loss"


def smooth_l1_as_huber(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0
) -> torch.Tensor:
    return ag.reference.get("torch.nn.functional.smooth_l1_loss")(input, target, reduction=reduction, beta=delta)


def huber_hint(got: Any, case: ag.Case) -> str | None:
    delta = case.kwargs.get("delta", 1.0)
    if delta != 1.0 and same_as(got, HUBER, case, delta=1.0):
        return f"your result is the Huber loss for delta=1: use the delta argument (here {delta})."
    if delta != 1.0 and same_as(got, smooth_l1_as_huber, case):
        return (
            "that is smooth_l1_loss, the Huber loss divided by delta: PyTorch's huber_loss is 0.5·d² inside "
            "and delta·(|d| − delta/2) outside."
        )
    return reduction_hint(HUBER)(got, case)


HUBER_ALLOWED = "torch.where and abs"


def check_huber_default_delta(huber_loss: Callable) -> None:
    """With delta=1, huber_loss equals F.huber_loss for errors inside, outside and exactly at the threshold."""
    d = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    cases = [ag.Case("the errors -3, -1, -0.5, 0, 0.5, 1, 3 (reduction none)", (d, torch.zeros(7)),
                     {"reduction": "none"}),
             batch("a (64, 3) batch with errors of size ~3", (64, 3), 20, scale=3)]  # fmt: skip
    ag.check_function(huber_loss, HUBER, cases, forbid=HUBER_BAN, allowed_hint=HUBER_ALLOWED, diagnose=huber_hint)


def check_huber_delta(huber_loss: Callable, cases: Sequence[ag.Case]) -> None:
    """huber_loss equals F.huber_loss for each case's delta, and its gradient is F.huber_loss's for three deltas."""
    ag.check_function(huber_loss, HUBER, cases, forbid=HUBER_BAN, allowed_hint=HUBER_ALLOWED, diagnose=huber_hint)
    grads = [batch(f'an (8, 3) batch, delta={dl}, reduction "{r}"', (8, 3), 94, r, scale=2, delta=dl)
             for dl, r in ((1.0, "mean"), (0.5, "sum"), (2.0, "none"))]  # fmt: skip
    check_gradient(huber_loss, HUBER, grads, name="huber_loss", forbid=HUBER_BAN)


def check_huber_reduction_edges(huber_loss: Callable) -> None:
    """Reductions, empty batches, NaN and ±inf as F.huber_loss; an unknown reduction raises ValueError."""
    cases = batches("a (8, 2) batch", (8, 2), 24, ("mean", "sum"), scale=2)
    cases += [ag.Case(f'an empty batch, reduction="{r}"', (torch.empty(0), torch.empty(0)), {"reduction": r})
              for r in ("mean", "sum", "none")]  # fmt: skip
    check_unknown_reductions(huber_loss, ["avg"], (torch.ones(3), torch.zeros(3)), forbid=HUBER_BAN)
    ag.check_function(huber_loss, HUBER, cases, forbid=HUBER_BAN, diagnose=huber_hint)
    ag.check_function(huber_loss, HUBER, nan_cases(), forbid=HUBER_BAN, diagnose=nan_hint)


# ---------------------------------------------------------------- MSELoss
def check_mse_module_scalar_for_backward(cls: Callable) -> None:
    """MSELoss()(input, target) is a 0-d tensor connected to input, with nn.MSELoss's value and gradient."""
    criterion = ag.construct(cls, forbid=MSE_BAN)
    x, y = ag.inputs.randn(8, 3, seed=40), ag.inputs.randn(8, 3, seed=41)
    case = ag.Case("MSELoss()(input, target) on an (8, 3) batch", (x.requires_grad_(), y))
    out = ag.call_student(criterion, case, name="MSELoss()", forbid=MSE_BAN)
    ag.check(isinstance(out, torch.Tensor), f"MSELoss()(input, target) returned a {type(out).__name__}: a loss stays "
             "a tensor (no .item(), no float()) so that .backward() can follow it.")  # fmt: skip
    ag.check(out.dim() == 0, f"MSELoss()(input, target) has shape {tuple(out.shape)}: .backward() needs one number. "
             "Reduce the per-element losses (the default reduction is 'mean').")  # fmt: skip
    ag.check(out.requires_grad, "MSELoss()(input, target) is not connected to the input: did you .detach() it or "
             "rebuild it with torch.tensor(...)? Autograd must see every operation.")  # fmt: skip
    ag.check_function(value_and_grad(criterion), value_and_grad(nn.MSELoss()), [case],
                      name="MSELoss() (value, gradient)", forbid=MSE_BAN)  # fmt: skip


def check_mse_module_reduction(cls: Callable) -> None:
    """MSELoss(reduction=...) uses its reduction: "sum" and "none" as nn.MSELoss, ValueError for an unknown one."""
    x, y = ag.inputs.randn(6, 2, seed=42), ag.inputs.randn(6, 2, seed=43)
    case = ag.Case("a (6, 2) batch", (x, y))
    ag.check_raises(lambda input, target: cls(reduction="avg")(input, target), case, ValueError,
                    name='MSELoss(reduction="avg")', forbid=MSE_BAN, why=REDUCTION_WHY)  # fmt: skip
    for red in ("sum", "none"):
        ag.check_function(ag.construct(cls, reduction=red, forbid=MSE_BAN), nn.MSELoss(reduction=red), [case],
                          name=f'MSELoss(reduction="{red}")', forbid=MSE_BAN)  # fmt: skip


def check_mse_empty_batch(mse_loss: Callable) -> None:
    """Empty batches as F.mse_loss ("mean" is nan, "sum" 0, "none" keeps the shape); NaN and ±inf as F.mse_loss."""
    ag.check_function(mse_loss, MSE, empty_cases([(0,), (0, 3)]), forbid=MSE_BAN, diagnose=reduction_hint(MSE))
    ag.check_function(mse_loss, MSE, nan_cases(), forbid=MSE_BAN, diagnose=nan_hint)
