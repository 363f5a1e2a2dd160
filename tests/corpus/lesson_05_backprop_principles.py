"""Lesson 05 — one wrong answer per principle of issue 12 part 6, for every exercise it applies to.

* every argument varied: an answer that ignores one (softmax_backward's dim) is caught;
* conventions at their edges: ReLU's derivative at 0 is PyTorch's (mlp_backward), nan in gives nan out
  (softmax_backward);
* a cache checked by the use it gets: mlp_forward's cache is fed to a backward pass;
* numerically fragile compositions, where the reference is exact: log(softmax(x)) for confident logits, an
  exponential that overflows, a relative error computed in float32.
"""

import torch
import torch.nn.functional as F

from corpus import correct, wrong

LESSON = "05_backprop"
MINIMUM = (10, 2)  # wrong, correct

# ---------------------------------------------------------------- every argument is varied


@wrong("softmax_backward", "dim ignored: always the classes of a batch (dim=1)")
def softmax_backward(grad_output, output, dim):
    return output * (grad_output - (grad_output * output).sum(1, keepdim=True))


# ---------------------------------------------------------------- conventions at their edges


@wrong("mlp_backward", "ReLU's gate open at z1 = 0 (z1 >= 0), unlike PyTorch")
def mlp_backward(cache):
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    g = (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(x)
    grad_z1 = (g @ cache["params"]["W2"]) * (z1 >= 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": g.T @ h, "b2": g.sum(0)}


@wrong("softmax_backward", "nan slices replaced by zeros (nan_to_num): nan in must give nan out")
def softmax_backward(grad_output, output, dim):
    return torch.nan_to_num(output * (grad_output - (grad_output * output).sum(dim, keepdim=True)))


# ---------------------------------------------------------------- a cache checked by its use


@wrong("mlp_forward", "cache holds the targets one-hot instead of as class indices")
def mlp_forward(x, target, params):
    z1 = x @ params["W1"].T + params["b1"]
    h = torch.relu(z1)
    logits = h @ params["W2"].T + params["b2"]
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    cache = {"x": x, "target": one_hot, "params": params, "z1": z1, "h": h, "logits": logits}
    return F.cross_entropy(logits, target), cache


@wrong("mlp_forward", "cache holds the parameters as a tuple, not the dict it was given")
def mlp_forward(x, target, params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z1 = x @ W1.T + b1
    h = torch.relu(z1)
    logits = h @ W2.T + b2
    cache = {"x": x, "target": target, "params": (W1, b1, W2, b2), "z1": z1, "h": h, "logits": logits}
    return F.cross_entropy(logits, target), cache


@wrong("mlp_forward", "cache holds W2 transposed, 'ready for the backward pass'")
def mlp_forward(x, target, params):
    z1 = x @ params["W1"].T + params["b1"]
    h = torch.relu(z1)
    logits = h @ params["W2"].T + params["b2"]
    stored = {**params, "W2": params["W2"].T}
    cache = {"x": x, "target": target, "params": stored, "z1": z1, "h": h, "logits": logits}
    return F.cross_entropy(logits, target), cache


@correct("mlp_forward", "cache holds detached float copies of everything")
def mlp_forward(x, target, params):
    z1 = F.linear(x, params["W1"], params["b1"])
    h = torch.relu(z1)
    logits = F.linear(h, params["W2"], params["b2"])
    kept = {k: v.detach().clone() for k, v in params.items()}
    cache = {
        "x": x.clone(),
        "target": target.clone(),
        "params": kept,
        "z1": z1.detach(),
        "h": h.detach(),
        "logits": logits.detach(),
    }
    return F.cross_entropy(logits, target), cache


# ---------------------------------------------------------------- numerically fragile compositions


@wrong("mlp_forward", "loss as -log(softmax(logits)): -inf for confident logits")
def mlp_forward(x, target, params):
    z1 = x @ params["W1"].T + params["b1"]
    h = torch.relu(z1)
    logits = h @ params["W2"].T + params["b2"]
    loss = -torch.log(torch.softmax(logits, dim=1))[torch.arange(len(target)), target].mean()
    return loss, {"x": x, "target": target, "params": params, "z1": z1, "h": h, "logits": logits}


@wrong("mlp_backward", "softmax by hand without subtracting the max: exp overflows")
def mlp_backward(cache):
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    e = logits.exp()
    g = (e / e.sum(1, keepdim=True) - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(x)
    grad_z1 = (g @ cache["params"]["W2"]) * (z1 > 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": g.T @ h, "b2": g.sum(0)}


@correct("mlp_backward", "probabilities as exp(log_softmax), the gate from h")
def mlp_backward(cache):
    x, target, h, logits = (cache[k] for k in ("x", "target", "h", "logits"))
    g = torch.log_softmax(logits, dim=1).exp()
    g[torch.arange(len(target)), target] -= 1
    g = g / len(target)
    grad_z1 = (g @ cache["params"]["W2"]) * (h > 0)
    return {"W1": grad_z1.T @ x, "b1": grad_z1.sum(0), "W2": g.T @ h, "b2": g.sum(0)}


@wrong("relative_error", "computed in float32 (a.float()): float64 differences below 1e-7 are lost")
def relative_error(a, b):
    a, b = a.float(), b.float()
    size = (a.abs() + b.abs()).max()
    return 0.0 if size == 0 else ((a - b).abs().max() / size).item()


# ---------------------------------------------------------------- every route to autograd


@wrong("mlp_backward", "hands the work to the practice cells' helper, which asks autograd")
def mlp_backward(cache):
    from nnlab import derivation

    grads = derivation.node_gradients(cache)
    return {k: grads["grad_" + k] for k in ("W1", "b1", "W2", "b2")}
