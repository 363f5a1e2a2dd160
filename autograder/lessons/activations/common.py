"""Lesson 03, what every classic activation (sigmoid, tanh, relu, leaky_relu) and its derivative are checked for:
the exercise's spec (reference, ban list, diagnosis), stability at the edges, agreement with autograd, and the
small comparisons the diagnoses share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

import autograder as ag

REF_SIGMOID = ag.reference.get("torch.sigmoid")
REF_TANH = ag.reference.get("torch.tanh")

NOISY = (
    "your values are close to the true derivative but not exact: a numerical approximation (finite "
    "differences), or a computation in lower precision? Use the analytic formula, in the input's dtype."
)
FAR_LABEL = "float64 inputs around and beyond its exp overflow (±709.8), and ±1e5"


@dataclass(frozen=True)
class Exercise:
    """What a grade cell needs to know about an elementwise exercise: PyTorch's function (``derivative``: the
    exercise is its derivative, by autograd), what it may not call, the hint, and the diagnosis of a mismatch.
    ``exact`` is the (seed, scale) of a float64 input a derivative must match to float64 precision."""

    ref: str
    forbid: tuple[str, ...]
    hint: str
    diagnose: Callable | None = None
    derivative: bool = False
    exact: tuple[int, float] | None = None

    @property
    def target(self) -> str | Callable:
        """What the student's function is compared with."""
        return ag.autograd_derivative(self.ref) if self.derivative else self.ref


def as_float64(got: Any, case: ag.Case) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The case's input x and the student's result, both float64, or (None, None) if got is not x-shaped."""
    x = case.args[0] if case.args else None
    ok = isinstance(got, torch.Tensor) and isinstance(x, torch.Tensor) and got.shape == x.shape
    return (x.detach().double(), got.detach().double()) if ok else (None, None)


def near(y: torch.Tensor, z: torch.Tensor) -> bool:
    """y equals z to 0.1 % (NaN and inf count as equal where both have them)."""
    return bool(torch.isclose(y, z.to(y.dtype), rtol=1e-3, atol=1e-4, equal_nan=True).all())


def close_but_noisy(y: torch.Tensor, z: torch.Tensor) -> bool:
    """y is within 1e-2 of z everywhere, but not exactly z: an approximation, not the formula."""
    err = (y - z).abs()
    return bool(torch.isfinite(err).all()) and 0 < float(err.max()) < 1e-2


def quiet(diagnose: Callable) -> Callable:
    """A diagnosis never crashes a test: when it cannot tell, it says nothing."""

    def safe(got: Any, case: ag.Case) -> str | None:
        try:
            return diagnose(got, case)
        except Exception:  # noqa: BLE001 - a diagnosis that cannot tell says nothing
            return None

    return safe


def check_cases(fn: Callable, exercise: Exercise, cases: list[ag.Case], **tolerance: float) -> None:
    """``fn`` is the exercise's reference on ``cases``, elementwise."""
    ag.check_function(fn, exercise.target, cases, elementwise=True, forbid=exercise.forbid,
                      allowed_hint=exercise.hint, diagnose=exercise.diagnose, **tolerance)  # fmt: skip


def check_stable_at_extremes(fn: Callable, exercise: Exercise, *, name: str) -> None:
    """No nan or inf where PyTorch has none at the edge values (±88.7, ±89.5, ±1e4, ...), and no numerical
    warnings."""
    check_cases(fn, exercise, ag.elementwise_cases(tiers=("edges",)))
    ag.check_no_warnings(fn, ag.inputs.edge_values(), name=name)


def check_far_float64(fn: Callable, exercise: Exercise, values: list[float]) -> None:
    """PyTorch's values at float64 inputs where exp overflows even in float64."""
    check_cases(fn, exercise, [ag.Case(FAR_LABEL, (torch.tensor(values, dtype=torch.float64),))])


def check_matches_autograd(fn: Callable, exercise: Exercise, cases: list[ag.Case] | None = None) -> None:
    """The derivative ``fn`` computes is autograd's: on ``cases`` if given, otherwise on the example and random
    inputs, then on a float64 input to float64 precision (an analytic formula is exact to ~1e-16)."""
    if cases is not None:
        check_cases(fn, exercise, cases)
        return
    check_cases(fn, exercise, ag.elementwise_cases(tiers=("example", "random")))
    if exercise.exact is not None:
        seed, scale = exercise.exact
        exact = ag.Case("a float64 input, which an analytic formula gets right to ~1e-16",
                        (ag.inputs.randn(100, seed=seed, scale=scale, dtype=torch.float64),))  # fmt: skip
        check_cases(fn, exercise, [exact], rtol=1e-10, atol=1e-12)


def check_shape_and_dtype(out: Any, x: torch.Tensor, name: str) -> None:
    """``out`` is a tensor of x's shape and dtype."""
    ag.check(
        isinstance(out, torch.Tensor) and out.shape == x.shape and out.dtype == x.dtype,
        f"{name} should return a tensor of the input's shape and dtype (here {str(x.dtype).removeprefix('torch.')}).",
    )
