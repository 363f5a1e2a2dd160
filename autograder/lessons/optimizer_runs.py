"""Lesson 08a's machinery: a student's optimizer and torch.optim's run side by side on the same scenario.

Both optimizers start from the same parameters (several parameter groups, float64 or float32) and receive
the same seeded gradients at every step (some parameters get none on some steps, as a frozen layer would);
after each ``step()`` the student's parameters and state must match PyTorch's, run in float64. The first
step where they part is reported, with the likely slip when one of the usual mistakes reproduces it
(:mod:`autograder.lessons.optimizer_slips`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch._dynamo  # noqa: F401 - torch.optim imports it on first use: seconds, if under the guard

from autograder.checks import Case, CheckFailed, call_student, check, compare, fail
from autograder.lessons.optimizer_slips import as_number
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
            call_student(self.opt.step, case, name=f"{name}.step", forbid=BAN, keeps_rng=True)  # deterministic
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
