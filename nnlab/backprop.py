"""Lesson 05: drawing a computational graph with its forward values and backward gradients (matplotlib only).

values = {"x1": 1.5, "w1": 0.8, ..., "L": 0.02}      # forward pass, one number per node
grads = {"x1": -0.01, "w1": 0.03, ..., "L": 1.0}     # backward pass, dL/d(node)
draw_neuron_graph(values, grads)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from nnlab.plot import PALETTE

#: Node name -> (x, y, label) of the graph of one neuron: z = w1 x1 + w2 x2 + b, y = sigmoid(z), L = (y - t)² / 2.
NEURON_NODES: dict[str, tuple[float, float, str]] = {
    "x1": (0.0, 4.2, "$x_1$"),
    "w1": (0.0, 3.0, "$w_1$"),
    "x2": (0.0, 1.8, "$x_2$"),
    "w2": (0.0, 0.6, "$w_2$"),
    "b": (2.3, 0.0, "$b$"),
    "p1": (2.3, 3.6, r"$p_1 = w_1 x_1$"),
    "p2": (2.3, 1.2, r"$p_2 = w_2 x_2$"),
    "z": (4.7, 2.0, r"$z = p_1 + p_2 + b$"),
    "y": (7.0, 2.0, r"$y = \sigma(z)$"),
    "t": (7.0, 0.2, "$t$ (target)"),
    "L": (9.3, 2.0, r"$L = \frac{1}{2}(y - t)^2$"),
}
#: Edges (from, to) of the graph of one neuron, in the direction of the forward pass.
NEURON_EDGES: list[tuple[str, str]] = [
    ("x1", "p1"),
    ("w1", "p1"),
    ("x2", "p2"),
    ("w2", "p2"),
    ("p1", "z"),
    ("p2", "z"),
    ("b", "z"),
    ("z", "y"),
    ("y", "L"),
    ("t", "L"),
]
#: The local derivative d(to)/d(from) on each edge of the neuron's graph: a node's gradient is the sum, over the
#: edges leaving it, of (gradient of the node the edge reaches) x (the edge's local derivative).
NEURON_LOCAL: dict[tuple[str, str], str] = {
    ("x1", "p1"): r"$\times w_1$",
    ("w1", "p1"): r"$\times x_1$",
    ("x2", "p2"): r"$\times w_2$",
    ("w2", "p2"): r"$\times x_2$",
    ("p1", "z"): r"$\times 1$",
    ("p2", "z"): r"$\times 1$",
    ("b", "z"): r"$\times 1$",
    ("z", "y"): r"$\times y(1-y)$",
    ("y", "L"): r"$\times (y-t)$",
}


def draw_graph(
    nodes: Mapping[str, tuple[float, float, str]],
    edges: Sequence[tuple[str, str]],
    values: Mapping[str, float],
    grads: Mapping[str, float] | None = None,
    *,
    local: Mapping[tuple[str, str], str] | None = None,
    ax: plt.Axes | None = None,
    title: str = "",
) -> plt.Axes:
    """Draw a computational graph: one box per node with its forward value (blue) and gradient dL/d(node) (red).

    ``nodes`` maps a name to ``(x, y, label)``; ``edges`` are ``(from, to)`` pairs; ``values`` and ``grads`` map
    node names to numbers (a node missing from ``grads`` shows no gradient). ``local`` optionally labels edges
    with their local derivative d(to)/d(from), written in green on the arrow.
    """
    grads, local = grads or {}, local or {}
    xs = [x for x, _, _ in nodes.values()]
    ys = [y for _, y, _ in nodes.values()]
    ax = ax or plt.subplots(figsize=(10, 4.4))[1]
    width, height = 1.35, 0.78
    for name, (x, y, label) in nodes.items():
        box = FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.04,rounding_size=0.12",
            facecolor="white",
            edgecolor="0.35",
            linewidth=1.0,
            zorder=2,
        )
        ax.add_patch(box)
        ax.text(x, y + 0.18, label, ha="center", va="center", fontsize=9, zorder=3)
        if name in values:
            ax.text(x, y - 0.05, f"= {values[name]:.4g}", ha="center", va="center", color=PALETTE[0], fontsize=9)
        if name in grads:
            ax.text(x, y - 0.25, f"∂L/∂· = {grads[name]:.4g}", ha="center", va="center", color=PALETTE[3], fontsize=8)
    for src, dst in edges:
        (x0, y0, _), (x1, y1, _) = nodes[src], nodes[dst]
        ax.annotate(
            "",
            xy=(x1 - width / 2, y1),
            xytext=(x0 + width / 2, y0),
            arrowprops={"arrowstyle": "-|>", "color": "0.55", "lw": 1.0, "shrinkA": 2, "shrinkB": 2},
            zorder=1,
        )
        if (src, dst) in local:
            mx, my = (x0 + width / 2 + x1 - width / 2) / 2, (y0 + y1) / 2
            ax.text(mx, my + 0.12, local[src, dst], ha="center", va="bottom", color=PALETTE[2], fontsize=8, zorder=3)
    ax.set_xlim(min(xs) - width, max(xs) + width)
    ax.set_ylim(min(ys) - height, max(ys) + height)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        title or "forward values (blue), local derivatives (green), gradients ∂L/∂node (red, from right to left)"
    )
    return ax


def draw_neuron_graph(
    values: Mapping[str, float], grads: Mapping[str, float] | None = None, *, ax: plt.Axes | None = None
) -> plt.Axes:
    """The computational graph of one sigmoid neuron with a squared-error loss (node names: see ``NEURON_NODES``)."""
    return draw_graph(NEURON_NODES, NEURON_EDGES, values, grads, local=NEURON_LOCAL, ax=ax)
