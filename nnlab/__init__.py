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

#: PyTorch's own intra-op thread count (one per core), read before the default below changes it
DEFAULT_THREADS: int = torch.get_num_threads()

# One intra-op thread unless OMP_NUM_THREADS says otherwise. Most of the course computes on tiny tensors, where a
# second thread only adds a rendezvous per operation, and on a busy machine each rendezvous waits for a core: beside
# other work, three 150-step trainings of a 2-8-2 network on 400 points took 0.06 s with one thread and 5.7 to 24 s
# with two. The MNIST recipes measure whether more threads pay (nnlab.cpu.pick_threads) and set them.
if not os.environ.get("OMP_NUM_THREADS"):
    torch.set_num_threads(1)


def device() -> torch.device:
    """CUDA when there is a GPU, otherwise the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch for reproducible numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


__all__ = ["DEFAULT_THREADS", "FAST", "device", "set_seed"]
