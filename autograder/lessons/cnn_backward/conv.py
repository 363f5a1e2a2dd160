"""Lesson 07b's conv2d_backward: its reference (autograd of PyTorch's ``F.conv2d`` in float64, with the student's
patches undone), its cases, and the diagnosis that recomputes the usual slips and names the one that gives the
student's numbers; no message shows the solution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from autograder import inputs, reference
from autograder.checks import Case, CheckFailed, call_student, check, compare
from autograder.guard import AUTOGRAD
from autograder.lessons.cnn_backward.common import _close, _pair, in_channels_last
from autograder.lessons.convolutions.conv import explaining_edges
from autograder.reference import pristine

CONV = "torch.nn.functional.conv2d"

#: conv2d_backward: derived by hand. A forward F.conv2d is allowed (a correlation is a legitimate tool for both
#: gradients); whatever computes a convolution's backward is not: autograd, torch.nn.grad, a transposed
#: convolution (F.conv_transpose2d, torch.convolution(transposed=True)) and the aten kernels.
CONV_BACKWARD_BAN = (
    *AUTOGRAD,
    "torch.nn.grad.conv2d_input",
    "torch.nn.grad.conv2d_weight",
    "torch.nn.functional.conv_transpose1d",
    "torch.nn.functional.conv_transpose2d",
    "torch.nn.functional.conv_transpose3d",
    "torch.ops.aten.*convolution*",  # torch.convolution, torch._convolution, mkldnn_convolution, ..._backward
    "torch.ops.aten.*conv_transpose*",
    "torch.ops.aten.*conv_depthwise*",
)
CONV_BACKWARD_HINT = "F.pad, F.unfold / F.fold (or slicing), reshape, einsum or @, and sums"

# ---------------------------------------------------------------- conv2d_backward


def conv2d_backward_reference(
    grad_output: torch.Tensor, input: torch.Tensor, weight: torch.Tensor, stride: Any = 1, padding: Any = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(grad_input, grad_weight, grad_bias) of F.conv2d by autograd."""
    conv = reference.get(CONV)
    x, w = (t.detach().clone().requires_grad_(True) for t in (input, weight))
    b = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    out = conv(x, w, b, stride=stride, padding=padding)
    return torch.autograd.grad(out, (x, w, b), grad_output)


def conv_case(label: str, n: int, c_in: int, size: Any, c_out: int, kernel: Any, seed: int, stride: Any = 1,
              padding: Any = 0, dtype: torch.dtype = torch.float32, by_keyword: bool = False) -> Case:  # fmt: skip
    """A case of conv2d_backward: seeded grad_output, input (n, c_in, *size) and weight (c_out, c_in, *kernel);
    stride and padding passed only where not the defaults (by keyword if asked)."""
    (h, w), (kh, kw), (sh, sw), (ph, pw) = _pair(size), _pair(kernel), _pair(stride), _pair(padding)
    h_out, w_out = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    args = (
        inputs.randn(n, c_out, h_out, w_out, seed=seed, dtype=dtype),
        inputs.randn(n, c_in, h, w, seed=seed + 1, dtype=dtype),
        inputs.randn(c_out, c_in, kh, kw, seed=seed + 2, dtype=dtype),
    )
    if by_keyword:
        return Case(label, args, {"stride": stride, "padding": padding})
    return Case(label, (*args, stride, padding) if (stride, padding) != (1, 0) else args)


CONV_CASES: dict[str, list[Case]] = {
    "basic": [
        conv_case("grad_output (2, 4, 4, 4), input (2, 3, 6, 6), weight (4, 3, 3, 3)", 2, 3, 6, 4, 3, seed=1),
        conv_case("1 -> 5 channels, a 2x3 kernel on a 5x7 image", 3, 1, (5, 7), 5, (2, 3), seed=4),
        conv_case("a 1x1 kernel, 4 -> 2 channels", 2, 4, 5, 2, 1, seed=7),
    ],
    "padding": [
        conv_case("padding=1, 3x3 kernel on 5x5", 2, 2, 5, 3, 3, seed=20, padding=1),
        conv_case("padding=2, 3x3 kernel on a 4x6 image", 1, 3, (4, 6), 2, 3, seed=23, padding=2),
        conv_case(
            "padding=(1, 0) given as a pair, by keyword", 2, 2, (6, 5), 3, 3, seed=26, padding=(1, 0), by_keyword=True
        ),  # fmt: skip
    ],
    "stride": [
        conv_case("stride=2 on 7x7 (every row used)", 2, 2, 7, 3, 3, seed=40, stride=2),
        conv_case("stride=2 on 8x8: the last row and column are in no window", 2, 3, 8, 2, 3, seed=43, stride=2),
        conv_case("stride=2, padding=1 on 9x9", 1, 2, 9, 4, 3, seed=46, stride=2, padding=1),
        conv_case(
            "stride=(3, 1), padding=(1, 2) on a 10x6 image", 2, 2, (10, 6), 3, 3, seed=49, stride=(3, 1), padding=(1, 2)
        ),  # fmt: skip
    ],
}
#: as autograd hands them over: tensors in channels_last memory format (the lesson trains so), an empty batch
CONV_CASES["layout_and_empty"] = [
    in_channels_last(CONV_CASES["basic"][0]),
    in_channels_last(CONV_CASES["stride"][3]),
    conv_case("an empty batch (N = 0), stride=2, padding=1", 0, 3, 7, 4, 3, seed=61, stride=2, padding=1),
]
NAMES = ("grad_input", "grad_weight", "grad_bias")


def _conv_args(case: Case) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[int, int], tuple[int, int]]:
    g, x, w = (t.double() for t in case.args[:3])
    rest = list(case.args[3:])
    stride = case.kwargs.get("stride", rest[0] if rest else 1)
    padding = case.kwargs.get("padding", rest[1] if len(rest) > 1 else 0)
    return g, x, w, _pair(stride), _pair(padding)


def _grad_weight_without_stride(g: torch.Tensor, x: torch.Tensor, w: torch.Tensor, p: tuple[int, int]) -> torch.Tensor:
    """sum g[n,o,i,j] x_pad[n,c,i+u,j+v]: the stride forgotten in the weight's gradient."""
    xp = nn.functional.pad(x, (p[1], p[1], p[0], p[0]))
    kh, kw = w.shape[-2:]
    h, wd = g.shape[-2:]
    out = torch.zeros_like(w)
    for u in range(kh):
        for v in range(kw):
            out[:, :, u, v] = torch.einsum("noij,ncij->oc", g, xp[:, :, u : u + h, v : v + wd])
    return out


def conv_backward_hint(got: Any, case: Case, which: int) -> str | None:
    """The likely slip behind a wrong grad_input (0), grad_weight (1) or grad_bias (2)."""
    try:
        return _conv_backward_hint(got, case, which)
    except Exception:  # noqa: BLE001 - a guess that does not fit the shapes is no guess
        return None


def _conv_backward_hint(got: Any, case: Case, which: int) -> str | None:
    g, x, w, s, p = _conv_args(case)
    with pristine():
        ref = conv2d_backward_reference(g, x, w, s, p)
        if which == 0:
            if got.shape[-2:] == (x.shape[-2] + 2 * p[0], x.shape[-1] + 2 * p[1]) and p != (0, 0):
                return ("grad_input has the shape of the padded input. The padding zeros are not inputs: "
                        "crop p rows and p columns from each side of it.")  # fmt: skip
            if got.shape[-2:] != x.shape[-2:]:
                return ("grad_input has the input's shape (N, C_in, H, W), every row included: rows that no window "
                        "covers are still inputs, with gradient 0. Give F.fold (or your buffer) the padded input's "
                        "size.")  # fmt: skip
            if _close(got, conv2d_backward_reference(g, x, w.flip(-2, -1), s, p)[0]):
                return ("grad_input is the correlation of grad_output with the kernel as it is. Follow one window: "
                        "input pixel (s·i + u, s·j + v) receives grad_output[i, j]·w[u, v]; seen from the "
                        "input pixel, the kernel runs the other way round (rotated by 180°).")  # fmt: skip
            if g.shape[1] == x.shape[1] and _close(got, conv2d_backward_reference(g, x, w.transpose(0, 1), s, p)[0]):
                return "grad_input mixes the channels the wrong way: it sums over C_out, w[o, c] maps o back to c."
            if p != (0, 0):
                full = conv2d_backward_reference(g, nn.functional.pad(x, (p[1], p[1], p[0], p[0])), w, s, 0)[0]
                h, wd = x.shape[-2:]
                for top, left in ((0, 0), (2 * p[0], 2 * p[1])):
                    if _close(got, full[..., top : top + h, left : left + wd]):
                        return "the crop is off-centre: the padding added p on each side, so remove p on each side."
            uncovered = torch.ones_like(x, dtype=torch.bool)
            hh = (x.shape[-2] + 2 * p[0] - w.shape[-2]) // s[0] * s[0] + w.shape[-2] - p[0]
            ww = (x.shape[-1] + 2 * p[1] - w.shape[-1]) // s[1] * s[1] + w.shape[-1] - p[1]
            uncovered[..., : max(hh, 0), : max(ww, 0)] = False
            wrong = ~torch.isclose(got.detach().double(), ref[0], rtol=1e-3, atol=1e-4)
            if bool(uncovered.any()) and bool(wrong.any()) and not bool((wrong & ~uncovered).any()):
                return ("only the last rows/columns are wrong: no window covers them (the stride does not fit "
                        "evenly), so they had no effect on the output and their gradient is 0.")  # fmt: skip
            if s != (1, 1):
                return ("with a stride, neighbouring outputs' windows start s pixels apart: output (i, j) sends its "
                        "gradient to the pixels (s·i + u, s·j + v).")  # fmt: skip
        if which == 1:
            gw = ref[1]
            if isinstance(got, torch.Tensor) and tuple(got.shape) == (w.shape[1], w.shape[0], *w.shape[2:]):
                return "grad_weight has weight's shape (C_out, C_in, kH, kW): C_out first."
            if _close(got, gw.flip(-2, -1)):
                return ("grad_weight is rotated by 180°. w[o, c, u, v] multiplied x_pad[n, c, s·i + u, s·j + v]: "
                        "its gradient gathers exactly those pixels, unflipped.")  # fmt: skip
            if gw.shape[0] == gw.shape[1] and _close(got, gw.transpose(0, 1)):
                return "the first two axes of grad_weight are swapped: it is (C_out, C_in, kH, kW), like weight."
            if _close(got, gw / x.shape[0]):
                return ("grad_weight is averaged over the batch: every image used the same kernel, so the "
                        "contributions add up (any averaging of the loss is already inside grad_output).")  # fmt: skip
            if s != (1, 1) and _close(got, _grad_weight_without_stride(g, x, w, p)):
                return "the stride is missing from grad_weight: output (i, j) saw x_pad at (s·i + u, s·j + v)."
        if which == 2:
            gb = ref[2]
            if isinstance(got, torch.Tensor) and got.dim() != 1:
                return ("the bias is added at every position of every image, so its gradient sums grad_output "
                        "over the batch and both spatial axes: one number per output channel.")  # fmt: skip
            if _close(got, g.mean((0, 2, 3))):
                return "grad_bias is a sum, not a mean: each position and image adds its own share."
            if _close(got, g.sum((2, 3))[0]) or _close(got, g.sum((0, 2)).flatten()[: len(gb)]):
                return "grad_bias must sum over the batch and both spatial axes (dims 0, 2 and 3)."
    return None


def check_conv2d_backward(student: Callable, which: str, cases: list[Case] | None = None) -> None:
    """conv2d_backward against autograd of F.conv2d on the named group of cases, or on ``cases`` (the grade
    cell's hidden ones) for that group's behaviour."""
    explaining_edges(lambda: _check_conv2d_backward(student, which, CONV_CASES[which] if cases is None else cases))


def _check_conv2d_backward(student: Callable, which: str, cases: list[Case]) -> None:
    if which.startswith(("stride", "padding")):
        cases = [CONV_CASES["basic"][0], *cases]  # a first, plain case tells a general error from the new feature
    for case in cases:
        got = call_student(student, case, name="conv2d_backward", forbid=CONV_BACKWARD_BAN,
                           allowed_hint=CONV_BACKWARD_HINT)  # fmt: skip
        check(
            isinstance(got, tuple | list) and len(got) == 3,
            f"`conv2d_backward` should return three tensors (grad_input, grad_weight, grad_bias); it returned "
            f"{type(got).__name__} on {case.label}.",
        )
        with pristine():
            args64 = tuple(t.double() if isinstance(t, torch.Tensor) else t for t in case.args)
            expected = conv2d_backward_reference(*args64, **case.kwargs)
            native = conv2d_backward_reference(*case.args, **case.kwargs)
        for i, name in enumerate(NAMES):
            try:
                compare(got[i], expected[i], name="conv2d_backward", case=case, expected_native=native[i], what=name)
            except CheckFailed as failure:
                cause = conv_backward_hint(got[i], case, i)
                raise CheckFailed(f"{failure}\nLikely cause: {cause}" if cause else str(failure)) from None
