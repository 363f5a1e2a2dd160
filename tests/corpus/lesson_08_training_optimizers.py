"""Lesson 08a — optimizers: wrong answers students plausibly write, and other correct ones.

Each variant is a whole exercise cell. The base class is torch.optim.Optimizer throughout; a variant differs
from a correct optimizer in one slip (named in its decorator).
"""

import math

import torch

from corpus import correct, wrong

LESSON = "08_training/08a_optimizers.ipynb"
MINIMUM = (45, 11)  # wrong, correct (the issue asks for at least 25 and 6 for 08a)


# ---------------------------------------------------------------- SGD


@wrong("SGD", "momentum buffer initialised to zero instead of the first gradient")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                    buf.mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "dampening applied to the first gradient too")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            m, d = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if m != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = (1 - d) * g
                    else:
                        state["momentum_buffer"] = m * state["momentum_buffer"] + (1 - d) * g
                    g = g + m * state["momentum_buffer"] if group["nesterov"] else state["momentum_buffer"]
                p.sub_(group["lr"] * g)


@wrong("SGD", "Nesterov ignored: plain momentum")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "Nesterov look-ahead with the previous step's buffer")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            m = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if m != 0:
                    state = self.state[p]
                    old = state.get("momentum_buffer")
                    new = g.clone() if old is None else m * old + (1 - group["dampening"]) * g
                    state["momentum_buffer"] = new
                    if group["nesterov"]:
                        g = g + m * (old if old is not None else new)
                    else:
                        g = new
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "weight decay applied after the update")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])
                p.mul_(1 - group["lr"] * group["weight_decay"])


@wrong("SGD", "maximize ignored")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "maximize negates the weight-decay term as well")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                if group["maximize"]:
                    g = -g
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "hyper-parameters read from self.defaults, not from each group")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        h = self.defaults
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if h["maximize"] else p.grad
                g = g + h["weight_decay"] * p
                if h["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(h["momentum"]).add_(g, alpha=1 - h["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + h["momentum"] * buf if h["nesterov"] else buf
                p.add_(g, alpha=-h["lr"])


@wrong("SGD", "a missing gradient treated as zero (weight decay still applied)")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad if p.grad is not None else torch.zeros_like(p)
                g = -grad if group["maximize"] else grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "returns early when lr == 0, so the buffers are not updated")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            if group["lr"] == 0:
                continue
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "velocity form v = m·v − lr·g kept as the buffer (lr folded into the state)")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            m, lr = group["momentum"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if m == 0:
                    p.add_(g, alpha=-lr)
                    continue
                state = self.state[p]
                v = state.get("momentum_buffer", torch.zeros_like(p))
                v = m * v - lr * g
                state["momentum_buffer"] = v
                p.add_(m * v - lr * g if group["nesterov"] else v)


@wrong("SGD", "the buffer kept under another name (self.state[p]['velocity'])")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "velocity" not in state:
                        state["velocity"] = g.clone()
                    else:
                        state["velocity"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["velocity"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "buffers kept in a dict of the optimizer's own, which state_dict() does not save")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )
        self.buffers = {}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    if p not in self.buffers:
                        self.buffers[p] = g.clone()
                    else:
                        self.buffers[p].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = self.buffers[p]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "weight decay added to p.grad in place")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["maximize"]:
                    p.grad.neg_()
                g = p.grad.add_(p, alpha=group["weight_decay"])
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "no check of the hyper-parameters (Nesterov with dampening accepted)")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "zero_grad overridden to zero the parameters' values")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0 or (nesterov and (momentum <= 0 or dampening != 0)):
            raise ValueError("invalid hyper-parameter")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def zero_grad(self, set_to_none=True):
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    p.zero_()

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                g = g + group["weight_decay"] * p
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                    buf = state["momentum_buffer"]
                    g = g + group["momentum"] * buf if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


@wrong("SGD", "calls torch.optim.SGD's update (torch.optim.sgd.sgd) instead of writing it")
class SGD(torch.optim.SGD):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )


@correct("SGD", "out-of-place updates, state written back, torch.add with alpha")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "dampening": dampening,
                "weight_decay": weight_decay,
                "nesterov": nesterov,
                "maximize": maximize,
            },
        )

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        with torch.no_grad():
            for group in self.param_groups:
                for p in (q for q in group["params"] if q.grad is not None):
                    grad = torch.neg(p.grad) if group["maximize"] else p.grad
                    if group["weight_decay"]:
                        grad = torch.add(grad, p, alpha=group["weight_decay"])
                    if group["momentum"]:
                        old = self.state[p].get("momentum_buffer")
                        if old is None:
                            buf = torch.clone(grad)
                        else:
                            buf = torch.add(old * group["momentum"], grad, alpha=1 - group["dampening"])
                        self.state[p]["momentum_buffer"] = buf
                        grad = torch.add(grad, buf, alpha=group["momentum"]) if group["nesterov"] else buf
                    p.copy_(p - group["lr"] * grad)
        return loss


@correct("SGD", "one update written as lerp-free arithmetic, buffer created with zeros and copied on first use")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        problems = [lr < 0, momentum < 0, weight_decay < 0, nesterov and (momentum <= 0 or dampening != 0)]
        if any(problems):
            raise ValueError(
                f"invalid SGD hyper-parameters: lr={lr}, momentum={momentum}, "
                f"weight_decay={weight_decay}, nesterov={nesterov}, dampening={dampening}"
            )
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, m, d, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
            sign = -1.0 if group["maximize"] else 1.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = sign * p.grad + wd * p
                if m > 0:
                    state = self.state[p]
                    if not state:
                        state["momentum_buffer"] = torch.zeros_like(p)
                        state["momentum_buffer"].copy_(g)
                    else:
                        state["momentum_buffer"] *= m
                        state["momentum_buffer"] += (1 - d) * g
                    g = g + m * state["momentum_buffer"] if group["nesterov"] else state["momentum_buffer"]
                p -= lr * g


@correct("SGD", "buffer created with setdefault after an explicit first-step test; maximize as a sign; p.sub_")
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        for value, what in ((lr, "learning rate"), (momentum, "momentum"), (weight_decay, "weight_decay")):
            if value < 0:
                raise ValueError(f"Invalid {what}: {value}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            sign = -1 if group["maximize"] else 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = sign * p.grad
                if group["weight_decay"]:
                    d_p = d_p + group["weight_decay"] * p
                if group["momentum"]:
                    first = "momentum_buffer" not in self.state[p]
                    buf = self.state[p].setdefault("momentum_buffer", d_p.clone())
                    if not first:
                        buf.mul_(group["momentum"]).add_((1 - group["dampening"]) * d_p)
                    d_p = d_p.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf
                p.sub_(group["lr"] * d_p)


# ---------------------------------------------------------------- Adam


@wrong("Adam", "no bias correction")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * s["exp_avg"] / (v.sqrt() + group["eps"]))


@wrong("Adam", "bias correction uses the step count before it is incremented (t = 0 on the first step)")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                t = s["step"]
                s["step"] += 1
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                m_hat = s["exp_avg"] / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


@wrong("Adam", "bias correction one step ahead (1 − β^(t+1))")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"] + 1
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + group["eps"]))


@wrong("Adam", "eps inside the square root")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"]
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / (v / (1 - b2**t) + group["eps"]).sqrt())


@wrong("Adam", "one step count for the whole optimizer instead of one per parameter")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))
        self.t = 0

    @torch.no_grad()
    def step(self, closure=None):
        self.t += 1
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] = self.t
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                m_hat = s["exp_avg"] / (1 - b1**self.t)
                v_hat = v / (1 - b2**self.t)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


@wrong("Adam", "m starts at the first gradient, as SGD's buffer does")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=g.clone(), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                else:
                    s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["step"] += 1
                t = s["step"]
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + group["eps"]))


@wrong("Adam", "weight decay applied to the parameter after the step, not added to the gradient")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"]
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + group["eps"]))
                p.mul_(1 - group["lr"] * group["weight_decay"])


@wrong("Adam", "AMSGrad keeps the maximum of the bias-corrected v")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"]
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v_hat = s["exp_avg_sq"] / (1 - b2**t)
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v_hat, out=s["max_exp_avg_sq"])
                    v_hat = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / (v_hat.sqrt() + group["eps"]))


@wrong("Adam", "amsgrad ignored")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                s["step"] += 1
                t = s["step"]
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v_hat = s["exp_avg_sq"] / (1 - b2**t)
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / (v_hat.sqrt() + group["eps"]))


@wrong("Adam", "the roles of beta1 and beta2 swapped")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b2, b1 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"]
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + group["eps"]))


@wrong("Adam", "the step count kept as state[p]['t'], not 'step'")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(t=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["t"] += 1
                t = s["t"]
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                    v = s["max_exp_avg_sq"]
                p.sub_(group["lr"] * (s["exp_avg"] / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + group["eps"]))


@correct("Adam", "PyTorch's own arrangement: lerp_, step as a tensor, denom = √v/√(1−β2^t) + eps, addcdiv_")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if group["weight_decay"] == 0 else p.grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                step = state["step"].item()
                state["exp_avg"].lerp_(grad, 1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad.conj(), value=1 - beta2)
                bias_correction2_sqrt = math.sqrt(1 - beta2**step)
                if group["amsgrad"]:
                    torch.maximum(state["max_exp_avg_sq"], state["exp_avg_sq"], out=state["max_exp_avg_sq"])
                    denom = (state["max_exp_avg_sq"].sqrt() / bias_correction2_sqrt).add_(group["eps"])
                else:
                    denom = (state["exp_avg_sq"].sqrt() / bias_correction2_sqrt).add_(group["eps"])
                p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1**step))
        return loss


@correct("Adam", "out of place: m and v rebuilt each step and stored back, v̂ computed before the square root")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(
            params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad}
        )

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                t = s.get("step", 0) + 1
                m = b1 * s.get("exp_avg", torch.zeros_like(p)) + (1 - b1) * g
                v = b2 * s.get("exp_avg_sq", torch.zeros_like(p)) + (1 - b2) * g**2
                s["step"], s["exp_avg"], s["exp_avg_sq"] = t, m, v
                if group["amsgrad"]:
                    v = torch.maximum(s.get("max_exp_avg_sq", torch.zeros_like(p)), v)
                    s["max_exp_avg_sq"] = v
                v_hat = v / (1 - b2**t)
                p.copy_(p - group["lr"] * (m / (1 - b1**t)) / (torch.sqrt(v_hat) + group["eps"]))


@correct("Adam", "the Adam paper's efficient form: step size lr·√(1−β2^t)/(1−β1^t), eps scaled by √(1−β2^t)")
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"]
                s["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    s["max_exp_avg_sq"].copy_(torch.maximum(s["max_exp_avg_sq"], v))
                    v = s["max_exp_avg_sq"]
                root = math.sqrt(1 - b2**t)
                p.sub_(group["lr"] * root / (1 - b1**t) * s["exp_avg"] / (v.sqrt() + group["eps"] * root))


# ---------------------------------------------------------------- AdamW (each on the lesson's correct Adam)


@wrong("AdamW", "L2 penalty added to the gradient (that is Adam's weight decay)")
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


@wrong("AdamW", "decays with weight_decay instead of lr·weight_decay")
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    @torch.no_grad()
    def step(self, closure=None):
        decays = [group["weight_decay"] for group in self.param_groups]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.mul_(1 - group["weight_decay"])
            group["weight_decay"] = 0
        super().step()
        for group, decay in zip(self.param_groups, decays):
            group["weight_decay"] = decay


@wrong("AdamW", "decays after the Adam step")
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    @torch.no_grad()
    def step(self, closure=None):
        decays = [group["weight_decay"] for group in self.param_groups]
        for group in self.param_groups:
            group["weight_decay"] = 0
        super().step()
        for group, decay in zip(self.param_groups, decays):
            group["weight_decay"] = decay
            for p in group["params"]:
                if p.grad is not None:
                    p.mul_(1 - group["lr"] * decay)


@wrong("AdamW", "lr·weight_decay·p added to the gradient")
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    @torch.no_grad()
    def step(self, closure=None):
        decays = [group["weight_decay"] for group in self.param_groups]
        for group in self.param_groups:
            group["weight_decay"] = group["lr"] * group["weight_decay"]
        super().step()
        for group, decay in zip(self.param_groups, decays):
            group["weight_decay"] = decay


@wrong("AdamW", "default weight_decay=0 (Adam's default, not AdamW's)")
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    @torch.no_grad()
    def step(self, closure=None):
        decays = [group["weight_decay"] for group in self.param_groups]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
            group["weight_decay"] = 0
        super().step()
        for group, decay in zip(self.param_groups, decays):
            group["weight_decay"] = decay


@wrong("AdamW", "weight_decay set to 0 for the Adam step and never put back")
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
            group["weight_decay"] = 0
        super().step()


@wrong("AdamW", "decays every parameter, those without a gradient too")
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    @torch.no_grad()
    def step(self, closure=None):
        decays = [group["weight_decay"] for group in self.param_groups]
        for group in self.param_groups:
            for p in group["params"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            group["weight_decay"] = 0
        super().step()
        for group, decay in zip(self.param_groups, decays):
            group["weight_decay"] = decay


@correct("AdamW", "written in full on torch.optim.Optimizer")
class AdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.mul_(1 - group["lr"] * group["weight_decay"])
                s = self.state[p]
                if not s:
                    s.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    if group["amsgrad"]:
                        s["max_exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"]
                s["exp_avg"].lerp_(p.grad, 1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                v = s["exp_avg_sq"]
                if group["amsgrad"]:
                    v = torch.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                denom = v.sqrt() / math.sqrt(1 - b2**t) + group["eps"]
                p.addcdiv_(s["exp_avg"], denom, value=-group["lr"] / (1 - b1**t))


# ---------------------------------------------------------------- schedules


@wrong("step_lr", "decays one epoch early: (epoch + 1) // step_size")
def step_lr(base_lr, epoch, step_size, gamma=0.1):
    return base_lr * gamma ** ((epoch + 1) // step_size)


@wrong("step_lr", "no floor: gamma ** (epoch / step_size) decays smoothly")
def step_lr(base_lr, epoch, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch / step_size)


@wrong("step_lr", "decays every epoch: gamma ** epoch")
def step_lr(base_lr, epoch, step_size, gamma=0.1):
    return base_lr * gamma**epoch


@wrong("step_lr", "subtracts gamma·base_lr per period instead of multiplying")
def step_lr(base_lr, epoch, step_size, gamma=0.1):
    return base_lr * (1 - gamma * (epoch // step_size))


@correct("step_lr", "a loop that multiplies at every multiple of step_size")
def step_lr(base_lr, epoch, step_size, gamma=0.1):
    lr = base_lr
    for e in range(1, epoch + 1):
        if e % step_size == 0:
            lr *= gamma
    return lr


@correct("step_lr", "math.pow of a floored quotient")
def step_lr(base_lr, epoch, step_size, gamma=0.1):
    return base_lr * math.pow(gamma, math.floor(epoch / step_size))


@wrong("cosine_annealing_lr", "forgets the ½: the cosine term spans twice the range")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max))


@wrong("cosine_annealing_lr", "eta_min ignored")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    return base_lr * (1 + math.cos(math.pi * epoch / T_max)) / 2


@wrong("cosine_annealing_lr", "stays at eta_min after T_max")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    epoch = min(epoch, T_max)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


@wrong("cosine_annealing_lr", "one epoch ahead: cos(π·(epoch + 1)/T_max)")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (epoch + 1) / T_max)) / 2


@wrong("cosine_annealing_lr", "returns a tensor (torch.cos) instead of a float")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    return eta_min + (base_lr - eta_min) * (1 + torch.cos(torch.tensor(math.pi * epoch / T_max))) / 2


@wrong("cosine_annealing_lr", "uses a torch scheduler instead of the closed form")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max, eta_min)
    for _ in range(epoch):
        sched.step()
    return opt.param_groups[0]["lr"]


@correct("cosine_annealing_lr", "the same curve as a squared cosine of half the angle")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    return eta_min + (base_lr - eta_min) * math.cos(math.pi * epoch / (2 * T_max)) ** 2


@correct("cosine_annealing_lr", "the epoch folded into one period of 2·T_max first")
def cosine_annealing_lr(base_lr, epoch, T_max, eta_min=0):
    phase = (epoch % (2 * T_max)) / T_max
    return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * phase))
