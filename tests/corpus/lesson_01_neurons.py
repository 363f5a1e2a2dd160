"""Lesson 01 — the neuron: wrong answers students plausibly write, and other correct ones."""

import math

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "01_neurons/01_neurons.ipynb"
MINIMUM = (10, 3)  # wrong, correct

# ---------------------------------------------------------------- neuron


@wrong("neuron", "bias forgotten")
def neuron(x, w, b, activation):
    return activation(x @ w)


@wrong("neuron", "activation applied before the bias")
def neuron(x, w, b, activation):
    return activation(x @ w) + b


@wrong("neuron", "bias added to each input instead of once per sample")
def neuron(x, w, b, activation):
    return activation((x + b) @ w)


@wrong("neuron", "result kept as a column (N, 1)")
def neuron(x, w, b, activation):
    return activation(x @ w[:, None] + b)


@wrong("neuron", "activation ignored")
def neuron(x, w, b, activation):
    return x @ w + b


@correct("neuron", "elementwise product summed over features")
def neuron(x, w, b, activation):
    return activation((x * w).sum(dim=1) + b)


@correct("neuron", "einsum")
def neuron(x, w, b, activation):
    return activation(torch.einsum("nd,d->n", x, w) + b)


# ---------------------------------------------------------------- linear


@wrong("linear", "weight not transposed")
def linear(input, weight, bias=None):
    out = input @ weight
    return out if bias is None else out + bias


@wrong("linear", "torch.mm only handles 2-D inputs")
def linear(input, weight, bias=None):
    out = torch.mm(input, weight.t())
    return out if bias is None else out + bias


@wrong("linear", "calls F.linear")
def linear(input, weight, bias=None):
    return nn.functional.linear(input, weight, bias)


@wrong("linear", "bias ignored")
def linear(input, weight, bias=None):
    return input @ weight.T


@wrong("linear", "crashes when bias is None")
def linear(input, weight, bias=None):
    return input @ weight.T + bias


@wrong("linear", "bias broadcast along the batch instead of the features")
def linear(input, weight, bias=None):
    out = input @ weight.T
    return out if bias is None else out + bias[:, None].sum()


@wrong("linear", "F.linear with PyTorch's function modes switched off, to hide the call")
def linear(input, weight, bias=None):
    import torch.nn.functional as F

    with torch._C.DisableTorchFunction():
        return F.linear(input, weight, bias)


@correct("linear", "matmul with transpose(-1, -2)")
def linear(input, weight, bias=None):
    out = torch.matmul(input, weight.transpose(-1, -2))
    if bias is not None:
        out = torch.add(out, bias)
    return out


@correct("linear", "einsum over any leading dims")
def linear(input, weight, bias=None):
    out = torch.einsum("...i,oi->...o", input, weight)
    return out + bias if bias is not None else out


# ---------------------------------------------------------------- Linear


@wrong("Linear", "wraps nn.Linear")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.inner = nn.Linear(in_features, out_features, bias)
        self.weight, self.bias = self.inner.weight, self.inner.bias

    def forward(self, input):
        return self.inner(input)


@wrong("Linear", "weight stored as (in, out)")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        k = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(in_features, out_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-k, k)) if bias else None

    def forward(self, input):
        out = input @ self.weight
        return out if self.bias is None else out + self.bias


@wrong("Linear", "standard normal initialisation")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.randn(out_features)) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)  # noqa: F821 - the lesson's linear


@wrong("Linear", "bound 1/in_features instead of 1/sqrt(in_features)")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        k = 1 / in_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-k, k)) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)  # noqa: F821


@wrong("Linear", "plain tensors instead of nn.Parameter")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        k = 1 / math.sqrt(in_features)
        self.weight = torch.empty(out_features, in_features).uniform_(-k, k)
        self.bias = torch.empty(out_features).uniform_(-k, k) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)  # noqa: F821


@wrong("Linear", "a fixed seed inside __init__")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        torch.manual_seed(0)
        k = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-k, k)) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)  # noqa: F821


@wrong("Linear", "zero bias even when bias=True is asked to be initialised like nn.Linear")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        k = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-k, k))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)  # noqa: F821


@correct("Linear", "rand scaled to [-k, k], bias attribute set to None")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        k = in_features**-0.5
        self.weight = nn.Parameter(torch.rand(out_features, in_features) * 2 * k - k)
        self.bias = nn.Parameter(torch.rand(out_features) * 2 * k - k) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)  # noqa: F821


@correct("Linear", "empty parameters filled in place under no_grad")
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        k = 1 / math.sqrt(in_features)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-k, k)

    def forward(self, input):
        out = input @ self.weight.T
        return out + self.bias if self.bias is not None else out


# ---------------------------------------------------------------- MLP


@wrong("MLP", "activation after the output layer too")
class MLP(nn.Module):
    def __init__(self, sizes, activation=nn.ReLU):
        super().__init__()
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), activation()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLP", "layers kept in a plain Python list")
class MLP(nn.Module):
    def __init__(self, sizes, activation=nn.ReLU):
        super().__init__()
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.act = activation()

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == 0 else layer(self.act(x))
        return x


@wrong("MLP", "activation argument ignored")
class MLP(nn.Module):
    def __init__(self, sizes, activation=nn.ReLU):
        super().__init__()
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers += [nn.ReLU()] if i else []
            layers.append(nn.Linear(n_in, n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLP", "no activations at all")
class MLP(nn.Module):
    def __init__(self, sizes, activation=nn.ReLU):
        super().__init__()
        self.net = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])

    def forward(self, x):
        return self.net(x)


@correct("MLP", "nn.ModuleList with the activation applied in forward")
class MLP(nn.Module):
    def __init__(self, sizes, activation=nn.ReLU):
        super().__init__()
        self.layers = nn.ModuleList(Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))  # noqa: F821
        self.act = activation()

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
        return self.layers[-1](x)


# ---------------------------------------------------------------- count_parameters


@wrong("count_parameters", "counts parameter tensors, not numbers")
def count_parameters(model):
    return len(list(model.parameters()))


@wrong("count_parameters", "frozen parameters counted")
def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


@wrong("count_parameters", "returns a tensor")
def count_parameters(model):
    return torch.tensor([p.numel() for p in model.parameters() if p.requires_grad]).sum()


@wrong("count_parameters", "sums layer by layer, so a shared layer counts twice")
def count_parameters(model):
    layers = list(model) if isinstance(model, nn.Sequential) else [model]
    return sum(p.numel() for layer in layers for p in layer.parameters() if p.requires_grad)


@correct("count_parameters", "math.prod of shapes")
def count_parameters(model):
    return sum(math.prod(p.shape) for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------- collapse_linear_stack


@wrong("collapse_linear_stack", "weights multiplied in the wrong order")
def collapse_linear_stack(layers):
    W = layers[0].weight
    b = layers[0].bias if layers[0].bias is not None else torch.zeros(W.shape[0])
    for layer in layers[1:]:
        W = W.T @ layer.weight.T if W.shape[0] != layer.weight.shape[1] else W @ layer.weight
        b = layer.weight @ b + (layer.bias if layer.bias is not None else 0)
    return W.detach(), b.detach()


@wrong("collapse_linear_stack", "biases summed without passing through later weights")
def collapse_linear_stack(layers):
    W = layers[0].weight
    b = torch.zeros(layers[-1].weight.shape[0])
    for layer in layers[1:]:
        W = layer.weight @ W
    for layer in layers:
        if layer.bias is not None:
            b = b + layer.bias.sum() * 0 + (layer.bias if layer.bias.shape == b.shape else 0)
    return W.detach(), b.detach()


@wrong("collapse_linear_stack", "None as the bias when no layer has one")
def collapse_linear_stack(layers):
    W, b = layers[0].weight, layers[0].bias
    for layer in layers[1:]:
        W = layer.weight @ W
        if b is not None:
            b = layer.weight @ b
        if layer.bias is not None:
            b = layer.bias if b is None else b + layer.bias
    return W.detach(), (b.detach() if b is not None else None)


@correct("collapse_linear_stack", "push the identity and zero through the layers")
def collapse_linear_stack(layers):
    n, dtype = layers[0].weight.shape[1], layers[0].weight.dtype  # the layers' dtype (float64 layers are tested)
    with torch.no_grad():
        out_zero = torch.zeros(1, n, dtype=dtype)
        out_eye = torch.eye(n, dtype=dtype)
        for layer in layers:
            out_zero, out_eye = layer(out_zero), layer(out_eye)
    b = out_zero[0]
    return (out_eye - b).T.contiguous(), b
