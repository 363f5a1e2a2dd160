"""Show how many exercises pass in each lesson of the student's notebooks/ (visible tests only)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.config import ROOT


def check_in_subprocess(path: Path, timeout: float = 300) -> list[dict] | str:
    """Run ``python -m autograder check --json`` on one notebook in its own process (student code stays there)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "autograder", "check", "--json", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"gave up after {timeout:g} s"
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return (done.stderr.strip().splitlines() or ["could not be checked"])[-1]


def bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def progress(folder: Path, jobs: int = 2) -> list[tuple[str, int, int, str]]:
    """Per notebook: (name, exercises passing, exercises, note)."""
    paths = sorted(folder.glob("*/*.ipynb"))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(check_in_subprocess, paths))
    rows = []
    for path, outcome in zip(paths, outcomes, strict=True):
        name = f"{path.parent.name}/{path.stem}"
        if isinstance(outcome, str):
            rows.append((name, 0, 0, outcome))
        else:
            rows.append((name, sum(r["status"] == "passed" for r in outcome), len(outcome), ""))
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "notebooks", help="default: notebooks/")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks checked at once")


def run(args: argparse.Namespace) -> int:
    rows = progress(args.folder, args.jobs)
    if not rows:
        print(f"no notebooks under {args.folder}")
        return 2
    lessons: dict[str, list[int]] = {}
    for name, done, total, note in rows:
        print(f"{name:40s} {bar(done, total)} {done:2d}/{total:<2d} {note}")
        tally = lessons.setdefault(name.split("/")[0], [0, 0])
        tally[0] += done
        tally[1] += total
    print()
    for lesson, (done, total) in lessons.items():
        print(f"{lesson:40s} {bar(done, total)} {done:2d}/{total:<2d} exercises pass")
    done, total = sum(v[0] for v in lessons.values()), sum(v[1] for v in lessons.values())
    print(f"{'course':40s} {bar(done, total)} {done:2d}/{total:<2d}")
    return 0
