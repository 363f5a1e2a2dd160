"""Grading throughput for the whole course: seconds per student with --jobs 1 and --jobs 2.

Synthetic students each submit the solutions of every assignment; `grade` runs on them as an instructor
would run it (fresh processes, gradebook included), once per --jobs value. The last line is JSON.
Goal: at most 20 core-seconds per student and course (a class of 100 in under 20 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.config import ROOT
from autograder.grading import sandbox
from autograder.grading.cli import sources_of

GOAL_CORE_S = 20.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--students", type=int, default=6, help="synthetic students (default 6)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time (default 1 2)")
    parser.add_argument("--assignment", "-a", action="append", help="only these assignments (default: all)")


def run(args: argparse.Namespace) -> int:
    paths = sources_of(ROOT / "solutions")
    chosen = args.assignment or list(paths)
    with tempfile.TemporaryDirectory(prefix="nnlab-bench-") as tmp:
        subs = Path(tmp) / "submitted"
        for i in range(args.students):
            for aid in chosen:
                target = subs / f"student{i:03d}" / aid
                target.mkdir(parents=True)
                for nb in paths[aid]:
                    shutil.copy(nb, target / nb.name)
        notebooks = sum(len(paths[a]) for a in chosen)
        print(f"{args.students} students x {len(chosen)} assignments ({notebooks} notebooks each); "
              f"{os.cpu_count()} CPUs; sandbox: {sandbox.capabilities()}")  # fmt: skip
        figures: dict[str, object] = {
            "students": args.students,
            "assignments": chosen,
            "notebooks_per_student": notebooks,
            "cpus": os.cpu_count(),
            "goal_core_s_per_student": GOAL_CORE_S,
        }
        full = True
        for jobs in args.jobs:
            out = Path(tmp) / f"out-j{jobs}"
            started = time.monotonic()
            cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--jobs", str(jobs),
                   "--no-progress"]  # fmt: skip
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            wall = time.monotonic() - started
            with open(out / "summary.csv", newline="") as f:
                rows = list(csv.DictReader(f))
            ok = proc.returncode == 0 and len(rows) == args.students * len(chosen)
            ok = ok and all(r["score"] == r["max_score"] for r in rows)
            full = full and ok
            per_student = wall / args.students
            core = per_student * min(jobs, os.cpu_count() or 1)
            problem = "" if ok else " -- NOT ALL FULL MARKS: " + proc.stderr[-500:]
            print(f"--jobs {jobs}: {wall:.1f} s for {args.students} students = {per_student:.1f} s per student "
                  f"({core:.1f} core-seconds per student){problem}")  # fmt: skip
            figures[f"jobs{jobs}_wall_s"] = round(wall, 2)
            figures[f"jobs{jobs}_s_per_student"] = round(per_student, 2)
            figures[f"jobs{jobs}_core_s_per_student"] = round(core, 2)
        figures["full_marks"] = full
        best = min(float(figures[f"jobs{j}_core_s_per_student"]) for j in args.jobs)  # type: ignore[arg-type]
        figures["meets_goal"] = best <= GOAL_CORE_S
        print(json.dumps(figures))
    return 0 if full else 1
