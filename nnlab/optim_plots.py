"""Lesson 08a: how optimizers move — paths on 2-D test functions, and a learning-rate range test.

    path = trajectory(lambda params: SGD(params, lr=0.01), quadratic, start=(-4.0, 1.5), steps=60)
    plot_paths(quadratic, {"SGD": path}, xlim=(-5, 5), ylim=(-2, 2))
    lrs, losses = lr_range_test(model, batches, lambda params: SGD(params, lr=1e-4), 1e-4, 10.0)

Every function takes an optimizer *factory* (params -> optimizer), so the lesson runs them with the student's
own optimizers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

OptimizerFactory = Callable[[list[torch.Tensor]], torch.optim.Optimizer]

#: the curvatures of :func:`quadratic` along x and y: condition number 25
CURVATURE = (1.0, 25.0)


def quadratic(xy: torch.Tensor) -> torch.Tensor:
    """An ill-conditioned bowl, ½(x² + 25·y²): steep across (y), shallow along (x); minimum 0 at (0, 0)."""
    return 0.5 * (CURVATURE[0] * xy[..., 0] ** 2 + CURVATURE[1] * xy[..., 1] ** 2)


def rosenbrock(xy: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's banana valley, (1 − x)² + 100·(y − x²)²; minimum 0 at (1, 1), at the end of a curved valley."""
    x, y = xy[..., 0], xy[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def trajectory(
    make_optimizer: OptimizerFactory,
    f: Callable[[torch.Tensor], torch.Tensor],
    start: Sequence[float],
    steps: int,
) -> torch.Tensor:
    """The points an optimizer visits minimising ``f`` from ``start``: a (steps + 1, 2) float64 tensor.

    A step that reaches a non-finite value ends the path there (the optimizer diverged).
    """
    xy = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([xy])
    points = [xy.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(xy).backward()
        optimizer.step()
        if not bool(torch.isfinite(xy).all()):
            break
        points.append(xy.detach().clone())
    return torch.stack(points)


def plot_paths(
    f: Callable[[torch.Tensor], torch.Tensor],
    paths: dict[str, torch.Tensor],
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    minimum: Sequence[float] | None = None,
    ax: plt.Axes | None = None,
    title: str = "",
) -> plt.Axes:
    """Log-spaced contours of ``f`` and each optimizer's path (start marked by a circle, end by a cross)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    xs = torch.linspace(*xlim, 300, dtype=torch.float64)
    ys = torch.linspace(*ylim, 300, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)
    z = f(grid).numpy()
    low = max(float(z.min()), 1e-3)
    levels = np.geomspace(low, float(z.max()), 20)
    ax.contour(xs.numpy(), ys.numpy(), z, levels=levels, colors="0.7", linewidths=0.7)
    for label, path in paths.items():
        p = path.numpy()
        (line,) = ax.plot(p[:, 0], p[:, 1], ".-", ms=3, lw=1.2, label=f"{label} ({len(p) - 1} steps)")
        ax.plot(p[0, 0], p[0, 1], "o", color=line.get_color())
        ax.plot(p[-1, 0], p[-1, 1], "x", color=line.get_color(), ms=8, mew=2)
    if minimum is not None:
        ax.plot(*minimum, "*", color="k", ms=12, label="minimum")
    ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y", title=title)
    ax.legend(loc="best")
    return ax


def lr_range_test(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    make_optimizer: OptimizerFactory,
    lr_min: float,
    lr_max: float,
    *,
    steps: int = 100,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.cross_entropy,
    stop_factor: float = 4.0,
) -> tuple[list[float], list[float]]:
    """Smith's learning-rate range test: one mini-batch per step, the lr growing geometrically from ``lr_min`` to
    ``lr_max``; returns (lrs, smoothed losses), stopping once the loss exceeds ``stop_factor`` × its best.

    The lr is set in every parameter group before each step, as a scheduler would. ``model`` is trained in
    the process: use a fresh copy.
    """
    optimizer = make_optimizer(list(model.parameters()))
    ratio = (lr_max / lr_min) ** (1 / max(steps - 1, 1))
    lrs, losses = [], []
    average, best = 0.0, math.inf
    model.train()
    data = iter(batches)
    for i in range(steps):
        try:
            x, y = next(data)
        except StopIteration:
            data = iter(batches)
            x, y = next(data)
        lr = lr_min * ratio**i
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        average = 0.9 * average + 0.1 * loss.item()
        smoothed = average / (1 - 0.9 ** (i + 1))  # bias-corrected, as in Adam
        lrs.append(lr)
        losses.append(smoothed)
        best = min(best, smoothed)
        if not math.isfinite(smoothed) or smoothed > stop_factor * best:
            break
    return lrs, losses


def steepest_descent_lr(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The lr at which the smoothed loss falls fastest per decade of lr (the usual pick of a range test),
    looked for before the loss reaches its minimum."""
    end = int(np.argmin(losses)) + 1
    if end < 2:
        return float(lrs[0])
    log_lr = np.log10(np.asarray(lrs[:end]))
    slope = np.gradient(np.asarray(losses[:end]), log_lr)
    return float(lrs[int(np.argmin(slope))])
