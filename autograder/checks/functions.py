"""Checks of a function against a reference: any cases, elementwise cases, derivatives, numerical warnings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from autograder import inputs
from autograder.checks.calling import TIMEOUT_S, call_student
from autograder.checks.compare import autograd_derivative, compare, run_reference
from autograder.checks.verdict import Case, CheckFailed, check


def check_function(
    student: Callable,
    ref: str | Callable,
    cases: Iterable[Case],
    *,
    name: str | None = None,
    forbid: Sequence[str] = (),
    allowed_hint: str = "",
    rtol: float | None = None,
    atol: float | None = None,
    elementwise: bool = False,
    diagnose: Callable[[Any, Case], str | None] | None = None,
    timeout: float | None = TIMEOUT_S,
) -> None:
    """Check ``student`` against the reference on every case; fail on the first wrong one.

    ``diagnose(got, case)`` may return a sentence naming the likely cause, added to the message.
    """
    name = name or getattr(student, "__name__", "your function")
    for case in cases:
        got = call_student(student, case, name=name, forbid=forbid, allowed_hint=allowed_hint, timeout=timeout)
        expected = run_reference(ref, case)
        native = run_reference(ref, case, float64=False)
        x = case.args[0] if elementwise and case.args else None
        try:
            compare(
                got, expected, name=name, case=case, expected_native=native, rtol=rtol, atol=atol, elementwise_input=x
            )
        except CheckFailed as failure:
            cause = diagnose(got, case) if diagnose else None
            if cause:
                raise CheckFailed(f"{failure}\nLikely cause: {cause}") from None
            raise


def elementwise_cases(
    kwargs: dict | None = None,
    *,
    tiers: Sequence[str] = ("example", "random", "edges"),
    kinks: tuple[float, ...] = (),
    scale: float = 3.0,
    seed: int = inputs.SEED,
) -> list[Case]:
    """Cases for an elementwise function: the visible example, seeded random 1-D and 2-D, edges, float64."""
    kw = dict(kwargs or {})
    cases = []
    if "example" in tiers:
        cases.append(Case("the example x = torch.linspace(-4, 4, 9)", (inputs.example(),), kw))
    if "random" in tiers:
        a = (
            inputs.away_from(inputs.randn(257, seed=seed, scale=scale), kinks)
            if kinks
            else inputs.randn(257, seed=seed, scale=scale)
        )
        b = (
            inputs.away_from(inputs.randn(6, 7, seed=seed + 1, scale=scale), kinks)
            if kinks
            else inputs.randn(6, 7, seed=seed + 1, scale=scale)
        )
        cases.append(Case(f"random float32 inputs (N(0, {scale:g}²), shape (257,))", (a,), kw))
        cases.append(Case("a random 2-D float32 input of shape (6, 7)", (b,), kw))
        cases.append(Case("a random float64 input (the result must stay float64)", (b.double(),), kw))
    if "edges" in tiers:
        label = "edge inputs (0, ±1e-7, ±1, ±20, ±88.7, ±89.5, ±1e4 in float32)"
        cases.append(Case(label, (inputs.edge_values(),), kw))
    if "kinks" in tiers and kinks:
        cases.append(Case(f"inputs exactly at {kinks}", (torch.tensor(kinks, dtype=torch.float32),), kw))
    return cases


def check_elementwise(
    student: Callable,
    ref: str | Callable,
    *,
    kwargs: dict | None = None,
    tiers: Sequence[str] = ("example", "random", "edges"),
    kinks: tuple[float, ...] = (),
    **options: Any,
) -> None:
    """Check an elementwise function on the visible example, random inputs and edge cases."""
    cases = elementwise_cases(kwargs, tiers=tiers, kinks=kinks)
    check_function(student, ref, cases, elementwise=True, **options)


#: What a numerical warning says (numpy's RuntimeWarnings, Python's and PyTorch's float errors).
NUMERICAL_WARNING = re.compile(
    r"overflow|underflow|invalid value|divide by zero|division by zero|\bnan\b|\binf\b|not finite", re.IGNORECASE
)


def is_numerical_warning(w: Any) -> bool:
    """Whether a recorded warning reports a numerical problem (not a student's own ``warnings.warn("debug")``)."""
    return issubclass(w.category, RuntimeWarning) and bool(NUMERICAL_WARNING.search(str(w.message)))


def check_no_warnings(fn: Callable, *args: Any, name: str, **kwargs: Any) -> None:
    """Call ``fn`` and fail if it emits a numerical warning (overflow, invalid value, division by zero).

    Other warnings (a student's debugging ``warnings.warn``, a deprecation) are noise, not a wrong answer. Returns
    nothing, so that a grade cell that ends with it displays nothing (nbgrader reads a value as partial credit).
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call_student(fn, Case("edge inputs", args, kwargs), name=name)
    numerical = [w for w in caught if is_numerical_warning(w)]
    check(not numerical, f"`{name}` emitted a numerical warning: {numerical[0].message if numerical else ''}")


def check_derivative(
    student_grad: Callable,
    ref: str | Callable,
    *,
    kwargs: dict | None = None,
    tiers: Sequence[str] = ("example", "random", "edges"),
    kinks: tuple[float, ...] = (),
    **options: Any,
) -> None:
    """Check an analytic derivative ``<name>_grad(x, **kwargs)`` against autograd of the reference.

    The reference derivative is d/dx ref(x, **kwargs), elementwise, computed by autograd in float64.
    Include ``"kinks"`` in ``tiers`` to test the convention at non-differentiable points (PyTorch's).
    """
    cases = elementwise_cases(kwargs, tiers=tiers, kinks=kinks)
    check_function(student_grad, autograd_derivative(ref), cases, elementwise=True, **options)
