"""Lesson 07b's grading of the backward passes: conv2d_backward, max_pool2d_backward (and lesson 07's max_pool2d
at ties). The modern pieces (adaptive_avg_pool2d, ResidualBlock) are graded by :mod:`autograder.lessons.cnn_modern`.

Every reference is autograd of PyTorch's ``F.conv2d`` / ``F.max_pool2d``, in float64, with the student's patches
undone. A mismatch is explained by recomputing the usual slips and naming the one that gives the student's
numbers; no message shows the solution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from autograder import inputs, reference
from autograder.checks import Case, CheckFailed, call_student, check, check_function, compare
from autograder.guard import AUTOGRAD
from autograder.lessons.convolutions import POOL_BAN
from autograder.reference import pristine

CONV = "torch.nn.functional.conv2d"
POOL = "torch.nn.functional.max_pool2d"

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
#: max_pool2d_backward: no pooling of PyTorch's (whose backward would do it) and no autograd
POOL_BACKWARD_BAN = (
    *AUTOGRAD,
    "torch.max_pool2d",
    "torch.max_pool1d",
    "torch.max_pool3d",
    "torch.nn.functional.max_pool2d_with_indices",
    "torch.nn.functional.adaptive_max_pool2d_with_indices",
    "torch.nn.functional.fractional_max_pool2d_with_indices",
    "torch.ops.aten.*max_pool*",
    "torch.ops.aten.*max_unpool*",
)
POOL_BACKWARD_HINT = "Tensor.unfold, argmax, scatter_add / index_add / F.fold"


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _close(got: Any, expected: torch.Tensor) -> bool:
    return (
        isinstance(got, torch.Tensor)
        and got.shape == expected.shape
        and bool(torch.allclose(got.detach().double(), expected.double(), rtol=1e-3, atol=1e-4))
    )


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


def _conv_case(label: str, n: int, c_in: int, size: Any, c_out: int, kernel: Any, seed: int, stride: Any = 1,
               padding: Any = 0, dtype: torch.dtype = torch.float32, by_keyword: bool = False) -> Case:  # fmt: skip
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
        _conv_case("grad_output (2, 4, 4, 4), input (2, 3, 6, 6), weight (4, 3, 3, 3)", 2, 3, 6, 4, 3, seed=1),
        _conv_case("1 -> 5 channels, a 2x3 kernel on a 5x7 image", 3, 1, (5, 7), 5, (2, 3), seed=4),
        _conv_case("a 1x1 kernel, 4 -> 2 channels", 2, 4, 5, 2, 1, seed=7),
    ],
    "basic_hidden": [
        _conv_case("a kernel as large as the image", 2, 2, (4, 5), 3, (4, 5), seed=10),
        _conv_case("batch 1, 6 -> 6 channels (square weight)", 1, 6, 5, 6, 3, seed=13),
        _conv_case("float64 tensors (keep float64)", 2, 2, 5, 3, 3, seed=16, dtype=torch.float64),
    ],
    "padding": [
        _conv_case("padding=1, 3x3 kernel on 5x5", 2, 2, 5, 3, 3, seed=20, padding=1),
        _conv_case("padding=2, 3x3 kernel on a 4x6 image", 1, 3, (4, 6), 2, 3, seed=23, padding=2),
        _conv_case(
            "padding=(1, 0) given as a pair, by keyword", 2, 2, (6, 5), 3, 3, seed=26, padding=(1, 0), by_keyword=True
        ),  # fmt: skip
    ],
    "padding_hidden": [
        _conv_case("padding=1 on a 1x1 image", 2, 3, 1, 2, 3, seed=29, padding=1),
        _conv_case("padding=(0, 2), a 1x5 kernel", 2, 2, 4, 3, (1, 5), seed=32, padding=(0, 2)),
    ],
    "stride": [
        _conv_case("stride=2 on 7x7 (every row used)", 2, 2, 7, 3, 3, seed=40, stride=2),
        _conv_case("stride=2 on 8x8: the last row and column are in no window", 2, 3, 8, 2, 3, seed=43, stride=2),
        _conv_case("stride=2, padding=1 on 9x9", 1, 2, 9, 4, 3, seed=46, stride=2, padding=1),
        _conv_case(
            "stride=(3, 1), padding=(1, 2) on a 10x6 image", 2, 2, (10, 6), 3, 3, seed=49, stride=(3, 1), padding=(1, 2)
        ),  # fmt: skip
    ],
    "stride_hidden": [
        _conv_case("stride=3 with a 2x2 kernel (gaps between windows)", 2, 2, 8, 3, 2, seed=52, stride=3),
        _conv_case(
            "stride=2, padding=2, a 5x5 kernel on 11x12, float64",
            2,
            3,
            (11, 12),
            2,
            5,
            seed=55,
            stride=2,
            padding=2,
            dtype=torch.float64,
        ),  # fmt: skip
        _conv_case(
            "stride=(1, 2) on an odd 7x9 image, 1 -> 4 channels", 3, 1, (7, 9), 4, (3, 2), seed=58, stride=(1, 2)
        ),  # fmt: skip
    ],
}
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


def check_conv2d_backward(student: Callable, which: str) -> None:
    """conv2d_backward against autograd of F.conv2d on the named group of cases."""
    cases = CONV_CASES[which]
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


# ---------------------------------------------------------------- max_pool2d_backward


def max_pool2d_backward_reference(
    grad_output: torch.Tensor, input: torch.Tensor, kernel_size: Any, stride: Any = None
) -> torch.Tensor:
    """d/d input of sum(F.max_pool2d(input, kernel_size, stride) * grad_output), by autograd."""
    pool = reference.get(POOL)
    x = input.detach().clone().requires_grad_(True)
    return torch.autograd.grad(pool(x, kernel_size, stride), x, grad_output)[0]


def _pool_case(label: str, x: torch.Tensor, kernel: Any, stride: Any = None, seed: int = 0,
               by_keyword: bool = False) -> Case:  # fmt: skip
    (kh, kw) = _pair(kernel)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    h_out, w_out = (x.shape[-2] - kh) // sh + 1, (x.shape[-1] - kw) // sw + 1
    g = inputs.randn(x.shape[0], x.shape[1], h_out, w_out, seed=seed + 100, dtype=x.dtype)
    if by_keyword:
        return Case(label, (g, x), {"kernel_size": kernel, "stride": stride})
    return Case(label, (g, x, kernel) if stride is None else (g, x, kernel, stride))


def _ties(*shape: int, seed: int, levels: int = 3) -> torch.Tensor:
    """Small integers: many windows hold their maximum twice or more."""
    return torch.randint(0, levels, shape, generator=inputs.generator(seed)).float()


POOL_CASES: dict[str, list[Case]] = {
    "basic": [
        _pool_case("a (2, 3, 8, 8) input, kernel_size=2", inputs.randn(2, 3, 8, 8, seed=1), 2, seed=1),
        _pool_case(
            "kernel_size=3 on 7x7 (stride 3: the last row is in no window)", inputs.randn(2, 2, 7, 7, seed=2), 3, seed=2
        ),  # fmt: skip
        _pool_case(
            "kernel_size=(2, 3), stride=None by keyword",
            inputs.randn(1, 2, 6, 9, seed=3),
            (2, 3),
            seed=3,
            by_keyword=True,
        ),  # fmt: skip
    ],
    "basic_hidden": [
        _pool_case(
            "only negative values, float64", inputs.randn(2, 2, 6, 6, seed=4, dtype=torch.float64) - 5, 2, seed=4
        ),  # fmt: skip
        _pool_case("kernel_size=2, stride=3 (gaps)", inputs.randn(1, 3, 8, 8, seed=5), 2, 3, seed=5),
    ],
    "ties": [
        _pool_case("an all-constant input: every window is one tie", torch.full((1, 2, 4, 4), 2.0), 2, seed=10),
        _pool_case("small integers: ties inside many 2x2 windows", _ties(2, 3, 6, 6, seed=11), 2, seed=11),
        _pool_case("ties in 3x2 windows, kernel_size=(3, 2)", _ties(2, 2, 6, 6, seed=12, levels=2), (3, 2), seed=12),
    ],
    "ties_hidden": [
        _pool_case(
            "an all-constant float64 input, kernel_size=3",
            torch.full((2, 1, 6, 6), -1.0, dtype=torch.float64),
            3,
            seed=13,
        ),  # fmt: skip
        _pool_case(
            "ties where a column is constant", torch.arange(8.0).repeat(1, 1, 8, 1).transpose(-1, -2), 2, seed=14
        ),  # fmt: skip
    ],
    "overlap": [
        _pool_case(
            "kernel_size=3, stride=2 (overlapping windows) on 7x7", inputs.randn(2, 2, 7, 7, seed=20), 3, 2, seed=20
        ),  # fmt: skip
        _pool_case("kernel_size=3, stride=1 on 5x6", inputs.randn(1, 3, 5, 6, seed=21), 3, 1, seed=21),
        _pool_case(
            "an all-constant input, kernel_size=3, stride=1 (ties and overlaps)",
            torch.full((1, 1, 5, 5), 1.0),
            3,
            1,
            seed=22,
        ),  # fmt: skip
    ],
    "overlap_hidden": [
        _pool_case(
            "small integers, kernel_size=(3, 2), stride=(1, 2)", _ties(2, 2, 7, 8, seed=23), (3, 2), (1, 2), seed=23
        ),  # fmt: skip
        _pool_case(
            "kernel_size=2, stride=1, float64", inputs.randn(2, 2, 5, 5, seed=24, dtype=torch.float64), 2, 1, seed=24
        ),  # fmt: skip
    ],
}


def _pool_args(case: Case) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int], tuple[int, int]]:
    g, x = (t.double() for t in case.args[:2])
    k = case.args[2] if len(case.args) > 2 else case.kwargs["kernel_size"]
    s = case.args[3] if len(case.args) > 3 else case.kwargs.get("stride")
    k = _pair(k)
    return g, x, k, k if s is None else _pair(s)


def _tie_routes(g: torch.Tensor, x: torch.Tensor, k: tuple[int, int], s: tuple[int, int]) -> dict[str, torch.Tensor]:
    """The gradient under other conventions at ties: shared evenly, to every maximum, to the last one."""
    n, c, h, w = x.shape
    win = x.unfold(2, k[0], s[0]).unfold(3, k[1], s[1]).reshape(n, c, g.shape[2], g.shape[3], -1)
    is_max = win == win.amax(-1, keepdim=True)
    last = torch.zeros_like(is_max)
    last.scatter_(-1, (win.shape[-1] - 1 - win.flip(-1).argmax(-1, keepdim=True)), True)
    out = {}
    for key, share in (("even", is_max / is_max.sum(-1, keepdim=True)), ("every", is_max.double()),
                       ("last", last.double()), ("window", torch.ones_like(win))):  # fmt: skip
        cols = (share * g.unsqueeze(-1)).reshape(n, c, -1, k[0] * k[1]).transpose(2, 3).reshape(n, -1, g[0, 0].numel())
        out[key] = nn.functional.fold(cols, (h, w), k, stride=s).reshape(n, c, h, w) if h and w else cols
    return out


def pool_backward_hint(got: Any, case: Case) -> str | None:
    try:
        return _pool_backward_hint(got, case)
    except Exception:  # noqa: BLE001
        return None


def _pool_backward_hint(got: Any, case: Case) -> str | None:
    g, x, k, s = _pool_args(case)
    with pristine():
        ref = max_pool2d_backward_reference(g, x, k, s)
        routes = _tie_routes(g, x, k, s)
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            return "the gradient of the input has the input's shape (N, C, H, W)."
        if _close(got, routes["even"]):
            return ("at a tie you shared the gradient among the tied maxima (what amax's or torch.maximum's own "
                    "derivative does). F.max_pool2d gives all of it to the first maximum of the window, in row-major "
                    "order (the one argmax of the flattened window returns).")  # fmt: skip
        if _close(got, routes["every"]):
            return (
                "every tied maximum received the whole gradient: at a tie the output took one value, and "
                "PyTorch gives all the gradient to the first maximum of the window (row-major order)."
            )
        if _close(got, routes["last"]):
            return ("at a tie the gradient went to the last maximum of the window: PyTorch's convention is the "
                    "first one (row-major order, as argmax returns it).")  # fmt: skip
        if _close(got, routes["window"]):
            return "every pixel of the window got the gradient: only the maximum had any effect on the output."
        if s != k and case.kwargs.get("stride", case.args[3] if len(case.args) > 3 else None) is None:
            return "stride=None means stride = kernel_size."
        wrong = ~torch.isclose(got.detach().double(), ref, rtol=1e-3, atol=1e-4)
        hits = _tie_routes(torch.ones_like(g), x, k, s)["last"]  # >1 where a pixel is the maximum of several windows
        if bool(wrong.any()) and bool((hits[wrong] > 1).all()):
            return ("a pixel that is the maximum of several overlapping windows must receive the sum of their "
                    "gradients: accumulate (+=, index_add, scatter_add, fold), do not overwrite.")  # fmt: skip
    return None


def check_max_pool2d_backward(student: Callable, which: str) -> None:
    """max_pool2d_backward against autograd of F.max_pool2d on the named group of cases."""
    for case in POOL_CASES[which]:
        got = call_student(student, case, name="max_pool2d_backward", forbid=POOL_BACKWARD_BAN,
                           allowed_hint=POOL_BACKWARD_HINT)  # fmt: skip
        with pristine():
            expected = max_pool2d_backward_reference(*(t.double() if isinstance(t, torch.Tensor) else t
                                                       for t in case.args), **case.kwargs)  # fmt: skip
            native = max_pool2d_backward_reference(*case.args, **case.kwargs)
        try:
            compare(got, expected, name="max_pool2d_backward", case=case, expected_native=native)
        except CheckFailed as failure:
            cause = pool_backward_hint(got, case)
            raise CheckFailed(f"{failure}\nLikely cause: {cause}" if cause else str(failure)) from None


# ---------------------------------------------------------------- lesson 07's max_pool2d: its gradient at ties

#: what lesson 07's max_pool2d may not call
POOL_FORWARD_BAN = POOL_BAN
TIE_CASES = [
    Case("an all-constant (1, 2, 4, 4) input, kernel_size=2", (torch.full((1, 2, 4, 4), 2.0), 2)),
    Case(
        "an all-constant 5x5 input, kernel_size=3, stride=2 (overlapping windows)",
        (torch.full((1, 1, 5, 5), -1.0), 3, 2),
    ),
    Case("small integers (many ties), kernel_size=2", (_ties(2, 2, 6, 6, seed=30), 2)),
]


def _pool_gradient(fn: Callable) -> Callable:
    """d/dx of sum(fn(x, kernel_size, stride) * g), g a fixed random tensor of the pooled shape."""

    def gradient(x: torch.Tensor, kernel_size: Any, stride: Any = None) -> torch.Tensor:
        x = x.detach().clone().requires_grad_(True)
        out = fn(x, kernel_size, stride)
        g = inputs.randn(*out.shape, seed=79, dtype=out.dtype)
        return torch.autograd.grad((out * g).sum(), x)[0]

    return gradient


def _tie_hint(got: Any, case: Case) -> str | None:
    try:
        x = case.args[0].double()
        k = _pair(case.args[1])
        s = k if len(case.args) < 3 else _pair(case.args[2])
        with pristine():
            shape = reference.get(POOL)(x, k, s).shape
            routes = _tie_routes(inputs.randn(*shape, seed=79, dtype=torch.float64), x, k, s)
        if _close(got, routes["even"]):
            return ("your max_pool2d shares the gradient equally among tied maxima: that is what the derivative of "
                    "amax (or torch.maximum) does. F.max_pool2d gives all of it to the first maximum of each window "
                    "(row-major order): reduce with an operation that picks one element, such as max(dim=...) over "
                    "the flattened window, whose gradient goes to the index it returns.")  # fmt: skip
        if _close(got, routes["last"]):
            return "at a tie your gradient goes to the last maximum of the window; F.max_pool2d's goes to the first."
        return ("at ties your max_pool2d's gradient is split among the tied values or sent to another one (the "
                "derivatives of torch.maximum and amax split it); F.max_pool2d gives all of it to the first maximum "
                "of each window, in row-major order.")  # fmt: skip
    except Exception:  # noqa: BLE001
        return None


def check_max_pool2d_tie_gradient(student: Callable) -> None:
    """Lesson 07: autograd through the student's max_pool2d matches F.max_pool2d's at ties (first maximum wins)."""
    check_function(
        _pool_gradient(student),
        _pool_gradient(reference.get(POOL)),
        TIE_CASES,
        name="max_pool2d (its gradient at ties)",
        forbid=POOL_FORWARD_BAN,
        allowed_hint="Tensor.unfold (or F.unfold) and max over the flattened window",
        diagnose=_tie_hint,
    )
