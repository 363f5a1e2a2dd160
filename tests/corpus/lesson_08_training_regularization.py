"""Lesson 08b — regularization: wrong answers students plausibly write, and other correct ones.

The variants run in the lesson's namespace (``torch``, ``math``, ``nn`` and the other exercises' solutions
are defined there); each replaces one exercise and must be rejected (or accepted) by its grade cells.
"""

import math

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "08_training/08b_regularization.ipynb"
MINIMUM = (40, 12)  # wrong, correct (the brief asks for at least 20 and 6)


# ---------------------------------------------------------------- dropout: wrong


@wrong("dropout", "no rescaling: kept values stay x")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    mask = (torch.rand_like(input) >= p).to(input.dtype)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "scales the kept values by p")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    mask = (torch.rand_like(input) >= p).to(input.dtype)
    return input.mul_(mask * p) if inplace else input * mask * p


@wrong("dropout", "multiplies the kept values by 1 - p instead of dividing")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    mask = (torch.rand_like(input) >= p).to(input.dtype)
    return input.mul_(mask * (1 - p)) if inplace else input * mask * (1 - p)


@wrong("dropout", "drops with probability 1 - p (p taken as the keep probability), scales by 1/p")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 1.0:
        return input
    mask = (torch.rand_like(input) < p).to(input.dtype) / p
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "drops with probability 1 - p but rescales by 1/(1 - p)")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.rand_like(input) < p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "active in eval: ignores training")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "one random number for the whole tensor: everything or nothing is dropped")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    keep = float(torch.rand(()) >= p)
    return input.mul_(keep / (1 - p)) if inplace else input * (keep / (1 - p))


@wrong("dropout", "mask shared across rows: one draw per column, broadcast")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.rand(input.shape[-1], dtype=input.dtype) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "mask shared along the last dim: one draw per row")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.rand(*input.shape[:-1], 1, dtype=input.dtype) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "drops exactly round(p * n) elements of every row (randperm)")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    rows = input.reshape(-1, input.shape[-1]) if input.dim() > 1 else input.reshape(1, -1)
    n = rows.shape[1]
    mask = torch.ones_like(rows)
    for r in range(rows.shape[0]):
        mask[r, torch.randperm(n)[: round(p * n)]] = 0
    mask = mask.reshape(input.shape) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "the same mask at every call: a seed fixed inside")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    torch.manual_seed(0)
    mask = (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "mutates its input even when inplace=False")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.zero_()
    return input.mul_((torch.rand_like(input) >= p).to(input.dtype) / (1 - p))


@wrong("dropout", "p = 1 divides by zero: NaN")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    mask = (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "no check of p: no error for p < 0 or p > 1")
def dropout(input, p=0.5, training=True, inplace=False):
    if not training or p <= 0.0:
        return input
    if p >= 1.0:
        return input * 0
    mask = (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "checks p only when training")
def dropout(input, p=0.5, training=True, inplace=False):
    if not training:
        return input
    if p < 0.0 or p > 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "an assert instead of ValueError")
def dropout(input, p=0.5, training=True, inplace=False):
    assert 0.0 <= p <= 1.0, f"p must be in [0, 1], got {p}"
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "a float64 mask: float32 inputs come back as float64")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.rand(input.shape, dtype=torch.float64) >= p) / torch.tensor(1 - p, dtype=torch.float64)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "a normal sample thresholded at p: the drop rate is not p")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    mask = (torch.randn_like(input) >= p).to(input.dtype) / (1 - p)
    return input.mul_(mask) if inplace else input * mask


@wrong("dropout", "ignores inplace: always returns a new tensor")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return torch.zeros_like(input)
    return input * (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)


@wrong("dropout", "inplace=True writes into the input but returns a new tensor")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return torch.zeros_like(input)
    out = input * (torch.rand_like(input) >= p).to(input.dtype) / (1 - p)
    if inplace:
        input.copy_(out)
    return out


@wrong("dropout", "calls torch.nn.functional.dropout")
def dropout(input, p=0.5, training=True, inplace=False):
    return torch.nn.functional.dropout(input, p, training, inplace)


@wrong("dropout", "calls torch.nn.Dropout")
def dropout(input, p=0.5, training=True, inplace=False):
    layer = nn.Dropout(p, inplace)
    layer.train(training)
    return layer(input)


@wrong("dropout", "calls the private kernel torch.native_dropout")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return input
    out = torch.native_dropout(input, p, True)[0]
    return input.copy_(out) if inplace else out


# ---------------------------------------------------------------- dropout: correct


@correct("dropout", "torch.rand_like(input) < 1 - p, multiplied by the scale")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    mask = (torch.rand_like(input) < 1 - p).to(input.dtype)
    return input.mul_(mask).div_(1 - p) if inplace else input * mask / (1 - p)


@correct("dropout", "torch.bernoulli of a tensor full of 1 - p")
def dropout(input, p=0.5, training=True, inplace=False):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p = {p} is not a probability")
    if not training:
        return input
    keep = torch.bernoulli(torch.full_like(input, 1.0 - p))
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    result = input * keep * scale
    return input.copy_(result) if inplace else result


@correct("dropout", "torch.empty_like(input).bernoulli_(1 - p)")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input.zero_() if inplace else torch.zeros_like(input)
    noise = torch.empty_like(input).bernoulli_(1 - p).div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


@correct("dropout", "masked_fill of the dropped elements, then division")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    drop = torch.rand(input.shape, dtype=input.dtype, device=input.device) >= 1.0 - p
    if inplace:
        return input.masked_fill_(drop, 0.0).div_(1.0 - p) if p < 1 else input.zero_()
    return input.masked_fill(drop, 0.0) / (1.0 - p) if p < 1 else torch.zeros_like(input)


@correct("dropout", "torch.where on the mask, returning a clone in eval")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input if inplace else input.clone()
    keep = torch.rand_like(input) >= p
    out = torch.where(keep, input / (1.0 - p), torch.zeros((), dtype=input.dtype)) if p < 1 else input * 0
    return input.copy_(out) if inplace else out


@correct("dropout", "multiplies by the precomputed scale 1/(1-p), as PyTorch's CPU kernel")
def dropout(input, p=0.5, training=True, inplace=False):
    if not (0 <= p <= 1):
        raise ValueError("dropout probability has to be between 0 and 1, but got " + str(p))
    if not training or p == 0:
        return input
    if p == 1:
        return input.mul_(torch.zeros(())) if inplace else input * torch.zeros((), dtype=input.dtype)
    noise = torch.rand_like(input).ge_(p).to(input.dtype).mul_(1 / (1 - p))
    return input.mul_(noise) if inplace else input * noise


@correct("dropout", "indexing: zero the dropped elements of a clone")
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0 or p > 1:
        raise ValueError(f"invalid dropout probability {p}")
    if not training or p == 0:
        return input
    out = input if inplace else input.clone()
    drop = torch.rand_like(input) < p
    with torch.no_grad():
        out[drop] = 0
    if p < 1:
        out /= 1 - p
    return out


# ---------------------------------------------------------------- Dropout


@wrong("Dropout", "ignores self.training: drops in eval too")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return dropout(input, self.p, True, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


@wrong("Dropout", "a mode flag of its own, set in __init__, that eval() never changes")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace
        self.is_training = True

    def forward(self, input):
        return dropout(input, self.p, self.is_training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


@wrong("Dropout", "the mask is drawn once, in the first forward, and reused")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace
        self.mask = None

    def forward(self, input):
        if not self.training:
            return input
        if self.mask is None or self.mask.shape != input.shape:
            self.mask = (torch.rand_like(input) >= self.p).to(input.dtype) / (1 - self.p)
        return input * self.mask

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


@wrong("Dropout", "no check of p in __init__")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return dropout(input, min(max(self.p, 0.0), 1.0), self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


@wrong("Dropout", "no extra_repr: prints Dropout()")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)


@wrong("Dropout", "stores the keep probability 1 - p as self.p")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = 1 - p, inplace

    def forward(self, input):
        return dropout(input, 1 - self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


@wrong("Dropout", "p registered as an nn.Parameter")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.inplace = inplace
        self.rate = nn.Parameter(torch.tensor(float(p)), requires_grad=False)

    @property
    def p(self):
        return float(self.rate)

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


@wrong("Dropout", "subclasses nn.Dropout")
class Dropout(nn.Dropout):
    pass


@correct("Dropout", "calls the lesson's dropout with self.training")
class Dropout(nn.Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x):
        return dropout(x, p=self.p, training=self.training, inplace=self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


@correct("Dropout", "its own mask in forward, with bernoulli")
class Dropout(nn.Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability, got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        if not self.training or self.p == 0:
            return input
        keep = torch.bernoulli(torch.full_like(input, 1 - self.p))
        out = input * keep / (1 - self.p) if self.p < 1 else input * 0
        return input.copy_(out) if self.inplace else out

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


# ---------------------------------------------------------------- early_stopping_epoch


@wrong("early_stopping_epoch", "off by one: stops when the counter exceeds patience")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait > patience:
                return epoch, best_epoch
    return None, best_epoch


@wrong("early_stopping_epoch", "restores the last epoch instead of the best")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, wait = math.inf, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, wait = loss, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, epoch
    return None, len(val_losses) - 1


@wrong("early_stopping_epoch", "non-strict improvement: loss <= best - min_delta")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss <= best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


@wrong("early_stopping_epoch", "the best epoch is the argmin of the whole list (peeks past the stop)")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, wait, stop = math.inf, 0, None
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, wait = loss, 0
        else:
            wait += 1
            if wait >= patience:
                stop = epoch
                break
    finite = [i for i, v in enumerate(val_losses) if not math.isnan(v)]
    return stop, (min(finite, key=lambda i: val_losses[i]) if finite else None)


@wrong("early_stopping_epoch", "compares with the previous epoch, not the best so far")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    previous, best, best_epoch, wait = math.inf, math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < previous - min_delta:
            wait = 0
            if loss < best:
                best, best_epoch = loss, epoch
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
        previous = loss
    return None, best_epoch


@wrong("early_stopping_epoch", "the counter is not reset by an improvement")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch = loss, epoch
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


@wrong("early_stopping_epoch", "min_delta on the wrong side: loss < best + min_delta")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best + min_delta:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


@wrong("early_stopping_epoch", "NaN counted as an improvement (not loss >= best - min_delta)")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss >= best - min_delta:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
        else:
            best, best_epoch, wait = loss, epoch, 0
    return None, best_epoch


@wrong("early_stopping_epoch", "epochs counted from 1")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


@wrong("early_stopping_epoch", "never fires with patience 0 (while wait < patience loop)")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0 or patience < 0 or min_delta < 0:
        raise ValueError("need at least one loss, patience >= 0 and min_delta >= 0")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if patience > 0 and wait == patience:
                return epoch, best_epoch
    return None, best_epoch


@wrong("early_stopping_epoch", "no ValueError: an empty list returns (None, None)")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


@correct("early_stopping_epoch", "epochs since the best, computed from the best epoch's index")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if not len(val_losses):
        raise ValueError("no validation losses")
    if patience < 0:
        raise ValueError(f"patience must be >= 0, got {patience}")
    if min_delta < 0:
        raise ValueError(f"min_delta must be >= 0, got {min_delta}")
    best_epoch, since = None, 0
    for epoch, loss in enumerate(val_losses):
        reference = val_losses[best_epoch] if best_epoch is not None else math.inf
        if loss < reference - min_delta:
            best_epoch = epoch
            since = 0
        else:
            since += 1
            if since >= patience:
                return (epoch, best_epoch)
    return (None, best_epoch)


@correct("early_stopping_epoch", "a while loop over indices, with float('inf')")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if len(val_losses) < 1 or patience < 0 or min_delta < 0:
        raise ValueError("empty history, or a negative patience or min_delta")
    best_loss, best_epoch, stale, epoch = float("inf"), None, 0, 0
    while epoch < len(val_losses):
        loss = float(val_losses[epoch])
        improved = loss < best_loss - min_delta
        stale = 0 if improved else stale + 1
        if improved:
            best_loss, best_epoch = loss, epoch
        elif stale >= patience:
            break
        epoch += 1
    else:
        return None, best_epoch
    return epoch, best_epoch


@correct("early_stopping_epoch", "a class-like state kept in a dict")
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    if patience < 0 or min_delta < 0 or len(val_losses) == 0:
        raise ValueError(f"bad arguments: {len(val_losses)} losses, patience {patience}, min_delta {min_delta}")
    state = {"best": math.inf, "epoch": None, "bad": 0}
    for i, v in enumerate(val_losses):
        if math.isnan(v) or not v < state["best"] - min_delta:
            state["bad"] += 1
            if state["bad"] >= patience:
                return i, state["epoch"]
            continue
        state.update(best=v, epoch=i, bad=0)
    return None, state["epoch"]
