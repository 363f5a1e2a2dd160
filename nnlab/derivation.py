"""Lesson 05b: deriving a backward pass one node at a time, each step compared with autograd in a visible cell.

auto = node_gradients(cache)          # autograd's dL/d(node) for every node of the two-layer network
show_step("grad_logits", grad_logits, auto)   # prints whether your step matches; never raises
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

#: the steps of the derivation, from the loss back to the first layer, with the shape each must have
STEPS: dict[str, str] = {
    "grad_logits": "(N, C)",
    "grad_W2": "(C, H)",
    "grad_b2": "(C,)",
    "grad_h": "(N, H)",
    "grad_z1": "(N, H)",
    "grad_W1": "(H, D)",
    "grad_b1": "(H,)",
}


def node_gradients(cache: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Autograd's gradient of the mean cross-entropy with respect to every node of Linear-ReLU-Linear, recomputed
    from the cache's x, target and params (so a wrong z1, h or logits in the cache does not mislead it)."""
    x, target, params = cache["x"], cache["target"], cache["params"]
    leaves = {k: params[k].detach().clone().requires_grad_(True) for k in ("W1", "b1", "W2", "b2")}
    z1 = F.linear(x.detach(), leaves["W1"], leaves["b1"])
    h = torch.relu(z1)
    logits = F.linear(h, leaves["W2"], leaves["b2"])
    for node in (z1, h, logits):
        node.retain_grad()
    F.cross_entropy(logits, target).backward()
    grads = {"grad_logits": logits.grad, "grad_h": h.grad, "grad_z1": z1.grad}
    grads.update({f"grad_{k}": leaf.grad for k, leaf in leaves.items()})
    return {name: grads[name] for name in STEPS}


def step_report(name: str, yours: Any, auto: Mapping[str, torch.Tensor]) -> str:
    """One line: is ``yours`` autograd's ``auto[name]`` (shape first, then values)?"""
    expected = auto[name]
    if yours is Ellipsis:
        return f"{name}: not written yet; replace the ... with your formula (shape {STEPS[name]})."
    if not isinstance(yours, torch.Tensor):
        return f"✗ {name} is a {type(yours).__name__}; it should be a tensor of shape {STEPS[name]}."
    if yours.shape != expected.shape:
        return (
            f"✗ {name} has shape {tuple(yours.shape)}; it should be {STEPS[name]} = {tuple(expected.shape)}, the "
            "shape of what it differentiates. Which operand needs a transpose, or which dim a sum?"
        )
    diff = float((yours.detach().double() - expected.double()).abs().max())
    if diff > 1e-9 * max(1.0, float(expected.abs().max())):
        return (
            f"✗ {name} has the right shape {tuple(expected.shape)} but differs from autograd by up to {diff:.1e}. "
            "If the step before it printed ✓, the mistake is in this step."
        )
    return f"✓ {name}: shape {tuple(expected.shape)}, max |yours - autograd| = {diff:.1e}"


def show_step(name: str, yours: Any, auto: Mapping[str, torch.Tensor]) -> None:
    """Print ``step_report``: a practice cell shows its verdict and never stops the notebook."""
    print(step_report(name, yours, auto))
