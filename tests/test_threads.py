"""nnlab's thread default: one intra-op thread on import, PyTorch's own count kept for the recipes' probes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = (
    "import json, torch; own = torch.get_num_threads(); import nnlab; from nnlab import baseline, cpu; "
    "print(json.dumps([own, torch.get_num_threads(), nnlab.DEFAULT_THREADS, cpu.DEFAULT_THREADS, "
    "baseline.DEFAULT_THREADS, cpu.thread_candidates()]))"
)


def _threads(omp: str | None) -> list:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_sets_one_thread_and_remembers_pytorchs_own_count() -> None:
    own, now, default, cpu_default, baseline_default, candidates = _threads(None)
    assert now == 1, "tiny tensors: one thread unless the user or a measurement asks for more"
    assert default == cpu_default == baseline_default == own, "the plain loop and the probes use PyTorch's count"
    assert candidates == sorted({1, own})


def test_an_explicit_omp_num_threads_is_kept() -> None:
    own, now, default, *_ = _threads("2")
    assert own == now == default == 2
