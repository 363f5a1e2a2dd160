"""Lesson 04 — losses, by principle (issue 12, part 6): a loss is used by .backward(), so its value must stay
connected to the input; NaN in gives NaN out; every argument (reduction, weight, pos_weight, label_smoothing, delta,
log_target) varied."""

import torch

from corpus import correct, wrong

LESSON = "04_losses"
MINIMUM = (10, 4)  # wrong, correct

# ---------------------------------------------------------------- a loss is differentiated


@wrong("mse_loss", "the mean taken with .item() and wrapped in torch.tensor: no gradient reaches the model")
def mse_loss(input, target, reduction="mean"):
    loss = (input - target) ** 2
    if reduction == "mean":
        return torch.tensor(loss.mean().item(), dtype=input.dtype) if loss.numel() else loss.mean()
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("l1_loss", "computed on input.detach() to avoid autograd warnings: nothing trains")
def l1_loss(input, target, reduction="mean"):
    return apply_reduction((input.detach() - target).abs(), reduction)  # noqa: F821


@wrong("binary_cross_entropy_with_logits", "per-element losses written into a new tensor with torch.tensor(list)")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    sp_neg = torch.clamp(-input, min=0) + torch.log1p(torch.exp(-input.abs()))
    positive = target * sp_neg if pos_weight is None else pos_weight * target * sp_neg
    loss = positive + (1 - target) * (sp_neg + input)
    loss = loss if weight is None else loss * weight
    loss = torch.tensor(loss.tolist(), dtype=input.dtype).reshape(loss.shape)
    return apply_reduction(loss, reduction)  # noqa: F821


@wrong("cross_entropy", "per-sample losses gathered with float(): the loss is rebuilt from Python numbers")
def cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    log_q = input - torch.logsumexp(input, dim=1, keepdim=True)
    n_classes = input.shape[1]
    w = weight if weight is not None else torch.ones(n_classes, dtype=input.dtype)
    if target.is_floating_point():
        p = (1 - label_smoothing) * target + label_smoothing / n_classes
        per = -(w * p * log_q).sum(dim=1)
        return apply_reduction(torch.tensor([float(v) for v in per], dtype=input.dtype), reduction)  # noqa: F821
    nll = nll_loss(log_q, target, weight=weight, reduction=reduction)  # noqa: F821
    if label_smoothing:
        smooth = -(w * log_q).sum(dim=1) / n_classes
        smooth = smooth.sum() / w[target].sum() if reduction == "mean" else apply_reduction(smooth, reduction)  # noqa: F821
        nll = (1 - label_smoothing) * nll + label_smoothing * smooth
    return nll.detach().clone()


@wrong("kl_div", "the batchmean divided with a Python float of the detached sum")
def kl_div(input, target, reduction="batchmean", log_target=False):
    loss = torch.exp(target) * (target - input) if log_target else torch.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return torch.tensor(float(loss.detach().sum()) / max(input.shape[0], 1), dtype=input.dtype)
    return apply_reduction(loss, reduction)  # noqa: F821


@correct("mse_loss", "the mean as sum() / numel(), which keeps the graph")
def mse_loss(input, target, reduction="mean"):
    loss = (input - target) * (input - target)
    if reduction == "mean":
        return loss.sum() / loss.numel()
    return apply_reduction(loss, reduction)  # noqa: F821


# ---------------------------------------------------------------- NaN in, NaN out


@wrong("huber_loss", "the two branches written by masks into a zeros tensor: a NaN error comes out 0")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = (input - target).abs()
    out = torch.zeros_like(d)
    small, large = d < delta, d >= delta
    out[small] = 0.5 * d[small] ** 2
    out[large] = delta * (d[large] - 0.5 * delta)
    return apply_reduction(out, reduction)  # noqa: F821


@wrong("l1_loss", "|d| as relu(d) + relu(-d) by torch.where on each sign: a NaN error comes out 0")
def l1_loss(input, target, reduction="mean"):
    d = input - target
    return apply_reduction(torch.where(d > 0, d, 0.0) + torch.where(d < 0, -d, 0.0), reduction)  # noqa: F821


@correct("huber_loss", "quadratic part of the clamped error plus the linear rest (NaN propagates)")
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = (input - target).abs()
    c = d.clamp(max=delta)
    return apply_reduction(0.5 * c * c + delta * (d - c), reduction)  # noqa: F821


@correct("l1_loss", "torch.maximum(d, -d), which propagates NaN (and whose gradient at a tie is 0, as abs's)")
def l1_loss(input, target, reduction="mean"):
    d = input - target
    return apply_reduction(torch.maximum(d, -d), reduction)  # noqa: F821


@wrong("nll_loss", "the picked log-probabilities read with .item() in a loop: the loss is rebuilt from numbers")
def nll_loss(input, target, weight=None, reduction="mean"):
    n_classes = input.shape[1]
    if bool(((target < 0) | (target >= n_classes)).any()):
        raise IndexError("Target out of bounds")
    picked = torch.tensor([input[i, t].item() for i, t in enumerate(target.tolist())], dtype=input.dtype)
    w = weight[target] if weight is not None else torch.ones_like(picked)
    loss = -w * picked
    return loss.sum() / w.sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("binary_cross_entropy", "the logs taken in numpy (np.log, np.maximum) and brought back with torch.from_numpy")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    import numpy as np

    p = input.detach().numpy()
    with np.errstate(divide="ignore"):
        log_p, log_not_p = np.maximum(np.log(p), -100), np.maximum(np.log(1 - p), -100)
    loss = -(target * torch.from_numpy(log_p) + (1 - target) * torch.from_numpy(log_not_p))
    loss = loss if weight is None else loss * weight
    return apply_reduction(loss, reduction)  # noqa: F821


@correct("nll_loss", "a one-hot mask times the log-probabilities, summed per row (the graph is kept)")
def nll_loss(input, target, weight=None, reduction="mean"):
    n_classes = input.shape[1]
    if bool(((target < 0) | (target >= n_classes)).any()):
        raise IndexError("Target out of bounds")
    mask = torch.nn.functional.one_hot(target, n_classes).to(input.dtype)
    w = weight[target] if weight is not None else torch.ones(len(target), dtype=input.dtype)
    loss = -w * (mask * input).sum(dim=1)
    return loss.sum() / w.sum() if reduction == "mean" else apply_reduction(loss, reduction)  # noqa: F821


@wrong("CrossEntropyLoss", "reduction read as 'sum or else mean': reduction='none' returns the mean")
class CrossEntropyLoss(torch.nn.Module):
    def __init__(self, weight=None, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        per = cross_entropy(input, target, self.weight, "none", self.label_smoothing)  # noqa: F821
        if self.reduction == "sum":
            return per.sum()
        w = self.weight[target] if self.weight is not None else torch.ones_like(per)
        return (
            per.sum() / w.sum()
            if self.label_smoothing == 0
            else cross_entropy(  # noqa: F821
                input, target, self.weight, "mean", self.label_smoothing
            )
        )
