"""Global state a student's call must leave as it found it.

A function that switches gradient recording off (``torch.set_grad_enabled(False)``), makes float64 the default
dtype, or turns on anomaly detection or deterministic algorithms and does not switch them back changes every
later computation of its caller. After every student call under a check (:func:`call_student`), what changed is
restored and the check fails with a message naming it. A ``with`` block (``torch.no_grad()``) is fine.

In the sandboxed grader the student's code runs in a worker: the worker reports the state a call left
(:func:`encode`), the grader takes it over (:func:`apply`), so a check sees the same change as in one process.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

import torch

# captured at import, before student code runs
_IS_GRAD, _SET_GRAD = torch.is_grad_enabled, torch._C._set_grad_enabled
_GET_DTYPE, _SET_DTYPE = torch.get_default_dtype, torch.set_default_dtype
_IS_ANOMALY, _IS_ANOMALY_NAN, _SET_ANOMALY = (
    torch.is_anomaly_enabled,
    torch.is_anomaly_check_nan_enabled,
    torch.set_anomaly_enabled,
)
_IS_DET, _IS_DET_WARN, _SET_DET = (
    torch.are_deterministic_algorithms_enabled,
    torch.is_deterministic_algorithms_warn_only_enabled,
    torch.use_deterministic_algorithms,
)
_GET_RNG, _SET_RNG, _EQUAL = torch.get_rng_state, torch.set_rng_state, torch.equal
_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class State:
    """The process-wide settings a call must not leave changed."""

    grad_enabled: bool
    default_dtype: torch.dtype
    anomaly: tuple[bool, bool]  # enabled, check_nan
    deterministic: tuple[bool, bool]  # enabled, warn_only


def snapshot() -> State:
    return State(_IS_GRAD(), _GET_DTYPE(), (_IS_ANOMALY(), _IS_ANOMALY_NAN()), (_IS_DET(), _IS_DET_WARN()))


def restore(state: State) -> None:
    """Set every setting back to ``state``."""
    _SET_GRAD(state.grad_enabled)
    _SET_DTYPE(state.default_dtype)
    _SET_ANOMALY(state.anomaly[0], state.anomaly[1])
    _SET_DET(state.deterministic[0], warn_only=state.deterministic[1])


def set_flags(anomaly: Any, deterministic: Any) -> None:
    """Set anomaly detection ``(enabled, check_nan)`` and deterministic algorithms ``(enabled, warn_only)``
    where they differ from now (the worker runs a call under the grader's: see ``remote.settings``)."""
    anomaly, deterministic = tuple(bool(b) for b in anomaly), tuple(bool(b) for b in deterministic)
    if anomaly != (_IS_ANOMALY(), _IS_ANOMALY_NAN()):
        _SET_ANOMALY(anomaly[0], anomaly[1])
    if deterministic != (_IS_DET(), _IS_DET_WARN()):
        _SET_DET(deterministic[0], warn_only=deterministic[1])


def changes(before: State, after: State) -> list[str]:
    """What the call changed, each said as the student most likely did it and what to do instead."""
    said = []
    if after.grad_enabled != before.grad_enabled:
        said.append(
            "switched gradient recording off (torch.set_grad_enabled(False) or torch.no_grad() entered without "
            "`with`) and left it off: use a `with torch.no_grad():` block, which switches it back"
            if before.grad_enabled
            else "switched gradient recording on and left it on: use a `with torch.enable_grad():` block"
        )
    if after.default_dtype != before.default_dtype:
        said.append(
            f"changed the default dtype to {after.default_dtype} (torch.set_default_dtype) and left it: every "
            "tensor created afterwards would change type; convert the tensors you need instead (`.double()`)"
        )
    if after.anomaly != before.anomaly:
        said.append(
            "left anomaly detection changed (torch.autograd.set_detect_anomaly): use "
            "`with torch.autograd.detect_anomaly():` while you debug, and remove it"
        )
    if after.deterministic != before.deterministic:
        said.append("left torch.use_deterministic_algorithms changed: set it back before returning")
    return said


def message(name: str, label: str, said: list[str]) -> str:
    return (
        f"`{name}` {'; and '.join(said)} (on {label}). A function must leave PyTorch's global settings as it "
        "found them: its caller's code depends on them."
    )


def encode(state: State) -> dict[str, Any]:
    """The state as plain values, for the worker's answer."""
    return {
        "grad_enabled": state.grad_enabled,
        "default_dtype": str(state.default_dtype).removeprefix("torch."),
        "anomaly": list(state.anomaly),
        "deterministic": list(state.deterministic),
    }


def apply(values: Any) -> None:
    """Take over the state a worker's call left (values from :func:`encode`; anything malformed is ignored)."""
    if not isinstance(values, dict):
        return
    now = snapshot()
    grad = values.get("grad_enabled")
    dtype = (
        _DTYPES.get(values.get("default_dtype"), now.default_dtype)
        if isinstance(values.get("default_dtype"), str)
        else now.default_dtype
    )

    def pair(key: str, default: tuple[bool, bool]) -> tuple[bool, bool]:
        v = values.get(key)
        ok = isinstance(v, list | tuple) and len(v) == 2 and all(type(b) is bool for b in v)
        return (v[0], v[1]) if ok else default

    restore(
        State(
            grad if type(grad) is bool else now.grad_enabled,
            dtype,
            pair("anomaly", now.anomaly),
            pair("deterministic", now.deterministic),
        )
    )


# ---------------------------------------------------------------- what the caller owns: modules' modes, the RNG

#: The global generator's state while a deterministic call runs (``keeps_rng``): any draw or reseed changes it.
PROBE_RNG = torch.Generator().manual_seed(0x5EED).get_state()


def _callers(module: Any) -> bool:
    """Whether ``module`` is a model the caller owns: an instance of PyTorch's, the course's or the judge's classes
    (a student's own class is the student's business). Judged by the real type, never ``__class__``: a proxy
    of the sandboxed grader would ask the worker."""
    cls = type(module)
    return issubclass(cls, torch.nn.Module) and str(cls.__module__).split(".")[0] in _OWNERS


_OWNERS = ("torch", "nnlab", "autograder")


def modules_in(values: Any, depth: int = 0) -> list[torch.nn.Module]:
    """The caller's modules among a call's callee and arguments (one level into tuples, lists and dicts), except
    the module of a ``train``/``eval`` method: switching the mode is that call's job."""
    if _callers(values):
        return [values]
    if type(values) is types.MethodType:  # a module's bound method: model.forward (not model.eval)
        owner = values.__self__
        return [owner] if _callers(owner) and values.__name__ not in ("train", "eval") else []
    if depth > 2:
        return []
    if type(values) is dict:
        values = list(values.values())
    if type(values) in (tuple, list):
        return [m for v in values[:64] for m in modules_in(v, depth + 1)]
    return []


def modes(modules: list[torch.nn.Module]) -> list[bool]:
    """Each module's ``training`` flag (the model's own: what ``model.eval()``/``model.train()`` switch)."""
    return [bool(module.training) for module in modules]


def restore_modes(modules: list[torch.nn.Module], flags: list[bool]) -> None:
    for module, training in zip(modules, flags, strict=True):
        module.train(training)


def mode_message(name: str, label: str, module: torch.nn.Module, was: bool) -> str:
    now, before = ("evaluation", "training") if was else ("training", "evaluation")
    return (
        f"`{name}` left the caller's {type(module).__name__} in {now} mode on {label}; it was in {before} mode. A "
        "function that switches a model's mode must switch it back before returning: remember "
        "`was = model.training` and end with `model.train(was)`."
    )


RNG_MESSAGE = (
    "`{name}` drew from PyTorch's global random generator on {label} (torch.rand, randn, randperm, dropout...), "
    "where the answer is deterministic: the caller's random sequence would change. Compute it without drawing."
)


def rng() -> torch.Tensor:
    return _GET_RNG()


def set_rng(value: torch.Tensor) -> None:
    _SET_RNG(value)


def same_rng(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    return a is None or b is None or bool(_EQUAL(a, b))
