"""Lesson 07 — autograd reached by a C function called from C, which the guard's profiler cannot see (issue 12,
part 6).

A forward ``F.conv2d`` (or an unfold and a max) is allowed in the backward exercises; getting its derivative from
autograd through a call the profiler does not see is not. The values are right (tests/test_engine_routes.py
grades them with the saved-tensor watch switched off); what rejects them is that autograd reads back what the
forward saved (autograder/guard/saved.py).
"""

import torch
import torch.nn.functional as F

from corpus import wrong

LESSON = "07_cnn"
MINIMUM = (2, 0)  # wrong, correct


@wrong("conv2d_backward", "runs the engine on F.conv2d through functools.partial(run_backward)")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    import functools

    x = input.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    out = F.conv2d(x, w, b, stride=stride, padding=padding)
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    return run((out,), (grad_output,), False, False, (x, w, b), False, False)


@wrong("max_pool2d_backward", "runs the engine on unfold and max over each window, through map(run_backward)")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    x = input.detach().requires_grad_(True)
    columns = F.unfold(x.reshape(n * c, 1, h, w), (kh, kw), stride=(sh, sw))  # (N*C, kh*kw, L)
    pooled = columns.max(dim=1).values.reshape(grad_output.shape)
    engine = torch._C._ImperativeEngine()
    args = ((pooled,), (grad_output,), False, False, (x,), False, False)
    ((grad,),) = map(engine.run_backward, *([a] for a in args))
    return grad
