"""Lesson 08a: the likely slip behind an optimizer step that parts from PyTorch's.

At the first step where a student's parameter differs, its value before the step, its gradient and its state
all equal PyTorch's (they matched one step earlier). Each function below replays that one step with the usual
mistakes, one at a time, and names the mistake whose result equals the student's, if any.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch


def as_number(value: Any) -> float | None:
    """A Python number from a number or a one-element tensor (a step count), else None."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _first_match(got: torch.Tensor, slips: list, update: Callable, tol: float) -> str | None:
    """The first slip whose update reproduces ``got`` (and differs from the correct update)."""
    right = update()

    def close(a: torch.Tensor, b: torch.Tensor) -> bool:
        return bool(torch.isfinite(b).all()) and torch.allclose(a, b, rtol=tol, atol=tol)

    return next((why for kw, why in slips if close(got, update(**kw)) and not close(right, update(**kw))), None)


def sgd_slip(got: torch.Tensor, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict, tol: float) -> str | None:
    """Which usual SGD mistake turns (p, g, momentum buffer) into ``got``."""
    lr, m, d, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
    buf = state.get("momentum_buffer")

    def update(
        sign: float = -1.0 if group["maximize"] else 1.0,
        decay: float = wd,
        first_damp: bool = False,
        damp: float = d,
        nesterov: bool = group["nesterov"],
        old_buf: bool = False,
        after: bool = False,
        negate_all: bool = False,
    ) -> torch.Tensor:
        grad = -(g + decay * p) if negate_all else sign * g + decay * p
        if m != 0:
            if buf is None:
                new = (1 - damp) * grad if first_damp else grad
            else:
                new = m * buf + (1 - damp) * grad
            if nesterov:
                grad = grad + m * (buf if old_buf and buf is not None else new)
            else:
                grad = new
        out = p - lr * grad
        return out - lr * wd * out if after else out

    slips = [
        (
            dict(first_damp=True),
            "on the first step the buffer must be the gradient itself; starting it at zero "
            "(or dampening that first gradient) gives (1 − dampening)·grad instead.",
        ),
        (dict(damp=0.0), "dampening was ignored: each new gradient enters the buffer with weight (1 − dampening)."),
        (
            dict(nesterov=False),
            "Nesterov fell back to plain momentum: with nesterov=True the step is taken along "
            "grad + momentum·buffer, the buffer already updated.",
        ),
        (dict(old_buf=True), "Nesterov used the buffer of the previous step; PyTorch updates the buffer first."),
        (dict(decay=0.0), "weight_decay was ignored: PyTorch adds weight_decay·p to the gradient."),
        (
            dict(decay=0.0, after=True),
            "weight decay was applied after the update; PyTorch adds weight_decay·p "
            "to the gradient before momentum and the step.",
        ),
        (dict(sign=1.0), "maximize was ignored: with maximize=True the step goes up the gradient."),
        (
            dict(negate_all=True),
            "maximize negated the weight-decay term too: PyTorch negates only the gradient, then adds weight_decay·p.",
        ),
    ]
    return _first_match(got, slips, update, tol)


def adam_slip(
    got: torch.Tensor, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict, tol: float, decoupled: bool = False
) -> str | None:
    """Which usual Adam/AdamW mistake turns (p, g, state) into ``got``."""
    lr, (b1, b2), eps, wd, ams = group["lr"], group["betas"], group["eps"], group["weight_decay"], group["amsgrad"]
    t = int(as_number(state.get("step", 0)) or 0) + 1
    zero = torch.zeros_like(p)
    m0, v0, vmax0 = (state.get(k, zero) for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))

    def update(
        c1: int | None = t,
        c2: int | None = t,
        eps_at: str = "",
        l2: float = 0.0 if decoupled else wd,
        dec: float = lr * wd if decoupled else 0.0,
        square: bool = True,
        after: bool = False,
        amsgrad: bool = ams,
        m_first: bool = False,
    ) -> torch.Tensor:
        grad = g + l2 * p
        m = grad if m_first and "exp_avg" not in state else b1 * m0 + (1 - b1) * grad
        v = b2 * v0 + (1 - b2) * (grad * grad if square else grad.abs())
        bc1, bc2 = (1 - b1**c1 if c1 else 1.0), (1 - b2**c2 if c2 else 1.0)
        v = torch.maximum(vmax0, v) if amsgrad else v
        if eps_at == "inside":
            denom = (v / bc2 + eps).sqrt()
        elif eps_at == "raw":
            denom = (v.sqrt() + eps) / math.sqrt(bc2)
        else:
            denom = v.sqrt() / math.sqrt(bc2) + eps
        out = (p if after else p * (1 - dec)) - lr / bc1 * m / denom
        return out * (1 - dec) if after else out

    if t == 1 and not bool(torch.isfinite(got).all()):
        return (
            "the bias correction divided by zero: 1 − β^t is 0 when t = 0. Increase the step count before "
            "using it, so that t = 1 on a parameter's first step."
        )
    ahead = "the bias correction used a step count one too high: t counts the steps in which this parameter had "
    slips = [
        (dict(c1=None, c2=None), "no bias correction: divide m by (1 − β1^t) and v by (1 − β2^t)."),
        (dict(c1=t + 1, c2=t + 1), ahead + "a gradient, this one included (t = 1 on its first step)."),
        (dict(c1=None), "m was not bias-corrected (only v was)."),
        (dict(c2=None), "v was not bias-corrected (only m was)."),
        (dict(eps_at="inside"), "eps went inside the square root; PyTorch adds it to √v̂."),
        (dict(eps_at="raw"), "eps was added before the bias correction of √v; PyTorch adds it to √v̂."),
        (dict(square=False), "v must average the squared gradient, grad², not |grad|."),
        (dict(m_first=True), "m must start at zero (and be bias-corrected), not at the first gradient."),
        (dict(amsgrad=not ams), "amsgrad was " + ("ignored." if ams else "used although amsgrad=False.")),
    ]
    if wd and decoupled:
        slips += [
            (
                dict(dec=0.0),
                "no weight decay was applied at this step (did a group lose its weight_decay? AdamW's "
                "default is 1e-2).",
            ),
            (
                dict(l2=wd, dec=0.0),
                "that is Adam's L2 penalty (weight_decay·p added to the gradient); AdamW shrinks the parameter itself.",
            ),
            (
                dict(l2=lr * wd, dec=0.0),
                "lr·weight_decay·p went into the gradient, where Adam rescales it; AdamW shrinks the parameter itself.",
            ),
            (dict(dec=wd), "the decoupled decay shrinks p by lr·weight_decay, not by weight_decay."),
            (dict(after=True), "the decay was applied after the Adam step; AdamW shrinks p first."),
        ]
    elif wd:
        slips += [
            (dict(l2=0.0), "weight_decay was ignored: Adam adds weight_decay·p to the gradient."),
            (
                dict(l2=0.0, dec=lr * wd),
                "that is AdamW's decoupled decay; Adam's weight_decay adds weight_decay·p "
                "to the gradient (an L2 penalty).",
            ),
            (
                dict(l2=0.0, dec=lr * wd, after=True),
                "the decay was applied to p after the step; Adam adds weight_decay·p to the gradient.",
            ),
        ]
    return _first_match(got, slips, update, tol)


def adamw_slip(*args: Any) -> str | None:
    return adam_slip(*args, decoupled=True)
