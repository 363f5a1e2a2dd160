"""CPU settings chosen by measuring on the machine that trains, not from another machine's figures.

On 2 cores the second OpenMP thread helps a quiet machine and hurts a busy one (every parallel region waits for
the thread whose core is taken), so :func:`pick_threads` times a few real training steps with each thread count
and keeps the fastest. :func:`competing_process` makes a machine busy on purpose, for benchmarks.
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

import nnlab

#: PyTorch's own thread count (one per core), before nnlab's default of one thread or any choice changed it
DEFAULT_THREADS = nnlab.DEFAULT_THREADS


#: more threads are kept only when they measure this much faster than the fewest: a few steps are a short sample,
#: and the cost of a wrong choice is lopsided (a second thread gains at most 2x on 2 cores; on a busy machine it
#: can lose 10x, as a probe that caught a quiet moment showed: 0.028 vs 0.032 s per step, then 24 vs ~3 s per epoch)
MARGIN = 1.25


def thread_candidates() -> list[int]:
    """1 and PyTorch's default (one thread per core); a single candidate on a one-core machine."""
    return sorted({1, DEFAULT_THREADS})


def time_steps(step: Callable[[], None], threads: int, steps: int = 4, limit: float = math.inf) -> float:
    """Seconds per call of ``step`` with ``threads`` intra-op threads (one warm-up call first).

    Stops early once the warm-up or the timed calls have taken more than ``limit`` seconds (slower than a count
    already measured, on a busy machine many times so): the mean so far is then returned, at least ``limit / steps``.
    """
    torch.set_num_threads(threads)
    start = time.perf_counter()
    step()
    if time.perf_counter() - start > limit:
        return time.perf_counter() - start
    start = time.perf_counter()
    for done in range(1, steps + 1):
        step()
        if time.perf_counter() - start > limit:
            return (time.perf_counter() - start) / done
    return (time.perf_counter() - start) / steps


def probe_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable = nn.functional.cross_entropy
) -> Callable[[], None]:
    """One training step (forward, backward, Adam) on a throwaway copy of ``model``: probing trains nothing."""
    twin = copy.deepcopy(model).train()
    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(twin(x), y).backward()
        optimizer.step()

    return step


def pick_threads(step: Callable[[], None], candidates: list[int] | None = None) -> dict[int, float]:
    """Time ``step`` with each thread count, keep the fastest (set in torch); return seconds per step by count.

    A count above the smallest must be ``MARGIN`` times faster than it to be kept.

    An explicit ``OMP_NUM_THREADS`` is the user's choice and is kept: nothing is measured then.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return {torch.get_num_threads(): float("nan")}
    timings: dict[int, float] = {}
    for n in candidates or thread_candidates():
        # a count is cut short once it has spent the best four steps' time (it cannot win then)
        timings[n] = time_steps(step, n, limit=4 * min(timings.values(), default=math.inf))
    torch.set_num_threads(min(timings, key=lambda n: timings[n] * (1 if n == min(timings) else MARGIN)))
    return timings


@contextmanager
def one_thread() -> Iterator[None]:
    """PyTorch's intra-op threads set to 1 inside the block, the count before it restored after.

    For tiny problems (a few hundred points, layers of a few dozen units) no operation is big enough to share:
    the second thread only adds a barrier per operation, and on a busy 2-core machine each barrier waits for a
    core. Measured with a competing process (load 3): 3 x 300 full-batch steps of a 2-32-32-3 MLP on 450 points
    took 0.3-0.9 s with 1 thread and 23-33 s with 2.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def competing_process() -> Iterator[subprocess.Popen]:
    """A CPU-bound process (``while True: pass``) for as long as the block runs: a busy machine, on purpose."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield busy
    finally:
        busy.kill()
        busy.wait()
