"""Lesson 03, second half (05_softmax, 06_modern): wrong answers students plausibly write, and other correct ones."""

import math

import torch
import torch.nn.functional as F

from corpus import correct, wrong

LESSON = "03_activations"
MINIMUM = (12, 4)  # wrong, correct

# ---------------------------------------------------------------- softmax


@wrong("softmax", "dim argument ignored: always the last dim")
def softmax(x, dim):
    e = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


@wrong("softmax", "no max shift: nan for logits near 1000")
def softmax(x, dim):
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


@wrong("softmax", "one max for the whole tensor: 0 / 0 in a row far below it")
def softmax(x, dim):
    e = torch.exp(x - x.max())
    return e / e.sum(dim=dim, keepdim=True)


@wrong("softmax", "sum without keepdim broadcasts along the wrong axis")
def softmax(x, dim):
    e = torch.exp(x - x.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim)


@wrong("softmax", "normalised over the whole tensor")
def softmax(x, dim):
    e = torch.exp(x - x.max())
    return e / e.sum()


@wrong("softmax", "shifted numerator over an unshifted denominator")
def softmax(x, dim):
    m = x.amax(dim=dim, keepdim=True)
    return torch.exp(x - m) / torch.exp(x).sum(dim=dim, keepdim=True)


@wrong("softmax", "calls torch.softmax")
def softmax(x, dim):
    return torch.softmax(x, dim)


@wrong("softmax", "calls F.softmin of -x")
def softmax(x, dim):
    return F.softmin(-x, dim=dim)


@wrong("softmax", "subtracts the max in place, changing the caller's tensor")
def softmax(x, dim):
    x -= x.amax(dim=dim, keepdim=True)
    e = x.exp()
    return e / e.sum(dim=dim, keepdim=True)


@wrong("softmax", "float64 internals not cast back")
def softmax(x, dim):
    x = x.double()
    e = torch.exp(x - x.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


@correct("softmax", "exp(x - logsumexp(x))")
def softmax(x, dim):
    return torch.exp(x - torch.logsumexp(x, dim=dim, keepdim=True))


@wrong("softmax", "float64 internals cast back, but max over a dim of size 0 raises (PyTorch returns it empty)")
def softmax(x, dim):
    z = x.to(torch.float64)
    e = (z - z.max(dim=dim, keepdim=True).values).exp()
    return (e / e.sum(dim=dim, keepdim=True)).to(x.dtype)


@wrong("softmax", "dim moved to the end and back, but max over a dim of size 0 raises (PyTorch returns it empty)")
def softmax(x, dim):
    z = x.movedim(dim, -1)
    z = z - z.max(-1, keepdim=True).values
    e = torch.exp(z)
    return (e / e.sum(-1, keepdim=True)).movedim(-1, dim)


@correct("softmax", "amax shift; slices of no entry (a dim of size 0) give an empty result, as in PyTorch")
def softmax(x, dim):
    if x.shape[dim] == 0:
        return x.clone()
    e = (x - x.amax(dim, keepdim=True)).exp()
    return e / e.sum(dim, keepdim=True)


# ---------------------------------------------------------------- log_softmax


@wrong("log_softmax", "log of softmax: -inf where a probability underflows")
def log_softmax(x, dim):
    e = torch.exp(x - x.amax(dim=dim, keepdim=True))
    return torch.log(e / e.sum(dim=dim, keepdim=True))


@wrong("log_softmax", "x - log(sum(exp(x))) without the max shift")
def log_softmax(x, dim):
    return x - torch.log(torch.exp(x).sum(dim=dim, keepdim=True))


@wrong("log_softmax", "max subtracted but not added back to the log-sum-exp")
def log_softmax(x, dim):
    m = x.amax(dim=dim, keepdim=True)
    return x - torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True))


@wrong("log_softmax", "calls torch.logsumexp")
def log_softmax(x, dim):
    return x - torch.logsumexp(x, dim=dim, keepdim=True)


@wrong("log_softmax", "calls F.log_softmax")
def log_softmax(x, dim):
    return F.log_softmax(x, dim=dim)


@wrong("log_softmax", "always along dim 0")
def log_softmax(x, dim):
    m = x.amax(dim=0, keepdim=True)
    return x - m - torch.log(torch.exp(x - m).sum(dim=0, keepdim=True))


@wrong("log_softmax", "torch.max(...).values shift added back, but it raises on a dim of size 0 (PyTorch: empty)")
def log_softmax(x, dim):
    m = torch.max(x, dim=dim, keepdim=True).values
    lse = m + torch.log(torch.sum(torch.exp(x - m), dim=dim, keepdim=True))
    return x - lse


@wrong("log_softmax", "float64 internals cast back, but amax over a dim of size 0 raises (PyTorch: empty)")
def log_softmax(x, dim):
    z = x.double()
    z = z - z.amax(dim, keepdim=True)
    return (z - z.exp().sum(dim, keepdim=True).log()).to(x.dtype)


@correct("log_softmax", "x - m - log sum exp(x - m), the max taken only where the slices have entries")
def log_softmax(x, dim):
    if x.shape[dim] == 0:
        return torch.empty_like(x)
    m = x.amax(dim, keepdim=True)
    return x - m - (x - m).exp().sum(dim, keepdim=True).log()


# ---------------------------------------------------------------- softmax_jacobian


@wrong("softmax_jacobian", "diag(s) only")
def softmax_jacobian(x):
    return torch.diag(softmax(x, 0))  # noqa: F821 - the lesson's softmax


@wrong("softmax_jacobian", "diag(s(1 - s)) only, as if softmax were elementwise")
def softmax_jacobian(x):
    s = softmax(x, 0)  # noqa: F821
    return torch.diag(s * (1 - s))


@wrong("softmax_jacobian", "sign flipped: s s^T - diag(s)")
def softmax_jacobian(x):
    s = softmax(x, 0)  # noqa: F821
    return torch.outer(s, s) - torch.diag(s)


@wrong("softmax_jacobian", "diagonal term forgotten: -s s^T")
def softmax_jacobian(x):
    s = softmax(x, 0)  # noqa: F821
    return -torch.outer(s, s)


@wrong("softmax_jacobian", "autograd's jacobian")
def softmax_jacobian(x):
    return torch.autograd.functional.jacobian(lambda t: softmax(t, 0), x)  # noqa: F821


@wrong("softmax_jacobian", "returns the vector of diagonal entries")
def softmax_jacobian(x):
    s = softmax(x, 0)  # noqa: F821
    return s * (1 - s)


@wrong("softmax_jacobian", "torch.func.jacrev of the lesson's softmax")
def softmax_jacobian(x):
    return torch.func.jacrev(lambda t: softmax(t, 0))(x)  # noqa: F821


@wrong("softmax_jacobian", "forward-mode autograd: torch.func.jacfwd of the lesson's softmax")
def softmax_jacobian(x):
    return torch.func.jacfwd(lambda t: softmax(t, 0))(x)  # noqa: F821


@correct("softmax_jacobian", "s_i (delta_ij - s_j) by broadcasting")
def softmax_jacobian(x):
    s = softmax(x, 0)  # noqa: F821
    eye = torch.eye(len(s), dtype=s.dtype)
    return s[:, None] * (eye - s[None, :])


@correct("softmax_jacobian", "diag_embed minus an einsum outer product")
def softmax_jacobian(x):
    s = softmax(x, 0)  # noqa: F821
    return torch.diag_embed(s) - torch.einsum("i,j->ij", s, s)


# ---------------------------------------------------------------- elu


@wrong("elu", "alpha ignored")
def elu(x, alpha=1.0):
    return torch.where(x > 0, x, torch.exp(x) - 1)


@wrong("elu", "alpha applied to the positive side too")
def elu(x, alpha=1.0):
    return alpha * torch.where(x > 0, x, torch.exp(x) - 1)


@wrong("elu", "in-place: overwrites the negative entries of the caller's tensor")
def elu(x, alpha=1.0):
    neg = x <= 0
    x[neg] = alpha * (torch.exp(x[neg]) - 1)
    return x


@wrong("elu", "calls F.elu")
def elu(x, alpha=1.0):
    return F.elu(x, alpha)


@wrong("elu", "exp(x) without the -1: jumps at 0")
def elu(x, alpha=1.0):
    return torch.where(x > 0, x, alpha * torch.exp(x))


@correct("elu", "clamp both sides and add")
def elu(x, alpha=1.0):
    return x.clamp(min=0) + alpha * (torch.exp(x.clamp(max=0)) - 1)


@correct("elu", "mask arithmetic on a copy")
def elu(x, alpha=1.0):
    out = x.clone()
    neg = x <= 0
    out[neg] = alpha * torch.expm1(x[neg])
    return out


# ---------------------------------------------------------------- elu_grad


@wrong("elu_grad", "alpha forgotten in the negative branch")
def elu_grad(x, alpha=1.0):
    return torch.where(x > 0, torch.ones_like(x), torch.exp(x))


@wrong("elu_grad", "derivative at 0 taken from the right branch (x >= 0)")
def elu_grad(x, alpha=1.0):
    return torch.where(x >= 0, torch.ones_like(x), alpha * torch.exp(x))


@wrong("elu_grad", "negative branch returns elu(x) instead of elu(x) + alpha")
def elu_grad(x, alpha=1.0):
    return torch.where(x > 0, torch.ones_like(x), alpha * (torch.exp(x) - 1))


@wrong("elu_grad", "autograd instead of a formula")
def elu_grad(x, alpha=1.0):
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(elu(x, alpha).sum(), x)  # noqa: F821 - the lesson's elu
    return g


@correct("elu_grad", "elu(x) + alpha on the negative side")
def elu_grad(x, alpha=1.0):
    return torch.where(x > 0, torch.ones_like(x), elu(x, alpha) + alpha)  # noqa: F821


# ---------------------------------------------------------------- gelu


@wrong("gelu", "tanh approximation where the exact GELU is asked")
def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


@wrong("gelu", "sigmoid approximation x * sigmoid(1.702 x)")
def gelu(x):
    return x * torch.sigmoid(1.702 * x)


@wrong("gelu", "erf(x) without dividing by sqrt(2)")
def gelu(x):
    return 0.5 * x * (1 + torch.erf(x))


@wrong("gelu", "calls F.gelu")
def gelu(x):
    return F.gelu(x)


@wrong("gelu", "Phi from torch.special.ndtr")
def gelu(x):
    return x * torch.special.ndtr(x)


@wrong("gelu", "x - x * Phi(-x): exact for finite x, but inf - inf * 0 is NaN at +inf (PyTorch: inf)")
def gelu(x):
    return x - x * 0.5 * torch.erfc(x / math.sqrt(2))


@correct("gelu", "erfc form: x * erfc(-x / sqrt(2)) / 2")
def gelu(x):
    return x * torch.erfc(-x / math.sqrt(2)) / 2


@correct("gelu", "float64 internals cast back")
def gelu(x):
    z = x.double()
    return (z * 0.5 * (1 + torch.erf(z * 0.5**0.5))).to(x.dtype)


# ---------------------------------------------------------------- gelu_grad


@wrong("gelu_grad", "product rule term x * phi(x) missing")
def gelu_grad(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


@wrong("gelu_grad", "derivative of the tanh approximation")
def gelu_grad(x):
    c = math.sqrt(2 / math.pi)
    u = c * (x + 0.044715 * x**3)
    t = torch.tanh(u)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


@wrong("gelu_grad", "density without its 1 / sqrt(2 pi)")
def gelu_grad(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2))) + x * torch.exp(-x * x / 2)


@wrong("gelu_grad", "autograd's vjp with a vector of ones")
def gelu_grad(x):
    return torch.autograd.functional.vjp(gelu, x, torch.ones_like(x))[1]  # noqa: F821


@wrong("gelu_grad", "torch's own backward kernel: torch.ops.aten.gelu_backward.default")
def gelu_grad(x):
    return torch.ops.aten.gelu_backward.default(torch.ones_like(x), x)


@correct("gelu_grad", "erfc form of Phi plus x phi(x) with torch.addcmul")
def gelu_grad(x):
    phi = torch.exp(-0.5 * x**2) * (2 * math.pi) ** -0.5
    cdf = torch.erfc(-x / math.sqrt(2)) / 2
    return torch.addcmul(cdf, x, phi)


# ---------------------------------------------------------------- silu


@wrong("silu", "x e^x / (1 + e^x): inf / inf at 1e4")
def silu(x):
    e = torch.exp(x)
    return x * e / (1 + e)


@wrong("silu", "calls F.silu")
def silu(x):
    return F.silu(x)


@wrong("silu", "the sigmoid alone, x forgotten")
def silu(x):
    return torch.sigmoid(x)


@correct("silu", "x / (1 + exp(-x)): exp overflows to inf only where x / inf = 0 is right")
def silu(x):
    return x / (1 + torch.exp(-x))


@correct("silu", "x * sigmoid computed stably by hand")
def silu(x):
    e = torch.exp(-x.abs())
    sig = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return x * sig


# ---------------------------------------------------------------- silu_grad


@wrong("silu_grad", "product rule term x sigma'(x) missing")
def silu_grad(x):
    return torch.sigmoid(x)


@wrong("silu_grad", "only x sigma'(x), the sigma(x) term missing")
def silu_grad(x):
    s = torch.sigmoid(x)
    return x * s * (1 - s)


@wrong("silu_grad", "quotient form with exp(-x): inf / inf at -1e4")
def silu_grad(x):
    e = torch.exp(-x)
    return (1 + e + x * e) / (1 + e) ** 2


@wrong("silu_grad", "central finite difference with h = 1e-3")
def silu_grad(x):
    h = 1e-3
    return (silu(x + h) - silu(x - h)) / (2 * h)  # noqa: F821


@correct("silu_grad", "silu(x) + sigma(x) (1 - silu(x))")
def silu_grad(x):
    s = torch.sigmoid(x)
    f = x * s
    return f + s * (1 - f)


# ---------------------------------------------------------------- softplus


@wrong("softplus", "threshold ignored (stable otherwise)")
def softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    return (z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))) / beta


@wrong("softplus", "log(1 + exp(x)) as written: overflows, threshold ignored")
def softplus(x, beta=1.0, threshold=20.0):
    return torch.log(1 + torch.exp(beta * x)) / beta


@wrong("softplus", "beta ignored")
def softplus(x, beta=1.0, threshold=20.0):
    return torch.where(x > threshold, x, x.clamp(min=0) + torch.log1p(torch.exp(-x.abs())))


@wrong("softplus", "threshold compared with x instead of beta * x")
def softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    return torch.where(x > threshold, x, (z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))) / beta)


@wrong("softplus", ">= threshold: linear already at beta * x == threshold")
def softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    return torch.where(z >= threshold, x, (z.clamp(min=0) + torch.log1p(torch.exp(-z.abs()))) / beta)


@wrong("softplus", "calls F.softplus")
def softplus(x, beta=1.0, threshold=20.0):
    return F.softplus(x, beta, threshold)


@wrong("softplus", "torch.logaddexp(0, beta x)")
def softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    return torch.where(z > threshold, x, torch.logaddexp(torch.zeros_like(z), z) / beta)


@wrong("softplus", "PyTorch's softplus in disguise: -logsigmoid(-beta x) / beta")
def softplus(x, beta=1.0, threshold=20.0):
    return torch.where(beta * x > threshold, x, -torch.nn.functional.logsigmoid(-beta * x) / beta)


@correct("softplus", "torch.where + log1p(exp(-|z|)) + relu(z)")
def softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    stable = torch.relu(z) + torch.log1p(torch.exp(-torch.abs(z)))
    return torch.where(z > threshold, x, stable / beta)


@correct("softplus", "naive log1p(exp(z)) on the values clamped to the threshold")
def softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    soft = torch.log1p(torch.exp(z.clamp(max=threshold))) / beta
    return torch.where(z > threshold, x, soft)


# ---------------------------------------------------------------- softplus_grad


@wrong("softplus_grad", "threshold ignored")
def softplus_grad(x, beta=1.0, threshold=20.0):
    return torch.sigmoid(beta * x)


@wrong("softplus_grad", "an extra factor beta from the chain rule")
def softplus_grad(x, beta=1.0, threshold=20.0):
    z = beta * x
    return torch.where(z > threshold, torch.ones_like(x), beta * torch.sigmoid(z))


@wrong("softplus_grad", "e^z / (1 + e^z) without the threshold: nan at 89.5")
def softplus_grad(x, beta=1.0, threshold=20.0):
    e = torch.exp(beta * x)
    return e / (1 + e)


@wrong("softplus_grad", ">= threshold: 1 already at beta * x == threshold")
def softplus_grad(x, beta=1.0, threshold=20.0):
    z = beta * x
    return torch.where(z >= threshold, torch.ones_like(x), torch.sigmoid(z))


@correct("softplus_grad", "1 - sigmoid(-z), with the threshold")
def softplus_grad(x, beta=1.0, threshold=20.0):
    z = beta * x
    return torch.where(z > threshold, 1.0, 1 - torch.sigmoid(-z)).to(x.dtype)


# ---------------------------------------------------------------- mish


@wrong("mish", "x forgotten: tanh(softplus(x))")
def mish(x):
    return torch.tanh(softplus(x))  # noqa: F821


@wrong("mish", "calls F.mish")
def mish(x):
    return F.mish(x)


@wrong("mish", "calls F.softplus inside")
def mish(x):
    return x * torch.tanh(F.softplus(x))


@wrong("mish", "tanh replaced by sigmoid")
def mish(x):
    return x * torch.sigmoid(softplus(x))  # noqa: F821


@correct("mish", "tanh(softplus) written with exp: (e^2s - 1) / (e^2s + 1) = ((1+e^x)^2 - 1) / ((1+e^x)^2 + 1)")
def mish(x):
    e = torch.exp(x.clamp(max=20))
    n = (1 + e) ** 2
    return torch.where(x > 20, x, x * (n - 1) / (n + 1))


# ---------------------------------------------------------------- mish_grad


@wrong("mish_grad", "central finite difference")
def mish_grad(x):
    h = 1e-3
    return (mish(x + h) - mish(x - h)) / (2 * h)  # noqa: F821


@wrong("mish_grad", "chain rule factor sigma(x) of softplus' missing")
def mish_grad(x):
    w = torch.tanh(softplus(x))  # noqa: F821
    return w + x * (1 - w * w)


@wrong("mish_grad", "tanh' taken as 1 - tanh instead of 1 - tanh^2")
def mish_grad(x):
    w = torch.tanh(softplus(x))  # noqa: F821
    return w + x * (1 - w) * torch.sigmoid(x)


@wrong("mish_grad", "autograd.grad of mish")
def mish_grad(x):
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(mish(x).sum(), x)[0]  # noqa: F821


@correct("mish_grad", "the lesson's softplus, 1 - tanh^2 and a sigmoid written by hand")
def mish_grad(x):
    s = softplus(x)  # noqa: F821
    sech2 = 1 - torch.tanh(s) ** 2
    sig = torch.where(x >= 0, 1 / (1 + torch.exp(-x.abs())), torch.exp(-x.abs()) / (1 + torch.exp(-x.abs())))
    return torch.tanh(s) + x * sech2 * sig
