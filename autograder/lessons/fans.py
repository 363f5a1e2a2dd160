"""Lesson 02, Xavier and Kaiming: fans, gains and the expected stds (and those of common mistakes), computed from
PyTorch's own fan and gain functions; the statistical checks of ``02_xavier_kaiming``'s grade cells."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from autograder import reference
from autograder.checks import Case, CheckFailed, check, check_function
from autograder.lessons.initialization import (
    INIT_BAN,
    call_init,
    check_distribution,
    check_generator,
    check_in_place,
    describe,
    expect_value_error,
    fresh,
    shape_text,
)
from autograder.reference import pristine

# ---------------------------------------------------------------- references: fans, gains, stds and mistakes


def torch_fans(shape: Sequence[int]) -> tuple[int, int]:
    """PyTorch's (fan_in, fan_out) of a weight of this shape."""
    with pristine():
        return reference.get("torch.nn.init._calculate_fan_in_and_fan_out")(torch.empty(*shape))


def torch_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain."""
    with pristine():
        return float(reference.get("torch.nn.init.calculate_gain")(nonlinearity, param))


def xavier_std(shape: Sequence[int], gain: float = 1.0) -> float:
    """gain · sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = torch_fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def kaiming_std(shape: Sequence[int], a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> float:
    """gain / sqrt(fan), fan chosen by mode."""
    fan_in, fan_out = torch_fans(shape)
    return torch_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def _channels_only(shape: Sequence[int]) -> tuple[int, int]:
    return shape[1], shape[0]


def xavier_causes(shape: Sequence[int], gain: float = 1.0) -> dict[str, float]:
    """Stds that common Xavier mistakes produce, by the mistake."""
    fan_in, fan_out = torch_fans(shape)
    causes = {
        "only fan_in is used (that is LeCun's rule); Xavier/Glorot balances both directions with "
        "2 / (fan_in + fan_out).": gain / math.sqrt(fan_in),
        "only fan_out is used; Xavier/Glorot balances both directions with 2 / (fan_in + fan_out).": gain
        / math.sqrt(fan_out),
        "the factor 2 of 2 / (fan_in + fan_out) is missing.": gain / math.sqrt(fan_in + fan_out),
        "the square root is missing: 2 / (fan_in + fan_out) is the variance, not the std.": gain
        * 2.0
        / (fan_in + fan_out),
    }
    if gain != 1.0:
        causes["the gain is ignored."] = math.sqrt(2.0 / (fan_in + fan_out))
        causes["the gain multiplies the variance instead of the std."] = math.sqrt(gain * 2.0 / (fan_in + fan_out))
    if len(shape) > 2:
        c_in, c_out = _channels_only(shape)
        causes[
            "the kernel's receptive field is not counted: for a conv weight (out, in, *kernel) each fan is a "
            "number of channels times the number of kernel elements."
        ] = gain * math.sqrt(2.0 / (c_in + c_out))
    return causes


def kaiming_causes(
    shape: Sequence[int], a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> dict[str, float]:
    """Stds that common Kaiming mistakes produce, by the mistake."""
    fan_in, fan_out = torch_fans(shape)
    fan, other = (fan_in, fan_out) if mode == "fan_in" else (fan_out, fan_in)
    gain = torch_gain(nonlinearity, a)
    causes = {
        "the gain is missing: std = 1/sqrt(fan) is right for a linear layer only.": 1 / math.sqrt(fan),
        f"the wrong fan is used: mode={mode!r} asks for {mode}.": gain / math.sqrt(other),
        "the square root of the fan is missing: std = gain / sqrt(fan).": gain / fan,
        "the gain sits under the square root: it scales the std, not the variance.": math.sqrt(gain / fan),
    }
    if nonlinearity == "leaky_relu" and a not in (0, 1):
        causes["the negative slope `a` is ignored (that is ReLU's gain, √2)."] = math.sqrt(2.0 / fan)
        causes["the leaky-ReLU gain uses 1 + a; the slope enters squared, 1 + a²."] = math.sqrt(
            2.0 / (1 + a)
        ) / math.sqrt(fan)
    if nonlinearity not in ("leaky_relu", "relu"):
        causes[f"the nonlinearity {nonlinearity!r} is ignored (√2 is ReLU's gain)."] = math.sqrt(2.0 / fan)
    if len(shape) > 2:
        c_in, c_out = _channels_only(shape)
        causes[
            "the kernel's receptive field is not counted: for a conv weight (out, in, *kernel) each fan is a "
            "number of channels times the number of kernel elements."
        ] = gain / math.sqrt(c_in if mode == "fan_in" else c_out)
    return causes


def diagnose_fans(got: Any, case: Case) -> str | None:
    """For calculate_fan_in_and_fan_out: name the usual mistakes."""
    shape = tuple(case.args[0].shape)
    if not isinstance(got, tuple | list) or len(got) != 2:
        return None
    got = tuple(int(v) if isinstance(v, int | float) else v for v in got)
    fan_in, fan_out = torch_fans(shape)
    if got == (fan_out, fan_in) and fan_in != fan_out:
        return "fan_in and fan_out are swapped: a weight is stored (out, in, ...), so fan_in comes from size(1)."
    if len(shape) > 2 and got == (shape[1], shape[0]):
        return "the receptive field is not counted: each input channel feeds kernel-size many weights."
    return None


def diagnose_gain(got: Any, case: Case) -> str | None:
    """For calculate_gain: name the usual mistakes of the leaky-ReLU gain."""
    nonlinearity, param = (list(case.args) + [None])[:2]
    if nonlinearity != "leaky_relu" or not isinstance(got, int | float):
        return None
    slope = 0.01 if param is None else param
    if math.isclose(got, math.sqrt(2.0 / (1 + slope)), rel_tol=1e-6) and slope not in (0, 1):
        return "the slope enters the gain squared: sqrt(2 / (1 + slope²))."
    if param is None and math.isclose(got, math.sqrt(2.0), rel_tol=1e-9):
        return "with param=None the slope is leaky_relu's default, 0.01, not 0."
    if param == 0 and not math.isclose(got, math.sqrt(2.0), rel_tol=1e-9):
        return "param=0 is a valid slope (it makes leaky ReLU a ReLU): `param or 0.01` treats it as missing."
    return None


# ---------------------------------------------------------------- the grade cells' weights and checks


def check_fans(student: Callable, layers: dict[str, torch.nn.Module]) -> None:
    """calculate_fan_in_and_fan_out of each layer's weight (by the layer's text) equals PyTorch's."""
    cases = [
        Case(f"{text}.weight of shape {tuple(m.weight.shape)}", (m.weight.detach(),)) for text, m in layers.items()
    ]
    check_function(student, "torch.nn.init._calculate_fan_in_and_fan_out", cases, forbid=INIT_BAN,
                   diagnose=diagnose_fans)  # fmt: skip


def check_too_few_dims(student: Callable, tensors: dict[str, torch.Tensor]) -> None:
    """calculate_fan_in_and_fan_out of each tensor (by its text) raises ValueError with a message."""
    for text, tensor in tensors.items():
        expect_value_error(student, tensor, name="calculate_fan_in_and_fan_out",
                           label=f"calculate_fan_in_and_fan_out({text})",
                           why="a tensor with fewer than 2 dimensions has no fan-in and fan-out")  # fmt: skip


#: the weight shapes of a Linear(100, 250), a Conv2d(32, 48, 3), a Conv1d(16, 128, 5) and a Conv3d(8, 32, 3)
#: layer (fans chosen so that different mistakes give different stds)
LINEAR, CONV2D, CONV1D, CONV3D = (250, 100), (48, 32, 3, 3), (128, 16, 5), (32, 8, 3, 3, 3)
_WEIGHTS = {
    LINEAR: "Linear(100, 250).weight",
    CONV2D: "Conv2d(32, 48, 3).weight",
    CONV1D: "Conv1d(16, 128, 5).weight",
    CONV3D: "Conv3d(8, 32, 3).weight",
}


def weight_text(shape: tuple[int, ...]) -> str:
    """The layer whose weight has this shape, for messages."""
    return f"{_WEIGHTS[shape]} {shape}"


def check_xavier(
    fn: Callable, name: str, shape: tuple[int, ...], kind: str, gain: float | None = None, **options: Any
) -> None:
    """Xavier's distribution on a weight of this shape, graded by statistics."""
    kwargs = {} if gain is None else {"gain": gain}
    std = xavier_std(shape, 1.0 if gain is None else gain)
    params = (-math.sqrt(3) * std, math.sqrt(3) * std) if kind == "uniform" else (0.0, std)
    check_distribution(fn, shape, kind, params, name=name, kwargs=kwargs, tensor_text=weight_text(shape),
                       causes=xavier_causes(shape, 1.0 if gain is None else gain), **options)  # fmt: skip


def check_kaiming(fn: Callable, name: str, shape: tuple[int, ...], kind: str, **kwargs: Any) -> None:
    """Kaiming's distribution on a weight of this shape, graded by statistics."""
    options = {"dtype": kwargs.pop("dtype")} if "dtype" in kwargs else {}
    std = kaiming_std(shape, **kwargs)
    params = (-math.sqrt(3) * std, math.sqrt(3) * std) if kind == "uniform" else (0.0, std)
    check_distribution(fn, shape, kind, params, name=name, kwargs=kwargs, tensor_text=weight_text(shape),
                       causes=kaiming_causes(shape, **kwargs), **options)  # fmt: skip


# ---------------------------------------------------------------- torch.nn.init's rules, a zero-element tensor included

#: weights with no elements, each with the keyword arguments that make its fan 0 where a fan is divided by
ZERO_ELEMENT = {
    "xavier": [((4, 0), {}), ((0, 3, 3, 3), {})],
    "kaiming": [((4, 0), {}), ((0, 3), {"mode": "fan_out"})],
}
ZERO_ELEMENT_WHY = (
    "A weight with no elements (a dimension of size 0, as in nn.Linear(0, 4)) has nothing to fill: torch.nn.init "
    "returns it as it is (initializing a zero-element tensor is a no-op), and no std is computed from a fan of 0."
)


def check_zero_element(fn: Callable, name: str) -> None:
    """A tensor with no elements comes back as it is, the same object, without an error (a fan of 0 is not divided
    by), as torch.nn.init does."""
    for shape, kwargs in ZERO_ELEMENT["kaiming" if name.startswith("kaiming") else "xavier"]:
        tensor = fresh(*shape)
        label = describe(name, shape_text(shape), (), kwargs)
        try:
            out = call_init(fn, tensor, name=name, label=label, **kwargs)
        except CheckFailed as failure:
            if not str(failure).startswith(f"`{name}` raised "):  # not implemented, a forbidden call, a time-out
                raise
            raise CheckFailed(f"{failure}\n{ZERO_ELEMENT_WHY}") from None
        check(out is tensor, f"{label} returned {type(out).__name__}, not the tensor it was given. {ZERO_ELEMENT_WHY}")


def check_rules(fn: Callable, name: str, **kwargs: Any) -> None:
    """The rules of torch.nn.init: in place (same object, same memory, views), no autograd on an nn.Parameter, fresh
    values per call, reproducible with a seeded generator (called with ``kwargs``), a zero-element tensor returned
    as it is."""
    check_in_place(fn, name=name)
    check_generator(fn, name=name, **kwargs)
    check_zero_element(fn, name)
