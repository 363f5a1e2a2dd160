"""Signals through deep networks: per-layer activation and gradient statistics (lessons 02, 03, 06).

net = deep_mlp(depth=12, width=256, activation=nn.Tanh, init=lambda w: nn.init.xavier_uniform_(w))
stats = layer_statistics(net, x, y)          # {"act_std": [...], "act_mean": [...], "grad_norm": [...], ...}
plot_layer_statistics({"tanh + Xavier": stats}, keys=("act_std", "grad_norm"))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import torch
from torch import nn

import nnlab.plot  # noqa: F401 - the course style


def deep_mlp(
    depth: int,
    width: int,
    activation: type[nn.Module] | Callable[[], nn.Module] = nn.ReLU,
    *,
    in_features: int | None = None,
    out_features: int | None = None,
    init: Callable[[torch.Tensor], object] | None = None,
    bias_init: Callable[[torch.Tensor], object] | None = None,
) -> nn.Sequential:
    """``depth`` Linear layers of ``width`` units with ``activation`` after each hidden one.

    ``init(weight)`` / ``bias_init(bias)`` re-initialise every layer in place (default: nn.Linear's own).
    """
    sizes = [in_features or width] + [width] * (depth - 1) + [out_features or width]
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(n_in, n_out)
        with torch.no_grad():
            if init is not None:
                init(linear.weight)
            if bias_init is not None:
                bias_init(linear.bias)
        layers.append(linear)
        if i < depth - 1:
            layers.append(activation())
    return nn.Sequential(*layers)


def layer_statistics(
    model: nn.Sequential,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, list[float]]:
    """Forward ``x`` (and backward a loss) through a Sequential of Linear layers and activations.

    Returns, one entry per Linear layer, in order:
    ``act_mean``/``act_std`` of the layer's output after its activation (pre-activation for the last layer),
    ``pre_std`` of the layer's output before the activation, ``dead_fraction`` of units that output 0 for the
    whole batch, ``grad_norm`` (Frobenius norm of d loss / d weight) and ``grad_std``.
    With no ``y``, the loss is the mean of the squared output (any scalar shows how gradients flow).
    """
    outputs: list[torch.Tensor] = []
    pre: list[torch.Tensor] = []
    modules = list(model)
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    hooks = []
    for i, m in enumerate(modules):
        if isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lambda _m, _i, out: pre.append(out.detach())))
            after = modules[i + 1] if i + 1 < len(modules) and not isinstance(modules[i + 1], nn.Linear) else m
            hooks.append(after.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach())))
    model.zero_grad(set_to_none=True)
    try:
        out = model(x)
        loss = loss_fn(out, y) if (loss_fn is not None and y is not None) else out.pow(2).mean()
        loss.backward()
    finally:
        for h in hooks:
            h.remove()
    # the last Linear registered two hooks on itself: keep one output per layer
    outputs = outputs[: len(linears)]
    return {
        "act_mean": [float(o.mean()) for o in outputs],
        "act_std": [float(o.std()) for o in outputs],
        "pre_std": [float(p.std()) for p in pre[: len(linears)]],
        "dead_fraction": [float((o == 0).all(0).float().mean()) for o in outputs],
        "grad_norm": [float(m.weight.grad.norm()) for m in linears],
        "grad_std": [float(m.weight.grad.std()) for m in linears],
    }


LABELS = {
    "act_mean": "mean activation",
    "act_std": "std of activations",
    "pre_std": "std before activation",
    "dead_fraction": "fraction of dead units",
    "grad_norm": "‖∂loss/∂W‖",
    "grad_std": "std of ∂loss/∂W",
}


def plot_layer_statistics(
    runs: dict[str, dict[str, list[float]]],
    keys: Sequence[str] = ("act_std", "grad_norm"),
    *,
    log: Sequence[str] = ("act_std", "grad_norm", "grad_std", "pre_std"),
    title: str = "",
) -> plt.Figure:
    """One panel per statistic, one line per run, layer index on the x axis (log scale where useful)."""
    fig, axes = plt.subplots(1, len(keys), squeeze=False, figsize=(4.5 * len(keys), 3.4))
    for ax, key in zip(axes[0], keys, strict=True):
        for name, stats in runs.items():
            values = stats[key]
            ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=name)
        if key in log:
            ax.set_yscale("log")
        ax.set(xlabel="layer", ylabel=LABELS.get(key, key), title=f"{title} {LABELS.get(key, key)}".strip())
        ax.legend()
    return fig
