"""Lesson 03 — activations, by principle (issue 12, part 6): NaN in gives NaN out and ±inf gives PyTorch's value in
every elementwise activation and derivative (where PyTorch's value is defined), every argument varied, a module's
output checked by the use it gets (a network trains through it)."""

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "03_activations"
MINIMUM = (12, 5)  # wrong, correct

# ---------------------------------------------------------------- NaN in, NaN out; ±inf as PyTorch


@wrong("sigmoid", "masks written into a zeros tensor: a NaN input matches neither mask and comes out 0")
def sigmoid(x):
    out = torch.zeros_like(x)
    pos, neg = x >= 0, x < 0
    out[pos] = 1 / (1 + torch.exp(-x[pos]))
    e = torch.exp(x[neg])
    out[neg] = e / (1 + e)
    return out


@wrong("sigmoid_grad", "cut to 0 beyond |x| > 40, where it underflows anyway: a NaN input comes out 0")
def sigmoid_grad(x):
    s = sigmoid(x)  # noqa: F821
    return torch.where(x.abs() < 40, s * (1 - s), torch.zeros_like(x))


@wrong("tanh", "one stable formula per sign, written by masks into a zeros tensor: NaN matches neither mask, stays 0")
def tanh(x):
    out = torch.zeros_like(x)
    pos, neg = x >= 0, x < 0
    e = torch.exp(-2 * x[pos])
    out[pos] = (1 - e) / (1 + e)
    e = torch.exp(2 * x[neg])
    out[neg] = (e - 1) / (e + 1)
    return out


@wrong("tanh_grad", "cut to 0 beyond |x| > 20: a NaN input comes out 0")
def tanh_grad(x):
    t = tanh(x)  # noqa: F821
    return torch.where(x.abs() < 20, 1 - t * t, torch.zeros_like(x))


@wrong("relu", "torch.where(x > 0, x, 0.0): a NaN input comes out 0, hiding it from every later layer")
def relu(x):
    return torch.where(x > 0, x, 0.0)


@wrong("relu", "(x + |x|) / 2: -inf + inf = nan where relu(-inf) is 0")
def relu(x):
    return (x + x.abs()) / 2


@wrong("relu", "x times the mask x > 0: -inf * 0 = nan where relu(-inf) is 0")
def relu(x):
    return x * (x > 0)


@correct("relu", "torch.where(x < 0, 0.0, x): the comparison that is False for NaN keeps x")
def relu(x):
    return torch.where(x < 0, 0.0, x)


@correct("relu", "torch.where(x > 0, x, 0) with NaN kept: torch.where(x.isnan() | (x > 0), x, 0)")
def relu(x):
    return torch.where(x.isnan() | (x > 0), x, torch.zeros_like(x))


@wrong("leaky_relu", "mask arithmetic x·[x > 0] + slope·x·[x ≤ 0]: inf · 0 = nan where leaky_relu(inf) is inf")
def leaky_relu(x, negative_slope=0.01):
    return x * (x > 0) + negative_slope * x * (x <= 0)


@correct("leaky_relu", "torch.where(x > 0, x, x * negative_slope)")
def leaky_relu(x, negative_slope=0.01):
    return torch.where(x > 0, x, x * negative_slope)


@wrong("softplus_grad", "sigmoid(beta·x) only where beta·x >= -30, 0 below (it underflows anyway): NaN comes out 0")
def softplus_grad(x, beta=1.0, threshold=20.0):
    z = beta * x
    s = 1 / (1 + torch.exp(-z.clamp(min=-30)))
    return torch.where(z > threshold, torch.ones_like(x), torch.where(z >= -30, s, torch.zeros_like(x)))


@wrong("elu", "mask arithmetic x·[x > 0] + alpha·expm1(min(x, 0))·[x ≤ 0]: inf · 0 = nan where elu(inf) is inf")
def elu(x, alpha=1.0):
    return x * (x > 0) + alpha * torch.expm1(x.clamp(max=0)) * (x <= 0)


@wrong("softplus", "the two branches by masks on a zeros tensor: NaN matches neither and comes out 0")
def softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    out = torch.zeros_like(x)
    big, small = z > threshold, z <= threshold
    out[big] = x[big]
    out[small] = (torch.clamp(z[small], min=0) + torch.log1p(torch.exp(-z[small].abs()))) / beta
    return out


@correct("softplus", "max(z, 0) + log1p(exp(-|z|)) everywhere, x where beta·x > threshold: NaN and ±inf pass")
def softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    return torch.where(z > threshold, x, (z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))) / beta)


# ---------------------------------------------------------------- a module is used in a network that trains


@wrong("LeakyReLU", "forward works on input.data: the output is cut off from autograd, nothing before it trains")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        if self.inplace:
            return input.copy_(leaky_relu(input, self.negative_slope))  # noqa: F821
        return leaky_relu(input.data, self.negative_slope)  # noqa: F821


@wrong("LeakyReLU", "forward computes in float32: a float64 network gets float32 activations")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        out = leaky_relu(input.float(), self.negative_slope)  # noqa: F821
        return input.copy_(out) if self.inplace else out


# ---------------------------------------------------------------- softmax: NaN in its slice, -inf a masked class


@wrong("softmax", "one max for the whole tensor, NaN-safe otherwise: a NaN anywhere makes every row NaN")
def softmax(x, dim):
    if x.numel() == 0:
        return torch.empty_like(x)
    e = torch.exp(x - x.max())
    return e / e.sum(dim=dim, keepdim=True)


@wrong("log_softmax", "masked classes dropped before the log: -inf logits become 0 instead of -inf")
def log_softmax(x, dim):
    if x.numel() == 0:
        return torch.empty_like(x)
    finite = torch.where(torch.isinf(x), torch.zeros_like(x), x)
    m = finite.amax(dim=dim, keepdim=True)
    return finite - m - torch.log(torch.exp(finite - m).sum(dim=dim, keepdim=True))


@correct("log_softmax", "x minus the row's log-sum-exp, by amax and log of a sum (masked classes stay -inf)")
def log_softmax(x, dim):
    if x.numel() == 0:
        return x.clone()
    m = x.amax(dim=dim, keepdim=True)
    return x - (m + torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True)))


@wrong("LeakyReLU", "forward by torch.maximum(x, slope·x): right values, but autograd splits the kink's slope in two")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        out = torch.maximum(input, self.negative_slope * input)
        return input.copy_(out) if self.inplace else out


@correct("LeakyReLU", "forward by torch.where on x > 0, slope · x elsewhere (PyTorch's slope at 0)")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        out = torch.where(input > 0, input, input * self.negative_slope)
        return input.copy_(out) if self.inplace else out
