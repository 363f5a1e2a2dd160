"""One figure style for the whole course, and the plots the lessons share.

Importing this module sets the style: labelled axes, titles, legends, a grid,
and the Okabe–Ito palette, which colour-blind readers can tell apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

#: Okabe & Ito (2008), a colour-blind-safe qualitative palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def use_style() -> None:
    """Apply the course's figure style to matplotlib."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=PALETTE),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "figure.figsize": (9, 3.4),
            "figure.dpi": 90,
            "figure.constrained_layout.use": True,
            "image.cmap": "viridis",
        }
    )


use_style()


def _np(t: torch.Tensor | np.ndarray) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def plot_function_and_derivative(
    fn: Callable[[torch.Tensor], torch.Tensor],
    grad: Callable[[torch.Tensor], torch.Tensor],
    name: str,
    x: torch.Tensor | None = None,
    *,
    xlabel: str = "x",
) -> plt.Figure:
    """Draw ``fn`` (left) and its derivative ``grad`` (right) side by side.

    The lines keep their data, so a grade cell can check what was plotted:
    ``fig.axes[0].lines[0].get_ydata()`` is ``fn(x)``, ``fig.axes[1].lines[0]`` is ``grad(x)``.
    """
    x = torch.linspace(-6, 6, 601) if x is None else x
    fig, (left, right) = plt.subplots(1, 2)
    left.plot(_np(x), _np(fn(x)), color=PALETTE[0], label=f"{name}(x)")
    right.plot(_np(x), _np(grad(x)), color=PALETTE[3], label=f"{name}'(x)")
    for ax, title in ((left, f"{name}(x)"), (right, f"derivative {name}'(x)")):
        ax.axhline(0, color="0.5", lw=0.8)
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set(title=title, xlabel=xlabel, ylabel=title.split()[-1])
        ax.legend(loc="best")
    return fig


def plot_decision_boundary(
    predict: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    title: str = "",
    ax: plt.Axes | None = None,
    steps: int = 200,
) -> plt.Axes:
    """Shade the class ``predict`` gives each point of the plane; scatter the data on top.

    ``predict`` maps an (N, 2) float tensor to (N, C) scores or (N,) scores of class 1.
    """
    ax = ax or plt.subplots(figsize=(4, 4))[1]
    lo, hi = x.min(0).values - 0.5, x.max(0).values + 0.5
    gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], steps), torch.linspace(lo[1], hi[1], steps), indexing="xy")
    with torch.no_grad():
        scores = predict(torch.stack([gx.flatten(), gy.flatten()], 1))
    cls = scores.argmax(1) if scores.dim() == 2 and scores.shape[1] > 1 else (scores.flatten() > 0).long()
    n_classes = int(max(int(y.max()), int(cls.max())) + 1)
    cmap = mpl.colors.ListedColormap(PALETTE[:n_classes])
    ax.contourf(
        _np(gx), _np(gy), _np(cls.reshape(gx.shape)), levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.25
    )
    ax.scatter(_np(x[:, 0]), _np(x[:, 1]), c=_np(y), cmap=cmap, s=12, edgecolors="white", linewidths=0.3)
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    ax.grid(False)
    return ax


def plot_curves(history: dict[str, Sequence[float]], *, xlabel: str = "epoch", title: str = "") -> plt.Figure:
    """Training curves: every key holding 'loss' on the left, every other key on the right."""
    losses = {k: v for k, v in history.items() if "loss" in k}
    others = {k: v for k, v in history.items() if "loss" not in k}
    fig, axes = plt.subplots(1, 2 if others else 1, squeeze=False)
    for ax, group, ylabel in ((axes[0, 0], losses, "loss"), (axes[0, -1], others, "value")):
        if not group:
            continue
        for key, values in group.items():
            ax.plot(np.arange(1, len(values) + 1), values, label=key)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title or ylabel)
        ax.legend()
    return fig


def plot_confusion_matrix(counts: torch.Tensor, *, title: str = "confusion matrix") -> plt.Figure:
    """A confusion matrix (rows: true class, columns: predicted), counts written in each cell."""
    c = _np(counts)
    fig, ax = plt.subplots(figsize=(5, 4.4))
    im = ax.imshow(np.log1p(c), cmap="Blues")
    for (i, j), v in np.ndenumerate(c):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > c.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=title, xticks=range(c.shape[1]), yticks=range(c.shape[0]))
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="log(1 + count)")
    return fig


def plot_digits(
    images: torch.Tensor,
    labels: Sequence[str] | torch.Tensor | None = None,
    *,
    cols: int = 10,
    title: str = "",
) -> plt.Figure:
    """A grid of 28×28 images (N, 1, 28, 28) or (N, 28, 28) with an optional caption each."""
    imgs = _np(images).reshape(len(images), 28, 28)
    rows = (len(imgs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.05), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(imgs):
            ax.imshow(imgs[k], cmap="gray_r")
            if labels is not None:
                ax.set_title(str(labels[k].item() if isinstance(labels, torch.Tensor) else labels[k]), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
