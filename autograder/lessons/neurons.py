"""Lesson 01, the neuron: what the grade cells of ``01_neurons`` compare with and forbid."""

from __future__ import annotations

import torch
from torch import nn

# what linear may not call
LINEAR_BAN = ("torch.nn.functional.linear", "torch.nn.Linear", "torch.nn.functional.bilinear")

# what Linear may not call while it is built
INIT_BAN = ("torch.nn.Linear", "torch.nn.init.uniform_", "torch.nn.init.kaiming_uniform_", "torch.nn.init.normal_")


def neuron_reference(x: torch.Tensor, w: torch.Tensor, b: float | torch.Tensor, activation) -> torch.Tensor:  # noqa: ANN001
    """activation(x @ w + b)."""
    return activation(x @ w + b)


def reference_mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """The PyTorch network an MLP must equal."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [activation()] if i else []
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def trainable_scalars(model: nn.Module) -> int:
    """The number count_parameters must return."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def collapse_reference(layers: list[nn.Module]) -> tuple[torch.Tensor, torch.Tensor]:
    """The composition of the layers as one (W, b), computed in float64, returned in the layers' dtype."""
    dtype = layers[0].weight.dtype
    W = torch.eye(layers[0].weight.shape[1], dtype=torch.float64)
    b = torch.zeros(layers[0].weight.shape[1], dtype=torch.float64)
    for layer in layers:
        W, b = layer.weight.double() @ W, layer.weight.double() @ b
        b = b + layer.bias.double() if layer.bias is not None else b
    return W.detach().to(dtype), b.detach().to(dtype)


def seeded_stack(sizes: list[int], bias: bool = True, seed: int = 40) -> list[nn.Linear]:
    """nn.Linear layers of the given sizes, drawn from a fixed seed."""
    torch.manual_seed(seed)
    return [nn.Linear(a, c, bias=bias) for a, c in zip(sizes[:-1], sizes[1:])]
