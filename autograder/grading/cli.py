"""Grade submissions in sandboxed workers: per-test CSV, summary, feedback, nbgrader gradebook.

    python -m autograder grade SUBMISSIONS [--assignment A] [--jobs N] [--out DIR]
    python -m autograder grade SUBMISSIONS --shard K/N --out DIR_K        (one machine of N)
    python -m autograder grade --merge DIR_1 ... DIR_N --out DIR          (then, on one machine)

SUBMISSIONS is a folder in nbgrader's layout ``<student>/<assignment>/<notebook>.ipynb`` or a zip of one.
Exit status: 0 every submission was graded cleanly; 1 something needs a look (a crash, a time-out, a
corrupt or missing notebook, a repair that may have lost work: see summary.csv); 2 a usage error.
The workflow and the threat model: autograder/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from autograder.config import ROOT
from autograder.grading import discover, lms, publish
from autograder.grading.options import DEFAULTS, Options
from autograder.grading.pool import Job, Pool

EPILOG = """\
Outputs in DIR: grades.csv (one row per student and test: score, status, message), summary.csv (per
student and assignment), feedback/<student>/<assignment>/<notebook>.html (no hidden test in it),
autograded/ (the graded notebooks, for formgrader), logs/ (what the student's code printed),
results/ (one JSON per student and assignment: a re-run reuses them, so an interrupted run resumes), and
the grades in nbgrader's gradebook (DIR/gradebook.db, or --gradebook URL / 'course' / 'none');
`cd DIR && nbgrader formgrader` shows them.
"""


def grader_version() -> str:
    """A hash of the grading code and the lesson helpers: results graded by other code are not reused.

    ``NNLAB_GRADER_VERSION`` replaces it (tests pin it while others edit the code beside them).
    """
    if os.environ.get("NNLAB_GRADER_VERSION"):
        return os.environ["NNLAB_GRADER_VERSION"]
    h = hashlib.sha256()
    for package in ("autograder", "nnlab"):
        for path in sorted((ROOT / package).rglob("*.py")):
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("submissions", nargs="?", type=Path, help="folder <student>/<assignment>/*.ipynb, or a zip")
    parser.add_argument("--assignment", "-a", action="append", help="grade only this assignment (repeatable)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="students graded in parallel (default 1)")
    parser.add_argument("--out", "-o", type=Path, default=Path("graded"), help="output folder (default ./graded)")
    parser.add_argument("--shard", help="K/N: grade only the students of shard K of N (split by a hash of the name)")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="DIR", help="merge the results of shard runs")
    parser.add_argument("--gradebook", default="", help="gradebook URL, 'course' (autograder/config.py) or 'none'")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions", help=argparse.SUPPRESS)
    parser.add_argument(
        "--deadline",
        type=float,
        default=DEFAULTS.deadline,
        help=f"seconds per notebook (default {DEFAULTS.deadline:g})",
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=DEFAULTS.cell_timeout,
        help=f"seconds per notebook cell (default {DEFAULTS.cell_timeout:g})",
    )
    parser.add_argument(
        "--call-timeout", type=float, default=DEFAULTS.call_cap, help="cap on every call into student code (s)"
    )
    parser.add_argument(
        "--memory",
        type=int,
        default=DEFAULTS.memory >> 20,
        help=f"memory cap of a notebook's process, MiB (default {DEFAULTS.memory >> 20})",
    )
    parser.add_argument("--force", action="store_true", help="regrade even what a previous run graded")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    lms.add_arguments(parser)  # --lms canvas|moodle (SUBMISSIONS is an LMS zip), --export canvas|moodle


def _fail(message: str) -> int:
    print(f"grade: {message}", file=sys.stderr)
    return 2


def sources_of(solutions: Path) -> dict[str, list[Path]]:
    out = {}
    for folder in sorted(p for p in solutions.iterdir() if p.is_dir()) if solutions.is_dir() else []:
        notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
        if notebooks:
            out[folder.name] = notebooks
    return out


def gradebook_url(arg: str, out: Path) -> str | None:
    if arg == "none":
        return None
    if arg == "course":
        return f"sqlite:///{ROOT / 'gradebook.db'}"
    return arg or f"sqlite:///{out.resolve() / 'gradebook.db'}"


def _snapshot(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / path.name
    data = path.read_bytes()
    if not copy.exists() or copy.read_bytes() != data:
        publish.atomic_write(copy, data)
    return copy


def _load_sources(paths: dict[str, list[Path]]) -> dict[str, list[Any]]:
    from autograder.grading.clean import load_source

    return {aid: [load_source(p) for p in group] for aid, group in paths.items()}


@contextlib.contextmanager
def _lock(out: Path) -> Any:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True


def run(args: argparse.Namespace) -> int:
    return lms.run(args, _run)  # an LMS zip is collected first, grades exported after (autograder/grading/lms.py)


def _run(args: argparse.Namespace) -> int:
    if args.merge:
        return merge(args)
    if args.submissions is None:
        return _fail("give a SUBMISSIONS folder or zip (or --merge DIR ...)")
    if not args.submissions.exists():
        return _fail(f"{args.submissions} does not exist")
    if args.jobs < 1:
        return _fail("--jobs must be at least 1")
    shard = None
    if args.shard:
        try:
            k, n = (int(x) for x in args.shard.split("/"))
            assert 1 <= k <= n
            shard = (k, n)
        except (ValueError, AssertionError):
            return _fail(f"--shard takes K/N with 1 <= K <= N, not {args.shard!r}")
    paths = sources_of(args.solutions)
    unknown = [a for a in args.assignment or [] if a not in paths]
    if unknown:
        return _fail(f"no assignment {', '.join(unknown)} in {args.solutions} (there are: {', '.join(paths)})")
    out: Path = args.out
    with _lock(out) as locked:
        if not locked:
            return _fail(f"another grade run is using {out}")
        return _grade(args, out, paths, shard)


def _options(args: argparse.Namespace) -> Options:
    return Options(cell_timeout=args.cell_timeout, deadline=args.deadline, call_cap=args.call_timeout,
                   memory=args.memory << 20)  # fmt: skip


def _grade(args: argparse.Namespace, out: Path, paths: dict[str, list[Path]], shard: tuple[int, int] | None) -> int:
    root = args.submissions
    try:
        if root.is_file():
            digest = hashlib.sha256(root.read_bytes()).hexdigest()[:16]
            root = discover.extract_zip(root, out / ".submissions" / digest)
        root = discover.find_root(root, set(paths))
        names = {aid: [p.name for p in group] for aid, group in paths.items()}
        subs, warnings = discover.discover(root, names, args.assignment)
    except (discover.SubmissionError, OSError) as exc:
        return _fail(str(exc))
    for w in warnings:
        print(f"grade: warning: {w}", file=sys.stderr)
    if shard:
        subs = [s for s in subs if discover.shard_of(s.student, shard[1]) == shard[0]]
    # A snapshot of the sources: the whole run (slots, gradebook) sees the same notebooks.
    used = sorted({s.assignment for s in subs})
    snapshot = out / ".sources"
    paths = {a: [_snapshot(p, snapshot / a) for p in paths[a]] for a in used}
    options = _options(args)
    version = grader_version() + json.dumps(asdict(options), sort_keys=True)
    salts = {aid: version + "".join(hashlib.sha256(p.read_bytes()).hexdigest() for p in group)
             for aid, group in paths.items()}  # fmt: skip
    jobs, done = [], []
    for i, sub in enumerate(subs):
        job = Job(
            i,
            sub.student,
            sub.assignment,
            sub.key(salts[sub.assignment]),
            {n: {"path": str(m.path) if m.path else None, "repair": m.repair} for n, m in sub.notebooks.items()},
        )
        cached = publish.load(out / "results" / sub.assignment / f"{sub.student}.json")
        if cached and cached.get("key") == job.key and not args.force:
            done.append(cached)
        else:
            jobs.append(job)
    started = time.monotonic()
    if jobs:
        config = {"options": asdict(options), "out": str(out.resolve()),
                  "sources": {aid: [str(p) for p in paths[aid]] for aid in {j.assignment for j in jobs}},
                  "mplconfigdir": str((out / ".cache" / "matplotlib").resolve())}  # fmt: skip
        pool = Pool(min(args.jobs, len(jobs)), config, out, options)
        try:
            done += pool.run(jobs, progress=not args.no_progress)
        except KeyboardInterrupt:
            pool.stop()
            print("grade: interrupted; run the same command again to resume", file=sys.stderr)
            return 130
    elapsed = time.monotonic() - started
    done.sort(key=lambda r: (r["student"], r["assignment"]))
    sources = _load_sources({a: p for a, p in paths.items() if a in {r["assignment"] for r in done}})
    publish.publish(out, done, sources, gradebook_url(args.gradebook, out), args.solutions)
    needs = [f"{r['student']}/{r['assignment']}" for r in done if publish.attention(r)]
    print(
        f"graded {len(done)} submission(s) of {len({r['student'] for r in done})} student(s) "
        f"({len(jobs)} now, {len(done) - len(jobs)} reused) in {elapsed:.1f} s -> {out}/grades.csv; "
        f"{len(needs)} need a look" + (f": {', '.join(needs[:10])}" if needs else ""),
        file=sys.stderr,
    )
    return 1 if needs or warnings else 0


def merge(args: argparse.Namespace) -> int:
    """Union the results of shard runs into ``--out`` and publish them once (one gradebook writer)."""
    out: Path = args.out
    paths = sources_of(args.solutions)
    with _lock(out) as locked:
        if not locked:
            return _fail(f"another grade run is using {out}")
        seen: dict[tuple[str, str], dict] = {}
        for folder in args.merge:
            if not (folder / "results").is_dir():
                return _fail(f"{folder} holds no results/ of a grade run")
            for path in sorted((folder / "results").glob("*/*.json")):
                result = publish.load(path)
                if result is None:
                    return _fail(f"{path} is not a result file")
                key = (result["student"], result["assignment"])
                if key in seen and seen[key] != result:
                    return _fail(f"{key[0]}/{key[1]} was graded differently in two of the folders")
                if key not in seen:
                    publish.copy_outputs(folder, out, result)
                seen[key] = result
        results = [seen[k] for k in sorted(seen)]
        used = {r["assignment"] for r in results}
        sources = _load_sources({a: p for a, p in paths.items() if a in used})
        publish.publish(out, results, sources, gradebook_url(args.gradebook, out), args.solutions)
    needs = [f"{r['student']}/{r['assignment']}" for r in results if publish.attention(r)]
    print(f"merged {len(results)} submission(s) from {len(args.merge)} folder(s) -> {out}/grades.csv; "
          f"{len(needs)} need a look", file=sys.stderr)  # fmt: skip
    return 1 if needs else 0


# ---------------------------------------------------------------- the pool of grading processes
