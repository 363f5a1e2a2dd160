"""Lesson 08 — autograd reached by a C function called from C, which the guard's profiler cannot see (issue 12,
part 6).

``batch_norm_backward`` gets the forward's cache; rebuilding the forward from it with a graph and asking autograd
through a call the profiler does not see is asking autograd all the same. The values are right
(tests/test_engine_routes.py grades them with the saved-tensor watch switched off); what rejects them is that
autograd reads back what the forward saved (autograder/guard/saved.py).
"""

import torch

from corpus import wrong

LESSON = "08_training"
MINIMUM = (2, 0)  # wrong, correct


@wrong("batch_norm_backward", "rebuilds the forward from the cache and runs the engine through functools.partial")
def batch_norm_backward(grad_output, cache):
    import functools

    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    scale = invstd.reshape(shape)
    eps = (1 - x_hat.var(dims, unbiased=False, keepdim=True)) / scale**2  # eps, read back from the cache
    x = (x_hat / scale).detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros_like(w, requires_grad=True)
    mean = x.mean(dims, keepdim=True).expand_as(x)  # every broadcast explicit: a node called directly
    centered = x - mean  # does not sum its gradient down to a broadcast input's shape (the engine does)
    var = (centered**2).mean(dims, keepdim=True)
    y = centered / torch.sqrt(var + eps).expand_as(x) * w.reshape(shape).expand_as(x) + b.reshape(shape).expand_as(x)
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    return run((y,), (grad_output,), False, False, (x, w, b), False, False)


@wrong("batch_norm_backward", "rebuilds the forward, fetches its last node through functools.partial and walks it")
def batch_norm_backward(grad_output, cache):
    import functools

    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    scale = invstd.reshape(shape)
    eps = (1 - x_hat.var(dims, unbiased=False, keepdim=True)) / scale**2  # eps, read back from the cache
    x = (x_hat / scale).detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros_like(w, requires_grad=True)
    mean = x.mean(dims, keepdim=True).expand_as(x)  # every broadcast explicit: a node called directly
    centered = x - mean  # does not sum its gradient down to a broadcast input's shape (the engine does)
    var = (centered**2).mean(dims, keepdim=True)
    y = centered / torch.sqrt(var + eps).expand_as(x) * w.reshape(shape).expand_as(x) + b.reshape(shape).expand_as(x)
    order, seen = [], set()

    def visit(node):
        if node is not None and node not in seen:
            seen.add(node)
            for child, _ in node.next_functions:
                visit(child)
            order.append(node)

    root = functools.partial(torch._C.TensorBase.grad_fn.__get__)(y)
    visit(root)
    grads, leaves = {root: grad_output}, {}
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
