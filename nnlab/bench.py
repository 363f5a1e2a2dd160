"""Benchmarks that print figures (never timed tests).

    python -m nnlab.bench course   # execute every solution notebook in a fresh kernel, full mode
    python -m nnlab.bench mlp      # train lesson 06's MLP on MNIST (nnlab.mlp.benchmark)
    python -m nnlab.bench cnn      # train lesson 07's CNN on MNIST (nnlab.cnn.benchmark)

Each prints progress, then a last line of JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Training benchmarks live beside the lesson helpers they measure; each module defines benchmark(fast).
TRAINING = {"mlp": "nnlab.mlp", "cnn": "nnlab.cnn"}


def training_result(
    history: dict[str, list[float]], *, epochs: int, device: object, fast: bool, **extra: object
) -> dict:
    """The JSON line every training benchmark ends with (from ``nnlab.train.fit``'s history)."""
    import torch

    return {
        "test_accuracy": round(history["test_acc"][-1], 4),
        "train_seconds": round(sum(history["seconds"]), 2),
        "epochs": epochs,
        "device": str(device),
        "seconds_per_epoch": [round(s, 3) for s in history["seconds"]],
        "mode": "fast" if fast else "full",
        "threads": torch.get_num_threads(),
        **extra,
    }


def run_notebook(path: Path, *, fast: bool, timeout: int = 600) -> float:
    """Execute a notebook top to bottom in a fresh kernel (in its folder); return wall seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["NNLAB_FAST"] = "1" if fast else "0"
    os.environ.setdefault("MPLBACKEND", "Agg")
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return time.perf_counter() - start


def course(fast: bool = False, only: list[str] | None = None) -> dict:
    """Seconds per solution notebook and in total."""
    paths = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if only:
        paths = [p for p in paths if any(o in str(p) for o in only)]
    seconds = {}
    for path in paths:
        key = f"{path.parent.name}/{path.name}"
        seconds[key] = round(run_notebook(path, fast=fast), 2)
        print(f"{key:50s} {seconds[key]:7.2f} s", flush=True)
    total = round(sum(seconds.values()), 2)
    print(f"{'total':50s} {total:7.2f} s", flush=True)
    return {"total_seconds": total, "mode": "fast" if fast else "full", "notebooks": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnlab.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["course", *TRAINING])
    parser.add_argument("--fast", action="store_true", help="fast mode (NNLAB_FAST=1), as CI and grading run")
    parser.add_argument("--only", nargs="*", help="course: only notebooks whose path contains one of these")
    args = parser.parse_args(argv)
    if args.what == "course":
        result = course(fast=args.fast, only=args.only)
    else:
        result = importlib.import_module(TRAINING[args.what]).benchmark(fast=args.fast)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
