"""Checks of a ``BatchNorm1d`` module: state as nn.BatchNorm1d's, and step after step in train and eval mode."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from autograder.checks import Case, CheckFailed, call_student, check, compare, fail
from autograder.lessons.normalization.common import ALLOWED, NORM_BAN, close, randn, torch_ref
from autograder.lessons.normalization.functional import running_diagnosis
from autograder.reference import pristine

# ---------------------------------------------------------------- BatchNorm1d


def _attr(module: Any, name: str, what: str) -> Any:
    try:
        return getattr(module, name)
    except AttributeError:
        fail(f"{what} has no attribute `{name}`; nn.BatchNorm1d has one: keep the same names.")


def _build(cls: Callable, args: tuple, kwargs: dict) -> tuple[Any, nn.Module, str]:
    label = "BatchNorm1d(" + ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"
    mine = call_student(cls, Case(label, args, kwargs), name="BatchNorm1d", forbid=NORM_BAN, allowed_hint=ALLOWED)
    with pristine():
        check(
            not isinstance(mine, nn.modules.batchnorm._NormBase),
            f"{label} is a subclass of PyTorch's batch norm: subclass nn.Module and write the layer yourself.",
        )
        check(isinstance(mine, nn.Module), f"{label} is not an nn.Module: subclass torch.nn.Module.")
        ref = torch_ref("torch.nn.BatchNorm1d")(*args, **kwargs)
    return mine, ref, label


def check_batch_norm1d_init(cls: Callable, configs: Sequence[tuple[tuple, dict]]) -> None:
    """Attributes, parameters, buffers and state_dict (keys and values) as nn.BatchNorm1d's."""
    for args, kwargs in configs:
        mine, ref, label = _build(cls, args, kwargs)
        for attr in ("num_features", "eps", "momentum", "affine", "track_running_stats"):
            got = _attr(mine, attr, label)
            check(
                got == getattr(ref, attr),
                f"{label}.{attr} is {got!r}; nn.BatchNorm1d's is "
                f"{getattr(ref, attr)!r}: store the argument under that name.",
            )
        state = dict(call_student(mine.state_dict, Case(f"{label}.state_dict()"), name="BatchNorm1d"))
        expected = ref.state_dict()
        check(
            list(state) == list(expected),
            f"{label}.state_dict() has the keys {list(state)}; nn.BatchNorm1d's "
            f"are {list(expected)}. Parameters (weight, bias) come from nn.Parameter attributes, running "
            "statistics from register_buffer (a buffer set to None when they are not tracked).",
        )
        for key, value in expected.items():
            compare(state[key], value, name="BatchNorm1d", case=Case(label), what=f"state_dict()[{key!r}]")
        names = [n for n, _ in call_student(lambda m=mine: list(m.named_parameters()), Case(label), name="BatchNorm1d")]
        check(
            names == [n for n, _ in ref.named_parameters()],
            f"{label} has the parameters {names}; nn.BatchNorm1d "
            f"has {[n for n, _ in ref.named_parameters()]} (the running statistics are buffers, not parameters).",
        )


def _run_step(mine: Any, ref64: nn.Module, ref32: nn.Module, x: torch.Tensor, label: str, grad: bool) -> None:
    """One forward (and backward) of both layers; outputs, buffers and parameter gradients must match."""
    previous = {b: getattr(ref64, b).clone() for b in ("running_mean", "running_var") if getattr(ref64, b) is not None}
    case = Case(label, (x,))
    with torch.enable_grad():
        got = call_student(mine, case, name="BatchNorm1d", forbid=NORM_BAN, allowed_hint=ALLOWED)
        with pristine():
            exp, nat = ref64(x.double()), ref32(x)
        training = bool(_attr(mine, "training", label))
        try:
            compare(got, exp, name="BatchNorm1d", case=case, expected_native=nat, what="output")
        except CheckFailed as failure:
            with pristine(), torch.no_grad():
                batch_stats = copy.deepcopy(ref64).train()(x.double())
            if not training and ref64.track_running_stats and close(got, batch_stats):
                raise CheckFailed(
                    f"{failure}\nLikely cause: in eval mode (after .eval(), self.training is False) "
                    "the layer normalises with its running statistics, not the batch's."
                ) from None
            raise
        if grad and training and getattr(mine, "affine", False):
            with pristine():
                seed_grad = randn(*x.shape, seed=x.numel())
                exp.backward(seed_grad.double())
            # no zero_grad between steps: .grad accumulates, on both sides, as PyTorch does
            call_student(lambda: got.backward(seed_grad), Case(label), name="BatchNorm1d", forbid=NORM_BAN)
            for p in ("weight", "bias"):
                param = _attr(mine, p, label)
                check(
                    isinstance(param, nn.Parameter) and param.grad is not None,
                    f"after backward on {label} `{p}` has no gradient: make it an nn.Parameter used in the forward.",
                )
                compare(
                    param.grad,
                    getattr(ref64, p).grad,
                    name="BatchNorm1d",
                    case=case,
                    expected_native=getattr(ref64, p).grad.float(),
                    what=f"{p}.grad",
                )
    for buffer in ("running_mean", "running_var", "num_batches_tracked"):
        want = getattr(ref64, buffer)
        got_buffer = _attr(mine, buffer, label)
        if want is None:
            check(got_buffer is None, f"{label}: `{buffer}` should be None when track_running_stats=False.")
            continue
        check(
            isinstance(got_buffer, torch.Tensor),
            f"{label}: `{buffer}` is a {type(got_buffer).__name__}; it should be a tensor registered with "
            "register_buffer, so that it moves with the module and is saved in its state_dict.",
        )
        why = (
            ""
            if buffer != "num_batches_tracked"
            else " (it counts the training batches seen; eval mode leaves it alone)"
        )
        try:
            compare(
                got_buffer,
                want,
                name="BatchNorm1d",
                case=case,
                expected_native=getattr(ref32, buffer),
                what=f"{buffer} after the call{why}",
            )
        except CheckFailed as failure:
            if buffer == "num_batches_tracked":
                raise
            if not training:
                diag = "eval mode changed the running statistics: after .eval() they are read, never updated."
            elif ref64.momentum is None:
                diag = "momentum=None means a cumulative average: this step's weight is 1 / num_batches_tracked."
            else:
                case_m = Case(label, (x,), {"momentum": ref64.momentum})
                diag = running_diagnosis(buffer, got_buffer, case_m, previous[buffer])
            raise CheckFailed(f"{failure}" + (f"\nLikely cause: {diag}" if diag else "")) from None


def check_batch_norm1d_steps(
    cls: Callable,
    config: tuple[tuple, dict],
    modes: str,
    *,
    shape: Sequence[int] = (16,),
    seed: int = 0,
    eval_batch: int | None = None,
) -> None:
    """Run both layers through a sequence of modes ('t' = a training batch, 'e' = an eval batch, of
    ``eval_batch`` samples if given): every output, buffer and parameter gradient matches nn.BatchNorm1d's."""
    mine, ref32, label = _build(cls, *config)
    ref64 = copy.deepcopy(ref32).double()
    c = ref32.num_features
    for step, mode in enumerate(modes):
        training = mode == "t"
        call_student(mine.train if training else mine.eval, Case(label), name="BatchNorm1d")
        ref32.train(training)
        ref64.train(training)
        n = eval_batch if eval_batch and not training else shape[0]
        x = randn(n, c, *shape[1:], seed=seed + step, scale=1.0 + step, shift=0.5 * step)
        _run_step(
            mine,
            ref64,
            ref32,
            x,
            f"step {step + 1} ({'train' if training else 'eval'} mode, a batch of shape {tuple(x.shape)}) of {label}",
            grad=training,
        )


def check_batch_norm1d_runs(cls: Callable, runs: list[dict[str, Any]]) -> None:
    """:func:`check_batch_norm1d_steps` for each run, given as its keyword arguments (config, modes, seed, ...)."""
    for run in runs:
        check_batch_norm1d_steps(cls, **run)
