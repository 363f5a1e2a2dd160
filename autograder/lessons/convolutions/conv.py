"""Lesson 07's convolution exercises: the size PyTorch's conv2d produces (conv2d_output_size), and what conv2d's
grade cells forbid, compare with (F.conv2d, its gradients by autograd) and diagnose."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

import autograder as ag
from autograder.lessons.activations import quiet


# ---------------------------------------------------------------- helpers_conv2d_output_size
# the size PyTorch's conv2d really produces, and hints for the usual slips
def output_size_reference(
    size: Any, kernel_size: int, stride: int | None = 1, padding: int = 0, dilation: Any = 1
) -> torch.Tensor:
    """The width of F.conv2d's output for a 1x1xsize x size input: PyTorch itself is the reference."""
    conv = ag.reference.get("torch.nn.functional.conv2d")
    x, w = torch.zeros(1, 1, 1, size), torch.zeros(1, 1, 1, kernel_size)
    return conv(x, w, stride=(1, stride), padding=(0, padding), dilation=(1, dilation)).shape[-1]


def output_size_hint(got: Any, case: ag.Case) -> str | None:
    """diagnose= for conv2d_output_size: which slip gives the student's number."""
    given = {"stride": 1, "padding": 0, "dilation": 1}
    given.update(zip(["size", "kernel_size", "stride", "padding", "dilation"], case.args), **case.kwargs)
    n, k, s, p, d = (given[key] for key in ["size", "kernel_size", "stride", "padding", "dilation"])
    slips = [
        (
            (n + 2 * p - d * (k - 1) - 1) / s + 1,
            "a window that would stick out of the input is not used: round "
            "the division down (floor), for instance with // on integers.",
        ),
        (math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1, "PyTorch rounds the number of strides down, not up."),
        ((n + 2 * p - k) // s + 1, "a kernel dilated by d spans d·(k − 1) + 1 pixels, not k."),
        ((n + p - d * (k - 1) - 1) // s + 1, "padding adds p pixels on each side: 2p in total."),
        ((n - d * (k - 1) - 1) // s + 1, "the padding is missing: it makes the input n + 2p pixels long."),
        (n + 2 * p - d * (k - 1), "the stride is missing: the window moves s pixels at a time."),
        ((n + 2 * p - d * (k - 1) - 1) // s, "count the window positions: the first one is at 0, so add 1."),
    ]
    causes = [why for value, why in slips if isinstance(got, int | float) and got == value]
    return " Or: ".join(causes) or None


SIZE_CASES = [(28, 3, 1, 1), (28, 5), (28, 2, 2), (28, 3, 2), (7, 2, 2), (32, 3, 1, 0, 2), (10, 3, 3, 1)]


def size_case(args: tuple) -> ag.Case:
    """A case of conv2d_output_size from its arguments (a trailing dict holds keyword arguments), labelled as
    the call it makes."""
    kwargs = args[-1] if args and isinstance(args[-1], dict) else None
    positional = tuple(args[:-1] if kwargs is not None else args)
    shown = ", ".join([*map(repr, positional), *(f"{k}={v!r}" for k, v in (kwargs or {}).items())])
    return ag.Case(f"conv2d_output_size({shown})", positional, kwargs or {})


def check_output_size(student: Callable, cases: list[tuple]) -> None:
    """conv2d_output_size on each argument tuple gives the size F.conv2d produces; names the likely slip."""
    ag.check_function(student, output_size_reference, [size_case(args) for args in cases], diagnose=output_size_hint)


def check_output_size_is_int(student: Callable, args: tuple) -> None:
    """conv2d_output_size(*args) returns a Python int (a size is a whole number)."""
    case = size_case(args)
    got = ag.call_student(student, case, name="conv2d_output_size")
    ag.check(
        type(got) is int,
        f"{case.label} returned a {type(got).__name__}; a size is a whole number: return an int (// divides "
        "integers and rounds down).",
    )


# ---------------------------------------------------------------- helpers_conv2d
# what conv2d may not call, inputs, and hints for the usual mistakes
CONV = "torch.nn.functional.conv2d"
# (nn.Conv2d and every other 2-D convolution module end in F.conv2d, which is caught by name)
CONV_BAN = (
    CONV,
    "torch.convolution",
    "torch._convolution",
    "torch.nn.functional.conv1d",
    "torch.nn.functional.conv3d",
    "torch.nn.functional.conv_transpose2d",
    "torch.ops.aten.*conv*",
)  # every convolution kernel: thnn_conv2d, mkldnn_convolution, ...
CONV_HINT = "F.pad, F.unfold (or Tensor.unfold), reshape and a matrix product or einsum"


def conv_case(
    label: Any,
    n: int,
    c_in: Any,
    size: Any,
    c_out: Any,
    kernel: Any,
    seed: int,
    bias: Any = True,
    dtype: torch.dtype = torch.float32,
    **kwargs: Any,
) -> Any:
    """A Case for conv2d: random input (n, c_in, *size), weight (c_out, c_in, *kernel), bias (c_out,); with
    ``bias=False`` no bias is passed, with ``bias=None`` it is passed as ``bias=None`` by keyword."""
    h, w = (size, size) if isinstance(size, int) else size
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    r = ag.inputs.randn
    args = [r(n, c_in, h, w, seed=seed, dtype=dtype), r(c_out, c_in, kh, kw, seed=seed + 1, dtype=dtype)]
    if bias is None:
        kwargs = {"bias": None, **kwargs}
    elif bias:
        args.append(r(c_out, seed=seed + 2, dtype=dtype))
    return ag.Case(label, tuple(args), kwargs)


def _close(got: Any, expected: torch.Tensor) -> bool:
    return (
        isinstance(got, torch.Tensor)
        and got.shape == expected.shape
        and bool(torch.allclose(got.detach().double(), expected, rtol=1e-3, atol=1e-3))
    )


@quiet
def conv_hint(got: Any, case: ag.Case) -> str | None:
    """diagnose= for conv2d: recognise a flipped kernel, a lost padding or stride, a misplaced bias."""
    conv = ag.reference.get(CONV)
    x, w = case.args[0].double(), case.args[1].double()
    b = case.args[2] if len(case.args) > 2 else case.kwargs.get("bias")
    b = None if b is None else b.double()
    s, p = case.kwargs.get("stride", 1), case.kwargs.get("padding", 0)

    def pair(v: int | tuple) -> tuple:
        return (v, v) if isinstance(v, int) else tuple(v)

    (sh, sw), (ph, pw) = pair(s), pair(p)
    with ag.pristine():
        if _close(got, conv(x, w.flip(-2, -1), b, s, p)):
            return (
                "your kernel is flipped: that is the mathematician's convolution. PyTorch's conv2d is a "
                "cross-correlation: w[o, c, u, v] multiplies the input at (s·i + u, s·j + v), unflipped."
            )
        if w.shape[-1] == w.shape[-2] and _close(got, conv(x, w.transpose(-2, -1), b, s, p)):
            return (
                "kernel rows and columns are swapped: w[o, c, u, v] has u along the height (rows), v along the width."
            )
        if b is not None:
            plain = conv(x, w, None, s, p)
            if _close(got, plain):
                return "the bias is missing: add bias[o] to every position of output channel o."
            if plain.shape[-1] == b.numel() and _close(got, plain + b):
                return (
                    "the bias was added along the width (the last axis); it belongs to the output channels: "
                    "reshape it to (1, C_out, 1, 1) before adding."
                )
            if _close(got, plain + b.sum()) or _close(got, plain + b.mean()):
                return "each output channel o gets its own bias[o], not a single number for all channels."
        if not isinstance(got, torch.Tensor) or got.dim() != 4:
            return "the result must be 4-D: (N, C_out, H_out, W_out)."
        if (ph, pw) != (0, 0):
            for mode in ("replicate", "reflect", "circular"):
                try:
                    other = conv(F.pad(x, (pw, pw, ph, ph), mode=mode), w, b, s, 0)
                except (RuntimeError, NotImplementedError):
                    continue
                if _close(got, other):
                    return f"the padding must be zeros (F.pad's default), not the {mode} mode."

        def shape(s2: Any, p2: Any) -> tuple:
            return tuple(conv(x[:1, :, :, :], w, None, s2, p2).shape[1:])

        got_shape = tuple(got.shape[1:])
        if got.shape[0] != x.shape[0]:
            return "the batch dimension N must stay first and unchanged: do not mix images of the batch."
        if sh != sw and got_shape in (shape(sh, p), shape(sw, p)):
            return "stride (sH, sW) is (along the height, along the width): each axis has its own stride."
        if ph != pw and got_shape in (shape(s, ph), shape(s, pw)):
            return "padding (pH, pW) is (along the height, along the width): each axis has its own padding."
        if (sh, sw) != (1, 1) and got_shape == tuple(conv(x[:1], w, None, s, p)[..., ::sh, ::sw].shape[1:]):
            return "the stride is applied twice: either take every s-th window, or subsample the output, not both."
        if (ph, pw) != (0, 0) and got_shape == shape(s, 0):
            return "the padding is missing: pad p zeros on each side of both H and W before sliding the kernel."
        if (sh, sw) != (1, 1) and got_shape == shape(1, p):
            return "the stride is ignored: the window moves s pixels at a time (take every s-th window)."
        if (sh, sw) != (1, 1) and got_shape in (shape((sh, 1), p), shape((1, sw), p)):
            return "the stride must apply along both axes, height and width."
        if got_shape[0] != w.shape[0]:
            return "the output has one channel per kernel: C_out = weight.shape[0], each summing over all C_in."
    return None


def conv_grads(fn: Callable) -> Callable:
    """Gradients of sum(fn(x, w, b, **kw) * g) for a fixed random g: does autograd flow through fn?"""

    def gradients(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, **kwargs: Any) -> Any:
        x, w, b = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
        out = fn(x, w, b, **kwargs)
        g = ag.inputs.randn(*out.shape, seed=77, dtype=out.dtype)
        return torch.autograd.grad((out * g).sum(), (x, w, b))

    return gradients


def check_conv2d(student: Callable, cases: list[ag.Case]) -> None:
    """conv2d against F.conv2d (float64) on the cases, with conv2d's ban list; names the likely slip."""
    ag.check_function(student, CONV, cases, forbid=CONV_BAN, allowed_hint=CONV_HINT, diagnose=conv_hint)


def check_conv2d_gradients(student: Callable, cases: list[ag.Case]) -> None:
    """The gradients autograd takes through conv2d (input, weight, bias) are those through F.conv2d."""
    ag.check_function(
        conv_grads(student),
        conv_grads(ag.reference.get(CONV)),
        cases,
        name="conv2d (its gradients)",
        forbid=CONV_BAN,
        allowed_hint=CONV_HINT,
    )


# ---------------------------------------------------------------- conventions: NaN in, NaN out; an empty batch
#: hints for the errors that only these edges raise (call_student reports the error itself)
EDGE_ERRORS = {
    "of 0 elements": "with an empty batch (N = 0) a -1 in reshape or view cannot be inferred: give every size "
    "explicitly (each is known from the shapes).",
    "view size is not compatible": "the tensor is not contiguous in memory (channels_last stores (N, H, W, C), "
    "as the lesson's training does): .view needs contiguous memory; flatten and reshape work on any layout.",
}


def explaining_edges(check: Callable[[], None]) -> None:
    """Run ``check``; where it failed on an error that only an edge case raises, say why."""
    try:
        check()
    except ag.CheckFailed as failure:
        if isinstance(failure, ag.NotAttempted):
            raise
        hint = next((h for pattern, h in EDGE_ERRORS.items() if pattern in str(failure)), None)
        raise ag.CheckFailed(f"{failure}\nHint: {hint}" if hint else str(failure)) from None


def allow_nan_spread(got: Any, expected: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``expected`` with NaN wherever ``got`` has one within a sample whose input holds a NaN.

    The convention is NaN in, NaN out: every output that PyTorch makes NaN must be NaN. An answer that lets a NaN
    reach more outputs of the same image (0 · NaN is NaN in a product with a matrix of zeros) is not held wrong;
    one whose NaN leaks into another image of the batch is."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or not got.is_floating_point() or not got.dim():
        return expected
    sample = torch.isnan(x).flatten(1).any(1).reshape(-1, *[1] * (got.dim() - 1))
    return expected.masked_fill(torch.isnan(got.detach()).to(expected.device) & sample, float("nan"))


def check_nan_aware(
    student: Callable, ref: str, cases: list[ag.Case], *, name: str, forbid: tuple, allowed_hint: str, diagnose: Any
) -> None:
    """The student against PyTorch's ``ref`` (float64), where NaN may spread within the image that holds one."""
    for case in cases:
        got = ag.call_student(student, case, name=name, forbid=forbid, allowed_hint=allowed_hint)
        with ag.pristine():
            fn = ag.reference.get(ref)
            args64 = tuple(t.double() if isinstance(t, torch.Tensor) else t for t in case.args)
            kwargs64 = {k: t.double() if isinstance(t, torch.Tensor) else t for k, t in case.kwargs.items()}
            expected = allow_nan_spread(got, fn(*args64, **kwargs64), case.args[0])
            native = allow_nan_spread(got, fn(*case.args, **case.kwargs), case.args[0])
        try:
            ag.compare(got, expected, name=name, case=case, expected_native=native)
        except ag.CheckFailed as failure:
            cause = diagnose(got, case)
            raise ag.CheckFailed(f"{failure}\nLikely cause: {cause}" if cause else str(failure)) from None


def with_nan(x: torch.Tensor, *where: tuple[int, ...]) -> torch.Tensor:
    """A copy of x with NaN at the given positions."""
    x = x.clone()
    for index in where:
        x[index] = float("nan")
    return x


CONV_EDGE_CASES = [
    ag.Case(
        "one NaN pixel in image 0, padding=1, stride=2 (only the outputs whose windows hold it are NaN)",
        (with_nan(ag.inputs.randn(2, 2, 7, 7, seed=90), (0, 1, 3, 2)), ag.inputs.randn(3, 2, 3, 3, seed=91)),
        {"bias": ag.inputs.randn(3, seed=92), "padding": 1, "stride": 2},
    ),
    ag.Case(
        "NaN in a corner pixel, a 2x3 kernel, no padding",
        (with_nan(ag.inputs.randn(1, 3, 6, 6, seed=93), (0, 2, 5, 5)), ag.inputs.randn(2, 3, 2, 3, seed=94)),
    ),
    ag.Case(
        "an empty batch: x (0, 3, 7, 7), padding=1, stride=2",
        (torch.zeros(0, 3, 7, 7), ag.inputs.randn(4, 3, 3, 3, seed=95), ag.inputs.randn(4, seed=96)),
        {"stride": 2, "padding": 1},
    ),
]


def conv_edge_hint(got: Any, case: ag.Case) -> str | None:
    """diagnose= for conv2d's edges: a NaN that reached another image, or one that vanished."""
    if isinstance(got, torch.Tensor) and got.numel() and bool(torch.isnan(case.args[0]).any()):
        with ag.pristine():
            ref = ag.reference.get(CONV)(*case.args, **case.kwargs)
        if ref.shape == got.shape and bool((torch.isnan(ref) & ~torch.isnan(got)).any()):
            return "an output whose window holds a NaN is a number: NaN in, NaN out (NaN times a weight is NaN)."
        if ref.shape == got.shape and bool((torch.isnan(got) & ~torch.isnan(ref)).any()):
            return "a NaN of one image reached another image's outputs: the images of a batch never mix."
    return conv_hint(got, case)


def check_conv2d_edges(student: Callable) -> None:
    """conv2d as F.conv2d where a NaN is in the input (NaN in, NaN out, only where its windows reach) and on an
    empty batch."""
    explaining_edges(
        lambda: check_nan_aware(
            student,
            CONV,
            CONV_EDGE_CASES,
            name="conv2d",
            forbid=CONV_BAN,
            allowed_hint=CONV_HINT,
            diagnose=conv_edge_hint,
        )
    )
