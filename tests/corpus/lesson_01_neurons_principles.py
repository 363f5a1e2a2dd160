"""Lesson 01 — the neuron, by principle (issue 12, part 6): every argument varied, every convention at its edge,
every result checked by the use it gets (a layer is trained, a layer may have no bias, a batch may be a view)."""

import math

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "01_neurons/01_neurons.ipynb"
MINIMUM = (8, 4)  # wrong, correct

# ---------------------------------------------------------------- every argument varied


@wrong("linear", "float32 forced: a float64 batch comes back float32")
def linear(input, weight, bias=None):
    out = input.float() @ weight.float().T
    return out if bias is None else out + bias.float()


@wrong("linear", "flattened with view: fails on a non-contiguous batch (a transposed or sliced input)")
def linear(input, weight, bias=None):
    flat = input.view(-1, input.shape[-1]) @ weight.T
    out = flat.view(*input.shape[:-1], weight.shape[0])
    return out if bias is None else out + bias


@correct("linear", "flattened with reshape, which copies a non-contiguous batch when it must")
def linear(input, weight, bias=None):
    flat = input.reshape(-1, input.shape[-1]) @ weight.T
    out = flat.reshape(*input.shape[:-1], weight.shape[0])
    return out if bias is None else out + bias


# ---------------------------------------------------------------- what a layer returns is trained


@wrong("Linear", "forward uses the weights' .data: the output is cut off from the parameters, nothing trains")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-k, k)) if bias else None

    def forward(self, input):
        return linear(input, self.weight.data, None if self.bias is None else self.bias.data)  # noqa: F821


@wrong("Linear", "forward adds self.bias unconditionally: Linear(..., bias=False) crashes on its first batch")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-k, k)) if bias else None

    def forward(self, input):
        return input @ self.weight.T + self.bias


@wrong("Linear", "forward by torch.addmm: only a 2-D batch works, a (batch, time, features) input fails")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-k, k)) if bias else None

    def forward(self, input):
        if self.bias is None:
            return input.mm(self.weight.t())
        return torch.addmm(self.bias, input, self.weight.t())


@wrong("Linear", "forward casts the batch to float32: a layer made float64 by .double() returns float32")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-k, k)) if bias else None

    def forward(self, input):
        return linear(input.float(), self.weight.float(), None if self.bias is None else self.bias.float())  # noqa: F821


@wrong("Linear", "the bias drawn from U(-1/sqrt(out), 1/sqrt(out)): out_features read for in_features")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        kb = 1.0 / math.sqrt(out_features)
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-kb, kb)) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)  # noqa: F821


@correct("Linear", "parameters filled in place with torch.rand, forward with torch.matmul and a bias check")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(2 * k * torch.rand(out_features, in_features) - k)
        if bias:
            self.bias = nn.Parameter(2 * k * torch.rand(out_features) - k)
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        out = torch.matmul(input, self.weight.transpose(0, 1))
        return out if self.bias is None else out + self.bias


# ---------------------------------------------------------------- count_parameters, collapse_linear_stack: any dtype


@correct("count_parameters", "named_parameters, which lists a shared tensor once")
def count_parameters(model):
    return sum(p.numel() for _, p in model.named_parameters() if p.requires_grad)


@wrong("collapse_linear_stack", "identity and zeros in the default dtype: float64 layers cannot be composed")
def collapse_linear_stack(layers):
    n = layers[0].weight.shape[1]
    W, b = torch.eye(n), torch.zeros(n)
    for layer in layers:
        W = layer.weight @ W
        b = layer.weight @ b + (0 if layer.bias is None else layer.bias)
    return W.detach(), b.detach()


@correct("collapse_linear_stack", "the layers applied to the identity (columns) and to zero (the bias), no_grad")
def collapse_linear_stack(layers):
    n = layers[0].weight.shape[1]
    with torch.no_grad():
        x = torch.eye(n, dtype=layers[0].weight.dtype)
        zero = torch.zeros(1, n, dtype=layers[0].weight.dtype)
        for layer in layers:
            x = x @ layer.weight.T
            zero = zero @ layer.weight.T + (0 if layer.bias is None else layer.bias)
        b = zero[0]
        return x.T, b
