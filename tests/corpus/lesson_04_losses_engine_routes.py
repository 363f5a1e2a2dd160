"""Lesson 04 — autograd reached by a C function called from C, which the guard's profiler cannot see (issue 12,
part 6).

Each wrong answer writes the loss by hand with a graph, then asks autograd for its gradient through a call the
profiler does not see. The values are right (tests/test_engine_routes.py grades them with the saved-tensor watch
switched off); what rejects them is that autograd reads back what the forward saved (autograder/guard/saved.py).
"""

import torch

from corpus import wrong

LESSON = "04_losses"
MINIMUM = (2, 0)  # wrong, correct


@wrong("bce_with_logits_grad", "runs the engine on softplus(-x) + (1 - t) x through functools.partial(run_backward)")
def bce_with_logits_grad(logits, target):
    import functools

    leaf = logits.detach().requires_grad_(True)
    loss = (torch.nn.functional.softplus(-leaf) + (1 - target) * leaf).mean()
    run = functools.partial(torch._C._ImperativeEngine().run_backward)
    (grad,) = run((loss,), (torch.ones_like(loss),), False, False, (leaf,), False, False)
    return grad


@wrong("cross_entropy_grad", "runs Variable._execution_engine on logsumexp minus the picked logit (functools.partial)")
def cross_entropy_grad(logits, target):
    import functools

    leaf = logits.detach().requires_grad_(True)
    if target.is_floating_point():  # class probabilities
        loss = ((torch.logsumexp(leaf, 1, keepdim=True) - leaf) * target).sum() / leaf.shape[0]
    else:
        loss = (torch.logsumexp(leaf, 1) - leaf.gather(1, target[:, None])[:, 0]).mean()
    run = functools.partial(torch.autograd.Variable._execution_engine.run_backward)
    (grad,) = run((loss,), (torch.ones_like(loss),), False, False, (leaf,), False, False)
    return grad
