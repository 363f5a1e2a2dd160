"""What lesson 07b's backward checks share: a pair from an int or a pair, and the loose closeness a diagnosis uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _close(got: Any, expected: torch.Tensor) -> bool:
    return (
        isinstance(got, torch.Tensor)
        and got.shape == expected.shape
        and bool(torch.allclose(got.detach().double(), expected.double(), rtol=1e-3, atol=1e-4))
    )
