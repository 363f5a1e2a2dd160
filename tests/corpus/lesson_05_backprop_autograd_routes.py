"""Lesson 05 — every route to autograd is forbidden where a derivative is derived by hand (issue 12, part 6).

Each wrong answer computes the right values, but asks autograd's recorded graph for them: calling a node
(``y.grad_fn``) directly or walking ``next_functions`` node by node.
"""

import torch
import torch.nn.functional as F

from corpus import correct, wrong

LESSON = "05_backprop"
MINIMUM = (3, 1)  # wrong, correct


@wrong("softmax_backward", "calls the node torch.softmax recorded: softmax(log y).grad_fn(grad_output)")
def softmax_backward(grad_output, output, dim):
    leaf = output.detach().log().requires_grad_(True)
    return torch.softmax(leaf, dim).grad_fn(grad_output).detach()


@wrong("linear_backward", "calls the node F.linear recorded, then the view nodes behind it")
def linear_backward(grad_output, input, weight):
    x = input.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    y = F.linear(x, w, b)
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


@wrong("mlp_backward", "replays the forward with parameters that require grad and calls each recorded node")
def mlp_backward(cache):
    params = {k: v.detach().requires_grad_(True) for k, v in cache["params"].items()}
    z1 = cache["x"] @ params["W1"].T + params["b1"]
    logits = torch.relu(z1) @ params["W2"].T + params["b2"]
    loss = F.cross_entropy(logits, cache["target"])
    order, seen = [], set()

    def visit(node):
        if node is not None and node not in seen:
            seen.add(node)
            for child, _ in node.next_functions:
                visit(child)
            order.append(node)

    visit(loss.grad_fn)
    grads, leaves = {loss.grad_fn: torch.ones_like(loss)}, {}
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
    return {k: leaves[p].detach() for k, p in params.items()}


@correct("softmax_backward", "y * g minus y times the weighted sum, written out")
def softmax_backward(grad_output, output, dim):
    return output * grad_output - output * (output * grad_output).sum(dim, keepdim=True)
