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
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder.config import ROOT
from autograder.grading import discover, lms, publish

EPILOG = """\
Outputs in DIR: grades.csv (one row per student and test: score, status, message), summary.csv (per
student and assignment), feedback/<student>/<assignment>/<notebook>.html (no hidden test in it),
autograded/ (the graded notebooks, for formgrader), logs/ (what the student's code printed),
results/ (one JSON per student and assignment: a re-run reuses them, so an interrupted run resumes), and
the grades in nbgrader's gradebook (DIR/gradebook.db, or --gradebook URL / 'course' / 'none');
`cd DIR && nbgrader formgrader` shows them.
"""


@dataclass
class Job:
    id: int
    student: str
    assignment: str
    key: str
    notebooks: dict[str, dict] = field(default_factory=dict)


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
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds per notebook (default 600)")
    parser.add_argument("--cell-timeout", type=float, default=120.0, help="seconds per notebook cell (default 120)")
    parser.add_argument("--call-timeout", type=float, default=None, help="cap on every call into student code (s)")
    parser.add_argument("--memory", type=int, default=4096, help="memory cap of a notebook's process, MiB")
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


def _options(args: argparse.Namespace) -> Any:
    from autograder.grading.grader import Options

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


class Slot:
    """One ``autograder.grading.slot`` process."""

    def __init__(self, index: int, config: dict, out: Path) -> None:
        self.index = index
        (out / "logs").mkdir(parents=True, exist_ok=True)
        self.log = open(out / "logs" / f"slot-{index}.log", "ab")  # noqa: SIM115 - closed in stop()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "NNLAB_FAST": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": config["mplconfigdir"],
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str((out / ".cache").resolve()),
            "LANG": "C.UTF-8",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.grading.slot"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, env=env, cwd=str(ROOT), start_new_session=True,
        )  # fmt: skip
        self.proc.stdin.write((json.dumps(config) + "\n").encode())
        self.proc.stdin.flush()
        self.ready = False
        self.job: Job | None = None
        self.since = 0.0
        self.buffer = b""

    def send(self, job: Job) -> None:
        self.job, self.since = job, time.monotonic()
        self.proc.stdin.write((json.dumps(asdict(job)) + "\n").encode())
        self.proc.stdin.flush()

    def lines(self) -> list[dict] | None:
        """Complete lines available now; None when the process has ended."""
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return None
        self.buffer += data
        out = []
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line))
        return out

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(10)
        self.log.close()


class Pool:
    """``size`` grading processes; the parent hands out jobs and is the only writer of the outputs it publishes."""

    def __init__(self, size: int, config: dict, out: Path, options: Any) -> None:
        self.size, self.config, self.out, self.options = size, config, out, options
        self.slots: list[Slot] = []
        self.start_failures = 0

    def stop(self) -> None:
        for slot in self.slots:
            slot.stop()
        self.slots = []

    def _failed(self, job: Job, why: str) -> dict:
        """A result for a job whose grading process died: every test 0, status error, the reason."""
        from autograder.grading.clean import load_source

        notebooks = []
        for name in sorted(job.notebooks):
            src = load_source(Path(self.config["sources"][job.assignment][0]).parent / name)
            tests = [{"test": c.grade_id, "score": 0.0, "max_score": c.points, "status": "error", "message": why}
                     for c in src.grade_cells()]  # fmt: skip
            notebooks.append({"notebook": name, "status": "error", "repairs": [], "lossy": True, "reason": why,
                              "tests": tests, "sandbox": []})  # fmt: skip
        result = {"key": job.key, "student": job.student, "assignment": job.assignment, "notebooks": notebooks}
        publish.copy_outputs(self.out, self.out, result)
        return result

    def _limit(self, job: Job) -> float:
        return self.options.deadline * max(len(job.notebooks), 1) + 300.0

    def run(self, jobs: list[Job], progress: bool = True) -> list[dict]:
        from tqdm import tqdm

        queue = list(jobs)
        results: list[dict] = []
        bar = tqdm(total=len(jobs), unit="submission", desc="grading", disable=not progress, file=sys.stderr)
        self.slots = [Slot(i, self.config, self.out) for i in range(self.size)]
        try:
            while len(results) < len(jobs):
                for slot in self.slots:
                    if slot.ready and slot.job is None and queue:
                        slot.send(queue.pop(0))
                fds = {slot.proc.stdout.fileno(): slot for slot in self.slots}
                ready, _, _ = select.select(list(fds), [], [], 1.0)
                for fd in ready:
                    slot = fds[fd]
                    lines = slot.lines()
                    if lines is None:
                        if not slot.ready:
                            self.start_failures += 1
                            if self.start_failures > 2 * self.size:
                                why = f"the grading processes could not start (see {self.out}/logs/slot-*.log)"
                                pending = [s.job for s in self.slots if s.job] + queue
                                results += [self._failed(job, why) for job in pending]
                                bar.update(len(pending))
                                return results
                        bar.update(1 if slot.job else 0)
                        results += self._replace(slot, queue, "the grading process died")
                        continue
                    for msg in lines:
                        if msg.get("ready"):
                            slot.ready = True
                        elif "done" in msg and slot.job is not None:
                            job, slot.job = slot.job, None
                            path = self.out / "results" / job.assignment / f"{job.student}.json"
                            result = publish.load(path) if not msg.get("error") else None
                            if result is None or result.get("key") != job.key:
                                (self.out / "logs").mkdir(exist_ok=True)
                                last = (msg.get("error") or "no result").strip().splitlines()[-1]
                                result = self._failed(job, f"the grader failed on this submission: {last}")
                            results.append(result)
                            bar.update(1)
                now = time.monotonic()
                for slot in list(self.slots):
                    if slot.job is not None and now - slot.since > self._limit(slot.job):
                        results += self._replace(slot, queue, "grading took longer than its limit")
                        bar.update(1)
        finally:
            bar.close()
            self.stop()
        return results

    def _replace(self, slot: Slot, queue: list[Job], why: str) -> list[dict]:
        """A slot died or hung: record its job as an error, start a fresh slot, go on."""
        job = slot.job
        slot.stop()
        index = self.slots.index(slot)
        self.slots[index] = Slot(slot.index, self.config, self.out)
        if job is None:
            return []
        return [self._failed(job, f"{why} while grading this submission (see logs/slot-{slot.index}.log)")]
