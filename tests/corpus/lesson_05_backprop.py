"""Lesson 05 — backpropagation by hand: wrong answers students plausibly write, and other correct ones."""

import torch
import torch.nn.functional as F

from corpus import correct, wrong

LESSON = "05_backprop"
MINIMUM = (53, 16)  # wrong, correct

# ---------------------------------------------------------------- numerical_gradient (05b)


@wrong("numerical_gradient", "one-sided (forward) differences")
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().double().clone()
    grad = torch.zeros_like(x)
    base = f(x).item()
    for i in range(x.numel()):
        shifted = x.clone()
        shifted.view(-1)[i] += eps
        grad.view(-1)[i] = (f(shifted).item() - base) / eps
    return grad


@wrong("numerical_gradient", "perturbs x in its own dtype (float32), converts only the result")
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().clone()
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        plus, minus = x.clone(), x.clone()
        plus.view(-1)[i] += eps
        minus.view(-1)[i] -= eps
        grad.view(-1)[i] = (f(plus) - f(minus)) / (2 * eps)
    return grad.double()


@wrong("numerical_gradient", "returns x's dtype instead of float64")
def numerical_gradient(f, x, eps=1e-6):
    x64 = x.detach().double()
    grad = torch.zeros_like(x64)
    for i in range(x64.numel()):
        plus, minus = x64.clone(), x64.clone()
        plus.view(-1)[i] += eps
        minus.view(-1)[i] -= eps
        grad.view(-1)[i] = (f(plus) - f(minus)) / (2 * eps)
    return grad.to(x.dtype)


@wrong("numerical_gradient", "perturbs the caller's x in place and never restores it")
def numerical_gradient(f, x, eps=1e-6):
    x = x.double()  # no copy when x is already float64
    grad = torch.zeros_like(x)
    flat, flat_grad = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        flat[i] += eps
        f_plus = f(x).item()
        flat[i] -= 2 * eps
        f_minus = f(x).item()
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


@wrong("numerical_gradient", "eps argument ignored (always 1e-6)")
def numerical_gradient(f, x, eps=1e-6):
    h = 1e-6
    x = x.detach().double().clone()
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        plus, minus = x.clone(), x.clone()
        plus.view(-1)[i] += h
        minus.view(-1)[i] -= h
        grad.view(-1)[i] = (f(plus) - f(minus)) / (2 * h)
    return grad


@wrong("numerical_gradient", "perturbs every element at once (a directional derivative)")
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().double()
    slope = (f(x + eps) - f(x - eps)) / (2 * eps)
    return torch.full_like(x, slope.item())


@wrong("numerical_gradient", "divides by eps instead of 2 eps")
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().double().clone()
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        plus, minus = x.clone(), x.clone()
        plus.view(-1)[i] += eps
        minus.view(-1)[i] -= eps
        grad.view(-1)[i] = (f(plus) - f(minus)) / eps
    return grad


@wrong("numerical_gradient", "asks autograd")
def numerical_gradient(f, x, eps=1e-6):
    leaf = x.detach().double().requires_grad_(True)
    return torch.autograd.grad(f(leaf), leaf)[0]


@correct("numerical_gradient", "basis vectors e_i, one at a time")
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().to(torch.float64)
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros(x.numel(), dtype=torch.float64)
        e[i] = eps
        e = e.reshape(x.shape)
        grad.view(-1)[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return grad


@correct("numerical_gradient", "perturbs the caller's float64 x in place and restores every element")
def numerical_gradient(f, x, eps=1e-6):
    import itertools

    work = x.detach().double()  # the caller's own tensor when it is float64
    grad = torch.empty(x.shape, dtype=torch.float64)
    for index in itertools.product(*(range(n) for n in x.shape)):
        old = work[index].item()
        work[index] = old + eps
        f_plus = f(work).item()
        work[index] = old - eps
        f_minus = f(work).item()
        work[index] = old
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


@correct("numerical_gradient", "flattened copy, reshaped for every call of f")
def numerical_gradient(f, x, eps=1e-6):
    flat = x.detach().flatten().double()
    out = []
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = eps
        out.append((float(f((flat + step).reshape(x.shape))) - float(f((flat - step).reshape(x.shape)))) / (2 * eps))
    return torch.tensor(out, dtype=torch.float64).reshape(x.shape)


# ---------------------------------------------------------------- relative_error (05b)


@wrong("relative_error", "0/0 = nan when both are zero")
def relative_error(a, b):
    return ((a - b).abs().max() / (a.abs() + b.abs()).max()).item()


@wrong("relative_error", "CS231n's elementwise ratio with a 1e-8 floor")
def relative_error(a, b):
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max().item()


@wrong("relative_error", "denominator max(|a|, |b|) instead of |a| + |b|")
def relative_error(a, b):
    size = torch.maximum(a.abs(), b.abs()).max()
    return 0.0 if size == 0 else ((a - b).abs().max() / size).item()


@wrong("relative_error", "returns a 0-d tensor")
def relative_error(a, b):
    size = (a.abs() + b.abs()).max()
    return torch.zeros(()) if size == 0 else (a - b).abs().max() / size


@wrong("relative_error", "mean difference instead of the largest")
def relative_error(a, b):
    size = (a.abs() + b.abs()).max()
    return 0.0 if size == 0 else ((a - b).abs().mean() / size).item()


@wrong("relative_error", "1e-8 added to the denominator (wrong for tiny gradients)")
def relative_error(a, b):
    return ((a - b).abs().max() / ((a.abs() + b.abs()).max() + 1e-8)).item()


@correct("relative_error", "infinity norms in float64")
def relative_error(a, b):
    a, b = a.double(), b.double()
    size = torch.linalg.norm((a.abs() + b.abs()).flatten(), ord=float("inf"))
    diff = torch.linalg.norm((a - b).flatten(), ord=float("inf"))
    return float(diff / size) if size > 0 else 0.0


@correct("relative_error", "Python floats, float32 arithmetic")
def relative_error(a, b):
    diff = (a - b).abs().max().item()
    size = (a.abs() + b.abs()).max().item()
    if size == 0.0:
        return 0.0
    return diff / size


# ---------------------------------------------------------------- linear_backward (05a)


@wrong("linear_backward", "grad_weight not transposed (input.T @ grad_output)")
def linear_backward(grad_output, input, weight):
    g = grad_output.reshape(-1, weight.shape[0])
    x = input.reshape(-1, weight.shape[1])
    return grad_output @ weight, x.T @ g, g.sum(0)


@wrong("linear_backward", "grad_bias not summed over the batch")
def linear_backward(grad_output, input, weight):
    g = grad_output.reshape(-1, weight.shape[0])
    x = input.reshape(-1, weight.shape[1])
    return grad_output @ weight, g.T @ x, grad_output


@wrong("linear_backward", "grad_bias averaged over the batch")
def linear_backward(grad_output, input, weight):
    g = grad_output.reshape(-1, weight.shape[0])
    x = input.reshape(-1, weight.shape[1])
    return grad_output @ weight, g.T @ x, g.mean(0)


@wrong("linear_backward", "grad_input multiplies by weight.T")
def linear_backward(grad_output, input, weight):
    g = grad_output.reshape(-1, weight.shape[0])
    x = input.reshape(-1, weight.shape[1])
    return grad_output @ weight.T, g.T @ x, g.sum(0)


@wrong("linear_backward", "2-D only: batch dimensions not flattened")
def linear_backward(grad_output, input, weight):
    return grad_output @ weight, grad_output.transpose(0, 1) @ input, grad_output.sum(0)


@wrong("linear_backward", "grad_weight averaged over the batch")
def linear_backward(grad_output, input, weight):
    g = grad_output.reshape(-1, weight.shape[0])
    x = input.reshape(-1, weight.shape[1])
    return grad_output @ weight, g.T @ x / len(g), g.sum(0)


@wrong("linear_backward", "asks autograd")
def linear_backward(grad_output, input, weight):
    x, w = input.detach().requires_grad_(True), weight.detach().requires_grad_(True)
    b = torch.zeros(weight.shape[0], requires_grad=True, dtype=weight.dtype)
    (F.linear(x, w, b) * grad_output).sum().backward()
    return x.grad, w.grad, b.grad


@correct("linear_backward", "einsum over any leading dims")
def linear_backward(grad_output, input, weight):
    grad_input = torch.einsum("...o,oi->...i", grad_output, weight)
    grad_weight = torch.einsum("...o,...i->oi", grad_output, input)
    grad_bias = grad_output.reshape(-1, grad_output.shape[-1]).sum(0)
    return grad_input, grad_weight, grad_bias


@correct("linear_backward", "flatten with flatten(0, -2), matmul, then sum with dim tuple")
def linear_backward(grad_output, input, weight):
    if input.dim() == 1:
        return grad_output @ weight, torch.outer(grad_output, input), grad_output.clone()
    g, x = grad_output.flatten(0, -2), input.flatten(0, -2)
    return torch.matmul(grad_output, weight), torch.matmul(g.t(), x), g.sum(dim=(0,))


# ---------------------------------------------------------------- softmax_backward (05a)


@wrong("softmax_backward", "the diagonal of the Jacobian only, as if softmax were elementwise")
def softmax_backward(grad_output, output, dim):
    return grad_output * output * (1 - output)


@wrong("softmax_backward", "dim ignored: always sums along the last dim")
def softmax_backward(grad_output, output, dim):
    return output * (grad_output - (grad_output * output).sum(-1, keepdim=True))


@wrong("softmax_backward", "the sum not weighted by the output")
def softmax_backward(grad_output, output, dim):
    return output * (grad_output - grad_output.sum(dim, keepdim=True))


@wrong("softmax_backward", "log_softmax's backward formula")
def softmax_backward(grad_output, output, dim):
    return grad_output - output * grad_output.sum(dim, keepdim=True)


@wrong("softmax_backward", "summed over the whole tensor instead of each slice")
def softmax_backward(grad_output, output, dim):
    return output * (grad_output - (grad_output * output).sum())


@wrong("softmax_backward", "softmax applied to the output again (treats it as the input)")
def softmax_backward(grad_output, output, dim):
    y = torch.softmax(output, dim)
    return y * (grad_output - (grad_output * y).sum(dim, keepdim=True))


@wrong("softmax_backward", "the outer factor y forgotten")
def softmax_backward(grad_output, output, dim):
    return grad_output - (grad_output * output).sum(dim, keepdim=True)


@wrong("softmax_backward", "a 2-D Jacobian per row: right for dim=-1 of a matrix only")
def softmax_backward(grad_output, output, dim):
    jacobian = torch.diag_embed(output) - output.unsqueeze(-1) * output.unsqueeze(-2)
    return (grad_output.unsqueeze(-2) @ jacobian).squeeze(-2)


@wrong("softmax_backward", "skips zero probabilities with torch.where (a nan slice becomes 0)")
def softmax_backward(grad_output, output, dim):
    dot = torch.nansum(grad_output * output, dim=dim, keepdim=True)
    return torch.where(output > 0, output * (grad_output - dot), torch.zeros_like(output))


@wrong("softmax_backward", "PyTorch's own kernel, torch._softmax_backward_data")
def softmax_backward(grad_output, output, dim):
    return torch._softmax_backward_data(grad_output, output, dim, output.dtype)


@wrong("softmax_backward", "autograd through softmax at log(output)")
def softmax_backward(grad_output, output, dim):
    x = torch.log(output).requires_grad_(True)
    return torch.autograd.grad(torch.softmax(x, dim), x, grad_output)[0]


@correct("softmax_backward", "expanded: g y - y <g, y>, with torch.sum")
def softmax_backward(grad_output, output, dim):
    gy = grad_output * output
    return gy - output * torch.sum(gy, dim=dim, keepdim=True)


@correct("softmax_backward", "the Jacobian built per slice after moving dim last, then moved back")
def softmax_backward(grad_output, output, dim):
    y, g = output.movedim(dim, -1), grad_output.movedim(dim, -1)
    jacobian = torch.diag_embed(y) - y.unsqueeze(-1) * y.unsqueeze(-2)
    return (g.unsqueeze(-2) @ jacobian).squeeze(-2).movedim(-1, dim)


@correct("softmax_backward", "einsum dot product over a slice moved last")
def softmax_backward(grad_output, output, dim):
    y, g = output.movedim(dim, -1), grad_output.movedim(dim, -1)
    dot = torch.einsum("...c,...c->...", g, y).unsqueeze(-1)
    return (y * (g - dot)).movedim(-1, dim)


# ---------------------------------------------------------------- log_softmax_backward (05a)


@wrong("log_softmax_backward", "softmax's backward applied to the probabilities")
def log_softmax_backward(grad_output, output, dim):
    y = output.exp()
    return y * (grad_output - (grad_output * y).sum(dim, keepdim=True))


@wrong("log_softmax_backward", "log-probabilities used where the Jacobian needs probabilities")
def log_softmax_backward(grad_output, output, dim):
    return grad_output - output * grad_output.sum(dim, keepdim=True)


@wrong("log_softmax_backward", "sign flipped")
def log_softmax_backward(grad_output, output, dim):
    return output.exp() * grad_output.sum(dim, keepdim=True) - grad_output


@wrong("log_softmax_backward", "the sum of grad_output left out (right only when it is 1)")
def log_softmax_backward(grad_output, output, dim):
    return grad_output - output.exp()


@wrong("log_softmax_backward", "summed over the whole tensor")
def log_softmax_backward(grad_output, output, dim):
    return grad_output - output.exp() * grad_output.sum()


@wrong("log_softmax_backward", "dim ignored: always the last dim")
def log_softmax_backward(grad_output, output, dim):
    return grad_output - output.exp() * grad_output.sum(-1, keepdim=True)


@wrong("log_softmax_backward", "the sum without keepdim")
def log_softmax_backward(grad_output, output, dim):
    return grad_output - output.exp() * grad_output.sum(dim)


@wrong("log_softmax_backward", "only the cross-entropy chain: (probabilities - one-hot)/N from the gradient's sign")
def log_softmax_backward(grad_output, output, dim):
    one_hot = (grad_output < 0).to(output.dtype)
    return (output.exp() - one_hot) / one_hot.sum()


@wrong("log_softmax_backward", "PyTorch's own kernel, torch._log_softmax_backward_data")
def log_softmax_backward(grad_output, output, dim):
    return torch._log_softmax_backward_data(grad_output, output, dim, output.dtype)


@wrong("log_softmax_backward", "torch.func.vjp of log_softmax at the output")
def log_softmax_backward(grad_output, output, dim):
    _, vjp = torch.func.vjp(lambda x: torch.log_softmax(x, dim), output)
    return vjp(grad_output)[0]


@correct("log_softmax_backward", "probabilities as softmax(output): softmax of log-probabilities")
def log_softmax_backward(grad_output, output, dim):
    return grad_output - torch.softmax(output, dim) * torch.sum(grad_output, dim=dim, keepdim=True)


@correct("log_softmax_backward", "the Jacobian I - 1 y^T per slice, moved last and back")
def log_softmax_backward(grad_output, output, dim):
    y, g = output.exp().movedim(dim, -1), grad_output.movedim(dim, -1)
    eye = torch.eye(y.shape[-1], dtype=y.dtype)
    jacobian = eye - y.unsqueeze(-2)
    return (g.unsqueeze(-2) @ jacobian).squeeze(-2).movedim(-1, dim)


@correct("log_softmax_backward", "sum expanded with expand_as, torch.sub")
def log_softmax_backward(grad_output, output, dim):
    total = grad_output.sum(dim, keepdim=True).expand_as(grad_output)
    return torch.sub(grad_output, torch.exp(output) * total)


# ---------------------------------------------------------------- mlp_forward (05b)


@wrong("mlp_forward", "ReLU forgotten")
def mlp_forward(x, target, params):
    z1 = x @ params["W1"].T + params["b1"]
    h = z1
    logits = h @ params["W2"].T + params["b2"]
    cache = {"x": x, "target": target, "params": params, "z1": z1, "h": h, "logits": logits}
    return F.cross_entropy(logits, target), cache


@wrong("mlp_forward", "loss summed over the batch instead of averaged")
def mlp_forward(x, target, params):
    z1 = x @ params["W1"].T + params["b1"]
    h = torch.relu(z1)
    logits = h @ params["W2"].T + params["b2"]
    cache = {"x": x, "target": target, "params": params, "z1": z1, "h": h, "logits": logits}
    return F.cross_entropy(logits, target, reduction="sum"), cache


@wrong("mlp_forward", "cache misses the hidden activation h")
def mlp_forward(x, target, params):
    z1 = x @ params["W1"].T + params["b1"]
    logits = torch.relu(z1) @ params["W2"].T + params["b2"]
    return F.cross_entropy(logits, target), {"x": x, "target": target, "params": params, "z1": z1, "logits": logits}


@wrong("mlp_forward", "ReLU after the output layer too")
def mlp_forward(x, target, params):
    z1 = x @ params["W1"].T + params["b1"]
    h = torch.relu(z1)
    logits = torch.relu(h @ params["W2"].T + params["b2"])
    cache = {"x": x, "target": target, "params": params, "z1": z1, "h": h, "logits": logits}
    return F.cross_entropy(logits, target), cache


@correct("mlp_forward", "F.linear, clamp and a log-softmax by hand")
def mlp_forward(x, target, params):
    z1 = F.linear(x, params["W1"], params["b1"])
    h = z1.clamp(min=0)
    logits = F.linear(h, params["W2"], params["b2"])
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    loss = -log_probs[torch.arange(len(target)), target].mean()
    return loss, {"x": x, "target": target, "params": params, "z1": z1, "h": h, "logits": logits}


# ---------------------------------------------------------------- mlp_backward (05b)


@wrong("mlp_backward", "ReLU mask forgotten")
def mlp_backward(cache):
    x, target, h, logits, W2 = cache["x"], cache["target"], cache["h"], cache["logits"], cache["params"]["W2"]
    g = (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(x)
    grad_z1 = g @ W2
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": g.T @ h, "b2": g.sum(0)}


@wrong("mlp_backward", "not divided by N")
def mlp_backward(cache):
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    g = torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1]).to(logits.dtype)
    grad_z1 = (g @ cache["params"]["W2"]) * (z1 > 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": g.T @ h, "b2": g.sum(0)}


@wrong("mlp_backward", "grad_W2 transposed (h.T @ grad_logits)")
def mlp_backward(cache):
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    g = (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(x)
    grad_z1 = (g @ cache["params"]["W2"]) * (z1 > 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": h.T @ g, "b2": g.sum(0)}


@wrong("mlp_backward", "mask h >= 0 (always true after a ReLU)")
def mlp_backward(cache):
    x, target, h, logits = (cache[k] for k in ("x", "target", "h", "logits"))
    g = (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(x)
    grad_z1 = (g @ cache["params"]["W2"]) * (h >= 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": g.T @ h, "b2": g.sum(0)}


@wrong("mlp_backward", "biases summed over the wrong dim")
def mlp_backward(cache):
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    g = (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(x)
    grad_z1 = (g @ cache["params"]["W2"]) * (z1 > 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(1), "W2": g.T @ h, "b2": g.sum(1)}


@wrong("mlp_backward", "recomputes the forward pass and asks autograd")
def mlp_backward(cache):
    params = {k: v.detach().requires_grad_(True) for k, v in cache["params"].items()}
    h = torch.relu(cache["x"] @ params["W1"].T + params["b1"])
    loss = F.cross_entropy(h @ params["W2"].T + params["b2"], cache["target"])
    loss.backward()
    return {k: p.grad for k, p in params.items()}


@wrong("mlp_backward", "the gradient of h passed through W2.T")
def mlp_backward(cache):
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    g = (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(x)
    grad_z1 = (g @ cache["params"]["W2"].T) * (z1 > 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": g.T @ h, "b2": g.sum(0)}


@correct("mlp_backward", "mask from h > 0, torch.where")
def mlp_backward(cache):
    x, target, h, logits = (cache[k] for k in ("x", "target", "h", "logits"))
    n = logits.shape[0]
    grad_logits = torch.softmax(logits, dim=1)
    grad_logits = (grad_logits - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / n
    grad_h = grad_logits @ cache["params"]["W2"]
    grad_z1 = torch.where(h > 0, grad_h, torch.zeros_like(grad_h))
    return {"b2": grad_logits.sum(0), "W2": grad_logits.T @ h, "b1": grad_z1.sum(0), "W1": grad_z1.T @ x}


@correct("mlp_backward", "einsum, stable softmax by hand")
def mlp_backward(cache):
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    e = (logits - logits.max(1, keepdim=True).values).exp()
    grad_logits = e / e.sum(1, keepdim=True)
    grad_logits = grad_logits - torch.zeros_like(grad_logits).scatter_(1, target[:, None], 1.0)
    grad_logits = grad_logits / len(target)
    grad_z1 = torch.einsum("nc,ch->nh", grad_logits, cache["params"]["W2"]) * (z1 > 0).to(x.dtype)
    return {
        "W1": torch.einsum("nh,nd->hd", grad_z1, x),
        "b1": grad_z1.sum(0),
        "W2": torch.einsum("nc,nh->ch", grad_logits, h),
        "b2": grad_logits.sum(0),
    }
