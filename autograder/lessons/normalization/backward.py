"""Checks of ``batch_norm_forward_with_cache`` and ``batch_norm_backward``: the cache is checked by its use.

The student's forward makes the cache; the student's backward gets it with a grad_output, and its three gradients
are compared with autograd of ``F.batch_norm`` (training mode) in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from autograder.checks import Case, CheckFailed, _to64, call_student, check, compare
from autograder.lessons.normalization.common import (
    ALLOWED,
    BACKWARD_BAN,
    NORM_BAN,
    PARTS,
    batch_stats,
    close,
    randn,
    torch_ref,
)
from autograder.lessons.normalization.functional import bn_case, output_diagnosis
from autograder.reference import pristine

# ---------------------------------------------------------------- forward with cache, backward


def backward_case(
    label: str, shape: Sequence[int], *, seed: int, eps: float = 1e-5, dtype: torch.dtype = torch.float32
) -> Case:
    """``(grad_output, input, weight, bias)`` for the training-mode forward and its backward, and eps."""
    base = bn_case(label, shape, seed=seed, dtype=dtype, eps=eps)
    x, w, b = base.args[0], base.kwargs["weight"], base.kwargs["bias"]
    return Case(label, (randn(*shape, seed=seed + 9, dtype=dtype), x, w, b), {"eps": eps})


def _train_reference(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    return torch_ref("torch.nn.functional.batch_norm")(x, None, None, w, b, True, 0.1, eps)


def check_forward_with_cache(forward: Callable, cases: Sequence[Case]) -> None:
    """``forward(input, weight, bias, eps)`` returns ``(output, cache)`` with the output of F.batch_norm (training
    mode). Returns nothing, so that a passing grade cell shows nothing (nbgrader reads a value as partial credit)."""
    forward_caches(forward, cases)


def forward_caches(
    forward: Callable, cases: Sequence[Case], *, name: str = "batch_norm_forward_with_cache", then: str = ""
) -> tuple:
    """The checks of :func:`check_forward_with_cache`; returns the student's caches for the backward's check.

    ``then`` names the exercise being checked through it."""
    caches = []
    for case in cases:
        _, x, w, b = case.args
        call = Case(case.label, (x, w, b), case.kwargs)
        got = call_student(forward, call, name=name, forbid=NORM_BAN, allowed_hint=ALLOWED)
        check(
            isinstance(got, tuple | list) and len(got) == 2,
            f"`{name}` should return a tuple (output, cache); it returned {type(got).__name__} on {case.label}.",
        )
        with pristine():
            exp = _train_reference(*_to64((x, w, b)), case.kwargs["eps"])
            nat = _train_reference(x, w, b, case.kwargs["eps"])
        try:
            compare(got[0], exp, name=name, case=call, expected_native=nat, what="output")
        except CheckFailed as failure:
            first = f"`{then}` is checked with the cache of your `{name}`, whose output is wrong: fix it first.\n"
            cause = output_diagnosis(
                got[0],
                Case(
                    case.label, (x, None, None), {"weight": w, "bias": b, "training": True, "eps": case.kwargs["eps"]}
                ),
            )
            raise CheckFailed(
                (first if then else "") + f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")
            ) from None
        caches.append(got[1])
    return tuple(caches)


def _vjp(grad_output: torch.Tensor, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float) -> tuple:
    leaves = [t.detach().clone().requires_grad_(True) for t in (x, w, b)]
    return torch.autograd.grad(_train_reference(*leaves, eps), leaves, grad_output)


def _backward_diagnosis(got: Any, case: Case) -> str | None:
    g, x, w, b = (t.double() for t in case.args)
    eps = case.kwargs["eps"]
    dims = (0, *range(2, x.dim()))
    view = (1, -1) + (1,) * (x.dim() - 2)
    n = x.numel() // x.shape[1]
    if not isinstance(got, tuple | list) or len(got) != 3:
        return None
    gi, gw, gb = got
    with pristine():
        m, v = batch_stats(x, False)
        invstd = (v + eps).rsqrt()
        xhat = (x - m) * invstd
        dxhat = g * w.view(view)
        mean_terms = dxhat.mean(dims, keepdim=True) + xhat * (dxhat * xhat).mean(dims, keepdim=True)
        u = (batch_stats(x, True)[1] + eps).rsqrt()
        xu = (x - m) * u
        if close(gi, dxhat * invstd):
            return (
                "grad_input misses the terms through the batch mean and variance: every output of a channel "
                "depends on every input of it, because they share the mean and the variance."
            )
        if close(gi, (dxhat - dxhat.mean(dims, keepdim=True)) * invstd):
            return "grad_input misses the term through the variance (the one with x̂ in it)."
        if close(gi, (dxhat - xhat * (dxhat * xhat).mean(dims, keepdim=True)) * invstd):
            return "grad_input misses the term through the batch mean."
        if (
            close(
                gi,
                (dxhat - dxhat.mean(dims, keepdim=True) - n / (n - 1) * xhat * (dxhat * xhat).mean(dims, keepdim=True))
                * invstd,
            )
            if n > 1
            else False
        ):
            return (
                "the variance path is off by n/(n - 1): the forward's variance divides by n (biased), so "
                "∂σ²/∂x_i = 2(x_i - μ)/n."
            )
        plain = g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True)
        if close(gi, plain * invstd):
            return "the weight γ is missing from grad_input: ∂L/∂x̂ = grad_output · γ, per channel."
        if close(gi, (dxhat - dxhat.mean(dims, keepdim=True) - xu * (dxhat * xu).mean(dims, keepdim=True)) * u):
            return "the forward normalises with the biased variance (divide by n): use it in the backward too."
        if close(gi, (dxhat - mean_terms) * invstd * (n - 1) / n) or close(gi, (dxhat - mean_terms) * invstd * n):
            return "a factor of n is off in grad_input: count n as the number of values per channel."
        if isinstance(gw, torch.Tensor) and gw.shape != w.shape:
            return (
                "a parameter's gradient has the parameter's shape (C,): sum over every place it was used, the "
                "batch and, for a 4-D input, every position."
            )
        if close(gw, (g * x).sum(dims)):
            return "grad_weight multiplies grad_output by the normalised input x̂, not by the raw input."
        if close(gw, (g * xhat).mean(dims)) or close(gb, g.mean(dims)):
            return "grad_weight and grad_bias are sums over the batch (and positions), not means."
    return None


def check_batch_norm_backward(
    forward: Callable, backward: Callable, cases: Sequence[Case], *, reuse: bool = False
) -> None:
    """``backward(grad_output, cache)``, with the cache of the student's forward, matches autograd of
    F.batch_norm (training mode). With ``reuse``, one cache serves two backward calls in a row."""
    caches = forward_caches(forward, cases, then="batch_norm_backward")
    for case, cache in zip(cases, caches, strict=True):
        grads = [case.args[0], -2 * case.args[0].flip(0)] if reuse else [case.args[0]]
        for k, g in enumerate(grads):
            call = Case(case.label + (" (the same cache, used a second time)" if k else ""), (g, cache))
            got = call_student(backward, call, name="batch_norm_backward", forbid=BACKWARD_BAN, allowed_hint=ALLOWED)
            check(
                isinstance(got, tuple | list) and len(got) == 3,
                "`batch_norm_backward` should return a tuple "
                f"({', '.join(PARTS)}); it returned {type(got).__name__} on {call.label}.",
            )
            _, x, w, b = case.args
            with pristine():
                exp = _vjp(*_to64((g, x, w, b)), case.kwargs["eps"])
                nat = _vjp(g, x, w, b, case.kwargs["eps"])
            for part, mine, e, n in zip(PARTS, got, exp, nat, strict=True):
                try:
                    compare(mine, e, name="batch_norm_backward", case=call, expected_native=n, what=part)
                except CheckFailed as failure:
                    cause = _backward_diagnosis(got, Case(call.label, (g, x, w, b), case.kwargs))
                    if k and cause is None:
                        cause = (
                            "the first backward call was right: does your backward change the cache (an "
                            "in-place operation on a tensor it holds)?"
                        )
                    raise CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None
