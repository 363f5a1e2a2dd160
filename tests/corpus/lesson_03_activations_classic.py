"""Lesson 03, part 1 (sigmoid, tanh, ReLU, LeakyReLU): wrong answers students plausibly write, and other correct ones.

Names such as ``sigmoid`` or ``leaky_relu`` inside a variant are the lesson's own (the reference solution's),
since each variant runs in the notebook's namespace in place of one exercise.
"""

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "03_activations"
MINIMUM = (14, 5)  # wrong, correct

# ---------------------------------------------------------------- sigmoid


@wrong("sigmoid", "exp(x) / (1 + exp(x)) is inf/inf = nan for x > 88.7")
def sigmoid(x):
    return torch.exp(x) / (1 + torch.exp(x))


@wrong("sigmoid", "torch's own kernel through an operator overload: torch.ops.aten.sigmoid.default")
def sigmoid(x):
    return torch.ops.aten.sigmoid.default(x)


@wrong("sigmoid", "the two-class softmax: softmax([x, 0])[0], torch doing the stable part")
def sigmoid(x):
    return torch.softmax(torch.stack([x, torch.zeros_like(x)]), 0)[0]


@wrong("sigmoid", "sign flipped in the exponent: computes sigmoid(-x)")
def sigmoid(x):
    return 1 / (1 + torch.exp(x))


@wrong("sigmoid", "computes in float64 and forgets to cast back: float64 out for float32 in")
def sigmoid(x):
    x = x.double()
    return 1 / (1 + torch.exp(-x))


@wrong("sigmoid", "a numpy round trip: np.exp overflows with a RuntimeWarning at -1e4")
def sigmoid(x):
    import numpy as np

    return torch.from_numpy(1 / (1 + np.exp(-x.numpy())))


@wrong("sigmoid", "calls the Tensor method x.sigmoid()")
def sigmoid(x):
    return x.sigmoid()


@wrong("sigmoid", "chains in-place operations on the caller's tensor")
def sigmoid(x):
    return 1 / (1 + x.neg_().exp_())


@correct("sigmoid", "the plain 1 / (1 + exp(-x)): 1/inf = 0 is harmless")
def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


@correct("sigmoid", "float64 internals cast back to the input's dtype")
def sigmoid(x):
    return (1 / (1 + torch.exp(-x.double()))).to(x.dtype)


@correct("sigmoid", "log-sum-exp form exp(-logaddexp(0, -x))")
def sigmoid(x):
    return torch.exp(-torch.logaddexp(torch.zeros_like(x), -x))


@correct("sigmoid", "boolean masks filling a new tensor, one safe formula per sign")
def sigmoid(x):
    out = torch.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + torch.exp(-x[pos]))
    e = torch.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out


@correct("sigmoid", "right values with a debugging warnings.warn('debug') each call: noise, not a numerical warning")
def sigmoid(x):
    import warnings

    warnings.warn("debug", stacklevel=2)
    return torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))


@wrong("sigmoid", "right values through numpy float64, whose exp overflows for x < -709 (a numerical warning)")
def sigmoid(x):
    import numpy as np

    return torch.as_tensor(1 / (1 + np.exp(-x.detach().numpy().astype("float64"))), dtype=x.dtype)


# ---------------------------------------------------------------- sigmoid_grad


@wrong("sigmoid_grad", "naive exp(-x) / (1 + exp(-x))**2 overflows to nan")
def sigmoid_grad(x):
    return torch.exp(-x) / (1 + torch.exp(-x)) ** 2


@wrong("sigmoid_grad", "x * (1 - x): the formula applied to the input instead of the output")
def sigmoid_grad(x):
    return x * (1 - x)


@wrong("sigmoid_grad", "central finite differences in float32")
def sigmoid_grad(x):
    h = 1e-3
    return (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)  # noqa: F821


@wrong("sigmoid_grad", "finite differences in float64 with a tiny step, cast back")
def sigmoid_grad(x):
    h, xd = 1e-6, x.double()
    return ((sigmoid(xd + h) - sigmoid(xd - h)) / (2 * h)).to(x.dtype)  # noqa: F821


@wrong("sigmoid_grad", "autograd instead of the formula")
def sigmoid_grad(x):
    x = x.detach().clone().requires_grad_(True)
    sigmoid(x).sum().backward()  # noqa: F821
    return x.grad


@wrong("sigmoid_grad", "uses torch.sigmoid")
def sigmoid_grad(x):
    s = torch.sigmoid(x)
    return s * (1 - s)


@correct("sigmoid_grad", "even function: exp(-|x|) / (1 + exp(-|x|))**2")
def sigmoid_grad(x):
    e = torch.exp(-x.abs())
    return e / (1 + e) ** 2


@correct("sigmoid_grad", "sigmoid(x) * sigmoid(-x)")
def sigmoid_grad(x):
    return sigmoid(x) * sigmoid(-x)  # noqa: F821


# ---------------------------------------------------------------- SigmoidFunction


@wrong("SigmoidFunction", "backward forgets the factor (1 - s)")
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = sigmoid(x)  # noqa: F821
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s


@wrong("SigmoidFunction", "backward forgets to multiply by grad_output")
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = sigmoid(x)  # noqa: F821
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return s * (1 - s)


@wrong("SigmoidFunction", "saves the input and uses it as if it were the output")
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return sigmoid(x)  # noqa: F821

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x * (1 - x)


@wrong("SigmoidFunction", "saves the input and recomputes the sigmoid in backward")
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return sigmoid(x)  # noqa: F821

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)  # noqa: F821
        return grad_output * s * (1 - s)


@wrong("SigmoidFunction", "keeps the output as a ctx attribute instead of save_for_backward")
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.s = sigmoid(x)  # noqa: F821
        return ctx.s

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.s * (1 - ctx.s)


@wrong("SigmoidFunction", "forward calls torch.sigmoid")
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


@correct("SigmoidFunction", "stable forward written inline, backward as grad_output * (s - s * s)")
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * (s - s * s)


# ---------------------------------------------------------------- tanh


@wrong("tanh", "textbook (e^x - e^-x) / (e^x + e^-x) is inf/inf = nan for |x| > 88.7")
def tanh(x):
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))


@wrong("tanh", "(1 - e^-2x) / (1 + e^-2x) overflows for large negative x")
def tanh(x):
    e = torch.exp(-2 * x)
    return (1 - e) / (1 + e)


@wrong("tanh", "2 * sigmoid(x) - 1: the argument is not doubled")
def tanh(x):
    e = torch.exp(-x.abs())
    s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return 2 * s - 1


@wrong("tanh", "calls torch.tanh")
def tanh(x):
    return torch.tanh(x)


@wrong("tanh", "uses PyTorch's sigmoid in the identity")
def tanh(x):
    return 2 * torch.sigmoid(2 * x) - 1


@correct("tanh", "2 * sigmoid(2x) - 1 with a stable sigmoid of its own")
def tanh(x):
    def stable_sigmoid(z):
        e = torch.exp(-z.abs())
        return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))

    return 2 * stable_sigmoid(2 * x) - 1


@correct("tanh", "expm1 form, odd symmetry by sign(x)")
def tanh(x):
    m = torch.expm1(-2 * x.abs())
    return -torch.sign(x) * m / (2 + m)


@correct("tanh", "float64 internals cast back, torch.where on the sign")
def tanh(x):
    xd = x.double()
    e = torch.exp(-2 * xd.abs())
    t = (1 - e) / (1 + e)
    return torch.where(xd >= 0, t, -t).to(x.dtype)


# ---------------------------------------------------------------- tanh_grad


@wrong("tanh_grad", "1 - tanh(x): the square is missing")
def tanh_grad(x):
    return 1 - tanh(x)  # noqa: F821


@wrong("tanh_grad", "1 - x**2: the formula applied to the input")
def tanh_grad(x):
    return 1 - x**2


@wrong("tanh_grad", "quotient rule with e^x left in: inf - inf = nan")
def tanh_grad(x):
    c, s = torch.exp(x) + torch.exp(-x), torch.exp(x) - torch.exp(-x)
    return (c**2 - s**2) / c**2


@wrong("tanh_grad", "central finite differences in float32")
def tanh_grad(x):
    h = 1e-3
    return (tanh(x + h) - tanh(x - h)) / (2 * h)  # noqa: F821


@wrong("tanh_grad", "uses torch.tanh")
def tanh_grad(x):
    return 1 - torch.tanh(x) ** 2


@wrong("tanh_grad", "torch.func: vmap of grad of the lesson's tanh")
def tanh_grad(x):
    return torch.func.vmap(torch.func.grad(tanh))(x.reshape(-1)).reshape(x.shape)  # noqa: F821


@wrong("tanh_grad", "torch's own backward kernel: torch.ops.aten.tanh_backward")
def tanh_grad(x):
    return torch.ops.aten.tanh_backward(torch.ones_like(x), tanh(x))  # noqa: F821


@correct("tanh_grad", "sech^2 as 4 / (e^x + e^-x)^2: 4/inf = 0 is harmless")
def tanh_grad(x):
    return 4 / (torch.exp(x) + torch.exp(-x)) ** 2


@correct("tanh_grad", "(1 - t)(1 + t) with t = tanh(x)")
def tanh_grad(x):
    t = tanh(x)  # noqa: F821
    return (1 - t) * (1 + t)


# ---------------------------------------------------------------- relu


@wrong("relu", "in-place x.clamp_(min=0) changes the caller's tensor")
def relu(x):
    return x.clamp_(min=0)


@wrong("relu", "in-place x[x < 0] = 0 changes the caller's tensor")
def relu(x):
    x[x < 0] = 0
    return x


@wrong("relu", "calls F.relu")
def relu(x):
    return nn.functional.relu(x)


@wrong("relu", "clamp(x, 0, 1) also caps the positives")
def relu(x):
    return torch.clamp(x, 0, 1)


@wrong("relu", ".float() returns float32 for a float64 input")
def relu(x):
    return torch.clamp(x, min=0).float()


# (x + |x|) / 2, x * (x > 0) and torch.where(x > 0, x, 0.0) moved to lesson_03_activations_principles.py as wrong:
# NaN and ±inf (issue 12, part 6)


@correct("relu", "torch.maximum with a zero tensor")
def relu(x):
    return torch.maximum(x, torch.zeros_like(x))


# ---------------------------------------------------------------- relu_grad


@wrong("relu", "ELU with alpha = 0 is ReLU: the library's activation, set to be ReLU")
def relu(x):
    return torch.nn.functional.elu(x, alpha=0.0)


@wrong("relu", "PReLU with a zero weight is ReLU")
def relu(x):
    return torch.nn.functional.prelu(x, torch.zeros(1, dtype=x.dtype))


@wrong("relu_grad", "derivative 1 at x = 0 (x >= 0)")
def relu_grad(x):
    return (x >= 0).to(x.dtype)


@wrong("relu_grad", "returns the boolean mask itself")
def relu_grad(x):
    return x > 0


@wrong("relu_grad", ".float() returns float32 for a float64 input")
def relu_grad(x):
    return (x > 0).float()


@wrong("relu_grad", "sign(x): -1 for negative inputs")
def relu_grad(x):
    return torch.sign(x)


@wrong("relu_grad", "forward-mode autograd: torch.func.jvp with a tangent of ones")
def relu_grad(x):
    return torch.func.jvp(relu, (x,), (torch.ones_like(x),))[1]  # noqa: F821


@correct("relu_grad", "torch.where(x > 0, 1.0, 0.0) cast to x's dtype")
def relu_grad(x):
    return torch.where(x > 0, 1.0, 0.0).to(x.dtype)


@correct("relu_grad", "heaviside with value 0 at the kink")
def relu_grad(x):
    return torch.heaviside(x, torch.zeros_like(x))


# ---------------------------------------------------------------- leaky_relu


@wrong("leaky_relu", "slope applied to the positives")
def leaky_relu(x, negative_slope=0.01):
    return torch.where(x > 0, negative_slope * x, x)


@wrong("leaky_relu", "ignores the negative_slope argument")
def leaky_relu(x, negative_slope=0.01):
    return torch.where(x > 0, x, 0.01 * x)


@wrong("leaky_relu", "negative inputs become the constant slope")
def leaky_relu(x, negative_slope=0.01):
    return torch.where(x > 0, x, torch.full_like(x, negative_slope))


@wrong("leaky_relu", "calls F.leaky_relu")
def leaky_relu(x, negative_slope=0.01):
    return nn.functional.leaky_relu(x, negative_slope)


@wrong("leaky_relu", "in-place x[x < 0] *= negative_slope changes the caller's tensor")
def leaky_relu(x, negative_slope=0.01):
    x[x < 0] *= negative_slope
    return x


@wrong("leaky_relu", "torch.maximum(x, negative_slope * x): wrong for a slope above 1, which PyTorch allows")
def leaky_relu(x, negative_slope=0.01):
    return torch.maximum(x, negative_slope * x)


@correct("leaky_relu", "positive part plus slope times negative part, by clamp")
def leaky_relu(x, negative_slope=0.01):
    return torch.clamp(x, min=0) + negative_slope * torch.clamp(x, max=0)


# ---------------------------------------------------------------- leaky_relu_grad


@wrong("leaky_relu", "a randomized-ReLU kernel in eval mode: torch.ops.aten.rrelu_with_noise")
def leaky_relu(x, negative_slope=0.01):
    noise = torch.zeros_like(x)
    return torch.ops.aten.rrelu_with_noise(x, noise, negative_slope, negative_slope, False)


@wrong("leaky_relu_grad", "slope 1 at x = 0 (x >= 0)")
def leaky_relu_grad(x, negative_slope=0.01):
    return torch.where(x >= 0, torch.ones_like(x), torch.full_like(x, negative_slope))


@wrong("leaky_relu_grad", "ignores the negative_slope argument")
def leaky_relu_grad(x, negative_slope=0.01):
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01))


@wrong("leaky_relu_grad", "torch.where on Python numbers returns float32 for a float64 input")
def leaky_relu_grad(x, negative_slope=0.01):
    return torch.where(x > 0, 1.0, negative_slope)


@wrong("leaky_relu_grad", "slopes swapped")
def leaky_relu_grad(x, negative_slope=0.01):
    return torch.where(x > 0, torch.full_like(x, negative_slope), torch.ones_like(x))


@correct("leaky_relu_grad", "1 - (1 - slope) * (x <= 0), in x's dtype")
def leaky_relu_grad(x, negative_slope=0.01):
    return 1 - (1 - negative_slope) * (x <= 0).to(x.dtype)


# ---------------------------------------------------------------- LeakyReLU


@wrong("LeakyReLU", "forward ignores the module's slope")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        out = leaky_relu(input)  # noqa: F821
        return input.copy_(out) if self.inplace else out


@wrong("LeakyReLU", "slope stored as a trainable nn.Parameter (that is PReLU)")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = nn.Parameter(torch.tensor(negative_slope))
        self.inplace = inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope.item()}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        out = leaky_relu(input, self.negative_slope)  # noqa: F821
        return input.copy_(out) if self.inplace else out


@wrong("LeakyReLU", "no extra_repr: prints as LeakyReLU()")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        out = leaky_relu(input, self.negative_slope)  # noqa: F821
        return input.copy_(out) if self.inplace else out


@wrong("LeakyReLU", "extra_repr always shows inplace")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}, inplace={self.inplace}"

    def forward(self, input):
        out = leaky_relu(input, self.negative_slope)  # noqa: F821
        return input.copy_(out) if self.inplace else out


@wrong("LeakyReLU", "wraps nn.LeakyReLU")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace
        self.inner = nn.LeakyReLU(negative_slope, inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        return self.inner(input)


@wrong("LeakyReLU", "accepts inplace but never works in place")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        return leaky_relu(input, self.negative_slope)  # noqa: F821


@wrong("LeakyReLU", "always in place, even with inplace=False")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")

    def forward(self, input):
        return input.copy_(leaky_relu(input, self.negative_slope))  # noqa: F821


@correct("LeakyReLU", "in place by scaling the negative entries, torch.where otherwise")
class LeakyReLU(nn.Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def extra_repr(self):
        text = f"negative_slope={self.negative_slope}"
        return text + ", inplace=True" if self.inplace else text

    def forward(self, input):
        if self.inplace:
            input[input < 0] *= self.negative_slope
            return input
        return torch.where(input > 0, input, self.negative_slope * input)
