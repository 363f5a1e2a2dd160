"""Lesson 07, convolutions: what the grade cells of ``07_cnn`` forbid, compare with (PyTorch's conv2d and pooling,
the fixed network, the receptive field measured by autograd) and diagnose."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

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
    """A Case for conv2d: random input (n, c_in, *size), weight (c_out, c_in, *kernel), bias (c_out,)."""
    h, w = (size, size) if isinstance(size, int) else size
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    r = ag.inputs.randn
    args = [r(n, c_in, h, w, seed=seed, dtype=dtype), r(c_out, c_in, kh, kw, seed=seed + 1, dtype=dtype)]
    if bias:
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


# ---------------------------------------------------------------- helpers_SimpleCNN
# the fixed network in PyTorch's own layers, and the student's weights copied into it
CNN_BAN = ("nnlab.cnn.LightCNN",)


def fixed_seed_network(channels: tuple[int, int]) -> nn.Sequential:
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 7 * 7, 10),
        nn.LogSoftmax(dim=1),
    )


def check_parameter_shapes(model: nn.Module, channels: tuple[int, int], name: str) -> nn.Sequential:
    """The student's parameters must be the fixed network's (any order); returns the reference with them copied."""
    with ag.pristine():
        ref = fixed_seed_network(channels)
        mine = sorted((tuple(p.shape) for p in model.parameters()), key=str)
        theirs = sorted((tuple(q.shape) for q in ref.parameters()), key=str)
        flat_no_pool = channels[1] * 28 * 28
        if any(flat_no_pool in s for s in mine):
            ag.fail(
                f"{name} has a linear layer with {flat_no_pool} inputs: that is {channels[1]}·28·28, the size "
                f"without pooling. Pool twice (28 → 14 → 7) so that fc takes {channels[1]}·7·7 inputs."
            )
        ag.check(
            mine == theirs,
            f"{name}'s parameters have shapes {mine}; the fixed network's are {theirs}: "
            "conv1 (C1, 1, 3, 3) + bias, conv2 (C2, C1, 3, 3) + bias, fc (10, C2·7·7) + bias.",
        )
        by_shape = {tuple(p.shape): p for p in model.parameters()}
        with torch.no_grad():
            for q in ref.parameters():
                q.copy_(by_shape[tuple(q.shape)])
    return ref


def simple_cnn_hint(ref: nn.Sequential, x: torch.Tensor, got: Any) -> str | None:
    """Which slip gives the student's output: other pooling, a missing ReLU, strided convolutions, another head."""
    conv1, _, _, conv2, _, _, _, fc, _ = ref
    f = {
        name: ag.reference.get(f"torch.nn.functional.{name}")
        for name in ("conv2d", "relu", "max_pool2d", "avg_pool2d", "linear", "log_softmax", "softmax")
    }

    def ident(t: torch.Tensor) -> torch.Tensor:
        return t

    def d(t: torch.Tensor) -> torch.Tensor:
        return t.detach().double()

    def run(
        pool: Any = f["max_pool2d"],
        relu1: Any = f["relu"],
        relu2: Any = f["relu"],
        stride: int | None = 1,
        head: Any = lambda z: f["log_softmax"](z, 1),
    ) -> Any:
        h = relu1(f["conv2d"](d(x), d(conv1.weight), d(conv1.bias), stride, 1))
        h = h if stride > 1 else pool(h, 2)
        h = relu2(f["conv2d"](h, d(conv2.weight), d(conv2.bias), stride, 1))
        h = h if stride > 1 else pool(h, 2)
        return head(f["linear"](h.flatten(1), d(fc.weight), d(fc.bias)))

    slips = [
        (dict(pool=f["avg_pool2d"]), "average pooling: the fix uses 2x2 max-pooling."),
        (dict(relu1=ident), "the ReLU after conv1 is missing."),
        (dict(relu2=ident), "the ReLU after conv2 is missing."),
        (
            dict(stride=2),
            "stride-2 convolutions also give 7x7 maps, but this exercise repairs the seed with two "
            "2x2 max-pools after the ReLUs.",
        ),
        (dict(head=ident), "the output is raw logits: end with log_softmax over the classes (dim=1)."),
        (dict(head=lambda z: f["softmax"](z, 1)), "the output is probabilities (softmax): take log_softmax instead."),
        (
            dict(head=lambda z: f["log_softmax"](z, 0)),
            "log_softmax ran over the batch (dim=0), not the classes (dim=1).",
        ),
    ]
    with ag.pristine(), torch.no_grad():
        for kwargs, why in slips:
            if _close(got, run(**kwargs)):
                return why
    return None


def images(n: int, seed: int) -> torch.Tensor:
    """n random 'images' (N, 1, 28, 28), standardised like MNIST."""
    return ag.inputs.randn(n, 1, 28, 28, seed=seed)


# ---------------------------------------------------------------- helpers_receptive_field
# the receptive field measured by autograd, and hints for the usual slips
def receptive_field_reference(layers: list) -> list[int]:
    """For each prefix of the stack: how far the gradient of output unit 0 reaches into the input."""
    conv = ag.reference.get("torch.nn.functional.conv2d")
    width, jump = 1, 1
    for k, s in layers:
        jump *= s
        width += k * jump
    sizes = []
    for depth in range(1, len(layers) + 1):
        x = torch.ones(1, 1, 1, width, dtype=torch.float64, requires_grad=True)
        out = x
        for k, s in layers[:depth]:  # all-ones kernels: every path adds, nothing cancels
            out = conv(out, torch.ones(1, 1, 1, k, dtype=torch.float64), stride=(1, s))
        (grad,) = torch.autograd.grad(out[..., 0].sum(), x)
        sizes.append(int(grad.flatten().nonzero().max()) + 1)
    return sizes


def receptive_field_hint(got: Any, case: ag.Case) -> str | None:
    """diagnose= for receptive_field: strides ignored, jump updated too early, kernels summed."""
    layers = case.args[0]
    if not isinstance(got, list | tuple):
        return None
    got = list(got)

    def formula(update_jump_first: bool = False, use_stride: bool = True) -> list[int]:
        r, j, out = 1, 1, []
        for k, s in layers:
            if update_jump_first:
                j *= s
            r += (k - 1) * (j if use_stride else 1)
            if not update_jump_first:
                j *= s
            out.append(r)
        return out

    sums = [sum(k for k, _ in layers[: i + 1]) for i in range(len(layers))]
    if got == formula(use_stride=False):
        return "strides are ignored: after a stride-s layer, neighbouring units are s times further apart (the jump)."
    if got == formula(update_jump_first=True):
        return "a layer widens the field by (k − 1) times the jump of its input, before its own stride applies."
    if got == sums:
        return "the field grows by k − 1 (times the jump) per layer, not by k: one 3x3 layer sees 3 pixels."
    return None


NETWORKS = {
    "SimpleCNN: conv3, pool2, conv3, pool2": [(3, 1), (2, 2), (3, 1), (2, 2)],
    "three 3x3 convolutions": [(3, 1), (3, 1), (3, 1)],
    "AlexNet's start: conv11/4, pool3/2, conv5, pool3/2": [(11, 4), (3, 2), (5, 1), (3, 2)],
}


def float64_copy(module: nn.Module) -> nn.Module:
    """A float64 copy of a network (the reference evaluated in float64)."""
    return copy.deepcopy(module).double()
