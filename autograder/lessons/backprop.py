"""Lesson 05, backpropagation by hand: what the grade cells of ``05a_chain_rule`` and ``05b_mlp_by_hand``
forbid (autograd), compare with (autograd's gradients) and diagnose."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

import autograder as ag

# ---------------------------------------------------------------- backward_references
# what a backward function may not call, and the references computed by autograd
AUTOGRAD_BAN = ag.AUTOGRAD
BY_HAND = "tensor operations (@, *, .sum, .T), following the formulas above"


def autograd_vjp(forward: Callable) -> Callable:
    """reference(grad_output, *inputs) = the gradients of sum(grad_output * forward(*inputs)), by autograd."""

    def reference(grad_output: torch.Tensor, *inputs: Any) -> Any:
        leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
        return torch.autograd.grad(forward(*leaves), leaves, grad_output)

    return reference


def close(got: Any, expected: Any) -> bool:
    """True when got is a tensor of expected's shape with nearly the same values (used to name a likely mistake)."""
    with ag.pristine():
        return (
            isinstance(got, torch.Tensor)
            and got.shape == expected.shape
            and bool(torch.allclose(got.detach().double(), expected.double(), rtol=1e-4, atol=1e-5))
        )


def check_parts(
    student: Any, reference: Any, cases: Any, parts: Any, *, diagnose: Callable = None, **options: Any
) -> Any:
    """Like ag.check_function for a function that returns a tuple, naming each part (grad_weight, ...) when wrong."""
    name = student.__name__
    for case in cases:
        got = ag.call_student(student, case, name=name, **options)
        ag.check(
            isinstance(got, tuple | list) and len(got) == len(parts),
            f"`{name}` should return a tuple ({', '.join(parts)}); it returned {type(got).__name__} on {case.label}.",
        )
        expected = ag.checks.run_reference(reference, case)
        native = ag.checks.run_reference(reference, case, float64=False)
        for part, g, e, n in zip(parts, got, expected, native):
            try:
                ag.compare(g, e, name=name, case=case, expected_native=n, what=part)
            except ag.CheckFailed as failure:
                cause = diagnose(got, case) if diagnose else None
                raise ag.CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None


LINEAR_PARTS = ("grad_input", "grad_weight", "grad_bias")


def linear_backward_reference(grad_output: torch.Tensor, input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    bias = torch.zeros(weight.shape[0], dtype=weight.dtype)
    return autograd_vjp(ag.reference.get("torch.nn.functional.linear"))(grad_output, input, weight, bias)


def linear_backward_diagnosis(got: Any, case: ag.Case) -> str | None:
    grad_input, grad_weight, grad_bias = ag.checks.run_reference(linear_backward_reference, case)
    n = case.args[1].numel() // case.args[1].shape[-1]
    if n > 1 and close(got[2], grad_bias / n):
        return "grad_bias is the batch mean; every sample uses the same bias, so their gradients add up."
    if close(got[1], grad_weight.T) and not close(got[1], grad_weight):
        return "grad_weight is transposed: it has the weight's layout (out, in), so grad_output comes first."
    if close(got[1], grad_weight / n) and n > 1:
        return "grad_weight is divided by the batch size; a weight's gradient is the sum over the samples."
    return None


# ---------------------------------------------------------------- cross_entropy_examples
# example logits and targets shared by 05a's softmax demos and tests
EXAMPLE_LOGITS = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0], [-1.0, 3.0, 1.0]])
EXAMPLE_TARGET = torch.tensor([0, 1, 2, 0])


# ---------------------------------------------------------------- numerical_references
# what the exercises may not call, the exact gradient by autograd, and test functions


def autograd_gradient(f: Any, x: torch.Tensor, eps: float | None = None) -> Any:
    """The exact gradient of f at x, in float64, by autograd (eps is ignored)."""
    leaf = x.detach().to(torch.float64).clone().requires_grad_(True)
    return torch.autograd.grad(f(leaf), leaf)[0]


def wavy(x: torch.Tensor) -> Any:
    """A curved test function: sum(sin(2x) + x²/2)."""
    return (torch.sin(2 * x) + 0.5 * x**2).sum()


def coupled(x: torch.Tensor) -> Any:
    """A test function whose elements interact: logsumexp of all elements plus products of neighbours."""
    v = x.flatten()
    return torch.logsumexp(v, 0) + (v[:-1] * v[1:]).sum()


def cube(x: torch.Tensor) -> Any:
    """sum(x³), whose central difference is exactly 3x² + eps² (the eps² is the truncation error)."""
    return (x**3).sum()


def numerical_gradient_diagnosis(got: Any, case: ag.Case) -> str | None:
    f, x = case.args
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        return None
    if got.dtype != torch.float64:
        return "return float64 whatever x's dtype: convert x with x.double() (or .to(torch.float64)) first."
    expected = autograd_gradient(f, x)
    if x.numel() > 1 and bool((got == got.flatten()[0]).all()):
        return "every element got the same value: perturb one element at a time, the others fixed."
    if close_to(got, 2 * expected):
        return "x + eps and x - eps are 2 eps apart: divide the difference by 2 eps."
    if x.dtype == torch.float32:
        return "x is float32 here: convert it to float64 before perturbing it (float32 rounds x ± 1e-6)."
    error = float((got - expected).abs().max())
    if 1e-8 < error < 1e-4:
        return "an error of the order of eps is what a one-sided difference makes: use the central difference."
    return None


def central_difference_diagnosis(got: Any, case: ag.Case) -> str | None:
    x, eps = case.args[1].double(), case.kwargs["eps"]
    if close_to(got, 3 * x**2 + 3 * x * eps + eps**2) or close_to(got, 3 * x**2 - 3 * x * eps + eps**2):
        return "this is a one-sided difference, whose error is proportional to eps: use f(x + eps) and f(x - eps)."
    if close_to(got, 3 * x**2):
        return "the eps argument is not used: perturb by the eps the caller passes."
    return None


def close_to(got: Any, expected: Any, tol: Any = 1e-06) -> bool:
    """True when got is a tensor of expected's shape with nearly the same values (used to name a likely mistake)."""
    with ag.pristine():
        return (
            isinstance(got, torch.Tensor)
            and got.shape == expected.shape
            and bool(torch.allclose(got.detach().double(), expected.double(), rtol=tol, atol=tol * 1e-2))
        )


# ---------------------------------------------------------------- relative_error_references
# the relative error, through PyTorch's infinity norms
def relative_error_reference(a: torch.Tensor, b: torch.Tensor) -> float:
    norm = ag.reference.get("torch.linalg.vector_norm")
    size = norm(a.abs() + b.abs(), ord=float("inf"))
    return 0.0 if size == 0 else (norm(a - b, ord=float("inf")) / size).item()


def relative_error_diagnosis(got: Any, case: ag.Case) -> str | None:
    a, b = (v.double() for v in case.args)
    if isinstance(got, float) and math.isnan(got):
        return "0/0 is nan: when a and b are both all zero, the relative error is 0.0 by definition."
    with ag.pristine():
        elementwise = ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-300)).max().item()
        if (
            isinstance(got, float)
            and math.isclose(got, elementwise, rel_tol=1e-6)
            and not math.isclose(elementwise, relative_error_reference(a, b), rel_tol=1e-6)
        ):
            return "this is the largest element-by-element ratio; divide the largest difference by the largest |a|+|b|."
    return None


# ---------------------------------------------------------------- mlp_references
# a seeded network and batch, its forward pass and its gradients by PyTorch
KEYS = ("W1", "b1", "W2", "b2")


def mlp_case(n: int, d: Any, hidden: Any, classes: Any, seed: int, dtype: torch.dtype = torch.float32) -> Any:
    """(x, target, W1, b1, W2, b2) with seeded random values."""
    r = ag.inputs.randn
    target = torch.randint(0, classes, (n,), generator=ag.inputs.generator(seed + 1))
    return (
        r(n, d, seed=seed, dtype=dtype),
        target,
        r(hidden, d, seed=seed + 2, dtype=dtype) / d**0.5,
        r(hidden, seed=seed + 3, dtype=dtype) * 0.5,
        r(classes, hidden, seed=seed + 4, dtype=dtype) / hidden**0.5,
        r(classes, seed=seed + 5, dtype=dtype) * 0.5,
    )


def mlp_kink_case(n: int, d: int, hidden: int, classes: int, seed: int) -> tuple:
    """mlp_case with sample 0 all zeros and every other hidden bias 0: z1 is exactly 0 there (ReLU's kink)."""
    x, target, W1, b1, W2, b2 = mlp_case(n, d, hidden, classes, seed)
    x[0] = 0.0
    b1[::2] = 0.0
    return x, target, W1, b1, W2, b2


def mlp_confident_case(n: int, d: int, hidden: int, classes: int, seed: int) -> tuple:
    """mlp_case with a second layer 300 times larger: logits of size ~100, probabilities of exactly 0 and 1."""
    x, target, W1, b1, W2, b2 = mlp_case(n, d, hidden, classes, seed)
    return x, target, W1, b1, 300 * W2, b2


def mlp_reference(x: torch.Tensor, target: torch.Tensor, W1: Any, b1: Any, W2: Any, b2: Any) -> torch.Tensor:
    """(loss, z1, h, logits) by PyTorch's F.linear, torch.relu and F.cross_entropy."""
    with ag.pristine():
        linear = ag.reference.get("torch.nn.functional.linear")
        z1 = linear(x, W1, b1)
        h = ag.reference.get("torch.relu")(z1)
        logits = linear(h, W2, b2)
        return ag.reference.get("torch.nn.functional.cross_entropy")(logits, target), z1, h, logits


def mlp_gradients_reference(x: torch.Tensor, target: torch.Tensor, W1: Any, b1: Any, W2: Any, b2: Any) -> torch.Tensor:
    """The gradients of the loss with respect to (W1, b1, W2, b2), by autograd."""
    leaves = [p.detach().clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
    return torch.autograd.grad(mlp_reference(x, target, *leaves)[0], leaves)


# ---------------------------------------------------------------- mlp_backward_references
# mlp_backward on a cache built by PyTorch's forward pass, and likely mistakes
def backward_on_cache(mlp_backward: Callable) -> Callable:
    """(x, target, W1, b1, W2, b2) -> mlp_backward of a cache made by PyTorch's forward pass, as a tuple in the
    order of KEYS."""

    def run(x: torch.Tensor, target: torch.Tensor, W1: Any, b1: Any, W2: Any, b2: Any) -> Any:
        loss, z1, h, logits = mlp_reference(x, target, W1, b1, W2, b2)
        params = dict(zip(KEYS, (W1, b1, W2, b2)))
        grads = mlp_backward({"x": x, "target": target, "params": params, "z1": z1, "h": h, "logits": logits})
        return tuple(grads[k] for k in KEYS)

    return run


def mlp_backward_diagnosis(key: str) -> Callable:
    def diagnose(got: Any, case: ag.Case) -> str | None:
        x, target, W1, b1, W2, b2 = case.args
        expected = ag.checks.run_reference(mlp_gradients_reference, case)[KEYS.index(key)]
        n = x.shape[0]
        if n > 1 and close_to(got, expected * n, 1e-4):
            return "the loss is the mean over the batch: the gradient of the logits carries a factor 1/N."
        if key in ("W1", "b1"):
            with ag.pristine():
                _, z1, h, logits = mlp_reference(*case.args)
                relu_off = ~(z1 > 0)
                if not bool(relu_off.any()):
                    return None
                leaf = h.detach().double().requires_grad_(True)
                loss = F.cross_entropy(F.linear(leaf, W2.double(), b2.double()), target)
                grad_h = torch.autograd.grad(loss, leaf)[0]
                no_mask = grad_h.T @ x.double() if key == "W1" else grad_h.sum(0)
                at_kink = grad_h * (z1 >= 0)
                kink_open = at_kink.T @ x.double() if key == "W1" else at_kink.sum(0)
            if close_to(got, no_mask, 1e-4):
                return "the ReLU's gate is missing: the gradient must stop where the hidden unit was off (z1 <= 0)."
            if bool((z1 == 0).any()) and close_to(got, kink_open, 1e-4):
                return "at z1 exactly 0 PyTorch's ReLU passes no gradient (03·3): the gate is z1 > 0, not z1 >= 0."
        return None

    return diagnose


def check_mlp_backward(mlp_backward: Callable, cases: list[ag.Case]) -> None:
    """Compare each gradient of mlp_backward with autograd's, in the order the backward pass computes them."""
    for case in cases:
        got = ag.call_student(backward_on_cache(mlp_backward), case, name="mlp_backward", forbid=AUTOGRAD_BAN)
        expected = ag.checks.run_reference(mlp_gradients_reference, case)
        native = ag.checks.run_reference(mlp_gradients_reference, case, float64=False)
        for key in ("b2", "W2", "b1", "W1"):
            i = KEYS.index(key)
            try:
                ag.compare(
                    got[i], expected[i], name=f"mlp_backward(cache)['{key}']", case=case, expected_native=native[i]
                )
            except ag.CheckFailed as failure:
                cause = mlp_backward_diagnosis(key)(got[i], case)
                raise ag.CheckFailed(f"{failure}" + (f"\nLikely cause: {cause}" if cause else "")) from None


def recording(seen: list) -> Callable:
    """A test function f = wavy that notes the dtype of every tensor it is called on in ``seen``."""

    def recorded(v: torch.Tensor) -> torch.Tensor:
        seen.append(v.dtype)
        return wavy(v)

    return recorded


def forward_of(mlp_forward: Callable) -> Callable:
    """mlp_forward called as (x, target, W1, b1, W2, b2), like mlp_reference."""

    def forward(x: torch.Tensor, target: torch.Tensor, *params: torch.Tensor) -> Any:
        return mlp_forward(x, target, dict(zip(KEYS, params)))

    return forward


def forward_part(forward: Callable, what: str) -> Callable:
    """One part of mlp_forward's result: its loss ("loss") or one entry of its cache."""

    def part(*args: Any) -> Any:
        out = forward(*args)
        return out[0] if what == "loss" else out[1][what]

    return part


def reference_part(i: int) -> Callable:
    """One part of mlp_reference's (loss, z1, h, logits)."""

    def part(*args: Any) -> torch.Tensor:
        return mlp_reference(*args)[i]

    return part


# ---------------------------------------------------------------- cache_use
# mlp_forward's cache, checked by the use it gets: a backward pass that reads only the cache
def reference_backward(cache: dict) -> tuple:
    """The gradients (W1, b1, W2, b2) computed from the cache alone, as mlp_backward will compute them."""
    x, target, z1, h, logits = (cache[k] for k in ("x", "target", "z1", "h", "logits"))
    W2 = cache["params"]["W2"]
    n, classes = logits.shape
    probs = ag.reference.get("torch.softmax")(logits, 1)
    grad_logits = (probs - F.one_hot(target, classes).to(logits.dtype)) / n
    grad_z1 = (grad_logits @ W2) * (z1 > 0)
    return grad_z1.T @ x, grad_z1.sum(0), grad_logits.T @ h, grad_logits.sum(0)


def check_cache_feeds_backward(mlp_forward: Callable, cases: list[ag.Case]) -> None:
    """A backward pass fed mlp_forward's cache gives autograd's gradients: x, target and params are what it needs."""
    for case in cases:
        out = ag.call_student(forward_of(mlp_forward), case, name="mlp_forward")
        ag.check(
            isinstance(out, tuple | list) and len(out) == 2 and isinstance(out[1], dict),
            f"mlp_forward should return a tuple (loss, cache) with cache a dict; it returned {type(out).__name__}.",
        )
        cache = out[1]
        with ag.pristine():
            try:
                got = reference_backward(cache)
            except Exception as exc:  # noqa: BLE001 - a cache the backward pass cannot read is the finding
                ag.fail(
                    f"a backward pass cannot use the cache of mlp_forward on {case.label}: {type(exc).__name__}: "
                    f"{str(exc).rstrip('.')}. It reads x, target (class indices), params (the dict you were given), "
                    "z1, h and logits."
                )
        expected = ag.checks.run_reference(mlp_gradients_reference, case)
        native = ag.checks.run_reference(mlp_gradients_reference, case, float64=False)
        for key, g, e, n in zip(KEYS, got, expected, native):
            what = f"gradient of {key} (a backward pass fed your cache)"
            ag.compare(g, e, name="mlp_forward", case=case, expected_native=n, what=what)
