"""nnlab: the lesson helpers of the course (data, plots, training, benchmarks).

Exercises live in the notebooks; this package only holds what every lesson
shares, so that no helper is pasted between notebooks.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

#: Fast mode (``NNLAB_FAST=1``): grading and CI run small subsets and few epochs.
FAST: bool = os.environ.get("NNLAB_FAST", "0") not in ("", "0", "false", "False")


def device() -> torch.device:
    """CUDA when there is a GPU, otherwise the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch for reproducible numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


__all__ = ["FAST", "device", "set_seed"]
