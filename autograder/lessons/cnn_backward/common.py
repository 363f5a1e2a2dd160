"""What lesson 07b's backward checks share: a pair from an int or a pair, and the loose closeness a diagnosis uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from autograder.checks import Case


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _close(got: Any, expected: torch.Tensor) -> bool:
    return (
        isinstance(got, torch.Tensor)
        and got.shape == expected.shape
        and bool(torch.allclose(got.detach().double(), expected.double(), rtol=1e-3, atol=1e-4))
    )


def in_channels_last(
    case: Case, note: str = "in channels_last memory format, as the lesson's training has them"
) -> Case:
    """The case with its 4-D tensors stored channels_last ((N, H, W, C) in memory; the same values and shapes)."""

    def convert(t: Any) -> Any:
        if isinstance(t, torch.Tensor) and t.dim() == 4:
            return t.contiguous(memory_format=torch.channels_last)
        return t

    return Case(f"{case.label}, {note}", tuple(map(convert, case.args)), case.kwargs)
