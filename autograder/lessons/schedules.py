"""Lesson 08a's learning-rate schedules: checked against the lr sequence that ``StepLR`` and
``CosineAnnealingLR`` actually produce."""

from __future__ import annotations

import math
from typing import Any

import torch

from autograder.checks import Case, CheckFailed, call_student, check, fail
from autograder.lessons.optimizer_runs import BAN
from autograder.reference import pristine

#: every torch scheduler reads the optimizer's learning rates through this function when it is built
SCHEDULER_BAN: tuple[str, ...] = ("torch.optim.lr_scheduler._param_groups_val_list",)


def scheduler_lrs(kind: str, base_lr: float, epochs: int, **kwargs: Any) -> list[float]:
    """The learning rate that PyTorch's ``StepLR``/``CosineAnnealingLR`` sets at epochs 0, 1, ..., ``epochs``."""
    with pristine():
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
        sched = getattr(torch.optim.lr_scheduler, kind)(opt, **kwargs)
        lrs = []
        for _ in range(epochs + 1):
            lrs.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            sched.step()
    return lrs


#: exercise -> (the torch scheduler it mirrors, the (base_lr, scheduler arguments) of its visible checks)
SCHEDULES = {
    "step_lr": ("StepLR", [(0.1, {"step_size": 3}), (0.5, {"step_size": 2, "gamma": 0.5})]),
    "cosine_annealing_lr": ("CosineAnnealingLR", [(0.1, {"T_max": 10}), (0.5, {"T_max": 4, "eta_min": 0.05})]),
}


def check_schedule(fn: Any, name: str, settings: list[tuple[float, dict]] | None = None) -> None:
    """``fn(base_lr, epoch, **kwargs)`` equals the scheduler's lr at every epoch 0..2·period+1 (past T_max too),
    for each (base_lr, kwargs) of the exercise's visible settings, or of ``settings`` (the grade cell's hidden ones)."""
    kind, visible = SCHEDULES[name]
    for base_lr, kwargs in visible if settings is None else settings:
        period = kwargs.get("T_max", kwargs.get("step_size", 1))
        lrs = scheduler_lrs(kind, base_lr, 2 * period + 1, **kwargs)
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        for epoch, expected in enumerate(lrs):
            case = Case(f"{name}({base_lr}, {epoch}, {args})", (base_lr, epoch), kwargs)
            try:
                got = call_student(fn, case, name=name, forbid=SCHEDULER_BAN + BAN, keeps_rng=True)
            except CheckFailed as failure:
                if "_param_groups_val_list" not in str(failure):
                    raise
                fail(
                    f"`{name}` builds a torch.optim.lr_scheduler scheduler, which this exercise does not allow: "
                    "the point is to write the closed form yourself."
                )
            check(
                isinstance(got, int | float) and not isinstance(got, bool),
                f"`{name}` should return the learning rate as a Python float; it returned {type(got).__name__} "
                f"on {case.label}.",
            )
            ok = math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12 * base_lr)
            check(
                ok,
                f"`{name}` gives {got!r} on {case.label}; PyTorch's {kind} sets {expected!r} at that epoch "
                f"(its sequence over epochs 0..{len(lrs) - 1}: {', '.join(f'{v:.4g}' for v in lrs)}).",
            )
