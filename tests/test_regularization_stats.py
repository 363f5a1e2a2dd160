"""Lesson 08b's statistics: the exact binomial tails and the bounds the dropout checks rely on."""

from __future__ import annotations

import math

import pytest
import torch

from autograder.lessons import dropout_masks
from nnlab import regularize


@pytest.mark.parametrize(("n", "q"), [(1, 0.5), (7, 0.3), (40, 0.09), (200, 0.64)])
def test_binomial_tails_match_a_direct_sum(n: int, q: float) -> None:
    pmf = [math.comb(n, j) * q**j * (1 - q) ** (n - j) for j in range(n + 1)]
    for k in range(n + 1):
        lower, upper = dropout_masks.binomial_tails(k, n, q)
        assert lower == pytest.approx(sum(pmf[: k + 1]), rel=1e-9, abs=1e-300)
        assert upper == pytest.approx(sum(pmf[k:]), rel=1e-9, abs=1e-300)


def test_binomial_plausible_rejects_at_about_alpha() -> None:
    """At alpha = 1e-3 a correct Bernoulli mask is rejected about 0.1 % of the time (seeded, 1,000 masks)."""
    g = torch.Generator().manual_seed(0)
    n, p = 5000, 0.3
    counts = [int((torch.rand(n, generator=g) < p).sum()) for _ in range(1000)]
    rejected = sum(not dropout_masks.binomial_plausible(k, n, p, alpha=1e-3) for k in counts)
    assert rejected <= 6  # Binomial(1000, <= 1e-3): P(> 6) < 1e-4
    assert not dropout_masks.binomial_plausible(int(n * 0.7), n, p)  # dropping with probability 1 - p


def test_dispersion_bounds_contain_the_mean_and_exclude_constant_rows() -> None:
    for rows in (20, 60, 200, 1000):
        low, high = dropout_masks.dispersion_bounds(rows)
        assert 0 < low < 1 < high


def test_nonzero_input_never_holds_zero() -> None:
    x = dropout_masks.nonzero_input(300, 400, seed=1)
    assert x.dtype == torch.float32 and bool((x.abs() >= 0.5).all()) and bool((x.abs() <= 2).all())
    assert 0.45 < float((x > 0).float().mean()) < 0.55


def test_experiment_network_and_modes() -> None:
    net = regularize.mlp((256, 256), lambda: torch.nn.Dropout(0.5))
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert sum(isinstance(m, torch.nn.Dropout) for m in net) == 2
    full, fast = regularize.config(fast=False), regularize.config(fast=True)
    assert full.train_size == 1000 and full.val_size == 5000 and fast.train_size < full.train_size
