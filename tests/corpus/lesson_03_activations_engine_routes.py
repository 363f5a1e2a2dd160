"""Lesson 03 — autograd reached by a C function called from C, which the guard's profiler cannot see (issue 12,
part 6).

Each wrong answer runs an ordinary forward with a graph, then asks autograd for the derivative through a call the
profiler does not see: ``functools.partial`` of the engine's ``run_backward``, or the recorded node fetched with
``functools.partial``/``map`` of the C descriptor ``TensorBase.grad_fn.__get__`` and called. The values are
right (tests/test_engine_routes.py grades them with the saved-tensor watch switched off); what rejects them is
that autograd reads back what the forward saved (autograder/guard/saved.py).
"""

import torch

from corpus import correct, wrong

LESSON = "03_activations"
MINIMUM = (9, 1)  # wrong, correct


@wrong("sigmoid_grad", "runs the engine through functools.partial(torch._C._ImperativeEngine().run_backward)")
def sigmoid_grad(x):
    import functools

    leaf = x.detach().requires_grad_(True)
    y = torch.exp(-torch.nn.functional.softplus(-leaf))
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    (grad,) = run((y,), (torch.ones_like(y),), False, False, (leaf,), False, False)
    return grad


@wrong("tanh_grad", "runs the engine through functools.partial(torch.autograd.Variable._execution_engine.run_backward)")
def tanh_grad(x):
    import functools

    leaf = x.detach().requires_grad_(True)
    y = 2 * torch.exp(-torch.nn.functional.softplus(-2 * leaf)) - 1
    run = functools.partial(torch.autograd.Variable._execution_engine.run_backward)
    (grad,) = run((y,), (torch.ones_like(y),), False, False, (leaf,), False, False)
    return grad


@wrong("relu_grad", "fetches the node with functools.partial(TensorBase.grad_fn.__get__) and calls it")
def relu_grad(x):
    import functools

    leaf = x.detach().requires_grad_(True)
    y = torch.where(leaf > 0, leaf, leaf * 0)
    node = functools.partial(torch._C.TensorBase.grad_fn.__get__)(y)
    grad = node(torch.ones_like(y))
    return (grad[0] if isinstance(grad, tuple) else grad).detach()


@wrong("leaky_relu_grad", "fetches the node through map(TensorBase.grad_fn.__get__, ...) and calls it")
def leaky_relu_grad(x, negative_slope=0.01):
    leaf = x.detach().requires_grad_(True)
    y = leaf * torch.where(leaf > 0, torch.ones_like(leaf), torch.full_like(leaf, negative_slope))
    (node,) = map(torch._C.TensorBase.grad_fn.__get__, (y,))
    return node(torch.ones_like(y))[0].detach()  # the gradient to leaf (the factor needs none)


@wrong("elu_grad", "runs the engine through functools.partial(run_backward) on a hand-written ELU")
def elu_grad(x, alpha=1.0):
    import functools

    leaf = x.detach().requires_grad_(True)
    y = torch.where(leaf > 0, leaf, alpha * torch.expm1(leaf.clamp(max=0)))
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    (grad,) = run((y,), (torch.ones_like(y),), False, False, (leaf,), False, False)
    return grad


@wrong("gelu_grad", "runs the engine on x * Phi(x) written with torch.erf, through functools.partial(run_backward)")
def gelu_grad(x):
    import functools

    leaf = x.detach().requires_grad_(True)
    y = leaf * 0.5 * (1 + torch.erf(leaf / 2**0.5))
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    (grad,) = run((y,), (torch.ones_like(y),), False, False, (leaf,), False, False)
    return grad


@wrong("silu_grad", "calls the node of x * sigmoid(x), fetched through functools.partial, then the sigmoid's node")
def silu_grad(x):
    import functools

    leaf = x.detach().requires_grad_(True)
    s = torch.sigmoid(leaf)
    node = functools.partial(torch._C.TensorBase.grad_fn.__get__)(leaf * s)
    direct, through_s = node(torch.ones_like(leaf))  # d/dleaf with s held, d/ds with leaf held
    (sigmoid_node, _), *_ = (edge for edge in node.next_functions if edge[0] is not None and edge[1] == 0
                             and not hasattr(edge[0], "variable"))  # fmt: skip
    return (direct + sigmoid_node(through_s)).detach()


@wrong("softplus_grad", "runs the engine on the softplus written with torch.where, log1p and exp")
def softplus_grad(x, beta=1.0, threshold=20.0):
    import functools

    leaf = x.detach().requires_grad_(True)
    scaled = leaf * beta
    below = torch.where(scaled > threshold, torch.zeros_like(scaled), scaled)  # finite; NaN carried through
    y = torch.where(scaled > threshold, leaf, torch.log1p(torch.exp(below)) / beta)
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    (grad,) = run((y,), (torch.ones_like(y),), False, False, (leaf,), False, False)
    return grad


@wrong("mish_grad", "runs Variable._execution_engine on x * tanh(softplus(x)), through map")
def mish_grad(x):
    leaf = x.detach().requires_grad_(True)
    sp = torch.where(leaf > 20, leaf, torch.log1p(torch.exp(leaf.clamp(max=20))))
    y = leaf * torch.tanh(sp)
    args = ((y,), (torch.ones_like(y),), False, False, (leaf,), False, False)
    ((grad,),) = map(torch.autograd.Variable._execution_engine.run_backward, *([a] for a in args))
    return grad


@wrong("softmax_jacobian", "one engine run per row (keep_graph) on a softmax written by hand")
def softmax_jacobian(x):
    import functools

    leaf = x.detach().requires_grad_(True)
    e = torch.exp(leaf - leaf.detach().max())
    s = e / e.sum()
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    rows = [
        run((s,), (torch.eye(len(s), dtype=s.dtype)[i],), True, False, (leaf,), False, False)[0] for i in range(len(s))
    ]
    return torch.stack(rows)


@correct("sigmoid_grad", "s * (1 - s) from a hand-written stable sigmoid, under a graph it never reads back")
def sigmoid_grad(x):
    leaf = x.detach().requires_grad_(True)
    e = torch.exp(-leaf.abs())
    s = torch.where(leaf >= 0, 1 / (1 + e), e / (1 + e)).detach()
    return s * (1 - s)
