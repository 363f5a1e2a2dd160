"""NaN in gives NaN out, and ±inf gives PyTorch's value, for every elementwise exercise of lesson 03 and its
derivative: tested only where PyTorch's value is a convention (NaN for a NaN input, anything but NaN at ±inf)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import autograder as ag

SPECIAL = (float("nan"), float("inf"), float("-inf"))
NAN_CAUSE = (
    "a NaN input must give NaN, as in PyTorch: a NaN is a bug upstream that the next layers must not hide. Every "
    "comparison with NaN is False, so `torch.where(x > 0, ...)` or a mask sends it to a branch that drops it (a "
    "constant, a zeros tensor you fill by masks): let the arithmetic carry it (torch.maximum, clamp and where(x > "
    "0, x, ...) keep it)."
)
INF_CAUSE = (
    "at ±inf the result is the limit PyTorch gives (e.g. relu(-inf) = 0, sigmoid(inf) = 1): inf - inf and "
    "0 · inf are NaN, so a formula that adds opposite infinities, or multiplies a mask by x, breaks there."
)


def special_inputs(ref: Callable, kwargs: dict | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """NaN, +inf and -inf where PyTorch's value in ``dtype`` is the convention (NaN only where it gives NaN, ±inf
    where it does not give NaN), between ordinary values that must stay untouched: 1-D, in ``dtype``."""
    kept = []
    with ag.pristine():
        for v in SPECIAL:
            # 1 and 17 copies: PyTorch's vectorised loop and its scalar tail can disagree (F.gelu(inf) in float32 is
            # NaN in the loop and inf in the tail: not a convention, so not tested; in float64 both give inf)
            probes = [torch.full((n,), v, dtype=dtype) for n in (1, 17)]
            if all(bool((torch.isnan(ref(t, **(kwargs or {}))) == (v != v)).all()) for t in probes):
                kept.append(v)
    return torch.tensor([2.0, *kept, -0.5, *kept[::-1], 1.0], dtype=dtype)


def check_nan_and_inf(
    fn: Callable,
    ref: str | Callable,
    *,
    name: str,
    settings: tuple[dict, ...] = ({},),
    derivative: bool = False,
    forbid: tuple[str, ...] = (),
    allowed_hint: str = "",
) -> None:
    """``fn`` (or, with ``derivative``, the derivative ``fn`` computes) is PyTorch's at NaN and ±inf, in float32
    and float64, for each keyword setting (the activation's arguments varied)."""
    target = ag.autograd_derivative(ref) if derivative else ag.checks.resolve(ref)
    cases = []
    for kwargs in settings:
        shown = "".join(f", {k}={v}" for k, v in kwargs.items())
        for dtype in (torch.float32, torch.float64):
            x = special_inputs(target, kwargs, dtype)
            label = f"x = {[float(v) for v in x]} in {str(dtype).removeprefix('torch.')}{shown}"
            cases.append(ag.Case(label, (x,), dict(kwargs)))

    def diagnose(got: Any, case: ag.Case) -> str | None:
        x = case.args[0]
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            return None
        x, y = x.detach().double(), got.detach().double()
        with ag.pristine():
            want = target(x, **case.kwargs)
            wrong = ~((y == want) | (torch.isnan(y) & torch.isnan(want)))
            return NAN_CAUSE if bool((wrong & torch.isnan(x)).any()) else INF_CAUSE

    ag.check_function(fn, target, cases, name=name, elementwise=True, forbid=forbid, allowed_hint=allowed_hint,
                      diagnose=diagnose)  # fmt: skip
