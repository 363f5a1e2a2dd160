"""Lesson 04, losses: what every loss check shares — the reduction rules and their usual mistakes, the comparisons
the diagnoses use, and the checks of what a loss is used for (its gradient) and of NaN."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

import autograder as ag

AUTOGRAD_BAN = ag.AUTOGRAD  # what a derivative written by hand may not call

REDUCTION_WHY = (
    "PyTorch raises ValueError for a reduction it does not know: returning a number would hide a "
    "typo such as 'avg' or 'Mean'."
)


def same_as(got: Any, ref: str | Callable, case: ag.Case, **changes: Any) -> bool:
    """Whether got equals the reference on the case with some keyword arguments changed."""
    if not isinstance(got, torch.Tensor):
        return False
    other = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, **changes}))
    return got.shape == other.shape and bool(
        torch.allclose(got.detach().double(), other.double(), rtol=1e-4, atol=1e-5, equal_nan=True)
    )


def reduction_hint(ref: str | Callable) -> Callable:
    """diagnose= for a loss with a reduction argument: names the usual reduction mistakes."""

    def diagnose(got: Any, case: ag.Case) -> str | None:
        reduction = case.kwargs.get("reduction", "mean")
        if not isinstance(got, torch.Tensor) or reduction not in ("mean", "sum"):
            return None
        if got.dim() > 0:
            return f'reduction="{reduction}" returns one number, a 0-d tensor: reduce the per-element losses.'
        per = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, "reduction": "none"}))
        if per.numel() == 0:
            return (
                "the mean of an empty batch is 0/0 = nan in PyTorch (and the sum is 0): "
                "let the arithmetic give it, do not special-case it."
            )
        value = got.detach().double()
        if reduction == "mean" and same_as(got, ref, case, reduction="sum"):
            return '"mean" divides the sum by the number of elements; you returned the sum.'
        if reduction == "mean" and per.dim() > 1 and bool(torch.isclose(value, per.sum() / per.shape[0], rtol=1e-4)):
            return '"mean" averages over every element of the input, not only over the batch (the first dim).'
        if reduction == "sum" and same_as(got, ref, case, reduction="mean"):
            return '"sum" adds the per-element losses; you returned their mean.'
        return None

    return diagnose


def weight_of(case: ag.Case) -> Any:
    return case.args[2] if len(case.args) > 2 else case.kwargs.get("weight")


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.isclose(a.detach().double(), b.double(), rtol=1e-4, atol=1e-6))


def same_value(got: Any, ref: str | Callable, case: ag.Case, **changes: Any) -> bool:
    """Whether got equals the reference on the case with some keyword arguments changed."""
    other = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, **changes}))
    return got.shape == other.shape and bool(
        torch.allclose(got.detach().double(), other, rtol=1e-4, atol=1e-6, equal_nan=True)
    )


def value_and_grad(loss_fn: Callable) -> Callable:
    def run(input: torch.Tensor, target: torch.Tensor) -> Any:
        input = input.detach().clone().requires_grad_(True)
        loss = loss_fn(input, target)
        (grad,) = torch.autograd.grad(loss, input)
        return loss.detach(), grad

    return run


# ---------------------------------------------------------------- what every loss is used for: .backward()
def _to64(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().double()
    return value


def check_gradient(
    fn: Callable,
    ref: str | Callable,
    cases: list[ag.Case],
    *,
    name: str,
    forbid: tuple[str, ...] = (),
    allowed_hint: str = "",
) -> None:
    """A loss is used by ``.backward()``: on each case its value must stay connected to the input (the case's first
    argument), and the gradient autograd gets through it must be PyTorch's (computed in float64)."""
    for case in cases:
        x = case.args[0].detach().clone().requires_grad_(True)
        args, kwargs = (x, *case.args[1:]), dict(case.kwargs)
        out = ag.call_student(lambda a=args, k=kwargs: fn(*a, **k), ag.Case(case.label), name=name, forbid=forbid,
                              allowed_hint=allowed_hint)  # fmt: skip
        ag.check(
            isinstance(out, torch.Tensor) and out.grad_fn is not None,
            f"`{name}` on {case.label} returned a loss cut off from the input (it has no grad_fn): .backward() "
            "could not reach the model, nothing would train. Compute it from input with tensor operations: no "
            ".item(), float(), .tolist(), .detach() or torch.tensor(...) of intermediate results.",
        )
        with ag.pristine():
            upstream = torch.ones_like(out) if out.dim() == 0 else ag.inputs.randn(*out.shape, seed=99).to(out.dtype)
            (grad,) = torch.autograd.grad(out, x, upstream, allow_unused=True)
            x64 = x.detach().double().requires_grad_(True)
            rest = [_to64(a) for a in case.args[1:]]
            ref_out = ag.checks.resolve(ref)(x64, *rest, **{k: _to64(v) for k, v in kwargs.items()})
            (expected,) = torch.autograd.grad(ref_out, x64, upstream.double())
        ag.check(grad is not None, f"`{name}` on {case.label}: the loss does not depend on input for autograd.")
        ag.compare(grad, expected, name=name, case=case, expected_native=expected.to(x.dtype),
                   what="gradient with respect to input")  # fmt: skip


# ---------------------------------------------------------------- NaN in, NaN out; ±inf as PyTorch
NAN_HINT = (
    "a NaN prediction must give a NaN loss, as in PyTorch: a NaN is a bug upstream that training must not hide. "
    "Every comparison with NaN is False, so a mask or torch.where(d < delta, ...) can send it to a branch that "
    "drops it (a zeros tensor you fill by masks, a constant): let the arithmetic carry it."
)


def nan_cases() -> list[ag.Case]:
    """Predictions with a NaN and ±inf among ordinary values, against finite targets, in every reduction."""
    x = torch.tensor([1.5, float("nan"), -0.5, float("inf"), float("-inf"), 3.0])
    y = torch.tensor([1.0, 0.0, 0.5, -2.0, 1.0, 0.0])
    label = "input [1.5, nan, -0.5, inf, -inf, 3] against finite targets"
    return [ag.Case(f"{label}, reduction {r!r}", (x, y), {"reduction": r}) for r in ("none", "mean", "sum")] + [
        ag.Case(f"{label}, in float64, reduction 'none'", (x.double(), y.double()), {"reduction": "none"})
    ]


def nan_hint(got: Any, case: ag.Case) -> str | None:
    x = case.args[0]
    if isinstance(got, torch.Tensor) and got.shape == x.shape and bool((torch.isnan(x) & ~torch.isnan(got)).any()):
        return NAN_HINT
    if isinstance(got, torch.Tensor) and got.dim() == 0 and not bool(torch.isnan(got)):
        return NAN_HINT
    return "at ±inf the loss is inf as in PyTorch: inf - inf and 0 · inf are NaN, so avoid them in the formula."


# ---------------------------------------------------------------- case builders: the grade cells' data, as tensors
def loss_kwargs(reduction: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The loss's keywords: lists become float32 tensors (a weight, a pos_weight), reduction is added if named."""
    kwargs = {k: torch.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    return kwargs if reduction is None else {**kwargs, "reduction": reduction}


def batch(
    label: str,
    shape: tuple[int, ...],
    seed: int,
    reduction: str | None = None,
    *,
    scale: float = 1.0,
    dtype: torch.dtype | None = None,
    **kwargs: Any,
) -> ag.Case:
    """A seeded random (input, target) pair of this shape: input from ``seed`` (times ``scale``), target from
    ``seed + 1``, both converted to ``dtype`` if given; ``reduction`` and ``kwargs`` are the loss's keywords."""
    x, y = ag.inputs.randn(*shape, seed=seed, scale=scale), ag.inputs.randn(*shape, seed=seed + 1)
    if dtype is not None:
        x, y = x.to(dtype), y.to(dtype)
    return ag.Case(label, (x, y), loss_kwargs(reduction, kwargs))


def batches(label: str, shape: tuple[int, ...], seed: int, reductions: Sequence[str], **options: Any) -> list[ag.Case]:
    """:func:`batch` once per reduction, the reduction named in the label."""
    return [batch(f'{label}, reduction="{r}"', shape, seed, r, **options) for r in reductions]


def given(
    label: str,
    input: Sequence[float],
    target: Sequence[float],
    reduction: str | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    **kwargs: Any,
) -> ag.Case:
    """A case of literal values (lists become float32 tensors, then ``dtype``)."""
    x, y = torch.tensor(input).to(dtype), torch.tensor(target).to(dtype)
    return ag.Case(label, (x, y), loss_kwargs(reduction, kwargs))


def given_cases(label: str, input: Sequence[float], target: Sequence[float], reductions: Sequence[str]) -> list:
    """:func:`given` once per reduction, the reduction named in the label."""
    return [given(f"{label}, reduction {r}", input, target, r) for r in reductions]


def empty_cases(shapes: Sequence[tuple[int, ...]], reductions: Sequence[str] = ("mean", "sum", "none")) -> list:
    """Empty (input, target) batches of these shapes in each reduction."""
    return [ag.Case(f'an empty batch of shape {s}, reduction="{r}"', (torch.empty(s), torch.empty(s)), {"reduction": r})
            for s in shapes for r in reductions]  # fmt: skip


def check_unknown_reductions(fn: Callable, bad: Sequence[str], args: tuple, *, name: str | None = None,
                             forbid: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Each reduction in ``bad`` raises ValueError, as in PyTorch."""
    for b in bad:
        ag.check_raises(fn, ag.Case(f'reduction="{b}"', args, {"reduction": b}), ValueError, name=name, forbid=forbid,
                        why=REDUCTION_WHY)  # fmt: skip
