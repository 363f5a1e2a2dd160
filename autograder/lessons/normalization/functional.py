"""Checks of ``batch_norm`` (output, in-place running buffers, eval mode) and ``layer_norm`` against PyTorch.

``batch_norm`` must update the caller's running buffers in place, so it is called on copies that it may change,
and those copies are compared with the buffers ``F.batch_norm`` leaves. When a result is wrong, the message names
the likely mistake if the result matches a known one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from autograder.checks import Case, CheckFailed, _copy, _same, _to64, call_student, check, check_raises, compare
from autograder.lessons.normalization.common import (
    ALLOWED,
    IN_PLACE,
    NORM_BAN,
    affine,
    batch_stats,
    close,
    randn,
    torch_ref,
)
from autograder.reference import pristine

# ---------------------------------------------------------------- batch_norm


def bn_case(
    label: str,
    shape: Sequence[int],
    *,
    seed: int,
    training: bool = True,
    affine: bool = True,
    running: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
    dtype: torch.dtype = torch.float32,
    scales: Sequence[float] | None = None,
) -> Case:
    """A call ``batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)``.

    Channels have different means and spreads (``scales`` sets them); running statistics start away from 0/1.
    """
    c = shape[1]
    spread = torch.tensor(scales if scales is not None else [0.5 + i for i in range(c)], dtype=torch.float64)
    view = (1, c) + (1,) * (len(shape) - 2)
    x = (randn(*shape, seed=seed, dtype=torch.float64) + randn(c, seed=seed + 1).double().view(view)) * spread.view(
        view
    )
    kwargs: dict[str, Any] = {"training": training, "momentum": momentum, "eps": eps}
    if affine:
        kwargs["weight"] = randn(c, seed=seed + 2, scale=0.5, shift=1.0, dtype=dtype)
        kwargs["bias"] = randn(c, seed=seed + 3, dtype=dtype)
    rm = randn(c, seed=seed + 4, dtype=dtype) if running else None
    rv = (randn(c, seed=seed + 5, dtype=dtype).abs() + 0.5) if running else None
    return Case(label, (x.to(dtype), rm, rv), kwargs)


def output_diagnosis(got: Any, case: Case) -> str | None:
    x, rm, rv = (_to64(a) for a in case.args)
    kw, eps, view = case.kwargs, case.kwargs["eps"], (1, -1) + (1,) * (case.args[0].dim() - 2)
    training = kw["training"]
    with pristine():
        m, v = batch_stats(x, unbiased=False)
        found = []  # (value, why) of the mistakes that apply to this case
        if not training:
            found.append(
                (
                    affine((x - m) / (v + eps).sqrt(), kw),
                    "the batch statistics are used in eval mode "
                    "(training=False): then batch norm normalises with running_mean and running_var.",
                )
            )
            v = rv.view(view)
            m = rm.view(view)
        elif rm is not None:
            mom, n = kw["momentum"], x.numel() // x.shape[1]
            new_m = (1 - mom) * rm + mom * m.flatten()
            new_v = (1 - mom) * rv + mom * v.flatten() * n / max(n - 1, 1)
            for mean_, var_ in ((rm, rv), (new_m, new_v)):
                found.append(
                    (
                        affine((x - mean_.view(view)) / (var_.view(view) + eps).sqrt(), kw),
                        "the running "
                        "statistics are used in training mode: training normalises with the batch's own mean "
                        "and variance.",
                    )
                )
        if training:
            found.append(
                (
                    affine((x - m) / (batch_stats(x, True)[1] + eps).sqrt(), kw),
                    "the variance that "
                    "normalises is the biased one (divide by n, the number of values per channel); the "
                    "unbiased one only updates running_var.",
                )
            )
        found += [
            (
                affine((x - m) / v.sqrt(), kw),
                "eps is missing: it keeps the division safe when a channel barely varies.",
            ),
            (affine((x - m) / (v.sqrt() + eps), kw), "eps goes inside the square root: sqrt(var + eps)."),
            (affine((x - m) / (v + eps), kw), "divide by the standard deviation sqrt(var + eps), not the variance."),
        ]
        if training and x.dim() == 4:
            for dims, why in (
                ((0,), "only over the batch dim"),
                ((0, 1, 2, 3), "over every dim, channels included"),
                ((2, 3), "over each sample's pixels (that is instance norm)"),
            ):
                dm, dv = batch_stats(x, False, dims)
                found.append(
                    (
                        affine((x - dm) / (dv + eps).sqrt(), kw),
                        f"you normalised {why}; batch norm keeps "
                        "one mean and one variance per channel, over the batch and every position (all dims "
                        "but dim 1).",
                    )
                )
    return next((why for value, why in found if close(got, value)), None)


def running_diagnosis(name: str, got: torch.Tensor, case: Case, before: torch.Tensor) -> str | None:
    x = _to64(case.args[0])
    momentum = case.kwargs["momentum"]
    with pristine():
        m, v = (t.flatten() for t in batch_stats(x, False))
        vu = batch_stats(x, True)[1].flatten()
        old = before.double()
        batch, biased = (m, m) if name == "running_mean" else (vu, v)
        if close(got, old) and not close(got, (1 - momentum) * old + momentum * batch):
            return f"{name} was not updated in the caller's tensor: {IN_PLACE}."
        if name == "running_var" and close(got, (1 - momentum) * old + momentum * biased):
            return (
                "running_var is updated with the unbiased variance (divide by n - 1, n = the number of "
                "values per channel), as PyTorch does; only the normalisation uses the biased one."
            )
        if close(got, momentum * old + (1 - momentum) * batch):
            return (
                "momentum is the weight of the new batch's statistic in PyTorch (the old running value "
                "keeps 1 - momentum), the opposite of an optimizer's momentum."
            )
        if close(got, batch):
            return f"{name} was replaced by the batch statistic: it is a running average, blended with momentum."
    return None


def _call_bn(fn: Callable, case: Case, name: str) -> tuple[Any, tuple, dict]:
    """Call ``fn`` on copies it may change (the running buffers); the input, weight and bias must not change."""
    args, kwargs = _copy(case.args), _copy(case.kwargs)
    got = call_student(lambda: fn(*args, **kwargs), Case(case.label), name=name, forbid=NORM_BAN,
                       allowed_hint=ALLOWED)  # fmt: skip
    with pristine():
        for what, now, was in (
            ("input", args[0], case.args[0]),
            ("weight", kwargs.get("weight"), case.kwargs.get("weight")),
            ("bias", kwargs.get("bias"), case.kwargs.get("bias")),
        ):
            check(
                _same(now, was),
                f"`{name}` changed its {what} in place on {case.label}: only the running "
                "buffers may change; compute new tensors for everything else.",
            )
    return got, args, kwargs


def check_batch_norm(batch_norm: Callable, cases: Sequence[Case], *, output: bool = True, running: bool = True) -> None:
    """The output (``output``) and the running buffers after the call (``running``) match F.batch_norm's."""
    for case in cases:
        got, args, _ = _call_bn(batch_norm, case, "batch_norm")
        ref64, ref32 = _copy(_to64(case.args)), _copy(case.args)
        with pristine():
            exp = torch_ref("torch.nn.functional.batch_norm")(*ref64, **_to64(case.kwargs))
            nat = torch_ref("torch.nn.functional.batch_norm")(*ref32, **case.kwargs)
        if output:
            try:
                compare(got, exp, name="batch_norm", case=case, expected_native=nat)
            except CheckFailed as failure:
                cause = output_diagnosis(got, case)
                raise CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None
        if not running or case.args[1] is None:
            continue
        for i, buffer in ((1, "running_mean"), (2, "running_var")):
            if not case.kwargs["training"]:
                check(
                    _same(args[i], case.args[i]),
                    f"`batch_norm` changed {buffer} on {case.label}: in eval mode "
                    "(training=False) the running statistics are read, never updated.",
                )
                continue
            try:
                compare(
                    args[i],
                    ref64[i],
                    name="batch_norm",
                    case=case,
                    expected_native=ref32[i],
                    what=f"{buffer} after the call",
                )
            except CheckFailed as failure:
                cause = running_diagnosis(buffer, args[i], case, case.args[i])
                raise CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None


# ---------------------------------------------------------------- layer_norm


def check_one_value_per_channel(batch_norm: Callable, shapes: Sequence[Sequence[int]]) -> None:
    """In training mode, a channel with a single value has no variance to normalise with: ValueError, as PyTorch."""
    for k, shape in enumerate(shapes):
        case = bn_case(f"training mode with one value per channel, input of shape {tuple(shape)}", shape, seed=90 + k)
        error = check_raises(
            batch_norm,
            case,
            ValueError,
            name="batch_norm",
            forbid=NORM_BAN,
            allowed_hint=ALLOWED,
            why="PyTorch does (one value per channel has no spread, and its unbiased variance divides by zero): "
            "check the number of values per channel and `raise ValueError(...)` with a message that says why.",
        )
        check(len(str(error).strip()) >= 10, f"{case.label} raised ValueError({str(error)!r}): give it a message.")


def ln_case(
    label: str,
    shape: Sequence[int],
    normalized_shape: Any,
    *,
    seed: int,
    affine: bool = True,
    eps: float = 1e-5,
    dtype: torch.dtype = torch.float32,
    scale: float = 2.0,
) -> Case:
    """A call ``layer_norm(input, normalized_shape, weight, bias, eps)``; rows have different means and spreads."""
    x = randn(*shape, seed=seed, scale=scale, dtype=torch.float64)
    x = x * randn(*shape[:1], *([1] * (len(shape) - 1)), seed=seed + 1, dtype=torch.float64).abs() + 0.3 * scale
    dims = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    kwargs: dict[str, Any] = {"eps": eps}
    if affine:
        kwargs["weight"] = randn(*dims, seed=seed + 2, scale=0.5, shift=1.0, dtype=dtype)
        kwargs["bias"] = randn(*dims, seed=seed + 3, dtype=dtype)
    return Case(label, (x.to(dtype), normalized_shape), kwargs)


def _ln_diagnosis(got: Any, case: Case) -> str | None:
    x, shape = _to64(case.args[0]), case.args[1]
    k = 1 if isinstance(shape, int) else len(shape)
    eps, w, b = case.kwargs["eps"], case.kwargs.get("weight"), case.kwargs.get("bias")
    last = tuple(range(x.dim() - k, x.dim()))

    def norm(dims: tuple[int, ...], unbiased: bool = False, outside: bool = False) -> torch.Tensor:
        m, v = x.mean(dims, keepdim=True), x.var(dims, unbiased=unbiased, keepdim=True)
        y = (x - m) / (v.sqrt() + eps) if outside else (x - m) / (v + eps).sqrt()
        y = y * w.double() if w is not None else y
        return y + b.double() if b is not None else y

    with pristine():
        found = [
            (
                norm(last, unbiased=True),
                "layer norm normalises with the biased variance (divide by the number of "
                "values normalised together), as batch norm does.",
            ),
            (norm(last, outside=True), "eps goes inside the square root: sqrt(var + eps)."),
            (
                norm((0,)),
                "you normalised over the batch dim: layer norm normalises each sample on its own, over "
                "the last len(normalized_shape) dims.",
            ),
        ]
        if k > 1:
            found.append(
                (
                    norm((x.dim() - 1,)),
                    f"only the last dim was normalised: normalized_shape names the last {k} dims, normalised together.",
                )
            )
        if x.dim() > k + 1:
            found.append(
                (
                    norm(tuple(range(1, x.dim()))),
                    "you normalised over every dim but the first: only the "
                    "last len(normalized_shape) dims are normalised together.",
                )
            )
    return next((why for value, why in found if close(got, value)), None)


def check_layer_norm(layer_norm: Callable, cases: Sequence[Case]) -> None:
    """layer_norm matches F.layer_norm on every case."""
    for case in cases:
        got = call_student(layer_norm, case, name="layer_norm", forbid=NORM_BAN, allowed_hint=ALLOWED)
        with pristine():
            exp = torch_ref("torch.nn.functional.layer_norm")(*_to64(case.args), **_to64(case.kwargs))
            nat = torch_ref("torch.nn.functional.layer_norm")(*case.args, **case.kwargs)
        try:
            compare(got, exp, name="layer_norm", case=case, expected_native=nat)
        except CheckFailed as failure:
            cause = _ln_diagnosis(got, case)
            raise CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None
