"""Lesson 02 — global state is left as found (issue 12, part 6).

An initializer fills its tensor "unseen by autograd": switching gradient recording off for the whole process,
and leaving it off, breaks every later training step of the caller.
"""

import torch

from corpus import correct, wrong

LESSON = "02_initialization"
MINIMUM = (2, 1)  # wrong, correct


@wrong("zeros_", "switches gradient recording off with torch.set_grad_enabled(False) and leaves it off")
def zeros_(tensor):
    torch.set_grad_enabled(False)
    return tensor.zero_()


@wrong("uniform_", "enters torch.no_grad() by hand and never leaves it")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    torch.no_grad().__enter__()
    u = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype, device=tensor.device)
    return tensor.copy_(a + (b - a) * u)


@correct("zeros_", "switches recording off by hand and back to what it was")
def zeros_(tensor):
    was = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        return tensor.zero_()
    finally:
        torch.set_grad_enabled(was)
