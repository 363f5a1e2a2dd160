"""Training helpers shared by the lessons."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def fit_full_batch(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 500,
    lr: float = 0.05,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """Train ``model`` on the whole of (x, y) with Adam for ``epochs`` steps; return the loss per step.

    The default loss is cross-entropy on class indices.
    """
    loss_fn = loss_fn or nn.functional.cross_entropy
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


@torch.no_grad()
def accuracy_of(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of samples whose highest score is the label (one score column means class 1 if > 0)."""
    model.eval()
    scores = model(x)
    pred = scores.argmax(1) if scores.dim() == 2 and scores.shape[1] > 1 else (scores.flatten() > 0).long()
    return (pred == y).float().mean().item()
