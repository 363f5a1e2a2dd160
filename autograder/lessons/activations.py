"""Lesson 03, classic activations (sigmoid, tanh, relu, leaky_relu): what their grade cells forbid, compare with
and diagnose. The helpers at the top are shared by every notebook of the lesson."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

import autograder as ag
from autograder.lessons.nonfinite import check_nan_and_inf as check_nan_and_inf  # the grade cells call it

REF_SIGMOID = ag.reference.get("torch.sigmoid")
REF_TANH = ag.reference.get("torch.tanh")

NOISY = (
    "your values are close to the true derivative but not exact: a numerical approximation (finite "
    "differences), or a computation in lower precision? Use the analytic formula, in the input's dtype."
)


def as_float64(got: Any, case: ag.Case) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The case's input x and the student's result, both float64, or (None, None) if got is not x-shaped."""
    x = case.args[0] if case.args else None
    ok = isinstance(got, torch.Tensor) and isinstance(x, torch.Tensor) and got.shape == x.shape
    return (x.detach().double(), got.detach().double()) if ok else (None, None)


def near(y: torch.Tensor, z: torch.Tensor) -> bool:
    """y equals z to 0.1 % (NaN and inf count as equal where both have them)."""
    return bool(torch.isclose(y, z.to(y.dtype), rtol=1e-3, atol=1e-4, equal_nan=True).all())


def close_but_noisy(y: torch.Tensor, z: torch.Tensor) -> bool:
    """y is within 1e-2 of z everywhere, but not exactly z: an approximation, not the formula."""
    err = (y - z).abs()
    return bool(torch.isfinite(err).all()) and 0 < float(err.max()) < 1e-2


# ---------------------------------------------------------------- sigmoid, sigmoid_grad, SigmoidFunction

SIGMOID_BAN = (
    "torch.sigmoid", "torch.nn.functional.sigmoid", "torch.nn.Sigmoid", "torch.special.expit",
    "torch.nn.functional.logsigmoid", "torch.tanh",
    "torch.softmax", "torch.nn.functional.softmax",  # sigmoid(x) = softmax([x, 0])[0]
)  # fmt: skip
SIGMOID_GRAD_BAN = SIGMOID_BAN + ag.AUTOGRAD
SIGMOID_HINT = "torch.exp, arithmetic and torch.where"


def diagnose_sigmoid(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong sigmoid."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        if bool(torch.isnan(y).any()):
            return (
                "exp of a large number overflowed to inf and inf/inf is nan. Rearrange the formula so that "
                "exp only ever sees numbers <= 0."
            )
        if near(y, REF_SIGMOID(-x)):
            return "you computed sigmoid(-x): check the sign inside the exponential."
    return None


def diagnose_sigmoid_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong sigmoid_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        s = REF_SIGMOID(x)
        if bool(torch.isnan(y).any()):
            return (
                "exp overflowed to inf somewhere (inf/inf = nan) for large |x|: a formula written with exp "
                "alone is not stable. Express the derivative through the sigmoid's output, computed with your "
                "stable sigmoid."
            )
        if near(y, x * (1 - x)):
            return "your formula uses the input x where it needs the sigmoid's output s = sigmoid(x)."
        if near(y, s):
            return "you return sigmoid(x) itself, not its derivative."
        if close_but_noisy(y, s * (1 - s)):
            return NOISY
    return None


def sigmoid_function_backward(function: type) -> Any:
    """SigmoidFunction's forward on x, then its backward called directly with grad_output."""

    def backward(x: torch.Tensor, grad_output: torch.Tensor) -> Any:
        y = function.apply(x.requires_grad_(True))
        ag.check(
            y.grad_fn is not None,
            "SigmoidFunction.apply(x) returned a tensor without grad_fn: return the "
            "result of forward as it is (do not detach it or wrap it in a new tensor).",
        )
        grad = function.backward(y.grad_fn, grad_output)
        return grad[0] if isinstance(grad, tuple) and len(grad) == 1 else grad

    return backward


def sigmoid_vjp_reference(x: torch.Tensor, grad_output: torch.Tensor) -> torch.Tensor:
    """grad_output times the sigmoid's derivative at x."""
    s = REF_SIGMOID(x)
    return grad_output * s * (1 - s)


def diagnose_backward(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong SigmoidFunction.backward."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        g, s = case.args[1].double(), REF_SIGMOID(x)
        if near(y, g * s):
            return "a factor of the sigmoid's derivative is missing: compare with your sigmoid_grad."
        if near(y, s * (1 - s)):
            return "multiply by grad_output: backward returns dL/dx = dL/dy * dy/dx (the chain rule)."
        if near(y, g * x * (1 - x)):
            return "the derivative needs the saved output s = sigmoid(x), not the input x."
    return None


# ---------------------------------------------------------------- tanh, tanh_grad

TANH_BAN = (
    "torch.tanh", "torch.nn.functional.tanh", "torch.nn.Tanh", "torch.nn.functional.tanhshrink",
    "torch.sigmoid", "torch.nn.functional.sigmoid", "torch.nn.Sigmoid", "torch.special.expit",
)  # fmt: skip
TANH_GRAD_BAN = TANH_BAN + ag.AUTOGRAD
TANH_HINT = "torch.exp, arithmetic and torch.where"


def diagnose_tanh(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong tanh."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        if bool(torch.isnan(y).any()):
            return (
                "e^x or e^-x overflowed to inf and inf/inf is nan. Rewrite the formula so that exp only "
                "ever sees numbers <= 0 (tanh is odd), or build it from a stable sigmoid."
            )
        if near(y, 2 * REF_SIGMOID(x) - 1):
            return "tanh(x) = 2 * sigmoid(2x) - 1: the argument of the sigmoid doubles too."
        if near(y, REF_SIGMOID(2 * x)):
            return "sigmoid(2x) lies in (0, 1); tanh(x) = 2 * sigmoid(2x) - 1 stretches it to (-1, 1)."
    return None


def diagnose_tanh_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong tanh_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    with ag.pristine():
        t = REF_TANH(x)
        if bool(torch.isnan(y).any()):
            return (
                "exp overflowed to inf somewhere (inf/inf = nan): write the derivative with tanh(x), "
                "computed with your stable tanh."
            )
        if near(y, 1 - t):
            return "1 - tanh(x) is not the derivative: the tanh in it should be squared."
        if near(y, 1 - x**2):
            return "1 - t**2 needs the output t = tanh(x), not the input x."
        if close_but_noisy(y, 1 - t**2):
            return NOISY
    return None


# ---------------------------------------------------------------- relu, relu_grad

RELU_BAN = (
    "torch.relu", "torch.nn.functional.relu", "torch.nn.ReLU", "torch.nn.functional.relu6",
    "torch.nn.functional.threshold", "torch.nn.functional.leaky_relu", "torch.nn.functional.hardtanh",
    # the ReLU family, set to be ReLU: elu(alpha=0), prelu(weight 0), rrelu(0, 0)
    "torch.nn.functional.elu", "torch.nn.functional.celu", "torch.nn.functional.prelu",
    "torch.nn.functional.rrelu", "torch.ops.aten.*rrelu*",
)  # fmt: skip
RELU_GRAD_BAN = RELU_BAN + ag.AUTOGRAD
RELU_HINT = "torch.clamp, torch.maximum or torch.where"


def diagnose_relu(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong relu."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    if near(y, x.clamp(0, 1)):
        return "ReLU has no upper bound: positive inputs pass unchanged, however large."
    if near(y, x.clamp(max=0)):
        return "you kept the negative part: ReLU keeps the positive inputs and zeroes the others."
    return None


def diagnose_relu_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong relu_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    if bool(((x == 0) & (y != 0)).any()):
        return "PyTorch's convention is ReLU'(0) = 0: at exactly x = 0 the derivative must be 0."
    if bool(((x < 0) & (y < 0)).any()):
        return "for x < 0 ReLU is constant (0), so its slope there is 0, not -1."
    if bool(((x > 0) & (y != 1)).any()):
        return "for x > 0 ReLU(x) = x, so its slope there is 1."
    return None


# ---------------------------------------------------------------- leaky_relu, leaky_relu_grad, LeakyReLU

LEAKY_BAN = (
    "torch.nn.functional.leaky_relu", "torch.nn.functional.leaky_relu_", "torch.nn.LeakyReLU",
    "torch.relu", "torch.nn.functional.relu", "torch.nn.ReLU", "torch.nn.functional.prelu",
    "torch.nn.PReLU", "torch.nn.functional.rrelu", "torch.nn.functional.threshold",
    "torch.ops.aten.*rrelu*",  # rrelu_with_noise in eval mode is a leaky ReLU
)  # fmt: skip
LEAKY_GRAD_BAN = LEAKY_BAN + ag.AUTOGRAD
LEAKY_HINT = "torch.where or torch.maximum"


def slope_of(case: ag.Case) -> float:
    """The negative_slope a case passes (keyword, positional, or the default)."""
    return float(case.kwargs.get("negative_slope", case.args[1] if len(case.args) > 1 else 0.01))


def diagnose_leaky_relu(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong leaky_relu."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    a = slope_of(case)
    if near(y, torch.where(x > 0, a * x, x)):
        return "the slope multiplies the positive inputs: it belongs on the negative side, positives pass unchanged."
    if a != 0.01 and near(y, torch.where(x > 0, x, 0.01 * x)):
        return f"you ignore the negative_slope argument (here {a}): use it instead of a fixed 0.01."
    if near(y, torch.where(x > 0, x, a)):
        return "on the negative side the output is negative_slope * x, not the constant negative_slope."
    return None


def diagnose_leaky_relu_grad(got: Any, case: ag.Case) -> str | None:
    """The likely cause of a wrong leaky_relu_grad."""
    x, y = as_float64(got, case)
    if x is None:
        return None
    a = slope_of(case)
    if a != 1 and bool(((x == 0) & (y != a)).any()):
        return (
            "PyTorch's convention at the kink x = 0 is the negative slope: only x > 0 has slope 1 "
            "(with negative_slope = 0 this is ReLU'(0) = 0)."
        )
    if near(y, torch.where(x > 0, a, torch.ones_like(x))):
        return "the slopes are swapped: 1 for x > 0, negative_slope for x < 0."
    if a != 0.01 and near(y, torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01))):
        return f"you ignore the negative_slope argument (here {a}): use it instead of a fixed 0.01."
    if near(y, torch.where(x > 0, torch.ones_like(x), a * x)):
        return "the derivative of negative_slope * x is the constant negative_slope, not negative_slope * x."
    return None


def check_leaky_module(cls: type, *args: Any, **kwargs: Any) -> None:
    """The student's module ``cls(*args, **kwargs)`` must compute what nn.LeakyReLU with the same arguments does."""
    label = "LeakyReLU(" + ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"
    mine = ag.construct(cls, *args, forbid=LEAKY_BAN, **kwargs)
    ag.check(isinstance(mine, nn.Module), f"{label} should be an nn.Module (subclass nn.Module).")
    ag.check(
        not any(isinstance(m, nn.LeakyReLU | nn.ReLU | nn.PReLU | nn.RReLU) for m in mine.modules()),
        f"{label} contains one of PyTorch's own ReLU modules: compute the output yourself, with your leaky_relu.",
    )
    ag.check(
        not list(mine.parameters()),
        f"{label} has trainable parameters: negative_slope is a fixed "
        "hyper-parameter, a plain attribute, not an nn.Parameter (a learned slope is PReLU).",
    )
    case = ag.Case("a random (5, 8) batch", (ag.inputs.randn(5, 8, seed=3062, scale=3.0),))
    try:
        ag.check_module_matches(mine, nn.LeakyReLU(*args, **kwargs), [case], name=label, forbid=LEAKY_BAN)
    except ag.CheckFailed as failure:
        got = ag.call_student(mine, case, name=label, forbid=LEAKY_BAN)
        slope = nn.LeakyReLU(*args, **kwargs).negative_slope
        cause = diagnose_leaky_relu(got, ag.Case(case.label, case.args, {"negative_slope": slope}))
        raise ag.CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None
    if not kwargs.get("inplace", False):
        check_leaky_module_trains(mine, label, nn.LeakyReLU(*args, **kwargs).negative_slope)


def check_leaky_module_trains(mine: nn.Module, label: str, slope: float) -> None:
    """The use a module gets in a network: a float64 batch stays float64, and the gradient flows back through it,
    with PyTorch's slope at the kink (inputs of exactly 0, common after a layer of ReLUs)."""
    x = ag.inputs.randn(5, 8, seed=3064, scale=3.0, dtype=torch.float64)
    x[0, :4] = torch.tensor([0.0, -0.0, 0.0, -0.0], dtype=torch.float64)
    x.requires_grad_(True)
    case = ag.Case("a float64 (5, 8) batch that requires grad, with some entries exactly 0", (x,))
    out = ag.call_student(lambda: mine(x), ag.Case(case.label), name=label, forbid=LEAKY_BAN)
    with ag.pristine():
        ref = nn.functional.leaky_relu(x, slope)
    ag.compare(out, ref.detach(), name=label, case=case, elementwise_input=x.detach())
    ag.check(
        out.requires_grad and out.grad_fn is not None,
        f"{label}(x) is cut off from autograd (no grad_fn): a network that uses it would not train the layers "
        "before it. Compute the output from the input itself with tensor operations (not from .data, .detach() "
        "or a new torch.tensor).",
    )
    upstream = ag.inputs.randn(5, 8, seed=3065, dtype=torch.float64)
    with ag.pristine():
        (grad,) = torch.autograd.grad(out, x, upstream, allow_unused=True)
        (expected,) = torch.autograd.grad(ref, x, upstream)
    ag.check(grad is not None, f"the output of {label} does not depend on its input for autograd.")
    try:
        ag.compare(grad, expected, name=label, case=case, what="gradient with respect to the input")
    except ag.CheckFailed as failure:
        at_zero = bool(((grad - expected).abs() > 1e-9)[x.detach() == 0].any())
        cause = "at x = 0 autograd must give negative_slope, PyTorch's convention: torch.maximum splits it in two."
        raise ag.CheckFailed(f"{failure}\nLikely cause: {cause}" if at_zero else str(failure)) from None


def gradcheck_of(function: type) -> Any:
    """x -> whether torch.autograd.gradcheck accepts ``function`` at x (float64)."""

    def run_gradcheck(x: torch.Tensor) -> bool:
        return torch.autograd.gradcheck(function.apply, (x.requires_grad_(True),), raise_exception=False)

    return run_gradcheck


def quiet(diagnose: Callable) -> Callable:
    """A diagnosis never crashes a test: when it cannot tell, it says nothing."""

    def safe(got: Any, case: ag.Case) -> str | None:
        try:
            return diagnose(got, case)
        except Exception:  # noqa: BLE001 - a diagnosis that cannot tell says nothing
            return None

    return safe
