"""Lesson 03, softmax, log_softmax and the softmax Jacobian: what the grade cells of ``05_softmax`` forbid,
compare with and diagnose."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

import autograder as ag
from autograder.lessons.activations import quiet

# used by the tests below: what the softmax exercises may not call, and how a wrong answer is diagnosed
SOFTMAX_BAN = (
    "torch.softmax",
    "torch.log_softmax",
    "torch.nn.functional.softmax",
    "torch.nn.functional.log_softmax",
    "torch.nn.functional.softmin",
)
LOG_SOFTMAX_BAN = SOFTMAX_BAN + ("torch.logsumexp",)
JACOBIAN_BAN = SOFTMAX_BAN + ag.AUTOGRAD
SOFTMAX_HINT = "torch.exp, .sum and .amax (or torch.logsumexp)"
LOG_SOFTMAX_HINT = "torch.exp, torch.log, .sum and .amax"


def _dim_of(case: ag.Case) -> Any:
    return case.kwargs["dim"] if "dim" in case.kwargs else case.args[1]


OVERFLOW = (
    "your {what} overflows: e^1000 is inf and e^-1000 is 0 (float32 overflows past e^88.7, float64 past "
    "e^709.8), so the formula as written gives inf / inf, 0 / 0 or log(inf). {fix}"
)
FIX = {
    False: (
        "Softmax does not change when the same number is subtracted from every entry of a slice: "
        "subtract the max along dim first, so that the largest exponent is e^0 = 1."
    ),
    True: ("Use the log-sum-exp trick: log sum_j e^(x_j) = m + log sum_j e^(x_j - m), with m the max along dim."),
}


def _non_finite_cause(x: torch.Tensor, dim: int, got: torch.Tensor, log: bool) -> str | None:
    """Why a softmax/log_softmax result has inf or nan where PyTorch has none: compare with the usual formulas."""
    what = "log_softmax" if log else "softmax"

    def formula(shift: float | torch.Tensor) -> torch.Tensor:
        e = torch.exp(x - shift)
        total = e.sum(dim, keepdim=True)
        return x - shift - torch.log(total) if log else e / total

    def same(result: torch.Tensor) -> bool:  # the same inf and nan, at the same places, and the same finite values
        return bool((~torch.isfinite(result)).any()) and torch.allclose(got, result, 1e-4, 1e-6, equal_nan=True)

    if log and same(torch.log(ag.reference.get("torch.softmax")(x, dim))):
        return (
            "you take the log of a probability that underflowed: softmax rounds e^(-200) to 0 and "
            "log(0) = -inf. Stay in log space: log_softmax(x) = x - logsumexp(x), with the log-sum-exp "
            "computed after subtracting the max."
        )
    if same(formula(0.0)):
        return OVERFLOW.format(what=what, fix=FIX[log])
    if x.dim() > 1 and same(formula(x.max())):
        return (
            "you subtracted one max for the whole tensor, so a slice whose entries all lie far below it "
            "underflows to 0 / 0. Subtract each slice's own max (reduce along dim with keepdim=True)."
        )
    if bool((x.abs() > (709.0 if x.dtype == torch.float64 else 88.0)).any()):
        return OVERFLOW.format(what=what, fix=FIX[log])
    return None


def softmax_diagnosis(log: bool = False) -> Callable:
    """A diagnose= for softmax (log=False) or log_softmax (log=True): names the usual mistake, if it sees one."""
    what = "log_softmax" if log else "softmax"

    def reference(t: torch.Tensor, dim: int) -> torch.Tensor:
        return ag.reference.get("torch.log_softmax" if log else "torch.softmax")(t, dim)

    def normalised(
        t: torch.Tensor, dim: int
    ) -> bool:  # exp of the result sums to 1 (log) / the result sums to 1 along dim
        total = torch.logsumexp(t, dim) if log else t.sum(dim) - 1
        return bool((total.abs() < 1e-4).all())

    def diagnose(got: Any, case: ag.Case) -> str | None:
        x, dim = case.args[0], _dim_of(case)
        if not isinstance(got, torch.Tensor) or got.shape != x.shape or got.dtype != x.dtype:
            return None
        with ag.pristine():
            g, x64 = got.detach().double(), x.detach().double()
            d = dim % x.dim()
            if not bool(torch.isfinite(g).all()):
                return _non_finite_cause(x, d, got.detach(), log)
            for other in range(x.dim()):
                if other != d and x.shape[other] > 1 and torch.allclose(g, reference(x64, other), 1e-4, 1e-5):
                    return (
                        f"your result is normalised along dim={other}, but this call asked for dim={dim}. "
                        "Use the dim argument in every reduction (max, sum, logsumexp), with keepdim=True."
                    )
            if x.dim() > 1 and torch.allclose(g, reference(x64.flatten(), 0).view_as(g), 1e-4, 1e-5):
                return (
                    f"you normalised over the whole tensor at once; in {what} each slice along dim is "
                    "normalised on its own (reduce along dim only)."
                )
            if not normalised(g, d):
                if log and bool(((g - reference(x64, d)).amax(d) - (g - reference(x64, d)).amin(d) < 1e-4).all()):
                    return (
                        "your log-probabilities are off by the same amount within each slice: did you subtract "
                        "the max and forget to add it back? log sum_j e^(x_j) = m + log sum_j e^(x_j - m)."
                    )
                total = torch.logsumexp(g, d).exp() if log else g.sum(d)
                return (
                    f"along dim={dim} your {'exp(result)' if log else 'result'} sums to "
                    f"{float(total.min()):.4g} ... {float(total.max()):.4g}, not 1: numerator and denominator "
                    "must come from the same slice, and the sum must stay broadcastable (keepdim=True)."
                )
        return None

    return quiet(diagnose)


def random_case(shape: tuple[int, ...], dim: int, seed: int, scale: float = 1.0, *flags: str) -> ag.Case:
    """A random input of ``shape`` (float32, or float64 with the flag "float64") and the dim to normalise along,
    passed by position (or by keyword with the flag "keyword")."""
    x = ag.inputs.randn(*shape, seed=seed, scale=scale)
    x = x.double() if "float64" in flags else x
    dtype = "a float64 " if "float64" in flags else "a "
    kept = " (the result must stay float64)" if "float64" in flags else ""
    if "keyword" in flags:
        return ag.Case(f"{dtype}{shape} input, dim={dim} given by keyword{kept}", (x,), {"dim": dim})
    return ag.Case(f"{dtype}{shape} input, dim={dim}{kept}", (x, dim))


def check_any_dim(fn: Callable, cases: list[tuple], *, log: bool = False) -> None:
    """softmax (or log_softmax) is PyTorch's on random inputs, one per (shape, dim, seed[, scale, flags...]): the
    dim it is given, any number of dimensions, the input's dtype."""
    name = "log_softmax" if log else "softmax"
    ban, hint = (LOG_SOFTMAX_BAN, LOG_SOFTMAX_HINT) if log else (SOFTMAX_BAN, SOFTMAX_HINT)
    ag.check_function(fn, f"torch.{name}", [random_case(*case) for case in cases], forbid=ban, allowed_hint=hint,
                      diagnose=softmax_diagnosis(log=log))  # fmt: skip


def check_softmax_properties(softmax: Callable) -> None:
    """softmax gives probabilities along dim (entries in [0, 1], slices summing to 1), unchanged when a constant is
    added to every logit, for dim 1 and dim 0 of a random (5, 7) input."""
    x = ag.inputs.randn(5, 7, seed=11, scale=3.0)
    for dim in (1, 0):
        p = ag.call_student(softmax, ag.Case(f"a (5, 7) input, dim={dim}", (x, dim)), name="softmax",
                            forbid=SOFTMAX_BAN)  # fmt: skip
        with ag.pristine():
            ag.check(isinstance(p, torch.Tensor) and p.shape == x.shape,
                     f"softmax should return a tensor of the input's shape {tuple(x.shape)}.")  # fmt: skip
            ag.check(bool(((p >= 0) & (p <= 1)).all()), f"softmax(x, dim={dim}) has entries outside [0, 1]: "
                     "probabilities cannot be negative or above 1.")  # fmt: skip
            sums = p.sum(dim)
            ag.check(bool(((sums - 1).abs() < 1e-5).all()), f"the slices of softmax(x, dim={dim}) along dim={dim} "
                     f"sum to {float(sums.min()):.6g} ... {float(sums.max()):.6g}, not 1.")  # fmt: skip
        for c in (5.0, -30.0, 500.0):
            q = ag.call_student(softmax, ag.Case(f"the same input plus {c:g}, dim={dim}", (x + c, dim)),
                                name="softmax", forbid=SOFTMAX_BAN)  # fmt: skip
            with ag.pristine():
                ag.check(isinstance(q, torch.Tensor) and q.shape == p.shape and torch.allclose(q, p, 1e-4, 1e-5),
                         f"softmax(x + {c:g}) differs from softmax(x) (dim={dim}): adding the same number to every "
                         "logit must not change the probabilities.")  # fmt: skip


def check_log_softmax_properties(log_softmax: Callable) -> None:
    """log_softmax gives log-probabilities along dim (all <= 0, exp of a slice sums to 1) and log_softmax(x) - x
    is constant along dim, for dim 1 and dim 0 of a random (6, 4) input."""
    x = ag.inputs.randn(6, 4, seed=27, scale=3.0)
    for dim in (1, 0):
        lp = ag.call_student(log_softmax, ag.Case(f"a (6, 4) input, dim={dim}", (x, dim)), name="log_softmax",
                             forbid=LOG_SOFTMAX_BAN)  # fmt: skip
        with ag.pristine():
            ag.check(isinstance(lp, torch.Tensor) and lp.shape == x.shape,
                     f"log_softmax should return a tensor of the input's shape {tuple(x.shape)}.")  # fmt: skip
            ag.check(bool((lp <= 1e-6).all()), f"log_softmax(x, dim={dim}) has positive entries: a "
                     "log-probability is at most log 1 = 0.")  # fmt: skip
            total = lp.exp().sum(dim)
            ag.check(bool(((total - 1).abs() < 1e-5).all()), f"exp(log_softmax(x, dim={dim})) sums to "
                     f"{float(total.min()):.6g} ... {float(total.max()):.6g} along dim={dim}, not 1.")  # fmt: skip
            gap = lp - x
            spread = (gap.amax(dim) - gap.amin(dim)).max()
            ag.check(bool(spread < 1e-4 * max(1.0, float(x.abs().max()))),
                     "log_softmax(x) - x should be the same number for every entry of a slice (it is -logsumexp of "
                     f"the slice); yours varies by {float(spread):.3g} along dim={dim}.")  # fmt: skip


# used by the tests below: the Jacobian by autograd, and what a wrong Jacobian usually is
def jacobian_reference(x: torch.Tensor) -> torch.Tensor:
    """The softmax's Jacobian at a 1-D x, by autograd."""
    return torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), x)


@quiet
def jacobian_diagnosis(got: Any, case: ag.Case) -> str | None:
    x = case.args[0]
    n = x.numel()
    if not isinstance(got, torch.Tensor) or got.shape != (n, n) or n < 2:
        return None
    with ag.pristine():
        x64, g = x.detach().double(), got.detach().double()
        full = jacobian_reference(x64)  # autograd's answer

        def close(a: torch.Tensor) -> bool:
            return bool(torch.allclose(g, a, rtol=1e-4, atol=1e-5))

        if bool((g - torch.diag(torch.diagonal(g)) == 0).all()):
            return (
                "your Jacobian is diagonal. Softmax is not elementwise: every s_i shares the denominator "
                "sum_k e^(x_k), so changing x_j (j != i) changes s_i too. Work out d s_i / d x_j for i != j "
                "with the quotient rule."
            )
        if close(-full):
            return "every entry has the wrong sign: check the order of the two terms of the quotient rule."
        if close(full - torch.diag(ag.reference.get("torch.softmax")(x64, 0))):
            return (
                "the off-diagonal entries are right but the diagonal misses a term: for i = j, d e^(x_i) / d x_i "
                "is not 0."
            )
    return None


def check_jacobian(softmax_jacobian: Callable, *, random: Sequence[tuple] = (), logits: Sequence[list] = ()) -> None:
    """softmax_jacobian is autograd's Jacobian of torch.softmax at random logits, one per (n, seed, scale[,
    "float64"]), and at the given float32 logits."""
    cases = []
    for n, seed, scale, *flags in random:
        x = ag.inputs.randn(n, seed=seed, scale=scale)
        if "float64" in flags:
            cases.append(ag.Case(f"{n} random float64 logits (the result must stay float64)", (x.double(),)))
        else:
            cases.append(ag.Case(f"{n} random float32 logits", (x,)))
    for values in logits:
        label = "a single logit (n = 1)" if len(values) == 1 else f"logits {[float(v) for v in values]} in float32"
        cases.append(ag.Case(label, (torch.tensor(values, dtype=torch.float32),)))
    ag.check_function(softmax_jacobian, jacobian_reference, cases, forbid=JACOBIAN_BAN, allowed_hint="your softmax",
                      diagnose=jacobian_diagnosis)  # fmt: skip


# ---------------------------------------------------------------- NaN, ±inf and empty inputs
NAN, INF = float("nan"), float("inf")


def special_cases() -> list[ag.Case]:
    """A NaN stays in its own slice, a -inf logit (a masked class) gets probability 0, and an empty input (an empty
    batch, or slices of no entry: a dim of size 0) gives an empty result of its shape, as in PyTorch. (A +inf logit
    is left out: PyTorch's NaN there is not a convention.)"""
    rows = torch.tensor([[1.0, NAN, 2.0], [0.5, -1.0, 3.0], [-INF, 0.0, 1.0], [-INF, -INF, 4.0]])
    return [
        ag.Case("rows [1, nan, 2], [0.5, -1, 3], [-inf, 0, 1], [-inf, -inf, 4], dim=1", (rows, 1)),
        ag.Case("the same rows as columns, dim=0, in float64", (rows.T.double(), 0)),
        ag.Case("an empty batch of shape (0, 4), dim=1", (torch.empty(0, 4), 1)),
        ag.Case("an empty batch of shape (0, 4), dim=-1, in float64", (torch.empty(0, 4, dtype=torch.float64), -1)),
        ag.Case("3 rows of no class, shape (3, 0), dim=1", (torch.empty(3, 0), 1)),
        ag.Case("an input of shape (2, 0, 5), dim=1 (of size 0), in float64", (torch.empty(2, 0, 5).double(), 1)),
    ]


EMPTY_DIM = (
    "along a dim of size 0 each slice has no entry: there is no max to subtract (amax and max raise there), and "
    "PyTorch returns an empty tensor of the input's shape. Return one before reducing when x has no entries."
)


def check_special(fn: Callable, *, log: bool = False) -> None:
    """softmax (or log_softmax) is PyTorch's on the special cases above."""
    name = "log_softmax" if log else "softmax"
    ban, hint = (LOG_SOFTMAX_BAN, LOG_SOFTMAX_HINT) if log else (SOFTMAX_BAN, SOFTMAX_HINT)
    try:
        ag.check_function(
            fn, f"torch.{name}", special_cases(), name=name, forbid=ban, allowed_hint=hint,
            diagnose=quiet(special_diagnosis),
        )  # fmt: skip
    except ag.CheckFailed as failure:
        empty_dim = "non-zero size" in str(failure)  # PyTorch's error for a max over a dim of size 0
        raise ag.CheckFailed(f"{failure}\nLikely cause: {EMPTY_DIM}" if empty_dim else str(failure)) from None


def special_diagnosis(got: Any, case: ag.Case) -> str | None:
    x = case.args[0]
    if x.numel() == 0:
        return "an empty input has nothing to normalise: return an empty tensor of the same shape and dtype."
    if isinstance(got, torch.Tensor) and got.shape == x.shape and bool(torch.isnan(got).all()):
        return (
            "one NaN logit makes only its own slice NaN: take the max and the sum along dim, not over the whole tensor."
        )
    return (
        "a logit of -inf is a class that is masked out: its probability is exactly 0 (log-probability -inf), and the "
        "other entries of the slice are the softmax of the rest; a NaN logit makes its slice NaN."
    )
