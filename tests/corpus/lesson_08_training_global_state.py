"""Lesson 08 — global state is left as found (issue 12, part 6).

An optimizer's step and a learning-rate schedule are deterministic: seeding the global generator "for
reproducibility" inside them resets the caller's random sequence (its shuffling, its dropout masks).
"""

import math

import torch

from corpus import correct, wrong

LESSON = "08_training"
MINIMUM = (2, 1)  # wrong, correct


@wrong("SGD", "seeds the global random generator in step() for reproducibility")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        torch.manual_seed(0)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    d_p = d_p + group["weight_decay"] * p
                if momentum != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = d_p.clone()
                    else:
                        state["momentum_buffer"].mul_(momentum).add_(d_p, alpha=1 - dampening)
                    buf = state["momentum_buffer"]
                    d_p = d_p + momentum * buf if group["nesterov"] else buf
                p.add_(d_p, alpha=-lr)
        return loss


@wrong("cosine_annealing_lr", "draws a random number it does not use (left from a jitter experiment)")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0.0):
    torch.rand(1)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


@correct("step_lr", "integer division by a loop instead of //")
def step_lr(base_lr, epoch, step_size, gamma=0.1):
    lr = base_lr
    for _ in range(epoch // step_size):
        lr = lr * gamma
    return lr
