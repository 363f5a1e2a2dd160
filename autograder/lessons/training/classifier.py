"""Lesson 06, ``MLPClassifier``: the network it must equal (the course's ``make_mlp``), what it may not call, and
its likely slips (probabilities or log-probabilities returned, an activation after the last layer, images not
flattened)."""

from __future__ import annotations

import torch

import autograder as ag
from nnlab import mlp

CLASSIFIER_BAN = ("nnlab.mlp.make_mlp", "nnlab.deep.deep_mlp")
reference_classifier = mlp.make_mlp


def check_classifier(cls: type, args: tuple, x: torch.Tensor, label: str, name: str) -> None:
    """Build the student's MLPClassifier ``cls(*args)`` and compare it, on x, with the equivalent nn.Sequential."""
    model = ag.construct(cls, *args, forbid=CLASSIFIER_BAN, name=name)
    try:
        ag.check_module_matches(
            model, reference_classifier(*args), [ag.Case(label, (x,))], name=name, forbid=CLASSIFIER_BAN
        )
    except ag.CheckFailed as failure:
        if isinstance(failure, ag.NotAttempted):
            raise
        cause = None
        if any(s in str(failure) for s in ("cannot be multiplied", "is invalid for input of size", "result has shape")):
            cause = (
                "each sample arrives as an image (channels, height, width): flatten every dimension but the "
                "first (the batch), using the input's own sizes, before the first Linear layer."
            )
        else:
            out = ag.call_student(model, ag.Case(label, (x,)), name=name, forbid=CLASSIFIER_BAN).detach().double()
            ones = torch.ones(out.shape[0], dtype=out.dtype)
            if torch.allclose(out.sum(1), ones, atol=1e-4):
                cause = (
                    "every row of the output sums to 1: those are probabilities. Return logits; "
                    "cross_entropy applies log_softmax itself."
                )
            elif torch.allclose(out.exp().sum(1), ones, atol=1e-4):
                cause = (
                    "the output rows are log-probabilities (log_softmax). Return logits; cross_entropy "
                    "applies log_softmax itself."
                )
            elif bool((out >= 0).all()):
                cause = (
                    "no output is negative: is an activation applied after the last layer? Logits can be any "
                    "real number."
                )
        if cause:
            raise ag.CheckFailed(f"{failure}\nLikely cause: {cause}") from None
        raise


def classifier_call(args: tuple) -> str:
    """How the grade cell would build it, e.g. ``MLPClassifier(6, (16,), 2, nn.Tanh)``."""
    shown = ", ".join(f"nn.{a.__name__}" if isinstance(a, type) else repr(a) for a in args)
    return f"MLPClassifier({shown})" + (" (no hidden layer)" if len(args) > 1 and not args[1] else "")


def check_classifier_configs(cls: type, configs: list[tuple]) -> None:
    """``cls(*args)`` for each ``args`` in configs matches the equivalent nn.Sequential on a seeded (7, in) batch."""
    for args in configs:
        x = ag.inputs.randn(7, args[0], seed=64, scale=2.0)
        check_classifier(cls, args, x, f"a (7, {args[0]}) batch", classifier_call(args))
