"""Grading helpers for lesson 08a (optimizers): a student's optimizer runs side by side with torch.optim's
(:mod:`autograder.lessons.optimizer_runs`), on the scenarios below; the learning-rate schedules are checked in
:mod:`autograder.lessons.schedules`.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from autograder.checks import Case, CheckFailed, call_student, check, check_raises
from autograder.lessons.optimizer_runs import (
    BAN,
    REFERENCE,
    SHAPES,
    STATE_KEYS,
    Run,
    Scenario,
    _give_grad,
    _groups,
    _student_params,
    build,
    run_side_by_side,
)
from autograder.lessons.optimizer_slips import adam_slip, adamw_slip, sgd_slip
from autograder.lessons.schedules import SCHEDULER_BAN, SCHEDULES, check_schedule, scheduler_lrs
from autograder.reference import pristine

__all__ = [
    "BAN", "REFERENCE", "SCHEDULER_BAN", "SCHEDULES", "SHAPES", "STATE_KEYS", "Run", "Scenario", "build",
    "check_invalid_sgd", "check_optimizer", "check_schedule", "check_state_dict", "check_zero_grad",
    "run_side_by_side", "scheduler_lrs",
]  # fmt: skip

# ---------------------------------------------------------------- the checks grade cells call

_F32 = torch.float32
SCENARIOS: dict[str, dict[str, list[Scenario]]] = {
    "SGD": {
        "plain": [Scenario({"lr": 0.1}, ({}, {"lr": 0.02})), Scenario({"lr": 0.1}, ({}, {"lr": 0.3}), dtype=_F32)],
        "weight_decay_and_maximize": [
            Scenario({"lr": 0.1, "weight_decay": 0.1}, ({}, {"weight_decay": 0.0})),
            Scenario({"lr": 0.05, "maximize": True}, ({}, {"lr": 0.2}), seed=1),
            Scenario({"lr": 0.1, "weight_decay": 0.3, "maximize": True}, ({}, {"maximize": False}), dtype=_F32),
        ],
        "momentum": [
            Scenario({"lr": 0.05, "momentum": 0.9}, ({}, {"momentum": 0.5, "dampening": 0.5}), absent={1: (0, 1)}),
            Scenario({"lr": 0.05, "momentum": 0.9, "dampening": 0.1}, dtype=_F32, seed=1),
        ],
        "nesterov": [
            Scenario({"lr": 0.05, "momentum": 0.9, "nesterov": True}, ({}, {"momentum": 0.6}), absent={2: (0,)}),
            Scenario({"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}, dtype=_F32, seed=1),
        ],
        "edge_cases": [
            Scenario({"lr": 0.0, "momentum": 0.9}, ({}, {"lr": 0.1}), steps=4),
            Scenario({"lr": 0.1, "momentum": 0.0}, ({}, {"momentum": 0.9}), absent={0: tuple(range(8))}),
        ],
        "state_dict": [
            Scenario(
                {"lr": 0.05, "momentum": 0.9, "dampening": 0.2},
                ({}, {"nesterov": False}),
                steps=8,
                absent={1: (0, 1, 2, 3)},
            )
        ],
    },
    "Adam": {
        "update": [
            Scenario({"lr": 0.01}, ({}, {"betas": (0.8, 0.99), "lr": 0.05}), steps=10),
            Scenario({"lr": 0.01, "betas": (0.5, 0.9)}, dtype=_F32, seed=1),
        ],
        "eps_and_weight_decay": [
            Scenario({"lr": 0.01}, ({}, {"eps": 1e-3}), scale=1e-6, seed=1),
            Scenario({"lr": 0.01, "weight_decay": 0.1}, ({}, {"weight_decay": 0.0}), seed=2),
        ],
        "amsgrad": [Scenario({"lr": 0.01, "amsgrad": True}, ({}, {"betas": (0.9, 0.8)}), steps=12, seed=1)],
        "edge_cases": [
            Scenario({"lr": 0.01}, absent={0: (0, 1, 2), 2: (1, 4)}),
            Scenario({"lr": 0.0}, ({}, {"lr": 0.01}), steps=4, seed=1),
        ],
        "state_dict": [Scenario({"lr": 0.01, "amsgrad": True}, ({}, {"betas": (0.8, 0.9)}), absent={0: (0, 1)})],
    },
    "AdamW": {
        "decoupled_weight_decay": [
            Scenario({"lr": 0.05, "weight_decay": 0.1}, ({}, {"weight_decay": 0.5})),
            Scenario({"lr": 0.01}, ({}, {"lr": 0.05}), seed=1, dtype=_F32),
        ],
        "amsgrad_and_edge_cases": [
            Scenario(
                {"lr": 0.02, "amsgrad": True, "weight_decay": 0.2},
                ({}, {"betas": (0.9, 0.8)}),
                steps=12,
                absent={0: (0, 1), 2: (5,)},
            ),
            Scenario({"lr": 0.0, "weight_decay": 0.5}, steps=3, seed=1),
        ],
    },
}
NOTES = {
    "edge_cases": "the edge cases: lr=0 still updates the optimizer's state, a parameter whose grad is None "
    "is skipped, and momentum=0 needs no buffer."
}
SLIPS = {"SGD": sgd_slip, "Adam": adam_slip, "AdamW": adamw_slip}


def check_optimizer(cls: Any, name: str, behaviour: str, scenarios: list[Scenario] | None = None) -> None:
    """Run the student's optimizer ``name`` side by side with torch.optim's on the behaviour's scenarios, or on
    ``scenarios`` (the grade cell's hidden ones) for that behaviour."""
    check(
        isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer),
        f"`{name}` should be a class that subclasses torch.optim.Optimizer (it is {type(cls).__name__}).",
    )
    for scenario in SCENARIOS[name][behaviour] if scenarios is None else scenarios:
        if behaviour in NOTES and not scenario.note:
            scenario = Scenario(**{**scenario.__dict__, "note": NOTES[behaviour]})
        run_side_by_side(cls, name, scenario, SLIPS[name])


def check_zero_grad(cls: Any, name: str) -> None:
    """``zero_grad()`` clears every parameter's gradient (to None, PyTorch's default, or to zeros)."""
    run = run_side_by_side(cls, name, Scenario({"lr": 0.1}, steps=1), SLIPS[name])
    for p in run.params:
        _give_grad(p, torch.ones_like(p))
    call_student(run.opt.zero_grad, Case("zero_grad() after a step"), name=f"{name}.zero_grad", forbid=BAN)
    for i, p in enumerate(_student_params(run.opt, name, len(run.params))):
        check(
            p.grad is None or not bool(p.grad.ne(0).any()),
            f"after `{name}.zero_grad()`, parameter #{i} still has a non-zero .grad: zero_grad must clear the "
            "gradient of every parameter of every group (torch.optim.Optimizer's does).",
        )


def check_state_dict(cls: Any, name: str, *, from_torch: bool = False) -> None:
    """Save the student's state halfway, load it into a new optimizer over the same values, and go on: the
    steps must continue PyTorch's exactly (``from_torch``: load what torch.optim's own optimizer saved)."""
    scenario = SCENARIOS[name]["state_dict"][0]
    half = scenario.steps // 2
    run = Run.start(cls, name, scenario, SLIPS[name])
    run.steps(half)
    if from_torch:
        with pristine():
            saved = copy.deepcopy(run.ref.state_dict())
        where = f"the state_dict() of torch.optim.{name}"
    else:
        saved = call_student(run.opt.state_dict, Case(f"state_dict() after {half} steps"), name=f"{name}.state_dict")
        check(
            isinstance(saved, dict) and {"state", "param_groups"} <= set(saved),
            f"`{name}.state_dict()` should return a dict with 'state' and 'param_groups', as "
            "torch.optim.Optimizer's does; do not override it.",
        )
        saved = copy.deepcopy(saved)
        where = "the state_dict() your optimizer saved"
    values = [[p.detach().double() for p in run.params[:2]], [run.params[2].detach().double()]]
    label = f"a new {name} that loaded {where} after {half} steps"
    fresh = build(cls, name, _groups(values, scenario, scenario.dtype), scenario.hyper, label)
    call_student(lambda: fresh.load_state_dict(saved), Case(label), name=f"{name}.load_state_dict")
    run.opt, run.params = fresh, _student_params(fresh, name, len(run.ref_params))
    try:
        run.steps(scenario.steps, f"{scenario.label(name)}, continued by {label}")
    except CheckFailed as failure:
        raise CheckFailed(
            f"{failure}\nLikely cause: the state did not survive state_dict()/load_state_dict(). Keep "
            "everything a step needs in self.state[p] (per parameter) and the hyper-parameters in the "
            "param groups: those are what the base class saves and restores."
        ) from None


def check_invalid_sgd(cls: Any) -> None:
    """Invalid hyper-parameters raise ValueError when the optimizer is built, as torch.optim.SGD does."""
    p = torch.zeros(3, requires_grad=True)
    bad = [
        ({"lr": -0.1}, "a negative learning rate"),
        ({"lr": 0.1, "momentum": -0.5}, "a negative momentum"),
        ({"lr": 0.1, "weight_decay": -1e-4}, "a negative weight decay"),
        ({"lr": 0.1, "nesterov": True}, "Nesterov momentum without momentum (momentum=0)"),
        ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "Nesterov momentum with dampening"),
    ]
    for kwargs, what in bad:
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        check_raises(
            lambda kwargs=kwargs: (cls([p], **kwargs), "an optimizer")[1],
            Case(f"SGD([p], {args})"),
            ValueError,
            name="SGD",
            forbid=BAN,
            why=f"PyTorch refuses {what} when the optimizer is built, with a message that says why.",
        )
