"""Lesson 05, what every backward exercise shares: autograd is forbidden, references are computed by it, and
results are compared part by part; the example logits of 05a."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import autograder as ag

# ---------------------------------------------------------------- backward_references
# what a backward function may not call, and the references computed by autograd
AUTOGRAD_BAN = ag.AUTOGRAD
BY_HAND = "tensor operations (@, *, .sum, .T), following the formulas above"


def autograd_vjp(forward: Callable) -> Callable:
    """reference(grad_output, *inputs) = the gradients of sum(grad_output * forward(*inputs)), by autograd."""

    def reference(grad_output: torch.Tensor, *inputs: Any) -> Any:
        leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
        return torch.autograd.grad(forward(*leaves), leaves, grad_output)

    return reference


def close(got: Any, expected: Any) -> bool:
    """True when got is a tensor of expected's shape with nearly the same values (used to name a likely mistake)."""
    with ag.pristine():
        return (
            isinstance(got, torch.Tensor)
            and got.shape == expected.shape
            and bool(torch.allclose(got.detach().double(), expected.double(), rtol=1e-4, atol=1e-5))
        )


def check_parts(
    student: Any, reference: Any, cases: Any, parts: Any, *, diagnose: Callable = None, **options: Any
) -> Any:
    """Like ag.check_function for a function that returns a tuple, naming each part (grad_weight, ...) when wrong."""
    name = student.__name__
    for case in cases:
        got = ag.call_student(student, case, name=name, **options)
        ag.check(
            isinstance(got, tuple | list) and len(got) == len(parts),
            f"`{name}` should return a tuple ({', '.join(parts)}); it returned {type(got).__name__} on {case.label}.",
        )
        expected = ag.checks.run_reference(reference, case)
        native = ag.checks.run_reference(reference, case, float64=False)
        for part, g, e, n in zip(parts, got, expected, native):
            try:
                ag.compare(g, e, name=name, case=case, expected_native=n, what=part)
            except ag.CheckFailed as failure:
                cause = diagnose(got, case) if diagnose else None
                raise ag.CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None


def close_to(got: Any, expected: Any, tol: Any = 1e-06) -> bool:
    """True when got is a tensor of expected's shape with nearly the same values (used to name a likely mistake)."""
    with ag.pristine():
        return (
            isinstance(got, torch.Tensor)
            and got.shape == expected.shape
            and bool(torch.allclose(got.detach().double(), expected.double(), rtol=tol, atol=tol * 1e-2))
        )


# ---------------------------------------------------------------- cross_entropy_examples
# example logits and targets shared by 05a's softmax demos and tests
EXAMPLE_LOGITS = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0], [-1.0, 3.0, 1.0]])
EXAMPLE_TARGET = torch.tensor([0, 1, 2, 0])
