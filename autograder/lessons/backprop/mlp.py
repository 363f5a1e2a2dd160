"""Lesson 05b, ``mlp_forward`` and ``mlp_backward``: a seeded network and batch, PyTorch's forward pass and
autograd's gradients, the likely mistakes, and the cache checked by the use a backward pass makes of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

import autograder as ag
from autograder.lessons.backprop.common import AUTOGRAD_BAN, close_to

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


# ---------------------------------------------------------------- the grade cells' checks
CACHE_KEYS = {"x", "target", "params", "z1", "h", "logits"}


def check_mlp_forward(mlp_forward: Callable, cases: list[ag.Case]) -> None:
    """mlp_forward returns (loss, cache), the cache holding what mlp_backward reads, and its loss, z1, h and logits
    match PyTorch's forward pass on every case (each part on every case before the next part)."""
    forward = forward_of(mlp_forward)
    out = ag.call_student(forward, cases[0], name="mlp_forward")
    ag.check(
        isinstance(out, tuple | list) and len(out) == 2 and isinstance(out[1], dict),
        f"mlp_forward should return a tuple (loss, cache) with cache a dict; it returned {type(out).__name__}.",
    )
    missing = CACHE_KEYS - set(out[1])
    ag.check(not missing, f"the cache lacks the keys {sorted(missing)}: mlp_backward will need them.")
    for i, what in enumerate(("loss", "z1", "h", "logits")):
        ag.check_function(forward_part(forward, what), reference_part(i), cases,
                          name="mlp_forward's loss" if i == 0 else f"mlp_forward's cache['{what}']")  # fmt: skip


def check_mlp_forward_loss(mlp_forward: Callable, cases: list[ag.Case]) -> None:
    """mlp_forward's loss matches PyTorch's on every case."""
    ag.check_function(forward_part(forward_of(mlp_forward), "loss"), reference_part(0), cases,
                      name="mlp_forward's loss")  # fmt: skip


def check_mlp_backward_matches(mlp_backward: Callable, cases: list[ag.Case]) -> None:
    """mlp_backward, fed the cache of PyTorch's forward pass, returns a dict of the gradients of W1, b1, W2 and b2
    (checked on the first case), equal to autograd's on every case."""
    x, target, *params = cases[0].args
    _, z1, h, logits = mlp_reference(x, target, *params)
    cache = {"x": x, "target": target, "params": dict(zip(KEYS, params)), "z1": z1, "h": h, "logits": logits}
    grads = ag.call_student(mlp_backward, ag.Case(cases[0].label, (cache,)), name="mlp_backward", forbid=AUTOGRAD_BAN)
    ag.check(
        isinstance(grads, dict) and set(grads) == set(KEYS),
        f"mlp_backward should return a dict with the keys {list(KEYS)}; it returned "
        f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}.",
    )
    check_mlp_backward(mlp_backward, cases)
