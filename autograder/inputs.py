"""Inputs in three tiers: a small visible example, seeded random tensors, and edge cases."""

from __future__ import annotations

import torch

SEED = 1234


def generator(seed: int = SEED) -> torch.Generator:
    """A CPU generator seeded for reproducible test inputs."""
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = SEED, scale: float = 1.0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Normal(0, scale²) samples from a seeded generator."""
    return (torch.randn(*shape, generator=generator(seed), dtype=torch.float64) * scale).to(dtype)


def uniform(
    *shape: int, low: float = -1.0, high: float = 1.0, seed: int = SEED, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Uniform(low, high) samples from a seeded generator."""
    u = torch.rand(*shape, generator=generator(seed), dtype=torch.float64)
    return (low + (high - low) * u).to(dtype)


def example(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The small visible example every elementwise exercise shows first: -4, -3, ..., 4."""
    return torch.linspace(-4, 4, 9, dtype=dtype)


def edge_values(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """0, ±tiny, ±1, moderate, near float32 exp overflow (±88.7), just past it, and ±1e4."""
    values = [0.0, -0.0, 1e-7, -1e-7, 1.0, -1.0, 20.0, -20.0, 88.7, -88.7, 89.5, -89.5, 1e4, -1e4]
    return torch.tensor(values, dtype=dtype)


def away_from(x: torch.Tensor, points: tuple[float, ...] = (0.0,), margin: float = 1e-3) -> torch.Tensor:
    """Move values within ``margin`` of a kink (e.g. ReLU's 0) to ``point ± margin``."""
    x = x.clone()
    for p in points:
        near = (x - p).abs() < margin
        x[near] = p + margin * torch.where(x[near] >= p, 1.0, -1.0).to(x.dtype)
    return x
