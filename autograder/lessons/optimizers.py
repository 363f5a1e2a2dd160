"""Grading helpers for lesson 08a (optimizers): a student's optimizer runs side by side with torch.optim's.

Both optimizers start from the same parameters (several parameter groups, float64 or float32) and receive
the same seeded gradients at every step (some parameters get none on some steps, as a frozen layer would);
after each ``step()`` the student's parameters and state must match PyTorch's, run in float64. The first
step where they part is reported, with the likely slip when one of the usual mistakes reproduces it
(:mod:`autograder.lessons.optimizer_slips`). The learning-rate schedules are checked against the lr sequence
that ``StepLR`` and ``CosineAnnealingLR`` actually produce.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch._dynamo  # noqa: F401 - torch.optim imports it on first use: seconds, if under the guard

from autograder.checks import Case, CheckFailed, call_student, check, check_raises, compare, fail
from autograder.lessons.optimizer_slips import adam_slip, adamw_slip, as_number, sgd_slip
from autograder.reference import pristine

# torch.optim's own update kernels (the functional API is the same functions), fused and foreach paths
_KERNELS = {
    "sgd": ("sgd", "_single_tensor_sgd", "_multi_tensor_sgd", "_fused_sgd"),
    "adam": ("adam", "_single_tensor_adam", "_multi_tensor_adam", "_fused_adam"),
    "adamw": ("adamw",),
}
BAN: tuple[str, ...] = (
    *(f"torch.optim.{module}.{fn}" for module, fns in _KERNELS.items() for fn in fns),
    *(
        f"torch.optim._functional.{fn}"
        for fn in ("adadelta", "adagrad", "adamax", "asgd", "nadam", "radam", "rmsprop", "rprop", "sparse_adam")
    ),
    "torch.ops.aten._foreach_*",
    "torch.ops.aten._fused_*",
)
#: every torch scheduler reads the optimizer's learning rates through this function when it is built
SCHEDULER_BAN: tuple[str, ...] = ("torch.optim.lr_scheduler._param_groups_val_list",)
REFERENCE = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}
STATE_KEYS = {
    "SGD": ("momentum_buffer",),
    "Adam": ("step", "exp_avg", "exp_avg_sq"),
    "AdamW": ("step", "exp_avg", "exp_avg_sq"),
}
SHAPES = (((3, 4), (5,)), ((2, 3),))  # two parameter groups: two tensors, then one


@dataclass(frozen=True)
class Scenario:
    """One run: constructor arguments, per-group overrides, steps, dtype, gradient scale and missing grads."""

    hyper: dict
    groups: tuple[dict, ...] = ({}, {})
    steps: int = 8
    dtype: torch.dtype = torch.float64
    scale: float = 1.0
    #: parameter index -> the steps at which it has no gradient (grad is None)
    absent: dict[int, tuple[int, ...]] = field(default_factory=dict)
    seed: int = 0
    note: str = ""

    def label(self, name: str) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        extra = f", group 1 with {self.groups[1]}" if len(self.groups) > 1 and self.groups[1] else ""
        kind = "float32" if self.dtype == torch.float32 else "float64"
        return f"{name}(params, {args}) ({kind}, {len(self.groups)} parameter groups{extra})"


def _start(scenario: Scenario) -> list[list[torch.Tensor]]:
    g = torch.Generator().manual_seed(1000 + scenario.seed)
    return [
        [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes] for shapes in SHAPES[: len(scenario.groups)]
    ]


def _grads(scenario: Scenario, step: int, shapes: list[tuple[int, ...]]) -> list[torch.Tensor | None]:
    g = torch.Generator().manual_seed(10_000 * (scenario.seed + 1) + step)
    out: list[torch.Tensor | None] = []
    for i, shape in enumerate(shapes):
        grad = torch.randn(shape, generator=g, dtype=torch.float64) * scenario.scale
        out.append(None if step in scenario.absent.get(i, ()) else grad)
    return out


def _groups(values: list[list[torch.Tensor]], scenario: Scenario, dtype: torch.dtype) -> list[dict]:
    return [
        {"params": [v.detach().clone().to(dtype).requires_grad_() for v in vs], **extra}
        for vs, extra in zip(values, scenario.groups, strict=True)
    ]


def _give_grad(p: torch.Tensor, grad: torch.Tensor | None) -> None:
    """Set ``p.grad``; ``mul_(1)`` marks ``p`` as changed so that, when a sandbox grades, the new grad travels
    to the student's process with the next call."""
    with torch.no_grad():
        p.grad = None if grad is None else grad.clone()
        p.mul_(1)


def build(cls: Any, name: str, groups: list[dict], hyper: dict, label: str) -> Any:
    """The student's optimizer over ``groups`` (the base class adds the defaults to each group dict it is given)."""
    return call_student(lambda: cls(groups, **hyper), Case(label), name=name, forbid=BAN)


def _student_params(opt: Any, name: str, count: int) -> list[torch.Tensor]:
    """The tensors the student's optimizer holds, in order, from its ``param_groups``."""
    try:
        groups = list(opt.param_groups)
        params = [p for group in groups for p in group["params"]]
    except Exception as exc:  # noqa: BLE001 - anything missing is explained below
        fail(
            f"`{name}` has no usable `param_groups` ({type(exc).__name__}: {exc}). Call "
            "`super().__init__(params, defaults)` in `__init__`: torch.optim.Optimizer builds the groups."
        )
    check(
        len(params) == count and all(isinstance(p, torch.Tensor) for p in params),
        f"`{name}`'s param_groups hold {len(params)} tensors; it was given {count}. Let "
        "`super().__init__(params, defaults)` build the groups, and keep them.",
    )
    return params


def _all_close(got: list, expected: list, name: str, case: Case) -> bool:
    """Whether every tensor matches (one comparison for all: each ``compare`` undoes student patches first)."""
    try:
        compare(
            tuple(g.detach() for g in got),
            tuple(e.detach() for e in expected),
            name=name,
            case=case,
            expected_native=tuple(e.detach().to(g.dtype) for g, e in zip(got, expected, strict=True)),
        )
    except CheckFailed:
        return False
    return True


def _compare_state(name: str, opt: Any, params: list, ref: torch.optim.Optimizer, ref_params: list, case: Case) -> None:
    state = opt.state
    pairs = []
    for i, (p, q) in enumerate(zip(params, ref_params, strict=True)):
        expected = ref.state.get(q, {})
        mine = state.get(p, {}) if hasattr(state, "get") else {}
        for key in STATE_KEYS[name]:
            if key not in expected:
                continue
            check(
                key in mine,
                f"after {case.label}, `self.state[p]` of parameter #{i} has no {key!r}; PyTorch's "
                f"{name} keeps it there (under that name), which is what state_dict() saves and "
                "load_state_dict() restores.",
            )
            if key == "step":
                got = as_number(mine[key])
                check(
                    got is not None and got == as_number(expected[key]),
                    f"after {case.label}, state[p]['step'] of parameter #{i} is {mine[key]!r}; expected "
                    f"{as_number(expected[key]):g}, the number of steps in which this parameter had a gradient.",
                )
                continue
            pairs.append((i, key, mine[key], expected[key].to(p.dtype), expected[key]))
    tensors = all(isinstance(m, torch.Tensor) and m.shape == e.shape for _, _, m, e, _ in pairs)
    if tensors and _all_close([m for _, _, m, _, _ in pairs], [e for *_, e in pairs], name, case):
        return
    for i, key, mine_value, native, expected_value in pairs:
        compare(
            mine_value,
            expected_value,
            name=name,
            case=case,
            expected_native=native,
            what=f"state[p][{key!r}] of parameter #{i}",
        )


@dataclass
class Run:
    """The student's optimizer and PyTorch's (float64), stepped side by side on the same gradients."""

    name: str
    scenario: Scenario
    opt: Any
    params: list[torch.Tensor]
    ref: torch.optim.Optimizer
    ref_params: list[torch.Tensor]
    diagnose: Callable | None = None
    done: int = 0

    @classmethod
    def start(cls, student: Any, name: str, scenario: Scenario, diagnose: Callable | None = None) -> Run:
        start = _start(scenario)
        label = scenario.label(name)
        opt = build(student, name, _groups(start, scenario, scenario.dtype), scenario.hyper, label)
        with pristine():
            ref = REFERENCE[name](_groups(start, scenario, torch.float64), **scenario.hyper)
        ref_params = [q for group in ref.param_groups for q in group["params"]]
        params = _student_params(opt, name, len(ref_params))
        return cls(name, scenario, opt, params, ref, ref_params, diagnose)

    def steps(self, until: int, label: str = "") -> None:
        """Step both up to step ``until``; after each, compare parameters, then state."""
        name, scenario = self.name, self.scenario
        label = label or scenario.label(name)
        for step in range(self.done, until):
            grads = _grads(scenario, step, [tuple(q.shape) for q in self.ref_params])
            before = [q.detach().clone() for q in self.ref_params]
            states = [
                {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in self.ref.state.get(q, {}).items()}
                for q in self.ref_params
            ]
            for p, q, g in zip(self.params, self.ref_params, grads, strict=True):
                _give_grad(p, None if g is None else g.to(p.dtype))
                q.grad = g
            case = Case(f"step {step + 1} of {label}")
            call_student(self.opt.step, case, name=f"{name}.step", forbid=BAN)
            # read them again: where a sandbox grades, this brings back what the step did to them
            self.params = _student_params(self.opt, name, len(self.ref_params))
            with pristine():
                self.ref.step()
            self.done = step + 1
            for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
                same = p.grad is None if g is None else p.grad is not None and torch.equal(p.grad, g.to(p.dtype))
                check(
                    same,
                    f"`{name}.step` changed the .grad of parameter #{i} on {case.label}. An optimizer "
                    "reads the gradients and leaves them as backward() left them (gradient clipping, logging or "
                    "another optimizer may read them): negate or add to a new tensor, not to p.grad in place.",
                )
            matched = _all_close(self.params, self.ref_params, name, case)
            for i, (p, q) in enumerate(zip(self.params, self.ref_params, strict=True)):
                if matched:
                    break
                try:
                    compare(
                        p.detach(),
                        q.detach(),
                        name=name,
                        case=case,
                        expected_native=q.detach().to(p.dtype),
                        what=f"parameter #{i} (shape {tuple(q.shape)}, group {0 if i < len(SHAPES[0]) else 1})",
                    )
                except CheckFailed as failure:
                    raise CheckFailed(self._explain(failure, i, p, before[i], grads[i], states[i])) from None
            _compare_state(name, self.opt, self.params, self.ref, self.ref_params, case)

    def _explain(
        self,
        failure: CheckFailed,
        i: int,
        p: torch.Tensor,
        before: torch.Tensor,
        grad: torch.Tensor | None,
        state: dict,
    ) -> str:
        group = self.ref.param_groups[0 if i < len(SHAPES[0]) else 1]
        if grad is None:
            cause = (
                "this parameter had no gradient at this step (p.grad is None): PyTorch skips it and leaves it, "
                "and its state, untouched."
            )
        else:
            tol = 1e-9 if p.dtype == torch.float64 else 3e-5
            cause = self.diagnose(p.detach().double(), before, grad, state, group, tol) if self.diagnose else None
        cause = cause or self.scenario.note
        return f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")


def run_side_by_side(cls: Any, name: str, scenario: Scenario, diagnose: Callable | None = None) -> Run:
    """Run the whole scenario; fail at the first step where the student's optimizer parts from PyTorch's."""
    run = Run.start(cls, name, scenario, diagnose)
    run.steps(scenario.steps)
    return run


# ---------------------------------------------------------------- the checks grade cells call

_F32 = torch.float32
SCENARIOS: dict[str, dict[str, list[Scenario]]] = {
    "SGD": {
        "plain": [Scenario({"lr": 0.1}, ({}, {"lr": 0.02})), Scenario({"lr": 0.1}, ({}, {"lr": 0.3}), dtype=_F32)],
        "plain/hidden": [Scenario({"lr": 0.7}, ({"lr": 0.05}, {}), steps=12, seed=1, scale=3.0)],
        "weight_decay_and_maximize": [
            Scenario({"lr": 0.1, "weight_decay": 0.1}, ({}, {"weight_decay": 0.0})),
            Scenario({"lr": 0.05, "maximize": True}, ({}, {"lr": 0.2}), seed=1),
            Scenario({"lr": 0.1, "weight_decay": 0.3, "maximize": True}, ({}, {"maximize": False}), dtype=_F32),
        ],
        "weight_decay_and_maximize/hidden": [
            Scenario({"lr": 0.2, "momentum": 0.9, "weight_decay": 0.05}, ({}, {"maximize": True}), seed=2)
        ],
        "momentum": [
            Scenario({"lr": 0.05, "momentum": 0.9}, ({}, {"momentum": 0.5, "dampening": 0.5}), absent={1: (0, 1)}),
            Scenario({"lr": 0.05, "momentum": 0.9, "dampening": 0.1}, dtype=_F32, seed=1),
        ],
        "momentum/hidden": [
            Scenario(
                {"lr": 0.01, "momentum": 0.99, "dampening": 0.3},
                ({}, {"momentum": 0.0}),
                steps=15,
                seed=3,
                absent={0: (4, 5), 2: (0,)},
            )
        ],
        "nesterov": [
            Scenario({"lr": 0.05, "momentum": 0.9, "nesterov": True}, ({}, {"momentum": 0.6}), absent={2: (0,)}),
            Scenario({"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}, dtype=_F32, seed=1),
        ],
        "nesterov/hidden": [Scenario({"lr": 0.3, "momentum": 0.5, "nesterov": True, "maximize": True}, seed=4)],
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
        "update/hidden": [
            Scenario({"lr": 0.1, "betas": (0.95, 0.9)}, ({}, {"betas": (0.0, 0.999)}), steps=15, seed=2, scale=5.0)
        ],
        "eps_and_weight_decay": [
            Scenario({"lr": 0.01}, ({}, {"eps": 1e-3}), scale=1e-6, seed=1),
            Scenario({"lr": 0.01, "weight_decay": 0.1}, ({}, {"weight_decay": 0.0}), seed=2),
        ],
        "eps_and_weight_decay/hidden": [
            Scenario({"lr": 0.05, "eps": 1e-4, "weight_decay": 0.5}, scale=1e-3, steps=12, seed=3, dtype=_F32)
        ],
        "amsgrad": [Scenario({"lr": 0.01, "amsgrad": True}, ({}, {"betas": (0.9, 0.8)}), steps=12, seed=1)],
        "amsgrad/hidden": [
            Scenario(
                {"lr": 0.05, "amsgrad": True, "betas": (0.5, 0.7), "weight_decay": 0.1}, steps=15, seed=2, dtype=_F32
            )
        ],
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
        "decoupled_weight_decay/hidden": [
            Scenario({"lr": 0.3, "weight_decay": 0.9}, ({}, {"weight_decay": 0.0}), steps=12, seed=2, scale=0.1)
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


def _scenarios(name: str, behaviour: str, hidden: bool) -> list[Scenario]:
    key = f"{behaviour}/hidden" if hidden else behaviour
    return SCENARIOS[name][key]


def check_optimizer(cls: Any, name: str, behaviour: str, *, hidden: bool = False) -> None:
    """Run the student's optimizer ``name`` side by side with torch.optim's on the behaviour's scenarios."""
    check(
        isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer),
        f"`{name}` should be a class that subclasses torch.optim.Optimizer (it is {type(cls).__name__}).",
    )
    for scenario in _scenarios(name, behaviour, hidden):
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
    scenario = _scenarios(name, "state_dict", False)[0]
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


# ---------------------------------------------------------------- learning-rate schedules


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


SCHEDULES = {
    "step_lr": (
        "StepLR",
        [(0.1, {"step_size": 3}), (0.5, {"step_size": 2, "gamma": 0.5})],
        [(2.0, {"step_size": 1, "gamma": 0.9}), (0.03, {"step_size": 7, "gamma": 0.25})],
    ),
    "cosine_annealing_lr": (
        "CosineAnnealingLR",
        [(0.1, {"T_max": 10}), (0.5, {"T_max": 4, "eta_min": 0.05})],
        [(1.0, {"T_max": 1}), (0.02, {"T_max": 25, "eta_min": 0.001})],
    ),
}


def check_schedule(fn: Any, name: str, *, hidden: bool = False) -> None:
    """``fn(base_lr, epoch, **kwargs)`` equals the scheduler's lr at every epoch 0..2·period+1 (past T_max too)."""
    kind, visible, more = SCHEDULES[name]
    for base_lr, kwargs in more if hidden else visible:
        period = kwargs.get("T_max", kwargs.get("step_size", 1))
        lrs = scheduler_lrs(kind, base_lr, 2 * period + 1, **kwargs)
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        for epoch, expected in enumerate(lrs):
            case = Case(f"{name}({base_lr}, {epoch}, {args})", (base_lr, epoch), kwargs)
            try:
                got = call_student(fn, case, name=name, forbid=SCHEDULER_BAN + BAN)
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
