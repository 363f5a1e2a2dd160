"""Lesson 08 — every route to autograd is forbidden where a derivative is derived by hand (issue 12, part 6).

``batch_norm_backward`` gets the forward's cache; rebuilding the forward from it with a graph and calling the
recorded nodes is asking autograd.
"""

import torch

from corpus import wrong

LESSON = "08_training"
MINIMUM = (1, 0)  # wrong, correct


@wrong("batch_norm_backward", "rebuilds the forward from the cache and calls each recorded node")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    x = (x_hat / invstd.reshape(shape)).detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros_like(w, requires_grad=True)
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)
    y = (x - mean) / torch.sqrt(var + 1e-5) * w.reshape(shape) + b.reshape(shape)
    order, seen = [], set()

    def visit(node):
        if node is not None and node not in seen:
            seen.add(node)
            for child, _ in node.next_functions:
                visit(child)
            order.append(node)

    visit(y.grad_fn)
    grads, leaves = {y.grad_fn: grad_output}, {}
    for node in reversed(order):
        grad = grads.pop(node, None)
        if grad is None:
            continue
        if hasattr(node, "variable"):
            leaves[node.variable] = grad
            continue
        outs = node(grad)
        for (child, _), out in zip(node.next_functions, outs if isinstance(outs, tuple) else (outs,)):
            if child is not None and out is not None:
                grads[child] = grads[child] + out if child in grads else out
    return tuple(leaves[t].detach() for t in (x, w, b))
