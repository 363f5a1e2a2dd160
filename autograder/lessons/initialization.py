"""Grading helpers for lesson 02 (parameter initialization): initializers are checked the way they are used.

An initializer ``init_(tensor, ...)`` fills ``tensor`` in place, under ``torch.no_grad()``, and returns it.
The checks here call a student's initializer on tensors full of NaN (the garbage ``torch.empty`` may hold),
then check what it wrote:

* :func:`check_values` — deterministic fills (``zeros_``, ``constant_``) equal torch.nn.init's, exactly;
* :func:`check_distribution` — random fills are graded by statistics (bounds, mean, std and a
  Kolmogorov–Smirnov test, :mod:`autograder.stats`), never by matching PyTorch's random stream. The mean and
  std tests reject a correct sampler with probability below 1e-7 each, the KS test below 1e-7
  (2·exp(-2·2.91²) ≈ 9e-8), so one call fails a correct answer with probability below 3e-7; grade cells make at
  most two calls, so a correct answer passes a cell with probability at least 1 - 1e-6. A failure names
  the likely mistake when the measured std matches one;
* :func:`check_in_place` — same object returned, same memory, a view is filled through, an
  ``nn.Parameter`` with ``requires_grad=True`` is filled without autograd recording anything;
* :func:`check_generator` — a seeded ``torch.Generator`` makes calls reproducible, leaves the global random
  state alone, and calls without one differ (no seed fixed inside);
* :func:`expect_value_error` — bad input raises ``ValueError`` with a message, as torch does.

Xavier's and Kaiming's expected stds, and the stds of common mistakes, are in :mod:`autograder.lessons.fans`.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.init
from torch import nn

from autograder import reference, stats
from autograder.checks import Case, CheckFailed, call_student, check, check_raises, compare
from autograder.reference import pristine

#: Every Python function of torch.nn.init: none may be called inside an answer of this lesson.
#: (Tensor methods such as ``Tensor.uniform_`` and ``Tensor.normal_`` stay allowed.)
INIT_BAN: tuple[str, ...] = tuple(
    f"torch.nn.init.{name}"
    for name, obj in vars(torch.nn.init).items()
    if inspect.isfunction(obj) and obj.__module__ == "torch.nn.init"
)
#: The nonlinearities torch.nn.init.calculate_gain knows, as PyTorch lists them.
NONLINEARITIES: tuple[str, ...] = typing.get_args(torch.nn.init._NonlinearityType)
NAN = float("nan")
ALLOWED = "Tensor methods (fill_, zero_, copy_, uniform_, normal_) and torch.rand / torch.randn"
HINT_IN_PLACE = (
    "methods whose name ends in `_` and slice assignment (`t[...] = ...`) write into a tensor; "
    "`tensor = ...` only rebinds a local name."
)


# ---------------------------------------------------------------- calling


def fresh(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A tensor full of NaN: uninitialized memory (``torch.empty``) can hold anything, NaN included."""
    return torch.full(shape, NAN, dtype=dtype)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, torch.Generator):
        return "a torch.Generator"
    return repr(value)


def describe(name: str, tensor: str, args: Sequence = (), kwargs: dict | None = None) -> str:
    """A readable call, e.g. ``xavier_uniform_(torch.empty(300, 100), gain=1.667)``."""
    parts = [tensor, *(_fmt(a) for a in args), *(f"{k}={_fmt(v)}" for k, v in (kwargs or {}).items())]
    return f"{name}({', '.join(parts)})"


def shape_text(shape: Sequence[int], dtype: torch.dtype = torch.float32) -> str:
    dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
    return f"torch.empty({dims}" + (", dtype=torch.float64)" if dtype == torch.float64 else ")")


def call_init(
    fn: Callable,
    tensor: torch.Tensor,
    *args: Any,
    name: str,
    label: str,
    forbid: Sequence[str] = INIT_BAN,
    **kwargs: Any,
) -> Any:
    """Call ``fn(tensor, *args, **kwargs)`` under the exercise's rules (no torch.nn.init, a time limit).

    Unlike ``ag.call_student`` the tensor is passed itself, not a copy: an initializer must change it.
    """
    check(callable(fn), f"`{name}` is not a function here (it is {type(fn).__name__}): did a later cell rebind it?")
    try:  # an unfinished helper it calls (your calculate_gain) is named by call_student's not-implemented message
        return call_student(lambda: fn(tensor, *args, **kwargs), Case(label), name=name, forbid=forbid,
                            allowed_hint=ALLOWED)  # fmt: skip
    except CheckFailed as failure:
        message = str(failure)
        if "leaf Variable" not in message and "view of a leaf" not in message:
            raise
        message += (
            "\nHint: autograd refuses to record an in-place change of a parameter. Initialization is not part "
            "of the computation to differentiate: do the filling inside `with torch.no_grad():`."
        )
        raise CheckFailed(message) from None


def check_filled(tensor: torch.Tensor, name: str, label: str) -> None:
    """Every entry of ``tensor`` was overwritten (it was full of NaN before the call)."""
    left = int(torch.isnan(tensor.detach()).sum())
    check(
        left == 0,
        f"after {label}, {left} of {tensor.numel()} entries of the tensor still hold their old values "
        f"(the test passes tensors full of NaN, as uninitialized memory may be). `{name}` must overwrite every "
        f"entry of the tensor it is given, whatever it held: {HINT_IN_PLACE}",
    )


def expect_value_error(
    fn: Callable,
    *args: Any,
    name: str,
    label: str,
    why: str,
    must_mention: str = "",
    forbid: Sequence[str] = INIT_BAN,
    **kwargs: Any,
) -> None:
    """``fn(*args, **kwargs)`` must raise ValueError with a message (mentioning ``must_mention``), as torch does."""
    error = check_raises(
        fn,
        Case(label, args, kwargs),
        ValueError,
        name=name,
        forbid=forbid,
        allowed_hint=ALLOWED,
        why=f"PyTorch does ({why}): check the input and `raise ValueError(...)` with a message that says why.",
    )
    message = str(error)
    check(len(message.strip()) >= 10, f"{label} raised ValueError({message!r}): give it a message that says why.")
    check(
        not must_mention or must_mention in message,
        f"{label} raised ValueError({message!r}): say in the message which value was not understood "
        f"({must_mention!r}), as PyTorch does.",
    )


# ---------------------------------------------------------------- values and distributions


def check_values(
    fn: Callable,
    ref: str,
    cases: Sequence[tuple[tuple[int, ...], tuple, dict]],
    *,
    name: str,
    dtype: torch.dtype = torch.float32,
) -> None:
    """Deterministic fills: for each ``(shape, args, kwargs)`` the tensor equals torch.nn.init's result."""
    for shape, args, kwargs in cases:
        tensor = fresh(*shape, dtype=dtype)
        label = describe(name, shape_text(shape, dtype), args, kwargs)
        call_init(fn, tensor, *args, name=name, label=label, **kwargs)
        check_filled(tensor, name, label)
        with pristine():
            expected = reference.get(ref)(fresh(*shape, dtype=dtype), *args, **kwargs)
        compare(tensor, expected, name=name, case=Case(label), what="tensor after the call")


def _kurtosis(x: torch.Tensor) -> float:
    z = (x - x.mean()) / x.std()
    return float((z**4).mean()) - 3.0


def diagnose_std(sample: torch.Tensor, kind: str, std: float, causes: dict[str, float]) -> str | None:
    """The likely mistake: the cause whose std matches the sample's (within 3 %), or a wrong distribution."""
    with pristine():
        x = sample.detach().to(torch.float64).flatten()
        measured = float(x.std())
        if std > 0 and abs(measured / std - 1) < 0.03:
            kurt = _kurtosis(x)
            if kind == "uniform" and kurt > -0.6:
                return "the values are not bounded like a uniform sample: they look normally distributed."
            if kind == "normal" and kurt < -0.6:
                return "the values are bounded like a uniform sample; this initializer samples a normal distribution."
            return None
        found = [
            cause
            for cause, wrong in causes.items()
            if wrong > 0 and abs(wrong / std - 1) > 0.05 and abs(measured / wrong - 1) < 0.03
        ]
        return " Or: ".join(found) if found else None


def check_distribution(
    fn: Callable,
    shape: Sequence[int],
    kind: str,
    params: tuple[float, float],
    *,
    name: str,
    args: Sequence = (),
    kwargs: dict | None = None,
    causes: dict[str, float] | None = None,
    dtype: torch.dtype = torch.float32,
    tensor_text: str | None = None,
) -> None:
    """Random fills: the tensor looks like i.i.d. samples of U(low, high) or N(mean, std²).

    ``params`` is ``(low, high)`` for ``kind="uniform"`` and ``(mean, std)`` for ``kind="normal"``.
    """
    kwargs = dict(kwargs or {})
    tensor = fresh(*shape, dtype=dtype)
    label = describe(name, tensor_text or shape_text(shape, dtype), args, kwargs)
    call_init(fn, tensor, *args, name=name, label=label, **kwargs)
    check_filled(tensor, name, label)
    what = f"the tensor after {label}"
    if kind == "uniform":
        low, high = params
        std = (high - low) / math.sqrt(12)
        causes = dict(causes or {})
        if low == -high:
            causes.setdefault("the std was used as the bound: U(-b, b) has std b/√3.", std / math.sqrt(3))
    else:
        std = params[1]
        causes = dict(causes or {})
        if params[0] == 0:
            causes.setdefault("the uniform version's bound, √3·std, was used as the std.", std * math.sqrt(3))
    try:
        if kind == "uniform":
            stats.check_uniform(tensor, *params, what=what)
        else:
            stats.check_normal(tensor, *params, what=what)
    except CheckFailed as failure:
        cause = diagnose_std(tensor, kind, std, causes)
        raise CheckFailed(f"{failure}\nLikely cause: {cause}" if cause else str(failure)) from None


# ---------------------------------------------------------------- in place, generator


def check_in_place(fn: Callable, *args: Any, name: str, **kwargs: Any) -> None:
    """In place like torch.nn.init: same object returned, same memory, views filled through, no autograd."""
    shape = (40, 30)
    param = nn.Parameter(fresh(*shape))
    address = param.data_ptr()
    label = describe(name, f"nn.Parameter({shape_text(shape)})", args, kwargs)
    with torch.enable_grad():
        out = call_init(fn, param, *args, name=name, label=label, **kwargs)
    check(
        out is not None,
        f"{label} returned None. Return the tensor you filled, as torch.nn.init does, so that "
        "`w = init_(torch.empty(3, 4))` works.",
    )
    check(
        out is param,
        f"{label} returned a different tensor object ({type(out).__name__}) from the one it was given. An "
        "initializer fills its argument and returns that same object, not a new tensor or a copy (`.data`, "
        f"`.detach()` and `.clone()` all make new objects): {HINT_IN_PLACE}",
    )
    check(
        param.data_ptr() == address,
        f"after {label} the Parameter's data lives somewhere else in memory: its storage was replaced (for example "
        "with `tensor.data = ...`) instead of written into. Views of the tensor (and anything else that shares its "
        f"memory) would not see the new values: {HINT_IN_PLACE}",
    )
    check(
        param.requires_grad,
        f"after {label} the Parameter no longer requires grad: leave requires_grad as it was; "
        "`torch.no_grad()` is the way to keep autograd out of the fill.",
    )
    check(
        param.is_leaf and param.grad_fn is None,
        f"after {label} autograd has recorded the fill (the Parameter has grad_fn "
        f"{type(param.grad_fn).__name__}): fill the tensor inside `with torch.no_grad():`.",
    )
    check_filled(param, name, label)
    parent = fresh(12, 20)
    view = parent[2:8, 5:15]
    label = describe(name, "w[2:8, 5:15] (a view of w = torch.empty(12, 20))", args, kwargs)
    out = call_init(fn, view, *args, name=name, label=label, **kwargs)
    check(out is view, f"{label} returned a different tensor object from the one it was given: return it.")
    inside = parent[2:8, 5:15]
    check(
        not bool(torch.isnan(inside).any()),
        f"after {label}, w itself was not filled where the view looks at it: write into the view's memory "
        f"(a view shares its data with w): {HINT_IN_PLACE}",
    )
    outside = torch.ones_like(parent, dtype=torch.bool)
    outside[2:8, 5:15] = False
    check(bool(torch.isnan(parent[outside]).all()), f"{label} also changed w outside the view.")


def check_generator(fn: Callable, *args: Any, name: str, **kwargs: Any) -> None:
    """Randomness like torch.nn.init: fresh values per call; a seeded generator gives reproducible ones."""
    shape = (50, 40)

    def run(generator: torch.Generator | None) -> tuple[torch.Tensor, str]:
        tensor = fresh(*shape)
        extra = {} if generator is None else {"generator": generator}
        label = describe(name, shape_text(shape), args, {**kwargs, **extra})
        call_init(fn, tensor, *args, name=name, label=label, **kwargs, **extra)
        check_filled(tensor, name, label)
        return tensor, label

    first, label = run(None)
    second, _ = run(None)
    check(
        not torch.equal(first, second),
        f"two calls of {label} gave identical tensors. Every layer would start with the same weights: do not "
        "fix a seed (torch.manual_seed) inside the function; seeding is the caller's choice.",
    )
    state = torch.get_rng_state()
    a, label = run(torch.Generator().manual_seed(7))
    changed_global = not torch.equal(state, torch.get_rng_state())
    b, _ = run(torch.Generator().manual_seed(7))
    check(
        torch.equal(a, b),
        f"two calls of {label}, each with a generator seeded 7, gave different tensors: draw the random numbers "
        "from `generator` (torch.rand, torch.randn, Tensor.uniform_ and Tensor.normal_ all accept "
        "`generator=`).",
    )
    check(
        not changed_global,
        f"{label} changed PyTorch's global random state although a generator was passed: every random number "
        "should come from `generator` then.",
    )
    c, _ = run(torch.Generator().manual_seed(8))
    check(
        not torch.equal(a, c),
        f"generators seeded 7 and 8 gave the same tensor in {label}: is a seed fixed inside the function?",
    )


#: the shapes the constant fills are tried on
FILL_SHAPES = [(3, 4), (7,), (2, 3, 5, 5)]


__all__ = [
    "FILL_SHAPES",
    "INIT_BAN",
    "NONLINEARITIES",
    "call_init",
    "check_distribution",
    "check_filled",
    "check_generator",
    "check_in_place",
    "check_values",
    "describe",
    "diagnose_std",
    "expect_value_error",
    "fresh",
]
