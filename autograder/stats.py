"""Statistical checks for random tensors (initialisers), graded by distribution, not by RNG stream.

Each test below rejects a correct sampler with probability below 1e-7 (z = 5.33 for
moments; Kolmogorov–Smirnov threshold 2.91/sqrt(n)), so a correct answer passes all
of them together with probability above 1 - 1e-6.
"""

from __future__ import annotations

import math

import torch

from autograder.checks import check
from autograder.reference import pristine

Z = 5.33  # two-sided normal quantile for p = 1e-7
KS = 2.91  # P(sqrt(n) * D_n > 2.91) ~ 2 exp(-2 * 2.91^2) < 1e-7


def _ks(sample: torch.Tensor, cdf) -> float:  # noqa: ANN001
    x, _ = torch.sort(sample.flatten())
    n = x.numel()
    f = cdf(x)
    upper = torch.arange(1, n + 1, dtype=torch.float64) / n - f
    lower = f - torch.arange(0, n, dtype=torch.float64) / n
    return float(torch.maximum(upper, lower).max())


def check_uniform(t: torch.Tensor, low: float, high: float, *, what: str) -> None:
    """Fail unless ``t`` looks like i.i.d. samples of U(low, high)."""
    with pristine():
        x = t.detach().to(torch.float64).flatten()
        n = x.numel()
        width = high - low
        check(bool(torch.isfinite(x).all()), f"{what} contains NaN or inf.")
        lo, hi = float(x.min()), float(x.max())
        check(
            lo >= low - 1e-6 * abs(width) and hi <= high + 1e-6 * abs(width),
            f"{what} should lie in [{low:.4g}, {high:.4g}] but ranges over [{lo:.4g}, {hi:.4g}]: check the bound.",
        )
        mean, var = float(x.mean()), float(x.var())
        m_sd = width / math.sqrt(12 * n)
        check(
            abs(mean - (low + high) / 2) <= Z * m_sd,
            f"{what} has mean {mean:.4g}; U({low:.4g}, {high:.4g}) has mean {(low + high) / 2:.4g}.",
        )
        sigma2 = width**2 / 12
        v_sd = math.sqrt(width**4 * (1 / 80 - 1 / 144) / n)
        check(
            abs(var - sigma2) <= Z * v_sd,
            f"{what} has std {math.sqrt(var):.4g}; U({low:.4g}, {high:.4g}) has std {math.sqrt(sigma2):.4g}.",
        )
        d = _ks(x, lambda v: ((v - low) / width).clamp(0, 1))
        check(
            d <= KS / math.sqrt(n),
            f"{what} does not look uniform (Kolmogorov–Smirnov distance {d:.3g} > {KS / math.sqrt(n):.3g}).",
        )


def check_normal(t: torch.Tensor, mean: float, std: float, *, what: str) -> None:
    """Fail unless ``t`` looks like i.i.d. samples of N(mean, std²)."""
    with pristine():
        x = t.detach().to(torch.float64).flatten()
        n = x.numel()
        check(bool(torch.isfinite(x).all()), f"{what} contains NaN or inf.")
        m, v = float(x.mean()), float(x.var())
        check(abs(m - mean) <= Z * std / math.sqrt(n), f"{what} has mean {m:.4g}; expected {mean:.4g}.")
        check(
            abs(v - std**2) <= Z * std**2 * math.sqrt(2 / n), f"{what} has std {math.sqrt(v):.4g}; expected {std:.4g}."
        )
        if std > 0:
            d = _ks(x, lambda u: 0.5 * (1 + torch.erf((u - mean) / (std * math.sqrt(2)))))
            check(
                d <= KS / math.sqrt(n),
                f"{what} does not look normal (Kolmogorov–Smirnov distance {d:.3g} > {KS / math.sqrt(n):.3g}).",
            )
