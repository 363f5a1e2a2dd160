"""Lesson 07b's grading of the modern pieces: adaptive_avg_pool2d (global average pooling) and ResidualBlock.

The references are PyTorch's ``F.adaptive_avg_pool2d`` (float64) and a residual block assembled from ``nn``
modules into which the student's parameters and batch-norm statistics are copied, in order. A mismatch is
explained by recomputing the usual slips; no message shows the solution.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from autograder import inputs, reference
from autograder.checks import Case, CheckFailed, call_student, check, check_function, compare, construct, fail
from autograder.lessons.cnn_backward.common import _close, _pair, in_channels_last
from autograder.lessons.convolutions.conv import allow_nan_spread, explaining_edges, with_nan
from autograder.reference import pristine

ADAPTIVE = "torch.nn.functional.adaptive_avg_pool2d"
ADAPTIVE_BAN = (
    ADAPTIVE,
    "torch.nn.functional.adaptive_avg_pool1d",
    "torch.nn.functional.adaptive_avg_pool3d",
    "torch.ops.aten.*adaptive_avg_pool*",
)
ADAPTIVE_HINT = "mean over slices of the input (keepdim=True), or avg_pool2d where the windows tile the input"
RESNET_BAN = ("nnlab.resnet.ResidualBlock",)


# ---------------------------------------------------------------- adaptive_avg_pool2d

ADAPTIVE_CASES: dict[str, list[Case]] = {
    "global": [
        Case("a (2, 3, 5, 5) input, output_size=(1, 1)", (inputs.randn(2, 3, 5, 5, seed=1), (1, 1))),
        Case("output_size=1 (an int) on a (1, 4, 28, 28) input", (inputs.randn(1, 4, 28, 28, seed=2), 1)),
        Case("a non-square (3, 2, 13, 17) input, output_size=(1, 1)", (inputs.randn(3, 2, 13, 17, seed=3), (1, 1))),
    ],
    "any_size": [
        Case("8x8 -> (2, 2): windows tile the input", (inputs.randn(2, 3, 8, 8, seed=10), (2, 2))),
        Case("7x7 -> (3, 3): windows overlap", (inputs.randn(1, 2, 7, 7, seed=11), (3, 3))),
        Case("5x9 -> (2, 4)", (inputs.randn(2, 2, 5, 9, seed=12), (2, 4))),
    ],
}


#: as the lesson's networks use it: channels_last feature maps; and the conventions: NaN in, NaN out (only in
#: the windows that hold it), an empty batch
ADAPTIVE_CASES["layout_and_edges"] = [
    in_channels_last(ADAPTIVE_CASES["global"][0]),
    in_channels_last(ADAPTIVE_CASES["any_size"][1]),
    Case(
        "one NaN pixel, 7x7 -> (3, 3) (overlapping windows: only those that hold it are NaN)",
        (with_nan(inputs.randn(2, 2, 7, 7, seed=15), (0, 1, 2, 3)), (3, 3)),
    ),
    Case("an empty batch (0, 3, 5, 5), output_size=(2, 2)", (torch.zeros(0, 3, 5, 5), (2, 2))),
]


def adaptive_hint(got: Any, case: Case) -> str | None:
    try:
        x = case.args[0].double()
        size = _pair(case.args[1] if len(case.args) > 1 else case.kwargs["output_size"])
        with pristine():
            if not isinstance(got, torch.Tensor):
                return None
            if got.dim() == 2:
                return "keep the two spatial axes: the result is (N, C, out_H, out_W), here of size 1 (keepdim=True)."
            ref = reference.get(ADAPTIVE)(x, size)
            if got.shape == ref.shape and bool((torch.isnan(ref) & ~torch.isnan(got)).any()):
                return "a window that holds a NaN averages to NaN: NaN in, NaN out."
            if got.shape == ref.shape and bool((torch.isnan(got) & ~torch.isnan(ref)).any()):
                return "a NaN of one image reached another image's outputs: the images of a batch never mix."
            if got.shape[:2] != x.shape[:2]:
                return "average each image's channels separately: N and C stay as they are."
            if size == (1, 1) and _close(got, x.sum((2, 3), keepdim=True)):
                return "that is the sum of each map; average pooling divides by the number of pixels."
            if size == (1, 1) and _close(got, x.mean((1, 2, 3), keepdim=True).expand_as(got)):
                return "each channel is averaged on its own: average over H and W only, not over the channels."
            if size == (1, 1) and _close(got, x.amax((2, 3), keepdim=True)):
                return "that is max-pooling; this is the average."
            kh, kw = x.shape[-2] // size[0], x.shape[-1] // size[1]
            if kh and kw and _close(got, reference.get("torch.nn.functional.avg_pool2d")(x, (kh, kw))):
                return ("where the size does not divide, PyTorch's window i runs from floor(i·H/out) to "
                        "ceil((i+1)·H/out): the windows cover the whole input and may overlap.")  # fmt: skip
    except Exception:  # noqa: BLE001
        return None
    return None


def check_adaptive_avg_pool2d(student: Callable, which: str, cases: list[Case] | None = None) -> None:
    """adaptive_avg_pool2d against F.adaptive_avg_pool2d on the named group of cases, or on ``cases`` (the grade
    cell's hidden ones) for that group's behaviour."""
    explaining_edges(lambda: _check_adaptive_avg_pool2d(student, ADAPTIVE_CASES[which] if cases is None else cases))


def _check_adaptive_avg_pool2d(student: Callable, cases: list[Case]) -> None:
    for case in cases:
        got = call_student(student, case, name="adaptive_avg_pool2d", forbid=ADAPTIVE_BAN,
                           allowed_hint=ADAPTIVE_HINT)  # fmt: skip
        with pristine():
            args64 = tuple(t.double() if isinstance(t, torch.Tensor) else t for t in case.args)
            expected = allow_nan_spread(got, reference.get(ADAPTIVE)(*args64, **case.kwargs), case.args[0])
            native = allow_nan_spread(got, reference.get(ADAPTIVE)(*case.args, **case.kwargs), case.args[0])
        try:
            compare(got, expected, name="adaptive_avg_pool2d", case=case, expected_native=native)
        except CheckFailed as failure:
            cause = adaptive_hint(got, case)
            raise CheckFailed(f"{failure}\nLikely cause: {cause}" if cause else str(failure)) from None


def check_global_pool_head(student: Callable) -> None:
    """A conv trunk + the student's global pooling + one linear layer runs on any image size, same head."""
    with pristine():
        trunk = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        fc = nn.Linear(4, 10)
    for size in ((28, 28), (32, 32), (20, 36)):
        with pristine(), torch.no_grad():
            maps = trunk(inputs.randn(2, 1, *size, seed=sum(size)))
        case = Case(f"feature maps {tuple(maps.shape)} of a {size[0]}x{size[1]} image, output_size=(1, 1)", (maps, 1))
        pooled = call_student(student, case, name="adaptive_avg_pool2d", forbid=ADAPTIVE_BAN,
                              allowed_hint=ADAPTIVE_HINT)  # fmt: skip
        check(
            isinstance(pooled, torch.Tensor) and tuple(pooled.shape) == (2, 4, 1, 1),
            f"global pooling of {case.label} should give (2, 4, 1, 1) whatever the image size, so that the same "
            f"fc (4 inputs) always fits; it gave {tuple(getattr(pooled, 'shape', ()))}.",
        )
        with pristine(), torch.no_grad():
            out = fc(pooled.flatten(1).float())
        check(out.shape == (2, 10), "the linear head should give (2, 10).")


# ---------------------------------------------------------------- ResidualBlock


class _ReferenceBlock(nn.Module):
    """The block as nn modules, parameters in the order the exercise asks for."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
        )  # fmt: skip
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def _shapes(module: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(p.shape) for p in module.parameters()]


def _build(student_cls: Callable, c_in: int, c_out: int, stride: int, seed: int) -> tuple[nn.Module, nn.Module]:
    """The student's block (its BN statistics moved by two training passes) and the reference with its numbers."""
    torch.manual_seed(seed)
    block = construct(student_cls, c_in, c_out, stride=stride, forbid=RESNET_BAN, name="ResidualBlock")
    check(isinstance(block, nn.Module), "ResidualBlock(...) should create an nn.Module.")
    with pristine():
        ref = _ReferenceBlock(c_in, c_out, stride)
        mine, theirs = _shapes(block), _shapes(ref)
        label = f"ResidualBlock({c_in}, {c_out}, stride={stride})"
        if mine != theirs:
            projection = stride != 1 or c_in != c_out
            if projection and len(mine) == len(theirs) - 3:
                fail(
                    f"{label} has no projection shortcut: the channels or the size change, so x cannot be added "
                    "as it is. Give the shortcut a 1x1 convolution (with the block's stride) and batch norm."
                )
            if projection and len(mine) == len(theirs) - 2 and len(mine[-1]) == 4:
                fail(f"{label}'s projection shortcut needs a batch norm after its 1x1 convolution, like the main "
                     "path (so that both branches are on the same scale).")  # fmt: skip
            if len(mine) == len(theirs) - 2 and sum(len(t) == 4 for t in mine) == sum(len(t) == 4 for t in theirs):
                fail(f"{label} has one batch norm too few: each convolution needs its own nn.BatchNorm2d (bn1, bn2"
                     "; and the projection's), since each normalises different numbers.")  # fmt: skip
            if not projection and len(mine) == len(theirs) + 3:
                fail(f"{label}: when the shapes agree the shortcut is the identity, with no parameters.")
            if any(len(s) == 1 and s not in theirs[1:3] for s in mine) or len(mine) > len(theirs):
                fail(
                    f"{label} has parameters of shapes {mine}; expected {theirs}. A convolution followed by batch "
                    "norm needs no bias (bias=False): BN subtracts the mean and adds its own shift."
                )
            fail(
                f"{label}'s parameters have shapes {mine}; expected, in this order, {theirs}: conv1 (3x3, the "
                "stride), bn1 (weight, bias), conv2 (3x3), bn2, then the projection's 1x1 conv and BN if any."
            )
        bufs = [b for b in block.buffers() if b.is_floating_point()]
        ref_bufs = [b for b in ref.buffers() if b.is_floating_point()]
        check(len(bufs) == len(ref_bufs), f"{label} should have one nn.BatchNorm2d per batch norm (with its "
              f"running statistics): {len(ref_bufs) // 2} of them; it has {len(bufs) // 2}.")  # fmt: skip
    # The student's block lives in the grader's worker: it is only read, never written. Two forward passes in
    # train mode move its batch-norm statistics away from their defaults; then its state is copied, in order.
    block.train()
    for k in range(2):
        warm = inputs.randn(4, c_in, 6, 6, seed=300 + seed + k, scale=2.0) + 1.0
        call_student(block, Case(f"{label} in train mode (updating its running statistics)", (warm,)),
                     name="ResidualBlock", forbid=RESNET_BAN)  # fmt: skip
    with pristine(), torch.no_grad():
        for p, q in zip(list(block.parameters()), ref.parameters(), strict=True):
            q.copy_(p)
        bufs = [b for b in block.buffers() if b.is_floating_point()]
        for b, q in zip(bufs, ref_bufs, strict=True):
            q.copy_(b)
    return block, ref


def _block_hint(ref: nn.Module, x: torch.Tensor, got: Any) -> str | None:
    r = copy.deepcopy(ref).double()
    conv1, bn1, _, conv2, bn2 = r.body
    relu, x = torch.relu, x.double()
    sc = r.shortcut(x)
    main = bn2(conv2(relu(bn1(conv1(x)))))
    slips = [
        (lambda: relu(main) + sc, "the shortcut was added after the last ReLU: add it to bn2's output, then ReLU."),
        (lambda: main + sc, "the ReLU after the addition is missing."),
        (lambda: relu(main), "the shortcut is missing: the block must add its input (or its projection)."),
        (lambda: relu(bn2(conv2(bn1(relu(conv1(x))))) + sc), "the order is conv → BN → ReLU, not conv → ReLU → BN."),
        (lambda: relu(bn2(conv2(bn1(conv1(x)))) + sc), "the ReLU between the two convolutions is missing."),
        (lambda: relu(conv2(relu(bn1(conv1(x)))) + sc), "bn2 is not applied to the second convolution."),
    ]
    if conv1.stride != (1, 1):
        c1, c2 = copy.deepcopy(conv1), copy.deepcopy(conv2)
        c1.stride, c2.stride = (1, 1), conv1.stride
        slips.append((lambda: relu(bn2(c2(relu(bn1(c1(x))))) + sc),
                      "the stride belongs to the first convolution (and the shortcut), not the second."))  # fmt: skip
    with torch.no_grad():
        for alt, why in slips:
            try:
                if _close(got, alt()):
                    return why
            except RuntimeError:
                continue
    return None


#: (c_in, c_out, stride, batch, image size) of the blocks each shortcut is checked on
BLOCK_CONFIGS = {
    "identity": [(8, 8, 1, 4, 7)],
    "projection": [(4, 8, 1, 4, 6), (8, 16, 2, 3, 8)],
}


def check_residual_block(
    student_cls: Callable,
    which: str,
    mode: str = "train",
    channels_last: bool = False,
    configs: list[tuple[int, int, int, int, int]] | None = None,
) -> None:
    """The student's block computes the reference block's output (train: batch statistics; eval: running ones);
    with ``channels_last``, block and input in that memory format, as the lesson's training runs them. The blocks
    are the named shortcut's :data:`BLOCK_CONFIGS`, or ``configs`` (the grade cell's hidden ones)."""
    for i, (c_in, c_out, stride, n, size) in enumerate(BLOCK_CONFIGS[which] if configs is None else configs):
        block, ref = _build(student_cls, c_in, c_out, stride, seed=100 + i)
        getattr(block, mode)()
        getattr(ref, mode)()
        x = inputs.randn(n, c_in, size, size, seed=200 + i)
        label = f"ResidualBlock({c_in}, {c_out}, stride={stride}) in {mode} mode on a {tuple(x.shape)} input"
        case = Case(label, (x,))
        if channels_last:
            block = block.to(memory_format=torch.channels_last)
            case = in_channels_last(case, "block and input in channels_last memory format, as the lesson trains")
        with pristine():
            ref64 = copy.deepcopy(ref).double()
            before = copy.deepcopy(ref)
        got = call_student(block, case, name="ResidualBlock", forbid=RESNET_BAN)
        x = case.args[0].contiguous()
        with pristine(), torch.no_grad():
            expected = ref64(x.double())
            native = ref(x)
        try:
            compare(got, expected, name="ResidualBlock", case=case, expected_native=native)
        except CheckFailed as failure:
            with pristine():
                cause = _block_hint(before, x, got)
                if cause is None and mode == "eval":
                    with torch.no_grad():
                        batch_stats = copy.deepcopy(before).double().train()(x.double())
                    if _close(got, batch_stats):
                        cause = ("in eval mode batch norm uses its running statistics, not the batch's: keep "
                                 "nn.BatchNorm2d modules, which switch with model.eval().")  # fmt: skip
            raise CheckFailed(f"{failure}\nLikely cause: {cause}" if cause else str(failure)) from None


def _input_gradient(block: Callable, block64: nn.Module | None = None) -> Callable:
    """d/dx of sum(block(x) * g), g a fixed random tensor of the output's shape (``block64``: the reference, run in
    float64 whatever x's dtype)."""

    def gradient(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().clone().requires_grad_(True)
        out = block(x) if block64 is None else block64(x.double())
        g = inputs.randn(*out.shape, seed=81, dtype=out.dtype)
        return torch.autograd.grad((out * g).sum(), x)[0].to(x.dtype)

    return gradient


def check_residual_block_gradient(student_cls: Callable) -> None:
    """The lesson measures the gradient that flows back through stacked blocks: through the student's block (train
    mode) it equals the reference block's, along both the main path and the shortcut."""
    for which in ("identity", "projection"):
        c_in, c_out, stride, n, size = BLOCK_CONFIGS[which][0]
        block, ref = _build(student_cls, c_in, c_out, stride, seed=400)
        block.train()
        with pristine():
            ref64 = copy.deepcopy(ref).double().train()
        case = Case(f"the gradient of ResidualBlock({c_in}, {c_out}, stride={stride})'s input, in train mode",
                    (inputs.randn(n, c_in, size, size, seed=410),))  # fmt: skip
        check_function(
            _input_gradient(block),
            _input_gradient(ref, ref64),
            [case],
            name="ResidualBlock (the gradient of its input)",
            forbid=RESNET_BAN,
            diagnose=_gradient_hint,
        )


def _gradient_hint(got: Any, case: Case) -> str | None:
    return ("where the output is right but this gradient is not, part of the block is cut from autograd (a .detach(), "
            "a torch.no_grad(), a copy through .data or numpy). The shortcut carries the gradient straight back to "
            "the input: that is what makes deep stacks trainable.")  # fmt: skip
