"""CPU settings chosen by measuring on the machine that trains, not from another machine's figures.

On 2 cores the second OpenMP thread helps a quiet machine and hurts a busy one (every parallel region waits for
the thread whose core is taken), so :func:`pick_threads` times a few real training steps with each thread count
and keeps the fastest. :func:`pick_precision` chooses float32 or bfloat16 autocast the same way (about twice as
fast on a CPU with bf16 instructions, slower on one without). :func:`competing_process` makes a machine busy on
purpose, for benchmarks.
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import torch
from torch import nn

import nnlab

#: PyTorch's own thread count (one per core), before nnlab's default of one thread or any choice changed it
DEFAULT_THREADS = nnlab.DEFAULT_THREADS


#: more threads are kept only when they measure this much faster than the fewest: a few steps are a short sample,
#: and the cost of a wrong choice is lopsided (a second thread gains at most 2x on 2 cores; on a busy machine it
#: can lose 10x, as a probe that caught a quiet moment showed: 0.028 vs 0.032 s per step, then 24 vs ~3 s per epoch)
MARGIN = 1.25


#: rounds of timing per thread count in :func:`pick_threads`, interleaved (1, 2, 1, 2 threads...); in a course run
#: on a quiet machine one round once kept 1 thread for lesson 06a, whose training then took 1.4x as long
ROUNDS = 2

#: bfloat16 autocast is kept only when a training step measures this much faster than in float32: it rounds
#: activations to 8 bits of mantissa, which is worth it for a clear gain, not for noise of a few steps
PRECISION_MARGIN = 1.2
#: what a recipe's ``precision`` may name besides "auto" (measured by :func:`pick_precision`)
PRECISIONS = ("float32", "bfloat16")


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
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable = nn.functional.cross_entropy,
    precision: str = "float32",
) -> Callable[[], None]:
    """One training step (forward, backward, Adam) on a throwaway copy of ``model``: probing trains nothing.

    The forward runs in ``precision`` (see :func:`forward`), as training would.
    """
    twin = copy.deepcopy(model).train()
    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(forward(twin, x, precision), y).backward()
        optimizer.step()

    return step


def pick_threads(step: Callable[[], None], candidates: list[int] | None = None) -> dict[int, float]:
    """Time ``step`` with each thread count, keep the fastest (set in torch); return seconds per step by count.

    A count above the smallest must be ``MARGIN`` times faster than it to be kept. The counts are timed in
    ``ROUNDS`` interleaved rounds and each keeps its best: a moment of other work (a quiet machine has them too)
    does not decide alone; a busy machine slows every round.

    An explicit ``OMP_NUM_THREADS`` is the user's choice and is kept: nothing is measured then.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return {torch.get_num_threads(): float("nan")}
    timings: dict[int, float] = {}
    for _ in range(ROUNDS):
        for n in candidates or thread_candidates():
            # a count is cut short once it has spent the best four steps' time (it cannot win then)
            seconds = time_steps(step, n, limit=4 * min(timings.values(), default=math.inf))
            timings[n] = min(timings.get(n, math.inf), seconds)
    torch.set_num_threads(min(timings, key=lambda n: timings[n] * (1 if n == min(timings) else MARGIN)))
    return timings


def autocast(precision: str, device_type: str = "cpu") -> AbstractContextManager:
    """``torch.autocast`` to bfloat16 for "bfloat16", nothing for "float32".

    Under autocast the matrix products (convolutions, linear layers) take bfloat16 inputs and return bfloat16
    outputs; the weights themselves stay float32 (each is rounded to bfloat16 as it is used), and so do their
    gradients and the optimiser's state.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    return torch.autocast(device_type, dtype=torch.bfloat16) if precision == "bfloat16" else nullcontext()


def forward(model: nn.Module, x: torch.Tensor, precision: str = "float32") -> torch.Tensor:
    """``model(x)`` with its forward in ``precision``; the output as float32, so that the loss is float32."""
    with autocast(precision, x.device.type):
        out = model(x)
    return out.float()


def pick_precision(
    step_for: Callable[[str], Callable[[], None]], device: torch.device | str = "cpu", choice: str = "auto"
) -> tuple[str, dict[str, float]]:
    """The precision to train in, and the seconds per step measured for each (empty when nothing was measured).

    ``choice`` other than "auto" is the user's and is kept. On a CPU, "auto" times ``step_for(p)()`` (a training
    step in precision ``p``) at the current thread count, twice each, interleaved, and keeps bfloat16 only when it
    is ``PRECISION_MARGIN`` times faster than float32: CPUs with bf16 instructions (AVX512-BF16, AMX) run the
    convolutions about twice as fast, others convert and compute slower. Elsewhere (CUDA) "auto" is float32.
    """
    if choice != "auto":
        autocast(choice)  # raises for a name it does not know
        return choice, {}
    if torch.device(device).type != "cpu":
        return "float32", {}
    threads, timings = torch.get_num_threads(), dict.fromkeys(PRECISIONS, math.inf)
    try:
        steps = {p: step_for(p) for p in PRECISIONS}
        for _ in range(ROUNDS):  # interleaved, as pick_threads: a busy moment does not fall on one precision only
            for p, step in steps.items():
                timings[p] = min(timings[p], time_steps(step, threads, limit=4 * timings["float32"]))
    except RuntimeError:  # an operation without a bfloat16 kernel on this CPU
        return "float32", timings
    return ("bfloat16" if timings["bfloat16"] * PRECISION_MARGIN < timings["float32"] else "float32"), timings


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
