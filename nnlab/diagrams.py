"""Diagrams the lessons draw instead of keeping image files: one call, one figure.

Each function draws with matplotlib in the course's style (``nnlab.plot``), returns the figure, and writes every
size it depicts into the figure's text, so that the picture and the numbers in the prose cannot drift apart.

neuron()                      one neuron: inputs, weights, sum, bias, activation (Lesson 01)
mlp((3, 4, 4, 2))             a multi-layer perceptron with the shape of every weight (Lesson 01)
fans((4, 6), (3, 2, 3, 3))    fan-in and fan-out of a Linear and a Conv2d weight (Lesson 02)
sliding_window(5, 3, 2, 1)    a kernel sliding over a padded input with a stride (Lesson 07)
im2col(4, 2)                  the windows of an input unfolded into the columns of a matrix (Lesson 07)
receptive_field([(3, 1), (3, 1)])   the input pixels one unit sees through two layers (Lesson 07)
mlp_graph(64, 2, 100, 3)      the computational graph of a two-layer MLP with every tensor's shape (Lesson 05)
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

from nnlab.plot import PALETTE

_GREY = "0.55"
_LIGHT = "0.88"


def _canvas(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], color: str = _GREY) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.0})


def _node(ax: plt.Axes, x: float, y: float, text: str, *, radius: float = 0.32, color: str = "white") -> None:
    ax.add_patch(Circle((x, y), radius, facecolor=color, edgecolor="0.3", lw=1.0, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10, zorder=3)


def _box(ax: plt.Axes, x: float, y: float, text: str, width: float, height: float = 0.8, color: str = "white") -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.03,rounding_size=0.1",
            facecolor=color,
            edgecolor="0.3",
            lw=1.0,
            zorder=2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=3)


def _cell(ax: plt.Axes, x: float, y: float, *, color: str = "white", text: str = "", size: float = 1.0, **kw) -> None:
    """One square of a grid, its top-left corner at (x, -y): row y grows downwards."""
    ax.add_patch(Rectangle((x, -y - size), size, size, facecolor=color, edgecolor="0.45", lw=0.6, **kw))
    if text:
        ax.text(x + size / 2, -y - size / 2, text, ha="center", va="center", fontsize=7)


def _outline(ax: plt.Axes, x: float, y: float, w: float, h: float, color: str, lw: float = 2.2) -> None:
    ax.add_patch(Rectangle((x, -y - h), w, h, fill=False, edgecolor=color, lw=lw, zorder=4))


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    if min(size, kernel, stride) < 1 or padding < 0 or kernel > size + 2 * padding:
        raise ValueError(f"no window fits: size {size}, kernel {kernel}, stride {stride}, padding {padding}")
    return (size + 2 * padding - kernel) // stride + 1


def neuron(n_inputs: int = 3, activation: str = "ReLU") -> plt.Figure:
    """One artificial neuron: inputs x_i, weights w_i on the edges, the sum with the bias, the activation."""
    if n_inputs < 1:
        raise ValueError("a neuron needs at least one input")
    fig, ax = _canvas(8, 1.2 + 0.9 * n_inputs)
    top = (n_inputs - 1) / 2
    for i in range(n_inputs):
        y = top - i
        _node(ax, 0, y, f"$x_{i + 1}$", color=_LIGHT)
        _arrow(ax, (0.35, y), (2.7, 0.1 * (top - i)))
        ax.text(1.3, y * 0.62 + 0.12, f"$w_{i + 1}$", color=PALETTE[0], fontsize=10, ha="center")
    _node(ax, 3.0, 0, r"$\Sigma$", radius=0.4)
    _box(ax, 3.0, -top - 0.9, "bias $b$", 1.2)
    _arrow(ax, (3.0, -top - 0.5), (3.0, -0.42))
    _box(ax, 5.3, 0, f"activation\n$f$ = {activation}", 1.6, 1.0, color="#e8f1f8")
    _arrow(ax, (3.42, 0), (4.48, 0))
    ax.text(3.95, 0.12, "$z$", ha="center", fontsize=10)
    _node(ax, 7.2, 0, "$y$", color=_LIGHT)
    _arrow(ax, (6.12, 0), (6.86, 0))
    terms = " + ".join(f"w_{i + 1} x_{i + 1}" for i in range(min(n_inputs, 3))) + (" + \\dots" if n_inputs > 3 else "")
    ax.set_title(f"one neuron with {n_inputs} inputs: $z = {terms} + b$,  $y = f(z)$")
    ax.set_xlim(-0.6, 7.7)
    ax.set_ylim(-top - 1.5, top + 0.6)
    return fig


def mlp(sizes: Sequence[int] = (3, 4, 4, 2), activation: str = "ReLU") -> plt.Figure:
    """A fully connected network of ``len(sizes) - 1`` Linear layers, with each weight's and bias's shape."""
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError("an MLP needs at least two layer sizes, each at least 1")
    layers = len(sizes) - 1
    tallest = max(sizes)
    fig, ax = _canvas(2.6 * len(sizes), 1.6 + 0.62 * min(tallest, 8))
    shown = [min(n, 8) for n in sizes]  # wider layers are drawn with 8 units and labelled with their true size
    ys = [[(k - (m - 1) / 2) * 0.62 for k in range(m)] for m in shown]
    for layer in range(layers):
        x0, x1 = 2.6 * layer, 2.6 * (layer + 1)
        for y0 in ys[layer]:
            for y1 in ys[layer + 1]:
                ax.plot([x0, x1], [y0, y1], color="0.75", lw=0.6, zorder=1)
    bottom = min(y for col in ys for y in col) - 0.55
    for layer in range(layers):
        out, inp = sizes[layer + 1], sizes[layer]
        ax.text(
            2.6 * layer + 1.3,
            bottom,
            f"$W_{layer + 1}$: ({out}, {inp})\n$b_{layer + 1}$: ({out},)",
            ha="center",
            va="top",
            fontsize=9,
            color=PALETTE[0],
        )
    for layer, (n, col) in enumerate(zip(sizes, ys)):
        x = 2.6 * layer
        kind = "input" if layer == 0 else "output" if layer == layers else f"hidden {layer}"
        color = _LIGHT if layer in (0, layers) else "#e8f1f8"
        for y in col:
            ax.add_patch(Circle((x, y), 0.2, facecolor=color, edgecolor="0.3", lw=0.9, zorder=2))
        after = f", {activation}" if 0 < layer < layers else ""
        ax.text(
            x, bottom, f"{kind}\n{n} {'features' if layer == 0 else 'units'}{after}", ha="center", va="top", fontsize=9
        )
    params = sum(sizes[i + 1] * (sizes[i] + 1) for i in range(layers))
    arrows = " → ".join(str(n) for n in sizes)
    ax.set_title(
        f"a {layers}-layer MLP, {arrows}: {layers} Linear layers, {params} parameters\n"
        "(blue: the shape of each Linear layer's weight, stored (out, in), and bias)"
    )
    ax.set_xlim(-1.0, 2.6 * layers + 1.0)
    return fig


def fans(linear: tuple[int, int] = (4, 6), conv: tuple[int, int, int, int] = (3, 2, 3, 3)) -> plt.Figure:
    """Fan-in (one output's inputs) and fan-out (one input's outputs) of a Linear and a Conv2d weight."""
    out_f, in_f = linear
    c_out, c_in, kh, kw = conv
    if min(*linear, *conv) < 1:
        raise ValueError("every dimension of a weight is at least 1")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=(in_f + 2, c_in * (kw + 1) + 2))
    fan_in_color, fan_out_color = PALETTE[0], PALETTE[1]
    for ax in (left, right):
        ax.set_aspect("equal")
        ax.axis("off")
    for r in range(out_f):
        for c in range(in_f):
            color = fan_in_color if r == 0 else fan_out_color if c == 0 else "white"
            _cell(left, c, r, color=color, alpha=0.55 if color != "white" else 1.0)
    _outline(left, 0, 0, in_f, 1, fan_in_color)
    _outline(left, 0, 0, 1, out_f, fan_out_color)
    left.text(-0.3, -0.5, "output 1", ha="right", va="center", fontsize=8, color=fan_in_color)
    left.text(-0.3, -out_f / 2 - 0.5, f"rows:\n{out_f} outputs", ha="right", va="center", fontsize=8)
    left.text(0.5, -out_f - 0.3, "input 1", ha="center", va="top", fontsize=8, color=fan_out_color)
    left.text(in_f / 2 + 0.5, -out_f - 0.3, f"columns: {in_f} inputs", ha="center", va="top", fontsize=8)
    left.set_xlim(-2.2, in_f + 0.3)
    left.set_ylim(-out_f - 1.6, 0.8)
    left.set_title(
        f"nn.Linear({in_f}, {out_f}).weight, shape ({out_f}, {in_f})\n"
        f"fan_in = {in_f} (a row: one output's inputs)\nfan_out = {out_f} (a column: one input's outputs)",
        fontsize=9,
    )
    step = 1.0 / max(kh, kw)
    for o in range(c_out):
        for c in range(c_in):
            color = fan_in_color if o == 0 else fan_out_color if c == 0 else "white"
            for u in range(kh):
                for v in range(kw):
                    x, y = c * (kw + 1) * step + v * step, o * (kh + 1) * step + u * step
                    _cell(right, x, y, color=color, size=step, alpha=0.55 if color != "white" else 1.0)
    _outline(right, 0, 0, (c_in * (kw + 1) - 1) * step, kh * step, fan_in_color)
    _outline(right, 0, 0, kw * step, (c_out * (kh + 1) - 1) * step, fan_out_color)
    for c in range(c_in):
        right.text(
            (c * (kw + 1) + kw / 2) * step,
            -(c_out * (kh + 1) - 0.6) * step,
            f"in {c + 1}",
            ha="center",
            va="top",
            fontsize=8,
        )
    for o in range(c_out):
        right.text(-0.2, -(o * (kh + 1) + kh / 2) * step, f"out {o + 1}", ha="right", va="center", fontsize=8)
    right.set_xlim(-1.5, (c_in * (kw + 1)) * step + 0.2)
    right.set_ylim(-(c_out * (kh + 1) + 1.5) * step, 0.8)
    right.set_title(
        f"nn.Conv2d({c_in}, {c_out}, ({kh}, {kw})).weight, shape ({c_out}, {c_in}, {kh}, {kw}): a {kh}×{kw} kernel "
        f"per (out, in) pair\nfan_in = {c_in}·{kh}·{kw} = {c_in * kh * kw} (output channel 1's kernels)\n"
        f"fan_out = {c_out}·{kh}·{kw} = {c_out * kh * kw} (input channel 1's kernels)",
        fontsize=9,
    )
    return fig


def sliding_window(size: int = 5, kernel: int = 3, stride: int = 2, padding: int = 1) -> plt.Figure:
    """A kernel's first windows on a padded square input (zeros in grey), and the output cells they give.

    Input pixels that no window covers (the stride skips them) are hatched.
    """
    n_out = _out_size(size, kernel, stride, padding)
    full = size + 2 * padding
    covered = set()
    for i in range(n_out):
        for j in range(n_out):
            covered |= {(i * stride + u, j * stride + v) for u in range(kernel) for v in range(kernel)}
    fig, ax = _canvas(3 + 0.55 * (full + n_out), 1.4 + 0.5 * full)
    for r in range(full):
        for c in range(full):
            pad = not (padding <= r < padding + size and padding <= c < padding + size)
            _cell(
                ax,
                c,
                r,
                color=_LIGHT if pad else "white",
                text="0" if pad else "",
                hatch=None if (r, c) in covered else "////",
            )
    shown = [(0, 0), (0, 1), (1, 0)][: 1 if n_out == 1 else 3]
    x_out = full + 2
    for r in range(n_out):
        for c in range(n_out):
            _cell(ax, x_out + c, r + (full - n_out) / 2)
    for k, (i, j) in enumerate(shown):
        color = PALETTE[k]
        _outline(ax, j * stride + 0.08 * k, i * stride + 0.08 * k, kernel - 0.16 * k, kernel - 0.16 * k, color)
        _cell(ax, x_out + j, i + (full - n_out) / 2, color=color, alpha=0.6)
    _arrow(ax, (full + 0.3, -full / 2), (x_out - 0.3, -full / 2))
    ax.text(
        full / 2, -full - 0.4, f"input {size}×{size}, padding {padding} (grey zeros)", ha="center", va="top", fontsize=9
    )
    ax.text(x_out + n_out / 2, -(full + n_out) / 2 - 0.4, f"output {n_out}×{n_out}", ha="center", va="top", fontsize=9)
    note = "; hatched: in no window" if len(covered) < full * full else ""
    ax.set_title(
        f"a {kernel}×{kernel} kernel, stride {stride}: windows start every {stride} pixels{note}\n"
        f"$n_{{out}} = \\lfloor ({size} + 2·{padding} - {kernel}) / {stride} \\rfloor + 1 = {n_out}$",
        fontsize=10,
    )
    ax.set_xlim(-0.5, x_out + n_out + 0.5)
    ax.set_ylim(-full - 1.3, 0.5)
    return fig


def im2col(size: int = 4, kernel: int = 2, stride: int = 1, channels: int = 1) -> plt.Figure:
    """The windows of a (channels, size, size) input, each unfolded into one column (``F.unfold``).

    Every pixel is numbered; the first two windows and their columns share a colour.
    """
    n_out = _out_size(size, kernel, stride, 0)
    windows, rows = n_out * n_out, channels * kernel * kernel
    fig, ax = _canvas(3 + 0.5 * (channels * (size + 1) + windows), 1.8 + 0.45 * max(size, rows))
    for c in range(channels):
        for r in range(size):
            for col in range(size):
                _cell(ax, c * (size + 1) + col, r, text=str(c * size * size + r * size + col))
        ax.text(c * (size + 1) + size / 2, -size - 0.3, f"channel {c}", ha="center", va="top", fontsize=8)
    x_mat = channels * (size + 1) + 2
    for w in range(windows):
        i, j = divmod(w, n_out)
        for k in range(rows):
            c, rest = divmod(k, kernel * kernel)
            u, v = divmod(rest, kernel)
            pixel = c * size * size + (i * stride + u) * size + j * stride + v
            _cell(ax, x_mat + w, k, text=str(pixel), color=PALETTE[w] if w < 2 else "white", alpha=0.45)
    for w in range(min(2, windows)):
        i, j = divmod(w, n_out)
        for c in range(channels):
            _outline(
                ax,
                c * (size + 1) + j * stride + 0.06 * w,
                i * stride + 0.06 * w,
                kernel - 0.12 * w,
                kernel - 0.12 * w,
                PALETTE[w],
            )
    _arrow(ax, (x_mat - 1.7, -size / 2), (x_mat - 0.3, -size / 2))
    ax.text(x_mat - 1.0, -size / 2 + 0.2, "unfold", ha="center", va="bottom", fontsize=8)
    ax.text(
        x_mat + windows / 2,
        -rows - 0.3,
        f"columns: ({channels}·{kernel}·{kernel}, {n_out}·{n_out}) = ({rows}, {windows})\none column per window",
        ha="center",
        va="top",
        fontsize=9,
    )
    ax.set_title(
        f"im2col: input ({channels}, {size}, {size}), {kernel}×{kernel} windows, stride {stride}. "
        f"A weight reshaped to (C_out, {rows}) @ these columns\ngives (C_out, {windows}): every output position "
        f"in one matrix product, then reshaped to (C_out, {n_out}, {n_out})",
        fontsize=9,
    )
    ax.set_xlim(-0.5, x_mat + windows + 0.5)
    ax.set_ylim(-max(size, rows) - 1.5, 0.5)
    return fig


def receptive_field(layers: Sequence[tuple[int, int]] = ((3, 1), (3, 1)), units: int = 3) -> plt.Figure:
    """One unit of the last layer, the units it reads in each layer below, down to its input pixels (1-D view).

    ``layers`` are (kernel_size, stride) pairs, no padding; ``units`` is how many units the top layer shows.
    """
    if not layers or any(k < 1 or s < 1 for k, s in layers) or units < 1:
        raise ValueError("layers must be a non-empty list of (kernel_size >= 1, stride >= 1) pairs")
    fields, jumps = [1], [1]
    for k, s in layers:
        fields.append(fields[-1] + (k - 1) * jumps[-1])
        jumps.append(jumps[-1] * s)
    counts = [units]
    for k, s in reversed(layers):
        counts.insert(0, (counts[0] - 1) * s + k)
    width = counts[0]
    fig_width = 2.5 + 0.45 * width
    fig, ax = _canvas(fig_width, 0.7 + fig_width * (len(layers) + 1.5) / (width + 6.5))
    x = [[jumps[level] * i + (fields[level] - 1) / 2 for i in range(counts[level])] for level in range(len(counts))]
    chosen = [set() for _ in counts]
    chosen[-1] = {units // 2}
    for level in range(len(layers), 0, -1):
        k, s = layers[level - 1]
        chosen[level - 1] = {i * s + t for i in chosen[level] for t in range(k)}
        for i in chosen[level]:
            for t in range(k):
                ax.plot([x[level][i], x[level - 1][i * s + t]], [level, level - 1], color=PALETTE[0], lw=1.0)
    for level, xs in enumerate(x):
        for i, xi in enumerate(xs):
            on = i in chosen[level]
            style = {"facecolor": PALETTE[0], "alpha": 0.8} if on else {"facecolor": "white"}
            ax.add_patch(Circle((xi, level), 0.22, edgecolor="0.35", zorder=2, **style))
        label = (
            "input pixels"
            if level == 0
            else f"layer {level}: kernel {layers[level - 1][0]}, stride "
            f"{layers[level - 1][1]}\nreceptive field {fields[level]}, jump {jumps[level]}"
        )
        ax.text(-1.0, level, label, ha="right", va="center", fontsize=8)
    lo, hi = min(chosen[0]), max(chosen[0])
    ax.add_patch(Rectangle((lo - 0.4, -0.4), hi - lo + 0.8, 0.8, fill=False, edgecolor=PALETTE[3], lw=1.8))
    ax.text((lo + hi) / 2, -0.55, f"{hi - lo + 1} input pixels", ha="center", va="top", color=PALETTE[3], fontsize=9)
    ax.set_title(f"the receptive field of one unit after {len(layers)} layers: {fields[-1]} pixels", fontsize=10)
    ax.set_xlim(-6.5, width)
    ax.set_ylim(-1.0, len(layers) + 0.5)
    return fig


def mlp_graph(batch: int = 64, in_features: int = 2, hidden: int = 100, classes: int = 3) -> plt.Figure:
    """The computational graph of Linear-ReLU-Linear with cross-entropy, each tensor's shape in symbols and numbers.

    N = batch, D = in_features, H = hidden, C = classes; weights are stored (out, in) as in ``nn.Linear``.
    """
    if min(batch, in_features, hidden, classes) < 1:
        raise ValueError("every size must be at least 1")
    n, d, h, c = batch, in_features, hidden, classes
    nodes = {  # name: (x, y, formula, symbolic shape, numeric shape)
        "x": (0.0, 2.4, "$x$", "(N, D)", (n, d)),
        "W1": (0.0, 1.2, "$W_1$", "(H, D)", (h, d)),
        "b1": (0.0, 0.0, "$b_1$", "(H,)", (h,)),
        "z1": (2.8, 1.2, r"$z_1 = x W_1^\top + b_1$", "(N, H)", (n, h)),
        "h": (5.6, 1.2, r"$h = \mathrm{relu}(z_1)$", "(N, H)", (n, h)),
        "W2": (5.6, 2.7, "$W_2$", "(C, H)", (c, h)),
        "b2": (5.6, -0.3, "$b_2$", "(C,)", (c,)),
        "logits": (8.4, 1.2, r"logits $= h W_2^\top + b_2$", "(N, C)", (n, c)),
        "target": (8.4, -0.3, "target $y$ (class indices)", "(N,)", (n,)),
        "loss": (11.2, 1.2, r"$L = $ cross-entropy(logits, $y$)", "()", ()),
    }
    pairs = "x>z1 W1>z1 b1>z1 z1>h h>logits W2>logits b2>logits logits>loss target>loss"
    edges = [pair.split(">") for pair in pairs.split()]
    fig, ax = _canvas(12, 4.2)
    width = 2.3
    for name, (x, y, formula, symbols, numbers) in nodes.items():
        color = _LIGHT if name in ("x", "target") else "#e8f1f8" if name in ("W1", "b1", "W2", "b2") else "white"
        shape = f"{symbols} = {tuple(numbers)}" if numbers else "shape (): a scalar"
        _box(ax, x, y, f"{formula}\n{shape}", width, 0.9, color=color)
    for src, dst in edges:
        (x0, y0, *_), (x1, y1, *_) = nodes[src], nodes[dst]
        _arrow(ax, (x0 + width / 2, y0), (x1 - width / 2, y1))
    ax.set_title(
        f"two-layer MLP: N = {n} samples, D = {d} features, H = {h} hidden units, C = {c} classes "
        "(grey: data, blue: parameters)\nthe backward pass runs from L to the left; each gradient ∂L/∂t has t's shape",
        fontsize=10,
    )
    ax.set_xlim(-1.4, 12.6)
    ax.set_ylim(-1.0, 3.4)
    return fig
