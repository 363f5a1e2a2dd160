"""Lesson 05 — autograd reached by a C function called from C, which the guard's profiler cannot see (issue 12,
part 6).

Each wrong answer records a forward and gets the derivative from autograd through a call the profiler does not
see: ``functools.partial``/``map`` of the engine's ``run_backward``, or the recorded node fetched through
``functools.partial(torch._C.TensorBase.grad_fn.__get__)`` and called. The values are right
(tests/test_engine_routes.py grades them with the saved-tensor watch switched off); what rejects them is that
autograd reads back what the forward saved (autograder/guard/saved.py). (``numerical_gradient`` has none: an
exact derivative is already a wrong answer there, its checks test the step ``eps``.)
"""

import torch
import torch.nn.functional as F

from corpus import wrong

LESSON = "05_backprop"
MINIMUM = (4, 0)  # wrong, correct


@wrong("linear_backward", "runs the engine on F.linear through functools.partial(run_backward)")
def linear_backward(grad_output, input, weight):
    import functools

    x = input.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    y = F.linear(x, w, b)
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    return run((y,), (grad_output,), False, False, (x, w, b), False, False)


@wrong("mlp_backward", "replays the forward and runs Variable._execution_engine.run_backward through map")
def mlp_backward(cache):
    params = {k: v.detach().requires_grad_(True) for k, v in cache["params"].items()}
    z1 = cache["x"] @ params["W1"].T + params["b1"]
    logits = torch.relu(z1) @ params["W2"].T + params["b2"]
    loss = F.cross_entropy(logits, cache["target"])
    engine = torch.autograd.Variable._execution_engine
    args = ((loss,), (torch.ones_like(loss),), False, False, tuple(params.values()), False, False)
    (grads,) = map(engine.run_backward, *([a] for a in args))
    return dict(zip(params, grads))


@wrong("softmax_backward", "calls the node torch.softmax recorded, fetched through functools.partial")
def softmax_backward(grad_output, output, dim):
    import functools

    leaf = output.detach().log().requires_grad_(True)
    node = functools.partial(torch._C.TensorBase.grad_fn.__get__)(torch.softmax(leaf, dim))
    return node(grad_output).detach()


@wrong("log_softmax_backward", "runs the engine on log_softmax(output), which is output again")
def log_softmax_backward(grad_output, output, dim):
    import functools

    leaf = output.detach().requires_grad_(True)
    y = torch.log_softmax(leaf, dim)
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    (grad,) = run((y,), (grad_output,), False, False, (leaf,), False, False)
    return grad
