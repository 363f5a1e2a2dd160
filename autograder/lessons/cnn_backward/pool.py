"""Lesson 07b's max_pool2d_backward (and lesson 07's max_pool2d at ties): references by autograd of PyTorch's
``F.max_pool2d`` in float64, the cases (ties, overlapping windows), and the diagnosis of the other conventions at
ties; no message shows the solution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from autograder import inputs, reference
from autograder.checks import Case, CheckFailed, call_student, check_function, compare
from autograder.guard import AUTOGRAD
from autograder.lessons.cnn_backward.common import _close, _pair, in_channels_last
from autograder.lessons.convolutions import POOL_BAN
from autograder.lessons.convolutions.conv import explaining_edges, with_nan
from autograder.reference import pristine

POOL = "torch.nn.functional.max_pool2d"
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

# ---------------------------------------------------------------- max_pool2d_backward


def max_pool2d_backward_reference(
    grad_output: torch.Tensor, input: torch.Tensor, kernel_size: Any, stride: Any = None
) -> torch.Tensor:
    """d/d input of sum(F.max_pool2d(input, kernel_size, stride) * grad_output), by autograd."""
    pool = reference.get(POOL)
    x = input.detach().clone().requires_grad_(True)
    return torch.autograd.grad(pool(x, kernel_size, stride), x, grad_output)[0]


def pool_case(label: str, x: torch.Tensor, kernel: Any, stride: Any = None, seed: int = 0,
              by_keyword: bool = False) -> Case:  # fmt: skip
    """A case of max_pool2d_backward on input ``x``: a seeded grad_output of the pooled shape; stride passed only
    where given (by keyword if asked)."""
    (kh, kw) = _pair(kernel)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    h_out, w_out = (x.shape[-2] - kh) // sh + 1, (x.shape[-1] - kw) // sw + 1
    g = inputs.randn(x.shape[0], x.shape[1], h_out, w_out, seed=seed + 100, dtype=x.dtype)
    if by_keyword:
        return Case(label, (g, x), {"kernel_size": kernel, "stride": stride})
    return Case(label, (g, x, kernel) if stride is None else (g, x, kernel, stride))


def ties(*shape: int, seed: int, levels: int = 3) -> torch.Tensor:
    """Small integers: many windows hold their maximum twice or more."""
    return torch.randint(0, levels, shape, generator=inputs.generator(seed)).float()


POOL_CASES: dict[str, list[Case]] = {
    "basic": [
        pool_case("a (2, 3, 8, 8) input, kernel_size=2", inputs.randn(2, 3, 8, 8, seed=1), 2, seed=1),
        pool_case(
            "kernel_size=3 on 7x7 (stride 3: the last row is in no window)", inputs.randn(2, 2, 7, 7, seed=2), 3, seed=2
        ),  # fmt: skip
        pool_case(
            "kernel_size=(2, 3), stride=None by keyword",
            inputs.randn(1, 2, 6, 9, seed=3),
            (2, 3),
            seed=3,
            by_keyword=True,
        ),  # fmt: skip
    ],
    "ties": [
        pool_case("an all-constant input: every window is one tie", torch.full((1, 2, 4, 4), 2.0), 2, seed=10),
        pool_case("small integers: ties inside many 2x2 windows", ties(2, 3, 6, 6, seed=11), 2, seed=11),
        pool_case("ties in 3x2 windows, kernel_size=(3, 2)", ties(2, 2, 6, 6, seed=12, levels=2), (3, 2), seed=12),
    ],
    "overlap": [
        pool_case(
            "kernel_size=3, stride=2 (overlapping windows) on 7x7", inputs.randn(2, 2, 7, 7, seed=20), 3, 2, seed=20
        ),  # fmt: skip
        pool_case("kernel_size=3, stride=1 on 5x6", inputs.randn(1, 3, 5, 6, seed=21), 3, 1, seed=21),
        pool_case(
            "an all-constant input, kernel_size=3, stride=1 (ties and overlaps)",
            torch.full((1, 1, 5, 5), 1.0),
            3,
            1,
            seed=22,
        ),  # fmt: skip
    ],
}


#: as autograd hands them over: channels_last tensors (the lesson trains so), an empty batch, and NaN in a window
#: (F.max_pool2d's maximum is the NaN, and so is where the gradient goes)
POOL_CASES["layout_and_edges"] = [
    in_channels_last(POOL_CASES["basic"][0]),
    in_channels_last(POOL_CASES["overlap"][0]),
    pool_case("an empty batch (0, 3, 6, 6), kernel_size=2", torch.zeros(0, 3, 6, 6), 2, seed=30),
    pool_case(
        "one NaN in each of three windows (first, middle, last place), kernel_size=2",
        with_nan(inputs.randn(2, 2, 6, 6, seed=31), (0, 0, 0, 0), (0, 1, 3, 2), (1, 0, 5, 5)),
        2,
        seed=31,
    ),
]


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
        nan = torch.isnan(x)
        if bool(nan.any()) and not torch.isclose(got.detach().double()[nan], ref[nan]).all():
            return ("a window that holds NaN has maximum NaN in F.max_pool2d, so its gradient goes to the NaN. "
                    "NaN == NaN is False: a mask of the window's maxima built with == misses it.")  # fmt: skip
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


def check_max_pool2d_backward(student: Callable, which: str, cases: list[Case] | None = None) -> None:
    """max_pool2d_backward against autograd of F.max_pool2d on the named group of cases, or on ``cases`` (the
    grade cell's hidden ones) for that group's behaviour."""
    explaining_edges(lambda: _check_max_pool2d_backward(student, POOL_CASES[which] if cases is None else cases))


def _check_max_pool2d_backward(student: Callable, cases: list[Case]) -> None:
    for case in cases:
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
    Case("small integers (many ties), kernel_size=2", (ties(2, 2, 6, 6, seed=30), 2)),
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
