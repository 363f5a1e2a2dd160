"""Shared by the checks of lesson 08c: what answers may not call, seeded inputs, and a closeness test for diagnoses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from autograder import guard, reference
from autograder.reference import pristine

#: What an answer of this lesson may not call: every normalization of PyTorch, under every name.
NORM_BAN: tuple[str, ...] = (
    "torch.nn.functional.batch_norm",
    "torch.batch_norm",
    "torch.native_batch_norm",
    "torch.nn.functional.layer_norm",
    "torch.layer_norm",
    "torch.native_layer_norm",
    "torch.nn.functional.group_norm",
    "torch.group_norm",
    "torch.nn.functional.instance_norm",
    "torch.instance_norm",
    "torch.nn.functional.rms_norm",
    "torch.rms_norm",
    "torch.nn.BatchNorm1d",
    "torch.nn.LayerNorm",
    "torch.nn.GroupNorm",
    "torch.nn.InstanceNorm1d",
    "torch.ops.aten.*batch_norm*",
    "torch.ops.aten.*layer_norm*",
    "torch.ops.aten.*group_norm*",
    "torch.ops.aten.*instance_norm*",
    "torch.ops.aten.*rms_norm*",
)
#: A backward computed by hand: no normalization of PyTorch and no autograd.
BACKWARD_BAN: tuple[str, ...] = NORM_BAN + guard.AUTOGRAD
ALLOWED = "tensor operations (mean, var, var_mean, sqrt, sum, broadcasting), following the formulas above"
PARTS = ("grad_input", "grad_weight", "grad_bias")
IN_PLACE = (
    "`running_mean = ...` only rebinds a local name; write into the caller's tensor instead (methods ending "
    "in `_`, such as `mul_`/`add_`/`copy_`, under `torch.no_grad()`)"
)


def torch_ref(path: str) -> Callable:
    return reference.get(path)


def randn(*shape: int, seed: int, scale: float = 1.0, shift: float = 0.0, dtype=torch.float32) -> torch.Tensor:  # noqa: ANN001
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift).to(dtype)


def close(got: Any, expected: torch.Tensor) -> bool:
    """``got`` is a tensor of expected's shape with nearly its values (to name a likely mistake)."""
    with pristine():
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            return False
        rtol, atol = (1e-9, 1e-11) if got.dtype == torch.float64 else (1e-4, 1e-5)
        return bool(torch.allclose(got.detach().double(), expected.double(), rtol=rtol, atol=atol))


def batch_stats(x: torch.Tensor, unbiased: bool, dims: tuple[int, ...] | None = None) -> tuple[torch.Tensor, ...]:
    dims = dims if dims is not None else (0, *range(2, x.dim()))
    return x.mean(dims, keepdim=True), x.var(dims, unbiased=unbiased, keepdim=True)


def affine(y: torch.Tensor, kwargs: dict) -> torch.Tensor:
    view = (1, -1) + (1,) * (y.dim() - 2)
    w, b = kwargs.get("weight"), kwargs.get("bias")
    y = y * w.double().view(view) if w is not None else y
    return y + b.double().view(view) if b is not None else y
