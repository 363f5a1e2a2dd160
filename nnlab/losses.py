"""Lesson 04 helpers: a loss seen as a function of one prediction, ready for the shared plot.

``plot.plot_function_and_derivative(*of_prediction(mse_loss, target=0.0), "MSE")`` draws a loss for a fixed
target as the prediction varies (left) and its derivative (right), the figure every loss of the lesson gets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def derivative(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """d fn(x) / dx by autograd, for an elementwise ``fn`` (one output per input value)."""

    def grad(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(x).sum(), x)
        return g

    return grad


def of_prediction(
    loss: Callable[..., torch.Tensor], target: float, **kwargs: Any
) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    """``(f, f')`` where ``f(x) = loss(x, target, reduction="none", **kwargs)`` per prediction ``x``.

    ``loss`` has PyTorch's loss signature ``loss(input, target, ..., reduction=...)``; the derivative is
    computed by autograd through ``loss`` itself, so it shows what training would see.
    """

    def fn(x: torch.Tensor) -> torch.Tensor:
        return loss(x, torch.full_like(x, target), reduction="none", **kwargs)

    return fn, derivative(fn)
