"""Lesson 04, losses: what the grade cells of ``01_regression_and_binary_losses`` and ``02_multiclass_losses``
forbid, compare with (PyTorch's losses in variants: smooth L1 as Huber, the usual mistakes) and diagnose."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch

import autograder as ag

# ---------------------------------------------------------------- mse_loss
# what mse_loss may not call, and hints for the usual reduction mistakes
MSE_BAN = ("torch.nn.functional.mse_loss", "torch.nn.MSELoss")
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


# ---------------------------------------------------------------- l1_loss
# what l1_loss may not call
L1_BAN = ("torch.nn.functional.l1_loss", "torch.nn.L1Loss")


# ---------------------------------------------------------------- huber_loss
# what huber_loss may not call, and hints for its usual mistakes
HUBER_BAN = (
    "torch.nn.functional.huber_loss",
    "torch.nn.HuberLoss",
    "torch.nn.functional.smooth_l1_loss",
    "torch.nn.SmoothL1Loss",
)
HUBER = "torch.nn.functional.huber_loss"


def smooth_l1_as_huber(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0
) -> torch.Tensor:
    return ag.reference.get("torch.nn.functional.smooth_l1_loss")(input, target, reduction=reduction, beta=delta)


def huber_hint(got: Any, case: ag.Case) -> str | None:
    delta = case.kwargs.get("delta", 1.0)
    if delta != 1.0 and same_as(got, HUBER, case, delta=1.0):
        return f"your result is the Huber loss for delta=1: use the delta argument (here {delta})."
    if delta != 1.0 and same_as(got, smooth_l1_as_huber, case):
        return (
            "that is smooth_l1_loss, the Huber loss divided by delta: PyTorch's huber_loss is 0.5·d² inside "
            "and delta·(|d| − delta/2) outside."
        )
    return reduction_hint(HUBER)(got, case)


# ---------------------------------------------------------------- MSELoss
# a loss's value and its gradient with respect to the input, by autograd
def value_and_grad(loss_fn: Callable) -> Callable:
    def run(input: torch.Tensor, target: torch.Tensor) -> Any:
        input = input.detach().clone().requires_grad_(True)
        loss = loss_fn(input, target)
        (grad,) = torch.autograd.grad(loss, input)
        return loss.detach(), grad

    return run


# ---------------------------------------------------------------- binary_cross_entropy
# what the binary losses may not call, and hints for their usual mistakes
BCE_BAN = (
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.BCELoss",
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.BCEWithLogitsLoss",
    "torch.binary_cross_entropy_with_logits",
)
BCE = "torch.nn.functional.binary_cross_entropy"


def weight_of(case: ag.Case) -> Any:
    return case.args[2] if len(case.args) > 2 else case.kwargs.get("weight")


def bce_hint(got: Any, case: ag.Case) -> str | None:
    p = case.args[0]
    certain = bool(((p == 0) | (p == 1)).any())
    if certain and isinstance(got, torch.Tensor) and not bool(torch.isfinite(got).all()):
        return "log(0) = -inf, and 0 · (-inf) = nan: clamp each log at -100 before multiplying, as PyTorch does."
    if certain:
        return (
            "a certain, wrong prediction (p = 0 for y = 1) costs exactly 100 in PyTorch: clamp each log at "
            "-100; clamping p to [eps, 1 - eps] gives other values."
        )
    if weight_of(case) is not None and same_as(got, BCE, ag.Case(case.label, case.args[:2], case.kwargs), weight=None):
        return "your result ignores weight: multiply each element's loss by it (it broadcasts against input)."
    return reduction_hint(BCE)(got, case)


# ---------------------------------------------------------------- binary_cross_entropy_with_logits
# what binary_cross_entropy_with_logits may not call, and hints
BCEL = "torch.nn.functional.binary_cross_entropy_with_logits"
BCEL_BAN = BCE_BAN + (
    "torch.nn.functional.logsigmoid",
    "torch.nn.LogSigmoid",
    "torch.nn.functional.softplus",
    "torch.nn.Softplus",
    "torch.logaddexp",
)
BCEL_HINT = "exp, log1p, abs, clamp and arithmetic (the stable form above)"


def pos_weight_on_negatives(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    pos_weight: torch.Tensor | None = None,
) -> Any:
    """The usual pos_weight mistake, built from PyTorch's function: the factor on the negative term."""
    f = ag.reference.get(BCEL)
    loss = target * f(input, torch.ones_like(input), reduction="none")
    loss = loss + pos_weight * (1 - target) * f(input, torch.zeros_like(input), reduction="none")
    loss = loss if weight is None else loss * weight
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def bce_logits_hint(got: Any, case: ag.Case) -> str | None:
    x = case.args[0]
    pos_weight = case.kwargs.get("pos_weight")
    if pos_weight is not None and same_as(got, pos_weight_on_negatives, case):
        return (
            "pos_weight multiplies the positive term y·log σ(x), not the negative one: it makes the rare "
            "positives count more."
        )
    if pos_weight is not None and same_as(got, BCEL, case, pos_weight=None):
        return "your result is the loss without pos_weight: it multiplies the positive term y·log σ(x)."
    if weight_of(case) is not None and same_as(got, BCEL, ag.Case(case.label, case.args[:2], case.kwargs), weight=None):
        return "your result ignores weight: multiply each element's loss by it (it broadcasts against input)."
    finite = isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all())
    if x.numel() and float(x.abs().max()) > 15 and (not finite or pos_weight is None):
        return (
            "for large |x|, σ(x) rounds to exactly 0 or 1 and exp(x) overflows float32 past 88.7: compute "
            "log(1 + e^z) as max(z, 0) + log1p(exp(-|z|)), never from σ(x) or exp(x) directly."
        )
    if pos_weight is not None:
        return (
            "if your loss without pos_weight is right, look at pos_weight: it multiplies only the positive "
            "term y·log σ(x), one factor per class along the last dim; the negative term keeps weight 1."
        )
    return reduction_hint(BCEL)(got, case)


# ---------------------------------------------------------------- bce_with_logits_grad
# the reference gradient, by autograd, and hints
AUTOGRAD_BAN = ag.AUTOGRAD


def bce_grad_reference(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    x = logits.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(ag.reference.get(BCEL)(x, target), x)
    return grad


def bce_grad_hint(got: Any, case: ag.Case) -> str | None:
    if not isinstance(got, torch.Tensor) or got.shape != case.args[0].shape:
        return None
    ref, g = ag.checks.run_reference(bce_grad_reference, case), got.detach().double()
    if torch.allclose(g, ref * ref.numel(), rtol=1e-3, atol=1e-6):
        return "the loss is a mean over all n elements, so every derivative carries a factor 1/n."
    if ref.dim() > 1 and torch.allclose(g, ref * ref[0].numel(), rtol=1e-3, atol=1e-6):
        return "n is the number of all elements of logits (N·C for a 2-D input), not only the batch size N."
    if torch.allclose(g, -ref, rtol=1e-3, atol=1e-6):
        return "the sign is flipped: every entry of your gradient has the opposite sign."
    return None


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


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.isclose(a.detach().double(), b.double(), rtol=1e-4, atol=1e-6))


def same_value(got: Any, ref: str | Callable, case: ag.Case, **changes: Any) -> bool:
    """Whether got equals the reference on the case with some keyword arguments changed."""
    other = ag.checks.run_reference(ref, ag.Case(case.label, case.args, {**case.kwargs, **changes}))
    return got.shape == other.shape and bool(
        torch.allclose(got.detach().double(), other, rtol=1e-4, atol=1e-6, equal_nan=True)
    )


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


# ---------------------------------------------------------------- kl_div
# PyTorch's kl_div with our default reduction (and without its 'mean' warning), hints
KL_BAN = ("torch.nn.functional.kl_div", "torch.kl_div", "torch.nn.KLDivLoss")


def kl_reference(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ag.reference.get("torch.nn.functional.kl_div")(input, target, reduction=reduction, log_target=log_target)


def kl_swapped(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    """KL(model || target): the arguments' roles exchanged."""
    log_p = target if log_target else target.log()
    return kl_reference(log_p, input.exp(), reduction=reduction, log_target=False)


def kl_hint(got: Any, case: ag.Case) -> str | None:
    if not isinstance(got, torch.Tensor):
        return None
    if "reduction" not in case.kwargs and same_value(got, kl_reference, case, reduction="mean"):
        return "this exercise's default reduction is 'batchmean' (PyTorch's is still 'mean'): check your signature."
    reduction = case.kwargs.get("reduction", "batchmean")
    target = case.args[1]
    if not case.kwargs.get("log_target") and bool((target == 0).any()) and not bool(torch.isfinite(got).all()):
        return "0 · log 0 must count as 0: use torch.xlogy(target, target) (or torch.where) for p·log p."
    if bool((target > 0).all()) and same_value(got, kl_swapped, case):
        return (
            "you computed KL(model ‖ target): kl_div(input, target) is Σ target·(log target − input), with "
            "input the model's log-probabilities."
        )
    if reduction == "batchmean" and same_value(got, kl_reference, case, reduction="mean"):
        return '"batchmean" divides the sum by the batch size input.shape[0], not by the number of elements.'
    if reduction == "batchmean" and same_value(got, kl_reference, case, reduction="sum"):
        return '"batchmean" divides the sum by the batch size input.shape[0].'
    if case.kwargs.get("log_target"):
        return "with log_target=True, target holds log p: the terms are exp(target)·(target − input)."
    if same_value(got, kl_without_entropy, case):
        return (
            "that is the cross-entropy −Σ p·log q: KL also has the target's own term p·log p, which makes it 0 "
            "when the model equals the target."
        )
    return None


def kl_without_entropy(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    """-Σ target·input: kl_div without the target's p·log p term."""
    return kl_reference(input, target, reduction=reduction, log_target=log_target) - kl_reference(
        torch.zeros_like(input), target, reduction=reduction, log_target=log_target
    )


# ---------------------------------------------------------------- CrossEntropyLoss
# a loss's value and its gradient with respect to the logits, by autograd


def ce_module_reference(weight: torch.Tensor | None = None, **settings: Any) -> Callable:
    """nn.CrossEntropyLoss with these settings, as a function evaluated in the input's dtype."""

    def run(input: torch.Tensor, target: torch.Tensor) -> Any:
        w = None if weight is None else weight.to(input.dtype)
        return ag.reference.get(CE)(input, target, weight=w, **settings)

    return run
