"""Statistics of one dropout output, for lesson 08b: what every correct inverted dropout must satisfy.

Dropout is random, so it is graded by properties, never by PyTorch's random stream:

* **the mask relation** (exact): every output element is either 0 or ``input / (1 - p)`` (to float rounding);
  the inputs never contain 0 (:func:`nonzero_input`), so the kept positions can be read off the output;
* **the drop rate**: the number of zeros is Binomial(n, p), tested with the exact binomial tails;
* **independence across elements**: neighbours along every dim are both dropped as often as two independent
  draws (Binomial(m, p²) pairs), and the number dropped per row is neither more nor less spread than
  independent draws give (the dispersion index of the rows, a Wilson–Hilferty bound);
* **independence across calls**: two calls on the same input both drop a position Binomial(n, p²) times.

Each test rejects a correct answer with probability below 1e-7: the binomial tails are computed exactly in
float64 (lgamma), two-sided at 1e-7; the dispersion bound sits at z = 6.5 of the Wilson–Hilferty approximation
(about 1e-10), a wide margin for the approximation.
"""

from __future__ import annotations

import math

import torch

from autograder.checks import check, fail
from autograder.reference import pristine

ALPHA = 1e-7  # false-reject probability of each statistical test
WH_Z = 6.5  # z of the dispersion bound (Wilson–Hilferty; a wide margin for the approximation)


# ---------------------------------------------------------------- inputs and binomial tails


def nonzero_input(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Random values of both signs with |x| in [0.5, 2]: never 0, so a 0 in the output means dropped."""
    g = torch.Generator().manual_seed(seed)
    magnitude = 0.5 + 1.5 * torch.rand(*shape, generator=g, dtype=torch.float64)
    sign = torch.where(torch.rand(*shape, generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    return (sign * magnitude).to(dtype)


def binomial_tails(k: int, n: int, q: float) -> tuple[float, float]:
    """P(X <= k) and P(X >= k) for X ~ Binomial(n, q), 0 < q < 1, computed exactly in float64."""
    ks = torch.arange(n + 1, dtype=torch.float64)
    log_pmf = (
        math.lgamma(n + 1)
        - torch.lgamma(ks + 1)
        - torch.lgamma(n - ks + 1)
        + ks * math.log(q)
        + (n - ks) * math.log1p(-q)
    )
    lower = float(torch.logsumexp(log_pmf[: k + 1], 0).exp())
    upper = float(torch.logsumexp(log_pmf[k:], 0).exp())
    return lower, upper


def binomial_plausible(k: int, n: int, q: float, alpha: float = ALPHA) -> bool:
    """Whether k successes of n are plausible for Binomial(n, q) (two-sided, false reject < alpha)."""
    lower, upper = binomial_tails(k, n, q)
    return lower > alpha / 2 and upper > alpha / 2


def dispersion_bounds(rows: int, z: float = WH_Z) -> tuple[float, float]:
    """Bounds on S/R where S ~ chi²(R) (Wilson–Hilferty): outside them with probability far below 1e-7."""
    c = 2.0 / (9.0 * rows)
    low = max(0.0, 1.0 - c - z * math.sqrt(c)) ** 3
    high = (1.0 - c + z * math.sqrt(c)) ** 3
    return low, high


# ---------------------------------------------------------------- the mask relation and the drop rate


def _close(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    rtol = 1e-12 if dtype == torch.float64 else 1e-6
    return (a - b).abs() <= rtol * b.abs()


def check_kept_values(out: torch.Tensor, x: torch.Tensor, p: float, *, name: str, label: str) -> torch.Tensor:
    """Every element of out is 0 or x / (1 - p); return the bool mask of dropped (zeroed) elements."""
    with pristine():
        got, x64 = out.detach().to(torch.float64), x.detach().to(torch.float64)
        bad = ~torch.isfinite(got)
        if bool(bad.any()):
            cause = (
                " At p = 1 the scale 1/(1 - p) is infinite and 0 · inf is NaN: p = 1 drops every element, so "
                "handle it before dividing (PyTorch returns zeros)."
                if p == 1
                else ""
            )
            fail(f"`{name}` returned {int(bad.sum())} NaN or infinite values on {label} (p = {p:g}).{cause}")
        dropped = got == 0
        kept = ~dropped
        if p == 1:
            check(
                not bool(kept.any()),
                f"`{name}` kept {int(kept.sum())} of {got.numel()} elements on {label} with p = 1: p is the "
                "probability of dropping, so p = 1 zeroes every element.",
            )
            return dropped
        scale = 1.0 / (1.0 - p)
        want = x64 * scale
        wrong = kept & ~_close(got, want, out.dtype)
        if bool(wrong.any()):
            i = int(wrong.flatten().nonzero()[0])
            g, w, xi = got.flatten()[i].item(), want.flatten()[i].item(), x64.flatten()[i].item()
            fail(
                f"`{name}` on {label} with p = {p:g}: {int(wrong.sum())} of {int(kept.sum())} elements it kept "
                f"do not equal input / (1 - p). For example input {xi:.6g} gave {g:.6g}; a kept element should "
                f"be {w:.6g}.{_scale_cause(got[kept] / x64[kept], p)}"
            )
    return dropped


def _scale_cause(ratio: torch.Tensor, p: float) -> str:
    """Name the scale the kept values were multiplied by, if it is a usual mistake."""
    if ratio.numel() == 0:
        return ""
    r = float(ratio.median())
    causes = [
        (1.0, "the kept values are not rescaled. Inverted dropout divides them by the keep probability 1 - p, so "
         "that the expected output equals the input and nothing needs to change at evaluation time."),
        (p, "the kept values are multiplied by p. Divide them by the probability of keeping an element, 1 - p."),
        (1.0 - p, "the kept values are multiplied by 1 - p: that is the expected value of the mask. To keep the "
         "expected output equal to the input, divide by 1 - p instead."),
        (1.0 / p if p > 0 else math.inf, "the kept values are divided by p; p is the probability of dropping. "
         "Divide by the probability of keeping, 1 - p."),
    ]  # fmt: skip
    for value, cause in causes:
        if math.isfinite(value) and abs(r - value) <= 1e-5 * max(1.0, abs(value)):
            return f"\nLikely cause: {cause}"
    return ""


def check_drop_rate(dropped: torch.Tensor, p: float, *, name: str, label: str) -> None:
    """The number of zeros is plausible for Binomial(n, p)."""
    n, k = dropped.numel(), int(dropped.sum())
    if p in (0.0, 1.0):
        check(k == (n if p == 1 else 0), f"`{name}` dropped {k} of {n} elements on {label} with p = {p:g}.")
        return
    if binomial_plausible(k, n, p):
        return
    cause = ""
    if abs(p - 0.5) > 0.05 and binomial_plausible(k, n, 1.0 - p):
        cause = (
            "\nLikely cause: the elements are dropped with probability 1 - p. p is the probability of dropping "
            "(zeroing) an element; an element is kept with probability 1 - p."
        )
    elif k in (0, n):
        cause = (
            f"\nLikely cause: {'nothing' if k == 0 else 'everything'} was dropped: is one random number shared by "
            "the whole tensor, or the mask compared the wrong way?"
        )
    elif shared_dims(dropped):
        dims = ", ".join(map(str, shared_dims(dropped)))
        cause = (
            f"\nLikely cause: the mask is the same along dim {dims}: one random number is shared by a whole row or "
            "column (a mask of the wrong shape, broadcast), so far fewer independent draws decide. Draw one "
            "random number per element, with the input's full shape."
        )
    fail(
        f"`{name}` dropped {k} of {n} elements ({k / n:.2%}) on {label} with p = {p:g}. Each element should be "
        f"dropped with probability p = {p:g}, independently: about {n * p:.0f} ± {math.sqrt(n * p * (1 - p)):.0f}; "
        f"a count this far off happens by chance with probability below {ALPHA:g}.{cause}"
    )


def shared_dims(dropped: torch.Tensor) -> list[int]:
    """The dims along which the mask never changes (a mask broadcast along them)."""
    return [
        d for d in range(dropped.dim()) if dropped.shape[d] > 1 and bool((dropped == dropped.narrow(d, 0, 1)).all())
    ]


def check_independent_elements(dropped: torch.Tensor, p: float, *, name: str, label: str) -> None:
    """Neighbours along every dim are dropped together like independent draws; rows vary like independent rows."""
    if p in (0.0, 1.0):
        return
    for dim in range(dropped.dim()):
        size = dropped.shape[dim] // 2 * 2
        if size < 2:
            continue
        even = dropped.narrow(dim, 0, size).unfold(dim, 2, 2)
        both = even[..., 0] & even[..., 1]
        m, k = both.numel(), int(both.sum())
        if not binomial_plausible(k, m, p * p):
            fail(
                f"`{name}` on {label} with p = {p:g}: of {m} pairs of neighbours along dim {dim}, {k} were both "
                f"dropped ({k / m:.2%}); two independent elements are both dropped with probability p² = "
                f"{p * p:.4g} (about {m * p * p:.0f}). The elements of the mask are not independent: is one random "
                "number shared by a whole row or column (a mask of the wrong shape, broadcast)? Draw one random "
                "number per element, with the input's full shape."
            )
    rows = dropped.shape[0] if dropped.dim() > 1 else 0
    if rows >= 20:
        per_row = dropped.reshape(rows, -1).sum(1).to(torch.float64)
        m = dropped.numel() // rows
        s = float(((per_row - m * p) ** 2).sum() / (m * p * (1 - p)))
        low, high = dispersion_bounds(rows)
        check(
            low <= s / rows <= high,
            f"`{name}` on {label} with p = {p:g}: the number of elements dropped in each of the {rows} rows "
            f"varies {'too little' if s / rows < low else 'too much'} for independent draws (dispersion index "
            f"{s / rows:.3g}, expected about 1, plausible between {low:.3g} and {high:.3g}). "
            + (
                "Dropping a fixed number of elements per row is not dropout: each element is dropped with "
                "probability p on its own, so the count per row varies."
                if s / rows < low
                else "Each element should be dropped with the same probability p, independently of the others."
            ),
        )


def check_sample(out: torch.Tensor, x: torch.Tensor, p: float, *, name: str, label: str) -> torch.Tensor:
    """Mask relation, drop rate and independence of one output; return the dropped mask."""
    dropped = check_kept_values(out, x, p, name=name, label=label)
    check_drop_rate(dropped, p, name=name, label=label)
    check_independent_elements(dropped, p, name=name, label=label)
    return dropped


def check_fresh_masks(first: torch.Tensor, second: torch.Tensor, p: float, *, name: str, label: str) -> None:
    """Two calls drop independently: the positions dropped by both are Binomial(n, p²)."""
    n, k = first.numel(), int((first & second).sum())
    check(
        not torch.equal(first, second),
        f"two calls of `{name}` ({label}) dropped exactly the same elements. Every forward pass of training must "
        "draw a new mask: do not fix a seed (torch.manual_seed) inside, nor draw the mask once and keep it.",
    )
    check(
        binomial_plausible(k, n, p * p),
        f"two calls of `{name}` ({label}) with p = {p:g} both dropped {k} of the {n} elements ({k / n:.2%}); "
        f"independent masks would share about p² = {p * p:.4g} of them ({n * p * p:.0f}). Each call must draw a "
        "new, independent mask from the random generator.",
    )
