"""The plain training loop the benchmarks compare the course's recipes with.

It is the loop a user writes from pytorch/examples' ``mnist/main.py``: a ``DataLoader`` over a ``TensorDataset``,
batches of 64, images in PyTorch's default NCHW layout, PyTorch's default thread count, ``Adam(lr=1e-3)``, the
same architecture as the course's. ``python -m nnlab.bench mlp|cnn --baseline`` times one of its epochs and the
course's recipe in the same run, so their ratio holds on whatever machine runs them.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import nnlab

#: PyTorch's own thread count, before nnlab's default of one thread or any recipe changed it
DEFAULT_THREADS = nnlab.DEFAULT_THREADS


def plain_epoch(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 64, lr: float = 1e-3, seed: int = 0
) -> float:
    """Train ``model`` for one epoch with the plain loop; return the epoch's seconds."""
    torch.set_num_threads(DEFAULT_THREADS)
    loader = DataLoader(
        TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    start = time.perf_counter()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


@torch.no_grad()
def plain_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Accuracy of ``model`` on ``(x, y)`` in eval mode."""
    model.eval()
    correct = sum(
        int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
        for i in range(0, len(x), batch_size)
    )
    return correct / len(x)


def comparison(plain_seconds: float, plain_accuracy: float, course: dict) -> dict:
    """The figures ``--baseline`` prints: both epochs' seconds, their ratio and the accuracies reached."""
    per_epoch = course["train_seconds"] / course["epochs"]
    return {
        "plain_seconds_per_epoch": round(plain_seconds, 3),
        "course_seconds_per_epoch": round(per_epoch, 3),
        "ratio": round(per_epoch / plain_seconds, 3),
        "plain_test_accuracy_after_1_epoch": round(plain_accuracy, 4),
        "course_test_accuracy": course["test_accuracy"],
    }
