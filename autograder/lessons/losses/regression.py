"""Lesson 04, regression losses: what the grade cells of mse_loss, l1_loss, huber_loss and MSELoss forbid and diagnose
(huber_loss also against smooth L1, the usual confusion)."""

from __future__ import annotations

from typing import Any

import torch

import autograder as ag
from autograder.lessons.losses.common import reduction_hint, same_as

# ---------------------------------------------------------------- mse_loss
MSE_BAN = ("torch.nn.functional.mse_loss", "torch.nn.MSELoss")


# ---------------------------------------------------------------- l1_loss
# what l1_loss may not call
L1_BAN = ("torch.nn.functional.l1_loss", "torch.nn.L1Loss")


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
