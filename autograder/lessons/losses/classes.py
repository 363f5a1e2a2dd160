"""Lesson 04, losses over classes: what the grade cells of nll_loss, cross_entropy, cross_entropy_grad and
CrossEntropyLoss forbid, compare with and diagnose, and the seeded labels and distributions they use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import autograder as ag
from autograder.lessons.losses.common import close, same_value

# ---------------------------------------------------------------- nll_loss
# what nll_loss may not call, inputs, and hints for the usual mistakes
# (the tests pass a class weight positionally, nll_loss(input, target, weight), so that the reference sees it in
# float64 like the other inputs)
NLL = "torch.nn.functional.nll_loss"
NLL_BAN = (NLL, "torch.nn.NLLLoss", "torch.nn.functional.cross_entropy", "torch.nn.CrossEntropyLoss")
RANGE_WHY = (
    "PyTorch raises IndexError ('Target 3 is out of bounds.'): a class index outside 0..C-1 is a bug in "
    "the data, and Python indexing would silently read -1 as the last class. Check the targets."
)


def labels(n: int, n_classes: int, seed: int) -> torch.Tensor:
    """n class indices in 0..n_classes-1, int64, from a seeded generator."""
    return torch.randint(0, n_classes, (n,), generator=ag.inputs.generator(seed))


def log_probs(n: int, n_classes: int, seed: int) -> torch.Tensor:
    """n rows of log-probabilities (a log-softmax of random logits)."""
    z = ag.inputs.randn(n, n_classes, seed=seed, scale=2.0, dtype=torch.float64)
    return (z - z.logsumexp(1, keepdim=True)).float()


def class_loss_hint(ref: str | Callable) -> Callable:
    """diagnose= for a loss over classes: names the usual reduction and weighting mistakes."""

    def diagnose(got: Any, case: ag.Case) -> str | None:
        reduction = case.kwargs.get("reduction", "mean")
        if not isinstance(got, torch.Tensor):
            return None
        if reduction == "none" and got.dim() == 2:
            return '"none" gives one loss per sample, shape (N,): add up the classes of each row.'
        if reduction in ("mean", "sum") and got.dim() > 0:
            return f'reduction="{reduction}" returns one number, a 0-d tensor.'
        if same_value(-got, ref, case):
            return "the sign is flipped: the loss is the *negative* log-probability of the target, −input[i, y_i]."
        weight = case.args[2] if len(case.args) > 2 else case.kwargs.get("weight")
        unweighted = ag.Case(case.label, case.args[:2], {k: v for k, v in case.kwargs.items() if k != "weight"})
        if weight is not None and same_value(got, ref, unweighted):
            return "your result ignores the class weight: scale each sample's loss by w[y_i]."
        if reduction != "mean" or got.dim() != 0:
            return None
        per = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, "reduction": "none"}))
        n, n_classes = case.args[0].shape
        if per.numel() == 0:
            return "the mean of an empty batch is 0/0 = nan in PyTorch: do not special-case it."
        if close(got, per.sum()):
            return '"mean" divides by the batch (or its total weight); you returned the sum.'
        if close(got, per.sum() / (n * n_classes)):
            return '"mean" averages over the samples, not over samples × classes: sum over the classes first.'
        if weight is not None and close(got, per.sum() / n):
            return (
                'with a class weight, "mean" divides by the total weight of the targets, Σ w[y_i], '
                "not by the batch size N."
            )
        return None

    return diagnose


# ---------------------------------------------------------------- cross_entropy
# what cross_entropy may not call, inputs, and hints for the usual mistakes
CE = "torch.nn.functional.cross_entropy"
CE_BAN = NLL_BAN + ("torch.nn.functional.log_softmax", "torch.log_softmax", "torch.nn.LogSoftmax")
CE_HINT = "torch.logsumexp, your nll_loss and ordinary tensor operations"


def probs(n: int, n_classes: int, seed: int) -> torch.Tensor:
    """n rows of class probabilities (a softmax of random logits), float32."""
    return ag.reference.get("torch.softmax")(ag.inputs.randn(n, n_classes, seed=seed, scale=2.0), 1)


def ce_hint(got: Any, case: ag.Case) -> str | None:
    x, t = case.args[0], case.args[1]
    finite = isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all())
    large = x.numel() and float(x.abs().max()) >= 100
    if not finite and large:
        return (
            "exp(z) overflows float32 past 88.7, and log(softmax(z)) is log(0) = -inf for a class whose "
            "probability underflows: compute log q = z - logsumexp(z) (torch.logsumexp subtracts the max)."
        )
    if (not finite and bool((x < 0).any())) or (finite and bool((got < 0).any())):
        return (
            "cross_entropy takes logits (any real numbers), not probabilities, and is never negative: take "
            "the log-softmax of the logits, not their log."
        )
    hint = class_loss_hint(CE)(got, case)
    if hint:
        return hint
    if case.kwargs.get("label_smoothing", 0.0):
        return (
            "with label_smoothing ε the target becomes (1 − ε)·one_hot + ε/C, spread over all C classes (the "
            "true one included); with a weight the smoothing term is weighted too, and 'mean' divides by "
            "Σ w[y_i]."
        )
    if t.is_floating_point():
        return "probability targets: ℓ_i = −Σ_c w_c p_ic log q_ic, and 'mean' divides by N (even with a weight)."
    if large:
        return "for large logits compute log q = z − logsumexp(z); log(softmax(z)) loses the small probabilities."
    return None


# ---------------------------------------------------------------- cross_entropy_grad
# the reference gradient, by autograd, and hints


def ce_grad_reference(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    z = logits.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(ag.reference.get(CE)(z, target), z)
    return grad


def ce_grad_hint(got: Any, case: ag.Case) -> str | None:
    if not isinstance(got, torch.Tensor) or got.shape != case.args[0].shape:
        return None
    ref, g = ag.checks.run_reference(ce_grad_reference, case), got.detach().double()
    n, n_classes = ref.shape
    if torch.allclose(g, ref * n, rtol=1e-3, atol=1e-6):
        return "the loss is a mean over the N samples, so every derivative carries a factor 1/N."
    if torch.allclose(g, ref / n_classes, rtol=1e-3, atol=1e-7):
        return "divide by the batch size N only, not by N·C."
    if torch.allclose(g, -ref, rtol=1e-3, atol=1e-6):
        return "the sign is flipped: every entry of your gradient has the opposite sign."
    if not bool(torch.isfinite(g).all()):
        return "exp(z) overflows for large logits: subtract each row's max before exponentiating (torch.softmax does)."
    return None


# ---------------------------------------------------------------- CrossEntropyLoss
# a loss's value and its gradient with respect to the logits, by autograd


def ce_module_reference(weight: torch.Tensor | None = None, **settings: Any) -> Callable:
    """nn.CrossEntropyLoss with these settings, as a function evaluated in the input's dtype."""

    def run(input: torch.Tensor, target: torch.Tensor) -> Any:
        w = None if weight is None else weight.to(input.dtype)
        return ag.reference.get(CE)(input, target, weight=w, **settings)

    return run
