"""Lesson 03 — every route to autograd is forbidden where a derivative is derived by hand (issue 12, part 6).

Each wrong answer computes the right values, but asks autograd for them through its recorded graph: calling a
node (``y.grad_fn``) directly, following ``next_functions``, or ``torch.autograd.graph``. The correct ones
print a tensor that carries a graph (PyTorch's own repr reads ``grad_fn``: allowed).
"""

import torch

from corpus import correct, wrong

LESSON = "03_activations"
MINIMUM = (4, 2)  # wrong, correct


@wrong("sigmoid_grad", "calls autograd's recorded nodes one by one, following next_functions to the input")
def sigmoid_grad(x):
    leaf = x.detach().requires_grad_(True)
    y = 1 / (1 + torch.exp(-leaf))
    node, grad = y.grad_fn, torch.ones_like(y)
    while not hasattr(node, "variable"):  # until the AccumulateGrad of the leaf
        grad = node(grad)
        grad = grad[0] if isinstance(grad, tuple) else grad
        node = next(n for n, _ in node.next_functions if n is not None)
    return grad.detach()


@wrong("tanh_grad", "gets the graph's first node from torch.autograd.graph.get_gradient_edge and walks it")
def tanh_grad(x):
    leaf = x.detach().requires_grad_(True)
    y = 2 / (1 + torch.exp(-2 * leaf)) - 1
    node, grad = torch.autograd.graph.get_gradient_edge(y).node, torch.ones_like(y)
    while not hasattr(node, "variable"):
        grad = node(grad)
        grad = grad[0] if isinstance(grad, tuple) else grad
        node = next(n for n, _ in node.next_functions if n is not None)
    return grad.detach()


@wrong("relu_grad", "calls the node of torch.where directly: y.grad_fn(ones)")
def relu_grad(x):
    leaf = x.detach().requires_grad_(True)
    y = torch.where(leaf > 0, leaf, torch.zeros_like(leaf))
    return y.grad_fn(torch.ones_like(y))[0].detach()


@wrong("gelu_grad", "calls autograd's recorded nodes one by one (a chain of erf and arithmetic)")
def gelu_grad(x):
    leaf = x.detach().requires_grad_(True)
    y = leaf * 0.5 * (1 + torch.erf(leaf / 2**0.5))
    order, seen = [], set()

    def visit(node):
        if node is not None and node not in seen:
            seen.add(node)
            for child, _ in node.next_functions:
                visit(child)
            order.append(node)

    visit(y.grad_fn)
    grads, result = {y.grad_fn: torch.ones_like(y)}, None
    for node in reversed(order):
        grad = grads.pop(node, None)
        if grad is None:
            continue
        if hasattr(node, "variable"):
            result = grad
            continue
        outs = node(grad)
        for (child, _), out in zip(node.next_functions, outs if isinstance(outs, tuple) else (outs,)):
            if child is not None and out is not None:
                grads[child] = grads[child] + out if child in grads else out
    return result.detach()


@correct("sigmoid_grad", "prints an intermediate that carries a graph (torch's repr reads grad_fn itself)")
def sigmoid_grad(x):
    leaf = x.detach().requires_grad_(True)
    e = torch.exp(-leaf.abs())
    print(repr(e)[:0], end="")
    s = torch.where(leaf >= 0, 1 / (1 + e), e / (1 + e)).detach()
    return s * (1 - s)


@correct("relu_grad", "a comparison cast to the input's dtype")
def relu_grad(x):
    return (x > 0).to(x.dtype)
