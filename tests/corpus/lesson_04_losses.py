"""Lesson 04 — losses: wrong answers students plausibly write, and other correct ones.

Names the lesson defines (``apply_reduction``, ``mse_loss``, ``nll_loss``, ``cross_entropy``) are used as the
notebook defines them; each variant replaces one exercise.
"""

import math

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "04_losses"
MINIMUM = (15, 6)  # wrong, correct

# ---------------------------------------------------------------- mse_loss


@wrong("mse_loss", "sum instead of mean for the default reduction")
def mse_loss(input, target, reduction="mean"):
    loss = (input - target) ** 2
    return loss if reduction == "none" else loss.sum()


@wrong("mse_loss", "mean over the batch dimension only")
def mse_loss(input, target, reduction="mean"):
    loss = (input - target) ** 2
    if reduction == "mean":
        return loss.sum() / len(input)
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("mse_loss", "reduction ignored")
def mse_loss(input, target, reduction="mean"):
    return ((input - target) ** 2).mean()


@wrong("mse_loss", "an unknown reduction silently treated as mean")
def mse_loss(input, target, reduction="mean"):
    loss = (input - target) ** 2
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


@wrong("mse_loss", "assert instead of ValueError for an unknown reduction")
def apply_reduction(loss, reduction):
    assert reduction in ("none", "mean", "sum"), f"bad reduction {reduction}"
    return loss if reduction == "none" else (loss.mean() if reduction == "mean" else loss.sum())


@wrong("mse_loss", "empty batch special-cased to 0")
def mse_loss(input, target, reduction="mean"):
    loss = (input - target) ** 2
    if reduction == "mean":
        return loss.sum() / max(loss.numel(), 1)
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("mse_loss", "root mean squared error")
def mse_loss(input, target, reduction="mean"):
    loss = (input - target) ** 2
    return loss.mean().sqrt() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("mse_loss", "calls F.mse_loss")
def mse_loss(input, target, reduction="mean"):
    return nn.functional.mse_loss(input, target, reduction=reduction)


@wrong("mse_loss", "the kernel behind F.mse_loss, called directly: torch._C._nn.mse_loss")
def mse_loss(input, target, reduction="mean"):
    return torch._C._nn.mse_loss(input, target, {"none": 0, "mean": 1, "sum": 2}[reduction])


@correct("mse_loss", "a dict of reductions and a product instead of a power")
def apply_reduction(loss, reduction):
    reducers = {"none": lambda t: t, "mean": torch.mean, "sum": torch.sum}
    if reduction not in reducers:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reducers[reduction](loss)


@correct("mse_loss", "sum divided by numel, own reduction logic")
def mse_loss(input, target, reduction="mean"):
    diff = input - target
    loss = diff * diff
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / loss.numel()
    raise ValueError(reduction)


# ---------------------------------------------------------------- l1_loss


@wrong("l1_loss", "absolute value forgotten")
def l1_loss(input, target, reduction="mean"):
    return apply_reduction(input - target, reduction)  # noqa: F821


@wrong("l1_loss", "calls nn.L1Loss")
def l1_loss(input, target, reduction="mean"):
    return nn.L1Loss(reduction=reduction)(input, target)


@wrong("l1_loss", "no ValueError for an unknown reduction")
def l1_loss(input, target, reduction="mean"):
    loss = (input - target).abs()
    return {"none": loss, "sum": loss.sum()}.get(reduction, loss.mean())


@correct("l1_loss", "torch.where instead of abs")
def l1_loss(input, target, reduction="mean"):
    d = input - target
    return apply_reduction(torch.where(d > 0, d, -d), reduction)  # noqa: F821


# ---------------------------------------------------------------- huber_loss


@wrong("huber_loss", "delta ignored")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = (input - target).abs()
    return apply_reduction(torch.where(d < 1, 0.5 * d**2, d - 0.5), reduction)  # noqa: F821


@wrong("huber_loss", "smooth L1 scaling: both branches divided by delta")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = (input - target).abs()
    return apply_reduction(torch.where(d < delta, 0.5 * d**2 / delta, d - 0.5 * delta), reduction)  # noqa: F821


@wrong("huber_loss", "branches swapped")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = (input - target).abs()
    return apply_reduction(torch.where(d < delta, delta * (d - 0.5 * delta), 0.5 * d**2), reduction)  # noqa: F821


@wrong("huber_loss", "linear branch without the -delta/2 offset")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = (input - target).abs()
    return apply_reduction(torch.where(d < delta, 0.5 * d**2, delta * d), reduction)  # noqa: F821


@wrong("huber_loss", "threshold tested on the signed error")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = input - target
    return apply_reduction(torch.where(d < delta, 0.5 * d**2, delta * (d.abs() - 0.5 * delta)), reduction)  # noqa: F821


@correct("huber_loss", "clamp split into a quadratic and a linear part")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = (input - target).abs()
    quadratic = d.clamp(max=delta)
    linear = d - quadratic
    return apply_reduction(0.5 * quadratic**2 + delta * linear, reduction)  # noqa: F821


# ---------------------------------------------------------------- MSELoss


@wrong("MSELoss", "the tutorial's loss: returns y_pred - y_true")
class MSELoss(nn.Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return input - target


@wrong("MSELoss", "returns a Python float with .item()")
class MSELoss(nn.Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return mse_loss(input, target, self.reduction).item()  # noqa: F821


@wrong("MSELoss", "input detached before the loss")
class MSELoss(nn.Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return mse_loss(input.detach(), target, self.reduction)  # noqa: F821


@wrong("MSELoss", "reduction ignored in forward")
class MSELoss(nn.Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return mse_loss(input, target)  # noqa: F821


@wrong("MSELoss", "subclasses nn.MSELoss")
class MSELoss(nn.MSELoss):
    pass


@correct("MSELoss", "reduction passed positionally")
class MSELoss(nn.Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return mse_loss(input, target, self.reduction)  # noqa: F821


# ---------------------------------------------------------------- binary_cross_entropy


@wrong("binary_cross_entropy", "no clamp: nan for p = 0 with y = 0")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    loss = -(target * torch.log(input) + (1 - target) * torch.log(1 - input))
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy", "probabilities clamped to [1e-7, 1 - 1e-7] instead of the logs at -100")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    p = input.clamp(1e-7, 1 - 1e-7)
    loss = -(target * torch.log(p) + (1 - target) * torch.log(1 - p))
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy", "the loss clamped at 100 after multiplying")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    loss = -(target * torch.log(input) + (1 - target) * torch.log(1 - input))
    loss = loss.clamp(max=100)
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy", "weight ignored")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    loss = -(target * torch.log(input).clamp(min=-100) + (1 - target) * torch.log(1 - input).clamp(min=-100))
    return apply_reduction(loss, reduction)  # noqa: F821


@correct("binary_cross_entropy", "torch.maximum with -100 and log1p(-p)")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    floor = torch.tensor(-100.0, dtype=input.dtype)
    loss = -(target * torch.maximum(torch.log(input), floor) + (1 - target) * torch.maximum(torch.log1p(-input), floor))
    if weight is not None:
        loss = weight * loss
    return apply_reduction(loss, reduction)  # noqa: F821


# ---------------------------------------------------------------- binary_cross_entropy_with_logits


@wrong("binary_cross_entropy_with_logits", "naive log(1 + exp(x)) overflows")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    sp_pos = torch.log(1 + torch.exp(input))
    sp_neg = torch.log(1 + torch.exp(-input))
    pos = target * sp_neg if pos_weight is None else pos_weight * target * sp_neg
    loss = pos + (1 - target) * sp_pos
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy_with_logits", "through sigmoid and the clamped BCE")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    p = torch.sigmoid(input)
    log_p, log_not_p = torch.log(p).clamp(min=-100), torch.log(1 - p).clamp(min=-100)
    pos = -target * log_p if pos_weight is None else -pos_weight * target * log_p
    loss = pos - (1 - target) * log_not_p
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy_with_logits", "pos_weight applied to the negative term")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    sp_neg = input.clamp(max=0).neg() + torch.log1p(torch.exp(-input.abs()))
    sp_pos = sp_neg + input
    neg = (1 - target) * sp_pos
    if pos_weight is not None:
        neg = pos_weight * neg
    loss = target * sp_neg + neg
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy_with_logits", "pos_weight multiplies the whole loss")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    sp_neg = input.clamp(max=0).neg() + torch.log1p(torch.exp(-input.abs()))
    loss = target * sp_neg + (1 - target) * (sp_neg + input)
    if pos_weight is not None:
        loss = pos_weight * loss
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy_with_logits", "weight ignored")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    sp_neg = input.clamp(max=0).neg() + torch.log1p(torch.exp(-input.abs()))
    pos = target * sp_neg if pos_weight is None else pos_weight * target * sp_neg
    return apply_reduction(pos + (1 - target) * (sp_neg + input), reduction)  # noqa: F821


@wrong("binary_cross_entropy_with_logits", "uses F.softplus")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    sp = nn.functional.softplus
    pos = target * sp(-input) if pos_weight is None else pos_weight * target * sp(-input)
    loss = pos + (1 - target) * sp(input)
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@correct("binary_cross_entropy_with_logits", "PyTorch's own formula with the log weight")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    log_term = torch.log1p(torch.exp(-input.abs())) + torch.clamp(-input, min=0)
    if pos_weight is None:
        loss = (1 - target) * input + log_term
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_term
    if weight is not None:
        loss = loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@correct("binary_cross_entropy_with_logits", "torch.where for the two signs of x")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    tail = torch.log1p(torch.exp(-input.abs()))
    softplus_pos = torch.where(input > 0, input, torch.zeros_like(input)) + tail  # log(1 + e^x)
    softplus_neg = softplus_pos - input  # log(1 + e^-x)
    pw = 1.0 if pos_weight is None else pos_weight
    loss = pw * target * softplus_neg + (1 - target) * softplus_pos
    return apply_reduction(loss if weight is None else loss * weight, reduction)  # noqa: F821


# ---------------------------------------------------------------- bce_with_logits_grad


@wrong("bce_with_logits_grad", "the 1/n of the mean forgotten")
def bce_with_logits_grad(logits, target):
    return torch.sigmoid(logits) - target


@wrong("bce_with_logits_grad", "divided by the batch size instead of all elements")
def bce_with_logits_grad(logits, target):
    return (torch.sigmoid(logits) - target) / logits.shape[0]


@wrong("bce_with_logits_grad", "sign flipped")
def bce_with_logits_grad(logits, target):
    return (target - torch.sigmoid(logits)) / logits.numel()


@wrong("bce_with_logits_grad", "autograd instead of the formula")
def bce_with_logits_grad(logits, target):
    x = logits.detach().requires_grad_(True)
    loss = nn.functional.binary_cross_entropy_with_logits(x, target)
    return torch.autograd.grad(loss, x)[0]


@wrong("bce_with_logits_grad", "torch.func.grad of the lesson's own loss")
def bce_with_logits_grad(logits, target):
    return torch.func.grad(binary_cross_entropy_with_logits)(logits, target)  # noqa: F821


@correct("bce_with_logits_grad", "sigmoid written out, mean of the elementwise derivative")
def bce_with_logits_grad(logits, target):
    return (1 / (1 + torch.exp(-logits)) - target) / math.prod(logits.shape)


# ---------------------------------------------------------------- nll_loss


@wrong("nll_loss", "weighted mean divided by N instead of the total weight")
def nll_loss(input, target, weight=None, reduction="mean"):
    if ((target < 0) | (target >= input.shape[1])).any():
        raise IndexError("target out of range")
    picked = -input.gather(1, target[:, None]).squeeze(1)
    loss = picked if weight is None else weight[target] * picked
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("nll_loss", "advanced indexing: target -1 silently picks the last class")
def nll_loss(input, target, weight=None, reduction="mean"):
    picked = -input[torch.arange(len(input)), target]
    w = torch.ones_like(picked) if weight is None else weight[target]
    loss = w * picked
    return loss.sum() / w.sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("nll_loss", "mean over samples and classes")
def nll_loss(input, target, weight=None, reduction="mean"):
    one_hot = nn.functional.one_hot(target, input.shape[1]).to(input.dtype)
    w = one_hot if weight is None else one_hot * weight
    loss = -(w * input)
    if reduction == "none":
        return loss.sum(1)
    return loss.sum() / w.sum() / input.shape[1] if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("nll_loss", "minus sign forgotten")
def nll_loss(input, target, weight=None, reduction="mean"):
    one_hot = nn.functional.one_hot(target, input.shape[1]).to(input.dtype)
    w = one_hot if weight is None else one_hot * weight
    loss = (w * input).sum(1)
    return loss.sum() / w.sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("nll_loss", "the kernel behind F.nll_loss: torch.ops.aten.nll_loss_forward, reductions checked")
def nll_loss(input, target, weight=None, reduction="mean"):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    code = {"none": 0, "mean": 1, "sum": 2}[reduction]
    return torch.ops.aten.nll_loss_forward(input, target, weight, code, -100)[0]


@correct("nll_loss", "one_hot (which rejects bad targets) and a weighted sum")
def nll_loss(input, target, weight=None, reduction="mean"):
    n_classes = input.shape[1]
    one_hot = nn.functional.one_hot(target, n_classes).to(input.dtype)
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    per_sample_weight = one_hot @ w
    loss = -(one_hot * input).sum(1) * per_sample_weight
    if reduction == "mean":
        return loss.sum() / per_sample_weight.sum()
    return apply_reduction(loss, reduction)  # noqa: F821


@correct("nll_loss", "indexing with an explicit range check")
def nll_loss(input, target, weight=None, reduction="mean"):
    if len(target) and (target.min() < 0 or target.max() >= input.shape[1]):
        raise ValueError(f"targets must lie in 0..{input.shape[1] - 1}")
    picked = -input[torch.arange(input.shape[0]), target]
    if weight is None:
        return apply_reduction(picked, reduction)  # noqa: F821
    w = weight[target]
    if reduction == "mean":
        return (w * picked).sum() / w.sum()
    return apply_reduction(w * picked, reduction)  # noqa: F821


# ---------------------------------------------------------------- cross_entropy


@wrong("cross_entropy", "log(softmax) without log-sum-exp: log(0) for large logits")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = torch.softmax(input, dim=1).log()
    n_classes = input.shape[1]
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    if target.is_floating_point():
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
        return apply_reduction(-(w * p * log_q).sum(1), reduction)  # noqa: F821
    p = (1 - label_smoothing) * nn.functional.one_hot(target, n_classes).to(input.dtype) + label_smoothing / n_classes
    loss = -(w * p * log_q).sum(1)
    return loss.sum() / w[target].sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("cross_entropy", "naive exp / sum overflows")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    e = torch.exp(input)
    log_q = torch.log(e / e.sum(1, keepdim=True))
    n_classes = input.shape[1]
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    if target.is_floating_point():
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
        return apply_reduction(-(w * p * log_q).sum(1), reduction)  # noqa: F821
    p = (1 - label_smoothing) * nn.functional.one_hot(target, n_classes).to(input.dtype) + label_smoothing / n_classes
    loss = -(w * p * log_q).sum(1)
    return loss.sum() / w[target].sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("cross_entropy", "input treated as probabilities: no log-softmax")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    return nll_loss(torch.log(input), target, weight=weight, reduction=reduction)  # noqa: F821


@wrong("cross_entropy", "label smoothing spread over the K-1 wrong classes")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = input - torch.logsumexp(input, 1, keepdim=True)
    n_classes = input.shape[1]
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    if target.is_floating_point():
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
        return apply_reduction(-(w * p * log_q).sum(1), reduction)  # noqa: F821
    one_hot = nn.functional.one_hot(target, n_classes).to(input.dtype)
    p = (1 - label_smoothing) * one_hot + label_smoothing / (n_classes - 1) * (1 - one_hot)
    loss = -(w * p * log_q).sum(1)
    return loss.sum() / w[target].sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("cross_entropy", "the smoothing term left unweighted")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = input - torch.logsumexp(input, 1, keepdim=True)
    n_classes = input.shape[1]
    if target.is_floating_point():
        w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
        return apply_reduction(-(w * p * log_q).sum(1), reduction)  # noqa: F821
    nll = nll_loss(log_q, target, weight=weight, reduction=reduction)  # noqa: F821
    smooth = apply_reduction(-log_q.sum(1) / n_classes, reduction)  # noqa: F821
    return (1 - label_smoothing) * nll + label_smoothing * smooth


@wrong("cross_entropy", "probability targets averaged over samples and classes")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = input - torch.logsumexp(input, 1, keepdim=True)
    n_classes = input.shape[1]
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    if target.is_floating_point():
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
        loss = -(w * p * log_q)
        return loss.sum(1) if reduction == "none" else apply_reduction(loss, reduction)  # noqa: F821
    p = (1 - label_smoothing) * nn.functional.one_hot(target, n_classes).to(input.dtype) + label_smoothing / n_classes
    loss = -(w * p * log_q).sum(1)
    return loss.sum() / w[target].sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("cross_entropy", "probability targets with a weight: mean divided by the weights")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = input - torch.logsumexp(input, 1, keepdim=True)
    n_classes = input.shape[1]
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    if target.is_floating_point():
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
        loss = -(w * p * log_q).sum(1)
        return loss.sum() / (p * w).sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821
    p = (1 - label_smoothing) * nn.functional.one_hot(target, n_classes).to(input.dtype) + label_smoothing / n_classes
    loss = -(w * p * log_q).sum(1)
    return loss.sum() / w[target].sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("cross_entropy", "class weight ignored")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = input - torch.logsumexp(input, 1, keepdim=True)
    n_classes = input.shape[1]
    if target.is_floating_point():
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
    else:
        p = (1 - label_smoothing) * nn.functional.one_hot(target, n_classes).to(
            input.dtype
        ) + label_smoothing / n_classes
    return apply_reduction(-(p * log_q).sum(1), reduction)  # noqa: F821


@wrong("cross_entropy", "uses F.log_softmax")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    return nll_loss(nn.functional.log_softmax(input, dim=1), target, weight=weight, reduction=reduction)  # noqa: F821


@wrong("cross_entropy", "the kernel behind F.cross_entropy: torch.ops.aten.cross_entropy_loss")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    code = {"none": 0, "mean": 1, "sum": 2}[reduction]
    return torch.ops.aten.cross_entropy_loss(input, target, weight, code, -100, label_smoothing)


@correct("cross_entropy", "max subtracted by hand; one dense smoothed target for both kinds of target")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    n, n_classes = input.shape
    shifted = input - input.max(dim=1, keepdim=True).values if n else input
    log_q = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    if target.is_floating_point():
        dense, total = target, torch.tensor(float(n), dtype=input.dtype)
    else:
        if n and (target.min() < 0 or target.max() >= n_classes):
            raise IndexError("target out of bounds")
        dense = torch.zeros_like(input).scatter(1, target[:, None], 1.0)
        total = w[target].sum()
    p = (1 - label_smoothing) * dense + label_smoothing / n_classes
    loss = -(w * p * log_q).sum(dim=1)
    return loss.sum() / total if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@correct("cross_entropy", "through nll_loss, with the smoothing term as a uniform-target cross-entropy")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = input - input.logsumexp(dim=-1, keepdim=True)
    n_classes = input.shape[1]
    if target.dtype.is_floating_point:
        smoothed = target * (1 - label_smoothing) + label_smoothing / n_classes
        per = -(smoothed * log_q * (1 if weight is None else weight)).sum(-1)
        return apply_reduction(per, reduction)  # noqa: F821
    hard = nll_loss(log_q, target, weight, reduction)  # noqa: F821
    if not label_smoothing:
        return hard
    w = torch.ones(n_classes, dtype=input.dtype) if weight is None else weight
    uniform = -(log_q * w).mean(-1)
    if reduction == "mean":
        uniform = uniform.sum() / w[target].sum()
    else:
        uniform = apply_reduction(uniform, reduction)  # noqa: F821
    return hard * (1 - label_smoothing) + uniform * label_smoothing


# ---------------------------------------------------------------- cross_entropy_grad


@wrong("cross_entropy_grad", "the 1/N of the mean forgotten")
def cross_entropy_grad(logits, target):
    return torch.softmax(logits, 1) - nn.functional.one_hot(target, logits.shape[1]).to(logits.dtype)


@wrong("cross_entropy_grad", "naive softmax overflows for logits near 1000")
def cross_entropy_grad(logits, target):
    e = torch.exp(logits)
    one_hot = nn.functional.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (e / e.sum(1, keepdim=True) - one_hot) / len(logits)


@wrong("cross_entropy_grad", "one-hot minus softmax")
def cross_entropy_grad(logits, target):
    one_hot = nn.functional.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (one_hot - torch.softmax(logits, 1)) / len(logits)


@wrong("cross_entropy_grad", "divided by N·C")
def cross_entropy_grad(logits, target):
    one_hot = nn.functional.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (torch.softmax(logits, 1) - one_hot) / logits.numel()


@wrong("cross_entropy_grad", "autograd's vjp of the lesson's own cross_entropy")
def cross_entropy_grad(logits, target):
    return torch.autograd.functional.vjp(lambda z: cross_entropy(z, target), logits)[1]  # noqa: F821


@correct("cross_entropy_grad", "F.one_hot and a softmax written with the max trick")
def cross_entropy_grad(logits, target):
    e = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
    one_hot = nn.functional.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (e / e.sum(dim=1, keepdim=True) - one_hot) / logits.shape[0]


# ---------------------------------------------------------------- kl_div


@wrong("kl_div", "arguments swapped: KL(model || target)")
def kl_div(input, target, reduction="batchmean", log_target=False):
    log_p = target if log_target else torch.log(target)
    loss = torch.exp(input) * (input - log_p)
    return loss.sum() / input.shape[0] if reduction == "batchmean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("kl_div", "batchmean averaged over every element")
def kl_div(input, target, reduction="batchmean", log_target=False):
    loss = torch.exp(target) * (target - input) if log_target else torch.xlogy(target, target) - target * input
    return loss.mean() if reduction == "batchmean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("kl_div", "p·log p is nan where the target is 0")
def kl_div(input, target, reduction="batchmean", log_target=False):
    loss = torch.exp(target) * (target - input) if log_target else target * (torch.log(target) - input)
    return loss.sum() / input.shape[0] if reduction == "batchmean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("kl_div", "log_target ignored")
def kl_div(input, target, reduction="batchmean", log_target=False):
    loss = torch.xlogy(target, target) - target * input
    return loss.sum() / input.shape[0] if reduction == "batchmean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("kl_div", "the target's entropy term left out (that is cross-entropy)")
def kl_div(input, target, reduction="batchmean", log_target=False):
    loss = -torch.exp(target) * input if log_target else -target * input
    return loss.sum() / input.shape[0] if reduction == "batchmean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("kl_div", "PyTorch's default reduction 'mean' kept in the signature")
def kl_div(input, target, reduction="mean", log_target=False):
    loss = torch.exp(target) * (target - input) if log_target else torch.xlogy(target, target) - target * input
    return loss.sum() / input.shape[0] if reduction == "batchmean" else apply_reduction(loss, reduction)  # noqa: F821


@correct("kl_div", "torch.where for the zero targets, own reductions")
def kl_div(input, target, reduction="batchmean", log_target=False):
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = torch.where(target > 0, target * (target.log() - input), torch.zeros_like(target))
    if reduction == "batchmean":
        return loss.sum() / len(input)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


# ---------------------------------------------------------------- CrossEntropyLoss


@wrong("CrossEntropyLoss", "class weight made a trainable nn.Parameter")
class CrossEntropyLoss(nn.Module):
    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.weight = nn.Parameter(weight) if weight is not None else None
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, input, target):
        w = None if self.weight is None else self.weight.detach()
        return cross_entropy(input, target, w, self.reduction, self.label_smoothing)  # noqa: F821


@wrong("CrossEntropyLoss", "class weight kept as a plain attribute")
class CrossEntropyLoss(nn.Module):
    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.weight, self.reduction, self.label_smoothing = weight, reduction, label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.reduction, self.label_smoothing)  # noqa: F821


@wrong("CrossEntropyLoss", "label_smoothing not passed on")
class CrossEntropyLoss(nn.Module):
    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = reduction

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.reduction)  # noqa: F821


@wrong("CrossEntropyLoss", "per-sample losses returned")
class CrossEntropyLoss(nn.Module):
    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.register_buffer("weight", weight)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, "none", self.label_smoothing)  # noqa: F821


@correct("CrossEntropyLoss", "buffer registered only when a weight is given")
class CrossEntropyLoss(nn.Module):
    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__()
        if weight is not None:
            self.register_buffer("weight", weight.clone())
        else:
            self.weight = None
        self.settings = {"reduction": reduction, "label_smoothing": label_smoothing}

    def forward(self, input, target):
        return cross_entropy(input, target, weight=self.weight, **self.settings)  # noqa: F821
