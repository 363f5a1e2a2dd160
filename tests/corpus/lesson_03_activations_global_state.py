"""Lesson 03 — global state is left as found (issue 12, part 6).

Computing in float64 "for stability" by changing the process's default dtype, and leaving it changed, makes
every tensor the caller creates afterwards float64.
"""

import torch

from corpus import correct, wrong

LESSON = "03_activations"
MINIMUM = (2, 1)  # wrong, correct


@wrong("sigmoid", "makes float64 the default dtype to compute, and leaves it so")
def sigmoid(x):
    torch.set_default_dtype(torch.float64)
    x64 = x.to(torch.get_default_dtype())
    e = torch.exp(-x64.abs())
    return torch.where(x64 >= 0, 1 / (1 + e), e / (1 + e)).to(x.dtype)


@wrong("tanh", "turns anomaly detection on while debugging and leaves it on")
def tanh(x):
    torch.autograd.set_detect_anomaly(True)
    e = torch.exp(-2 * x.abs())
    return torch.sign(x) * (1 - e) / (1 + e)


@correct("sigmoid", "changes the default dtype for the computation and sets it back")
def sigmoid(x):
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        x64 = x.to(torch.get_default_dtype())
        e = torch.exp(-x64.abs())
        return torch.where(x64 >= 0, 1 / (1 + e), e / (1 + e)).to(x.dtype)
    finally:
        torch.set_default_dtype(before)
