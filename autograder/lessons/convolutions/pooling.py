"""Lesson 07's max_pool2d: what its grade cells forbid, compare with (F.max_pool2d, its gradient by autograd) and
diagnose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import autograder as ag
from autograder.lessons.activations import quiet
from autograder.lessons.convolutions.conv import _close


def pool_grads(fn: Callable) -> Callable:
    """The gradient of sum(fn(x, kernel_size, stride) * g) for a fixed random g: does autograd flow through fn?"""

    def gradient(x: torch.Tensor, kernel_size: Any, stride: Any = None) -> torch.Tensor:
        x = x.detach().clone().requires_grad_(True)
        out = fn(x, kernel_size, stride)
        g = ag.inputs.randn(*out.shape, seed=78, dtype=out.dtype)
        return torch.autograd.grad((out * g).sum(), x)[0]

    return gradient


# ---------------------------------------------------------------- helpers_max_pool2d
# what max_pool2d may not call, inputs, and hints for the usual mistakes
POOL = "torch.nn.functional.max_pool2d"
# F.max_pool2d and nn.MaxPool2d end in the built-in torch.max_pool2d, which is caught by name
# (the adaptive and fractional variants are banned through their *_with_indices functions: the public names are
# thin wrappers whose code all such functions share)
POOL_BAN = (
    "torch.max_pool2d",
    "torch.max_pool1d",
    "torch.max_pool3d",
    "torch.nn.functional.max_pool2d_with_indices",
    "torch.nn.functional.max_pool3d_with_indices",
    "torch.nn.functional.adaptive_max_pool2d_with_indices",
    "torch.nn.functional.fractional_max_pool2d_with_indices",
    "torch.nn.functional.lp_pool2d",
    "torch.ops.aten.*max_pool*",
)  # every max-pooling kernel: mkldnn_max_pool2d, ...
POOL_HINT = "Tensor.unfold (or F.unfold) and amax"


def pool_case(
    label: Any,
    shape: tuple[int, ...],
    kernel_size: int,
    stride: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    shift: Any = 0.0,
    by_keyword: Any = False,
) -> Any:
    """A Case for max_pool2d on a random input of the given shape (values N(shift, 1))."""
    x = ag.inputs.randn(*shape, seed=seed, dtype=dtype) + shift
    if by_keyword:
        return ag.Case(label, (x,), {"kernel_size": kernel_size, "stride": stride})
    return ag.Case(label, (x, kernel_size) if stride is None else (x, kernel_size, stride))


@quiet
def pool_hint(got: Any, case: ag.Case) -> str | None:
    """diagnose= for max_pool2d: recognise stride 1, averaging, a zero start, pooling over channels."""
    pool = ag.reference.get(POOL)
    avg = ag.reference.get("torch.nn.functional.avg_pool2d")
    x = case.args[0].double()
    k = case.args[1] if len(case.args) > 1 else case.kwargs["kernel_size"]
    s = case.args[2] if len(case.args) > 2 else case.kwargs.get("stride")
    with ag.pristine():
        if not isinstance(got, torch.Tensor) or got.dim() != 4:
            return "the result must be 4-D like the input: (N, C, H_out, W_out)."
        if got.shape[1] != x.shape[1] or got.shape[0] != x.shape[0]:
            return (
                "pooling works on each image and each channel separately: N and C must stay as they are; only "
                "H and W shrink (do not unfold or reduce the batch or channel axis)."
            )
        if s is None and tuple(got.shape) == tuple(pool(x, k, 1).shape):
            return "stride=None means stride = kernel_size (windows side by side), not stride 1."
        if tuple(got.shape) == tuple(pool(x, k, s, ceil_mode=True).shape) != tuple(pool(x, k, s).shape):
            return "a window that would stick out of the input is dropped: the output size rounds down."
        ref = pool(x, k, s)
        if _close(got, avg(x, k, s)):
            return "you averaged each window: max-pooling keeps the largest value."
        if _close(got, ref.clamp(min=0)):
            return "the maximum of negative numbers is negative: do not start the running maximum at 0."
        if not isinstance(k, int) and _close(
            got, pool(x, tuple(k)[::-1], None if s is None else (s if isinstance(s, int) else tuple(s)[::-1]))
        ):
            return "kernel_size (kH, kW) is (along the height, along the width): your axes are swapped."
    return None
