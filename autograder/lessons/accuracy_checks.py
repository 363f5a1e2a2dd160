"""Lesson 06, accuracy: the reference (the course's helper on raw scores), the checks of ``06a``'s accuracy grade
cells, and the likely slips. Grade cells reach it as ``training.check_accuracy``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

import autograder as ag
from nnlab import train

# ---------------------------------------------------------------- accuracy_reference
# the reference accuracy (the course's helper on raw scores), likely slips, and the
# message for a call to a course helper that an exercise must not use
ACCURACY_BAN = ("nnlab.train.accuracy_of",)


def reference_accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    n = len(target)
    return round(train.accuracy_of(nn.Identity(), logits, target) * n) / n


def check_accuracy(accuracy: Callable, cases: list[ag.Case]) -> None:
    """The student's accuracy against reference_accuracy, naming the likely slip."""
    ag.check_function(accuracy, reference_accuracy, cases, forbid=ACCURACY_BAN, diagnose=accuracy_slip)


def batch_case(
    n: int, classes: int, seed: int, targets: str | list[int] = "random", dtype: torch.dtype = torch.float32
) -> ag.Case:
    """A case of ``n`` seeded rows of logits over ``classes``; ``targets`` is "random" (seeded), a list, or "all
    right" / "all wrong" (every row's argmax, or the class after it)."""
    logits = ag.inputs.randn(n, classes, seed=seed, dtype=dtype)
    if targets == "random":
        target = torch.randint(0, classes, (n,), generator=ag.inputs.generator(seed + 1000))
    elif targets in ("all right", "all wrong"):
        target = (logits.argmax(1) + (targets == "all wrong")) % classes
    else:
        target = torch.tensor(targets)
    shape = f"a square ({n}, {classes}) batch" if n == classes else "one sample" if n == 1 else f"{n} samples"
    label = f"{shape}, {classes} classes" + (f", {str(dtype)[6:]}" if dtype != torch.float32 else "")
    label += f", every prediction {targets[4:]}" if targets in ("all right", "all wrong") else ""
    return ag.Case(label, (logits, target))


def check_accuracy_batches(accuracy: Callable, specs: list[tuple]) -> None:
    """accuracy on batches built by :func:`batch_case` from each spec ``(n, classes, seed[, targets[, dtype]])``."""
    check_accuracy(accuracy, [batch_case(*spec) for spec in specs])


def check_accuracy_in_a_loop(accuracy: Callable) -> None:
    """accuracy on logits as the training loop hands them over: tensors that require grad (a graph's output)."""
    logits = ag.inputs.randn(9, 4, seed=57).requires_grad_(True)
    target = torch.randint(0, 4, (9,), generator=ag.inputs.generator(58))
    check_accuracy(accuracy, [ag.Case("logits that require grad, as a training step has them", (logits, target))])


def accuracy_slip(got: Any, case: ag.Case) -> str | None:
    """Name the likely mistake behind a wrong accuracy."""
    logits, target = case.args
    if not isinstance(got, int | float):
        return None
    right = reference_accuracy(logits, target)

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)

    if logits.shape[0] == logits.shape[1] and close(got, reference_accuracy(logits.T, target)):
        return "the argmax ran over dim 0 (the samples); each row is a sample, its columns are the classes."
    if close(got, right * len(target)) and len(target) > 1:
        return "that is the number of correct predictions: divide by the number of samples."
    if close(got, 100 * right):
        return "that is a percentage: return a fraction between 0 and 1."
    return None
