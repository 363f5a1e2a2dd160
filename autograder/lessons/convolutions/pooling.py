"""Lesson 07's max_pool2d: what its grade cells forbid, compare with (F.max_pool2d, its gradient by autograd) and
diagnose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import autograder as ag
from autograder.lessons.activations import quiet
from autograder.lessons.convolutions.conv import _close, check_nan_aware, explaining_edges, with_nan


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


#: the 4x4 example the lesson pools by hand
POOL_EXAMPLE = ag.Case(
    "the 4x4 example, kernel_size=2",
    (torch.tensor([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0], [0.0, -1.0, 2.0, 2.0], [-2.0, 0.0, 3.0, 9.0]]]]), 2),
)


def check_max_pool2d(student: Callable, cases: list[ag.Case]) -> None:
    """max_pool2d against F.max_pool2d on the cases, with max_pool2d's ban list; names the likely slip."""
    ag.check_function(student, POOL, cases, forbid=POOL_BAN, allowed_hint=POOL_HINT, diagnose=pool_hint)


def check_max_pool2d_gradient(student: Callable, cases: list[ag.Case]) -> None:
    """The gradient autograd takes through max_pool2d is the one through F.max_pool2d."""
    ag.check_function(
        pool_grads(student),
        pool_grads(ag.reference.get(POOL)),
        cases,
        name="max_pool2d (its gradient)",
        forbid=POOL_BAN,
        allowed_hint=POOL_HINT,
    )


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


# ---------------------------------------------------------------- conventions: NaN in, NaN out; an empty batch
def _nan_windows(shape: tuple[int, ...], seed: int, *where: tuple[int, ...]) -> torch.Tensor:
    return with_nan(ag.inputs.randn(*shape, seed=seed), *where)


POOL_EDGE_CASES = [
    ag.Case(
        "NaN at the first, a middle and the last place of three 2x2 windows, kernel_size=2",
        (_nan_windows((2, 2, 6, 6), 97, (0, 0, 0, 0), (0, 1, 3, 2), (1, 0, 5, 5)), 2),
    ),
    ag.Case(
        "NaN in overlapping 3x3 windows, stride=2",
        (_nan_windows((1, 2, 7, 7), 98, (0, 0, 2, 2), (0, 1, 6, 1)), 3, 2),
    ),
    ag.Case("an empty batch (0, 3, 6, 6), kernel_size=2", (torch.zeros(0, 3, 6, 6), 2)),
]


def pool_edge_hint(got: Any, case: ag.Case) -> str | None:
    """diagnose= for max_pool2d's edges: a window that holds NaN whose maximum is not NaN."""
    if isinstance(got, torch.Tensor) and got.numel():
        with ag.pristine():
            ref = ag.reference.get(POOL)(*case.args)
        if ref.shape == got.shape and bool((torch.isnan(ref) & ~torch.isnan(got)).any()):
            return (
                "a window that holds a NaN has maximum NaN in F.max_pool2d (NaN in, NaN out). Every comparison "
                "with NaN is False, so a running maximum built from `>` or torch.where drops it (or keeps it, "
                "depending on where it sits); a max reduction over the window keeps it."
            )
    return pool_hint(got, case)


def check_max_pool2d_edges(student: Callable) -> None:
    """max_pool2d as F.max_pool2d on windows holding NaN (values and gradient) and on an empty batch."""
    explaining_edges(
        lambda: check_nan_aware(
            student,
            POOL,
            POOL_EDGE_CASES,
            name="max_pool2d",
            forbid=POOL_BAN,
            allowed_hint=POOL_HINT,
            diagnose=pool_edge_hint,
        )
    )
    explaining_edges(
        lambda: ag.check_function(
            pool_grads(student),
            pool_grads(ag.reference.get(POOL)),
            POOL_EDGE_CASES[:2],
            name="max_pool2d (its gradient where a window holds NaN)",
            forbid=POOL_BAN,
            allowed_hint=POOL_HINT,
        )
    )
