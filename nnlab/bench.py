"""Benchmarks that print figures (never timed tests).

    python -m nnlab.bench course   # every solution notebook in a fresh kernel, full mode, against its floor
    python -m nnlab.bench mlp      # train lesson 06's MLP on MNIST (nnlab.mlp.benchmark)
    python -m nnlab.bench cnn      # train lesson 07's CNN on MNIST (nnlab.cnn.benchmark)

    --baseline  also time one epoch of the plain loop (nnlab.baseline) in the same run and print the ratio
                (with --dataset fashion: the residual CNN's epoch)
    --busy      run everything beside one CPU-bound process (a busy machine, on purpose)
    python -m nnlab.bench cnn --dataset fashion   # lesson 07b: MLP vs CNN vs residual CNN on Fashion-MNIST

Each prints progress, then a last line of JSON. Machines differ 2-3x in speed from one session to the next:
compare ratios measured in one run, with the seconds beside them.
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
#: ``cnn --dataset fashion``: lesson 07b's three models on Fashion-MNIST
FASHION = "nnlab.resnet"


def training_result(
    history: dict[str, list[float]], *, test_accuracy: float, epochs: int, device: object, fast: bool, **extra: object
) -> dict:
    """The JSON line every training benchmark ends with.

    ``history`` is ``nnlab.train.fit``'s with ``held_out="val"`` (the validation part, each epoch);
    ``test_accuracy`` is the one measurement on the test set, after training.
    """
    import torch

    return {
        "test_accuracy": round(test_accuracy, 4),
        "validation_accuracy": round(history["val_acc"][-1], 4),
        "train_seconds": round(sum(history["seconds"]), 2),
        "epochs": epochs,
        "device": str(device),
        "seconds_per_epoch": [round(s, 3) for s in history["seconds"]],
        "mode": "fast" if fast else "full",
        "threads": torch.get_num_threads(),
        **extra,
    }


def run_notebook(path: Path, *, fast: bool, timeout: int = 600, setup_only: bool = False) -> float:
    """Execute a notebook top to bottom in a fresh kernel (in its folder); return wall seconds.

    ``setup_only`` runs the set-up cell alone (the first code cell): the notebook's floor, what starting a kernel
    and importing the course costs on this machine now.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if setup_only:
        nb.cells = [next(c for c in nb.cells if c.cell_type == "code")]
    # as a student runs it: the kernel's own inline backend, nothing set for the benchmark but the mode
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["NNLAB_FAST"] = "1" if fast else "0"
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute(env=env)
    return time.perf_counter() - start


def course(fast: bool = False, only: list[str] | None = None) -> dict:
    """Seconds per solution notebook and in total, each beside its floor (its set-up cell alone) from this run."""
    paths = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if only:
        paths = [p for p in paths if any(o in str(p) for o in only)]
    seconds, floors = {}, {}
    print(f"{'notebook':50s} {'seconds':>8s} {'floor':>7s} {'ratio':>6s}", flush=True)
    for path in paths:
        key = f"{path.parent.name}/{path.name}"
        floors[key] = round(run_notebook(path, fast=fast, setup_only=True), 2)
        seconds[key] = round(run_notebook(path, fast=fast), 2)
        print(f"{key:50s} {seconds[key]:8.2f} {floors[key]:7.2f} {seconds[key] / floors[key]:5.1f}x", flush=True)
    total, floor = round(sum(seconds.values()), 2), round(sum(floors.values()), 2)
    print(f"{'total':50s} {total:8.2f} {floor:7.2f} {total / floor:5.1f}x", flush=True)
    return {
        "total_seconds": total,
        "floor_seconds": floor,
        "ratio_to_floor": round(total / floor, 2),
        "mode": "fast" if fast else "full",
        "notebooks": seconds,
        "floors": floors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnlab.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["course", *TRAINING])
    parser.add_argument("--fast", action="store_true", help="fast mode (NNLAB_FAST=1), as CI and grading run")
    parser.add_argument("--only", nargs="*", help="course: only notebooks whose path contains one of these")
    parser.add_argument("--baseline", action="store_true", help="mlp/cnn: compare with the plain loop, same run")
    parser.add_argument("--busy", action="store_true", help="beside one competing CPU-bound process")
    parser.add_argument(
        "--dataset", choices=["mnist", "fashion"], default="mnist",
        help="cnn: 'fashion' trains lesson 07b's models on Fashion-MNIST (nnlab.resnet)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    from contextlib import nullcontext

    from nnlab import cpu

    with cpu.competing_process() if args.busy else nullcontext():
        if args.what == "course":
            result = course(fast=args.fast, only=args.only)
        elif args.baseline:
            result = compare_with_baseline(args.what, fast=args.fast, dataset=args.dataset)
        elif args.what == "cnn" and args.dataset == "fashion":
            result = importlib.import_module(FASHION).benchmark(fast=args.fast)
        else:
            result = importlib.import_module(TRAINING[args.what]).benchmark(fast=args.fast)
    result["machine"] = "busy: one competing CPU-bound process" if args.busy else "as found"
    print(json.dumps(result))
    return 0


def compare_with_baseline(what: str, *, fast: bool, dataset: str = "mnist") -> dict:
    """One epoch of the plain loop, then the course's recipe, in this process; their ratio per epoch.

    With ``dataset="fashion"`` (``cnn`` only) the model is lesson 07b's residual CNN on Fashion-MNIST.
    """
    from nnlab import baseline

    module = importlib.import_module(FASHION if what == "cnn" and dataset == "fashion" else TRAINING[what])
    model, data = module.plain_setup(fast)
    plain = baseline.plain_epoch(model, data.x_train, data.y_train)
    plain_acc = baseline.plain_accuracy(model, data.x_test, data.y_test)
    print(
        f"plain loop (DataLoader, batch 64, NCHW, {baseline.DEFAULT_THREADS} threads, Adam 1e-3): {plain:.2f} s "
        f"for one epoch of {len(data.x_train)} images, test accuracy {plain_acc:.4f}",
        flush=True,
    )
    result = module.benchmark(fast=fast)
    result["baseline"] = baseline.comparison(plain, plain_acc, result)
    b = result["baseline"]
    label = "residual CNN on Fashion-MNIST" if module.__name__ == FASHION else what
    print(
        f"{label}: course {b['course_seconds_per_epoch']:.2f} s/epoch vs plain loop "
        f"{b['plain_seconds_per_epoch']:.2f} s/epoch: ratio {b['ratio']:.2f}; "
        f"test accuracy {result['test_accuracy']:.4f}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
