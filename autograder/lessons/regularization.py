"""Grading code for lesson 08b (regularization): ``dropout``, ``Dropout`` and ``early_stopping_epoch``.

Grade cells call the ``check_*`` functions here. Dropout outputs are judged by the statistics of
:mod:`autograder.lessons.dropout_masks` (mask relation, drop rate, independence across elements and calls, each
test with a false-reject rate below 1e-7); every check runs under a fixed seed (``torch.random.fork_rng``), so
the same answer always gets the same verdict and the caller's random state is left as found. Early stopping is
graded in :mod:`autograder.lessons.early_stopping`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from autograder import reference
from autograder.checks import Case, call_student, check, check_raises, fail
from autograder.lessons.dropout_masks import (
    check_drop_rate,
    check_fresh_masks,
    check_independent_elements,
    check_kept_values,
    check_sample,
    nonzero_input,
)
from autograder.lessons.early_stopping import check_early_stopping, check_early_stopping_bad_input
from autograder.reference import pristine

#: every ready-made dropout of PyTorch: none may be called inside an answer (torch.bernoulli, rand are fine)
DROPOUT_BAN: tuple[str, ...] = (
    "torch.nn.functional.dropout",
    "torch.nn.functional.dropout1d",
    "torch.nn.functional.dropout2d",
    "torch.nn.functional.dropout3d",
    "torch.nn.functional.alpha_dropout",
    "torch.nn.functional.feature_alpha_dropout",
    "torch.dropout",
    "torch.nn.Dropout",
    "torch.nn.Dropout1d",
    "torch.nn.Dropout2d",
    "torch.nn.Dropout3d",
    "torch.nn.AlphaDropout",
    "torch.ops.aten.*dropout*",
)
ALLOWED = "torch.rand / torch.rand_like, torch.bernoulli or Tensor.bernoulli_, comparisons and arithmetic"
SEED = 8


# ---------------------------------------------------------------- calling


def _label(shape: Sequence[int], dtype: torch.dtype, call: str) -> str:
    kind = "float64" if dtype == torch.float64 else "float32"
    return f"{call} on a random {kind} input of shape {tuple(shape)} (no zeros in it)"


def call_dropout(
    dropout: Callable, x: torch.Tensor, kwargs: dict, *, label: str, name: str = "dropout"
) -> torch.Tensor:
    """Call the student's dropout on a copy of x (changing x fails), guarded; return a checked plain tensor."""
    out = call_student(dropout, Case(label, (x,), kwargs), name=name, forbid=DROPOUT_BAN, allowed_hint=ALLOWED)
    _check_tensor(out, x, name, label)
    return out


def call_module(module: Any, x: torch.Tensor, *, label: str, name: str) -> torch.Tensor:
    """Call a student's Dropout module on a copy of x, guarded; return a checked plain tensor."""
    out = call_student(module, Case(label, (x,)), name=name, forbid=DROPOUT_BAN, allowed_hint=ALLOWED)
    _check_tensor(out, x, name, label)
    return out


def _check_tensor(out: Any, x: torch.Tensor, name: str, label: str) -> None:
    check(
        isinstance(out, torch.Tensor),
        f"`{name}` should return a tensor; it returned {type(out).__name__} on {label}.",
    )
    check(type(out) is torch.Tensor, f"`{name}` returned a {type(out).__name__}; return a plain torch.Tensor.")
    check(
        out.shape == x.shape,
        f"`{name}` returned shape {tuple(out.shape)} on {label}; dropout keeps the input's shape "
        f"{tuple(x.shape)}: the mask needs one random draw per element, of the input's shape.",
    )
    check(
        out.dtype == x.dtype,
        f"`{name}` returned {out.dtype} on {label}; expected {x.dtype}, the input's dtype. A mask made in "
        "another dtype (float64, or a bool mask divided by a float64 tensor) promotes the result: make it in "
        "the input's dtype (torch.rand_like does), or convert it.",
    )


# ---------------------------------------------------------------- dropout(input, p, training, inplace)


def _run_seeded(body: Callable[[], None]) -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        body()


def check_dropout_kept_values(
    dropout: Callable, p: float, shape: Sequence[int] = (200, 250), *, seed: int = 80,
    dtype: torch.dtype = torch.float32,
) -> None:  # fmt: skip
    """In training, every output element is 0 or input / (1 - p), with the input's shape and dtype."""
    x = nonzero_input(*shape, seed=seed, dtype=dtype)
    label = _label(shape, dtype, f"dropout(x, p={p:g}, training=True)")

    def body() -> None:
        out = call_dropout(dropout, x, {"p": p, "training": True}, label=label)
        check_kept_values(out, x, p, name="dropout", label=label)

    _run_seeded(body)


def check_dropout_statistics(
    dropout: Callable, p: float | None, shape: Sequence[int] = (200, 250), *, seed: int = 81,
    dtype: torch.dtype = torch.float32, independence: bool = False,
) -> None:  # fmt: skip
    """The drop rate is p (p=None: the default call ``dropout(x)``, p = 0.5); with ``independence``, the
    elements of the mask are independent too."""
    x = nonzero_input(*shape, seed=seed, dtype=dtype)
    kwargs = {} if p is None else {"p": p, "training": True}
    call = (
        "dropout(x) (PyTorch's defaults: p=0.5, training=True)" if p is None else f"dropout(x, p={p:g}, training=True)"
    )
    label = _label(shape, dtype, call)
    p = 0.5 if p is None else p

    def body() -> None:
        out = call_dropout(dropout, x, kwargs, label=label)
        dropped = check_kept_values(out, x, p, name="dropout", label=label)
        check_drop_rate(dropped, p, name="dropout", label=label)
        if independence:
            check_independent_elements(dropped, p, name="dropout", label=label)

    _run_seeded(body)


def check_dropout_fresh_masks(
    dropout: Callable, p: float, shape: Sequence[int] = (100, 200), *, seed: int = 82
) -> None:
    """Two calls on the same input draw independent masks."""
    x = nonzero_input(*shape, seed=seed)
    label = _label(shape, torch.float32, f"dropout(x, p={p:g}, training=True)")

    def body() -> None:
        masks = []
        for _ in range(2):
            out = call_dropout(dropout, x, {"p": p, "training": True}, label=label)
            masks.append(check_kept_values(out, x, p, name="dropout", label=label))
        check_fresh_masks(*masks, p, name="dropout", label=label)

    _run_seeded(body)


def _check_identity(out: torch.Tensor, x: torch.Tensor, *, name: str, label: str, why: str) -> None:
    with pristine():
        same = torch.equal(out.detach(), x)
    if not same:
        changed = int((out.detach() != x).sum())
        zeros = int((out.detach() == 0).sum())
        fail(
            f"`{name}` changed {changed} of {x.numel()} values on {label} ({zeros} of them to 0); it should return "
            f"the input unchanged: {why}"
        )


def check_dropout_identity(dropout: Callable, cases: Sequence[tuple[float, bool]], *, seed: int = 83) -> None:
    """Each (p, training) case returns the input's values unchanged (training=False, or p = 0)."""
    for i, (p, training) in enumerate(cases):
        x = nonzero_input(30, 40, seed=seed + i)
        label = _label((30, 40), torch.float32, f"dropout(x, p={p:g}, training={training})")
        why = (
            "with training=False dropout does nothing (evaluation uses the whole network, and inverted dropout "
            "already scaled the kept units during training)."
            if not training
            else "with p = 0 nothing is dropped and the scale 1/(1 - p) is 1."
        )

        def body(x: torch.Tensor = x, label: str = label, p: float = p, training: bool = training,
                 why: str = why) -> None:  # fmt: skip
            out = call_dropout(dropout, x, {"p": p, "training": training}, label=label)
            _check_identity(out, x, name="dropout", label=label, why=why)

        _run_seeded(body)


def check_dropout_p_one(dropout: Callable, *, seed: int = 84) -> None:
    """p = 1 in training drops everything: zeros, no NaN, the input's dtype (float32 and float64)."""
    for dtype in (torch.float32, torch.float64):
        x = nonzero_input(20, 30, seed=seed, dtype=dtype)
        label = _label((20, 30), dtype, "dropout(x, p=1.0, training=True)")

        def body(x: torch.Tensor = x, label: str = label) -> None:
            out = call_dropout(dropout, x, {"p": 1.0, "training": True}, label=label)
            check_kept_values(out, x, 1.0, name="dropout", label=label)

        _run_seeded(body)


def check_dropout_bad_p(dropout: Callable, cases: Sequence[tuple[float, bool]]) -> None:
    """p outside [0, 1] raises ValueError with a message, whether training or not, as PyTorch does."""
    x = nonzero_input(4, 5, seed=85)
    for p, training in cases:
        label = f"dropout(x, p={p:g}, training={training})"
        error = check_raises(
            dropout, Case(label, (x,), {"p": p, "training": training}), ValueError, name="dropout",
            forbid=DROPOUT_BAN, allowed_hint=ALLOWED,
            why="p is a probability: PyTorch checks it first, even when training=False, and raises "
            "ValueError with a message saying which p it got.",
        )  # fmt: skip
        check(
            len(str(error).strip()) >= 10,
            f"{label} raised ValueError({str(error)!r}): give it a message that says what is wrong with p.",
        )


def check_dropout_inplace(dropout: Callable, p: float = 0.4, *, seed: int = 86) -> None:
    """inplace=True writes the result into the input and returns that same tensor; in eval it leaves it alone."""
    label = _label((100, 120), torch.float32, f"dropout(x, p={p:g}, training=True, inplace=True)")

    def body() -> None:
        x = nonzero_input(100, 120, seed=seed)
        original = x.clone()
        out = call_student(
            lambda: dropout(x, p=p, training=True, inplace=True), Case(label), name="dropout",
            forbid=DROPOUT_BAN, allowed_hint=ALLOWED,
        )  # fmt: skip
        check(
            out is x,
            f"`dropout` returned a new tensor on {label}: with inplace=True it writes the result into its input "
            "and returns that same tensor (in-place methods end in `_`: mul_, masked_fill_, ...).",
        )
        check(
            not torch.equal(x, original),
            f"after {label} the input still holds its old values: with inplace=True, write into it.",
        )
        dropped = check_kept_values(x, original, p, name="dropout", label=label)
        check_drop_rate(dropped, p, name="dropout", label=label)
        y = nonzero_input(10, 12, seed=seed + 1)
        kept = y.clone()
        eval_label = "dropout(x, p=0.4, training=False, inplace=True)"
        out = call_student(
            lambda: dropout(y, p=p, training=False, inplace=True), Case(eval_label), name="dropout",
            forbid=DROPOUT_BAN, allowed_hint=ALLOWED,
        )  # fmt: skip
        check(out is y, f"`dropout` returned a new tensor on {eval_label}: return the input itself.")
        _check_identity(y, kept, name="dropout", label=eval_label, why="with training=False dropout does nothing.")

    _run_seeded(body)


# ---------------------------------------------------------------- Dropout(p=0.5, inplace=False)


def make_dropout_module(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """Construct the student's Dropout under the exercise's rules; it must be an nn.Module."""
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    name = f"Dropout({shown})"
    module = call_student(cls, Case(name, args, kwargs), name="Dropout", forbid=DROPOUT_BAN, allowed_hint=ALLOWED)
    check(
        isinstance(module, nn.Module),
        f"{name} is a {type(module).__name__}, not an nn.Module: subclass nn.Module and call "
        "super().__init__() first, so that train()/eval(), repr and nn.Sequential work.",
    )
    return module


def check_dropout_module_api(cls: Any) -> None:
    """Attributes p and inplace, no parameters, PyTorch's repr, defaults p=0.5 and inplace=False."""
    for args, kwargs in [((), {}), ((0.2,), {"inplace": True}), ((), {"p": 0.75})]:
        module = make_dropout_module(cls, *args, **kwargs)
        with pristine():
            ref = reference.get("torch.nn.Dropout")(*args, **kwargs)
        name = repr(ref)
        for attr in ("p", "inplace"):
            check(
                hasattr(module, attr) and getattr(module, attr) == getattr(ref, attr),
                f"{name}.{attr} should be {getattr(ref, attr)!r}"
                + (f"; it is {getattr(module, attr)!r}." if hasattr(module, attr) else "; it does not exist.")
                + " Store the arguments under PyTorch's names.",
            )
        n_params = len(list(module.parameters()))
        check(
            n_params == 0,
            f"{name} has {n_params} parameter(s): dropout learns nothing; p is a plain number, not an nn.Parameter.",
        )
        text = repr(module)
        check(
            text == name,
            f"repr of {name} is {text!r}; nn.Dropout shows {name!r}. nn.Module builds the repr from "
            "`extra_repr()`: return the arguments there as PyTorch writes them.",
        )


def check_dropout_module_train(cls: Any, p: float = 0.3, shape: Sequence[int] = (200, 250), *, seed: int = 87) -> None:
    """In training mode (the default, and after .train()) Dropout(p) drops like dropout: relation, rate,
    independence, a new mask per call."""
    x = nonzero_input(*shape, seed=seed)

    def body() -> None:
        module = make_dropout_module(cls, p)
        name = f"Dropout({p:g})"
        label = _label(shape, torch.float32, f"{name}(x) in training mode")
        check(
            module.training,
            f"a new {name} is in evaluation mode: a module starts in training mode (nn.Module.__init__ sets "
            "self.training = True); do not change it in __init__.",
        )
        first = check_sample(call_module(module, x, label=label, name=name), x, p, name=name, label=label)
        second = check_kept_values(call_module(module, x, label=label, name=name), x, p, name=name, label=label)
        check_fresh_masks(first, second, p, name=name, label=label)

    _run_seeded(body)


def check_dropout_module_eval(cls: Any, p: float = 0.6, *, seed: int = 88) -> None:
    """After .eval() Dropout returns its input unchanged; after .train() it drops again."""
    x = nonzero_input(60, 80, seed=seed)
    name = f"Dropout({p:g})"

    def body() -> None:
        module = make_dropout_module(cls, p)
        module.eval()
        label = _label((60, 80), torch.float32, f"{name}(x) after .eval()")
        out = call_module(module, x, label=label, name=name)
        _check_identity(
            out, x, name=name, label=label,
            why="in evaluation mode dropout does nothing. `.eval()` sets `self.training = False` on the module: "
            "read `self.training` in forward rather than a flag of your own.",
        )  # fmt: skip
        module.train()
        label = _label((60, 80), torch.float32, f"{name}(x) after .eval() then .train()")
        out = call_module(module, x, label=label, name=name)
        dropped = check_kept_values(out, x, p, name=name, label=label)
        check_drop_rate(dropped, p, name=name, label=label)

    _run_seeded(body)


def check_dropout_module_bad_p(cls: Any, values: Sequence[float]) -> None:
    """Dropout(p) with p outside [0, 1] raises ValueError when constructed, as nn.Dropout does."""
    for p in values:
        check_raises(
            cls, Case(f"Dropout({p:g})", (p,)), ValueError, name="Dropout", forbid=DROPOUT_BAN,
            why="nn.Dropout checks p in __init__, so that a wrong p fails where it is written, not at the first "
            "forward pass.",
        )  # fmt: skip


__all__ = [
    "ALLOWED",
    "DROPOUT_BAN",
    "check_dropout_bad_p",
    "check_dropout_fresh_masks",
    "check_dropout_identity",
    "check_dropout_inplace",
    "check_dropout_kept_values",
    "check_dropout_module_api",
    "check_dropout_module_bad_p",
    "check_dropout_module_eval",
    "check_dropout_module_train",
    "check_dropout_p_one",
    "check_dropout_statistics",
    "check_early_stopping",
    "check_early_stopping_bad_input",
]
