"""The grading processes of a run: one ``autograder.grading.slot`` per ``--jobs``, fed a student's assignment
at a time; a slot that dies or runs past a job's time is replaced and its job recorded as ``error``."""

from __future__ import annotations

import contextlib
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
from autograder.grading import process, publish


@dataclass
class Job:
    id: int
    student: str
    assignment: str
    key: str
    notebooks: dict[str, dict] = field(default_factory=dict)


class Slot:
    """One ``autograder.grading.slot`` process."""

    def __init__(self, index: int, config: dict, out: Path) -> None:
        self.index = index
        (out / "logs").mkdir(parents=True, exist_ok=True)
        self.log = open(out / "logs" / f"slot-{index}.log", "ab")  # noqa: SIM115 - closed in stop()
        # the workers' environment (one definition: process.worker_env), plus what a grading process needs
        env = dict(process.worker_env(), PATH=os.environ.get("PATH", "/usr/bin:/bin"),
                   MPLCONFIGDIR=config["mplconfigdir"], HOME=str((out / ".cache").resolve()))  # fmt: skip
        self.proc = subprocess.Popen(
            process.module_command("autograder.grading.slot"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
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
