"""Grade one submitted notebook: clean it, run the student's exercise cells in a worker, decide here.

The grader's namespace holds the source notebook's set-up and locked cells (run in this process) and, for
each exercise name, a proxy to the student's object in the worker. Grade cells (hidden tests included)
run here: a check passes or fails in this process, with PyTorch's references and ``ag`` as imported here.
"""

from __future__ import annotations

import builtins
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autograder import guard
from autograder.checks import CheckFailed
from autograder.grading import protocol, remote, review
from autograder.grading.clean import Cleaned, SourceNotebook, clean, without_hidden_tests
from autograder.grading.options import Options
from autograder.grading.status import CLEAN, Status, worst


@dataclass
class TestResult:
    test: str
    score: float
    max_score: float
    status: str
    message: str


@dataclass
class NotebookResult:
    notebook: str
    status: str  # ok, repaired, or the worst non-clean test status
    repairs: list[str] = field(default_factory=list)
    lossy: bool = False
    reason: str = ""
    tests: list[TestResult] = field(default_factory=list)
    log: str = ""
    sandbox: list[str] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)  # for the feedback: no hidden test in any of it
    review: list[str] = field(default_factory=list)  # code an instructor should read (review.scan)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def attention(self) -> bool:
        return self.lossy or bool(self.review) or any(t.status not in CLEAN for t in self.tests)


_TRANSFORMER: Any = None


def ipython_to_python(code: str) -> str:
    """Turn IPython syntax (``%magic``, ``!cmd``) into plain Python, as a kernel would (text only)."""
    global _TRANSFORMER
    try:
        if _TRANSFORMER is None:
            from IPython.core.inputtransformer2 import TransformerManager

            _TRANSFORMER = TransformerManager()
        return _TRANSFORMER.transform_cell(code)
    except Exception:  # noqa: BLE001 - leave it to the worker's compiler to report
        return code


def _feedback_cells(nb: Any, source: SourceNotebook, results: dict[str, TestResult]) -> list[dict]:
    kinds = {c.grade_id: c.kind for c in source.cells if c.grade_id}
    out = []
    for cell in nb.cells if nb is not None else []:
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id", "")
        kind = kinds.get(gid, "other")
        text = without_hidden_tests(cell.source) if kind in ("grade", "locked") else cell.source
        entry = {"type": cell.cell_type, "kind": kind, "grade_id": gid, "source": text}
        if kind == "grade" and gid in results:
            entry.update(asdict(results[gid]))
        out.append(entry)
    return out


def _all(source: SourceNotebook, status: str, reason: str, repairs: list[str], lossy: bool = True) -> NotebookResult:
    tests = [TestResult(c.grade_id, 0.0, c.points, status, reason) for c in source.grade_cells()]
    return NotebookResult(source.name, status, repairs, lossy, reason, tests)


def grade_notebook(source: SourceNotebook, raw: bytes | None, zygote: remote.Zygote, options: Options,
                   repairs: list[str] | None = None, lossy: bool = False) -> tuple[NotebookResult, Any]:  # fmt: skip
    """Grade one submission of ``source`` (``raw`` None: nothing was submitted); return the result and the
    cleaned notebook (None if it could not be read)."""
    repairs = list(repairs or [])
    if raw is None:
        return _all(source, Status.MISSING, "no notebook was submitted for it", repairs), None
    cleaned = clean(raw, source)
    repairs += cleaned.repairs
    lossy = lossy or cleaned.lossy
    if cleaned.status == Status.CORRUPT:
        return _all(source, Status.CORRUPT, cleaned.reason, repairs), None
    scratch = Path(tempfile.mkdtemp(prefix="nnlab-grade-", dir=options.scratch_root))
    spec = options.worker_spec(str(scratch), zygote.config.get("read", []), remote.worker_env())
    session = remote.Session(zygote, spec, deadline=time.monotonic() + options.deadline,
                             call_cap=options.call_cap, output_cap=options.output_cap)  # fmt: skip
    try:
        result = _grade(source, cleaned, session, options, repairs, lossy)
    finally:
        session.close()
        zygote.sweep()
        shutil.rmtree(scratch, ignore_errors=True)
    result.log = session.log()
    return result, cleaned.nb


def _grade(source: SourceNotebook, cleaned: Cleaned, session: remote.Session, options: Options,
           repairs: list[str], lossy: bool) -> NotebookResult:  # fmt: skip
    plan: list[tuple[str, str, bool]] = []
    for sc in source.cells:
        if sc.kind == "locked":
            plan.append((sc.grade_id, sc.code, True))
        elif sc.kind == "exercise":
            plan.append((sc.grade_id, ipython_to_python(cleaned.exercises.get(sc.grade_id, "")), False))
    broken: dict[str, str] = {}
    tampered: set[str] = set()  # exercise cells that changed the judge's modules in the worker (put back since)
    skipped: set[str] = set()

    def boot() -> str:
        """Start a worker and run the cells; a cell that hangs or kills the process is left out next time."""
        for _ in range(options.max_restarts + 1):
            session.start()
            restart = False
            for gid, code, trusted in plan:
                if gid in skipped:
                    continue
                err = session.execute(code, f"<{'cell' if trusted else 'exercise'} {gid}>", trusted=trusted,
                                      timeout=options.cell_timeout)  # fmt: skip
                if err is None:
                    continue
                what = "the locked cell" if trusted else "your exercise cell"
                if err["kind"] in ("timeout", "crashed"):
                    skipped.add(gid)
                    broken[gid] = f"{what} {gid} was stopped: {err['message']}"
                    restart = True
                    break
                first = err["message"].strip().splitlines()[0] if err["message"].strip() else ""
                broken[gid] = f"{what} {gid} raised {err['type']}" + (f": {first}" if first else "")
                if err["kind"] == "tampered":
                    tampered.add(gid)
            session.take_incident()
            if not restart:
                return ""
        return f"the notebook's process could not run its cells after {options.max_restarts + 1} attempts"

    names = [n for sc in source.exercises() for n in sc.names]
    tests: dict[str, TestResult] = {}
    grade_cells = source.grade_cells()
    try:
        failure = boot()
        if failure:
            return _finish(source, cleaned, _all(source, Status.CRASHED, failure, repairs, True), {}, session)
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        ns: dict[str, Any] = {"__name__": protocol.NOTEBOOK_MODULE, "__builtins__": builtins}
        fetched = session.fetch(names)
        for sc in source.cells:
            if sc.kind == "locked":
                before = dict(ns)
                try:
                    exec(compile(sc.code, f"<cell {sc.grade_id}>", "exec"), ns)  # noqa: S102 - trusted source
                except Exception as exc:  # noqa: BLE001 - the lesson or the grading machine is at fault
                    reason = f"the grader could not run the locked cell {sc.grade_id}: {type(exc).__name__}: {exc}"
                    return _finish(source, cleaned, _all(source, Status.ERROR, reason, repairs, True), {}, session)
                session.trusted.update({k: v for k, v in ns.items() if before.get(k, ns) is not v})
            elif sc.kind == "exercise":
                for name in sc.names:
                    if name in fetched:
                        ns[name] = fetched[name]
        for gc in grade_cells:
            tests[gc.grade_id] = _run_test(gc, ns, session, broken, boot, names, source, tampered)
    except remote.NotebookDeadline:
        pass
    except (remote.ProcessDied, remote.ProtocolViolation) as exc:  # between tests: the rest cannot run
        for gc in grade_cells:
            if gc.grade_id not in tests:
                tests[gc.grade_id] = TestResult(gc.grade_id, 0.0, gc.points, session.take_incident() or Status.CRASHED,
                                                f"the notebook's process failed: {exc}")  # fmt: skip
    for gc in grade_cells:
        if gc.grade_id not in tests:
            msg = f"not graded: the notebook used up its {options.deadline:g} s"
            tests[gc.grade_id] = TestResult(gc.grade_id, 0.0, gc.points, Status.DEADLINE, msg)
    result = NotebookResult(source.name, Status.OK, repairs, lossy, "", [tests[g.grade_id] for g in grade_cells])
    notes = [broken[g] for g, *_ in plan if g in broken]
    result.reason = "; ".join(notes)
    return _finish(source, cleaned, result, tests, session)


def _finish(source: SourceNotebook, cleaned: Cleaned, result: NotebookResult, tests: dict[str, TestResult],
            session: remote.Session) -> NotebookResult:  # fmt: skip
    bad = worst([t.status for t in result.tests])
    if bad:
        result.status = bad
    elif result.repairs:
        result.status = Status.REPAIRED
    result.sandbox = list(session.flags)
    result.review = review.scan({g: ipython_to_python(code) for g, code in cleaned.exercises.items()})
    result.cells = _feedback_cells(cleaned.nb, source, {t.test: t for t in result.tests})
    return result


def _run_test(gc: Any, ns: dict, session: remote.Session, broken: dict[str, str], boot: Any, names: list[str],
              source: SourceNotebook, tampered: set[str]) -> TestResult:  # fmt: skip
    """Run one grade cell here; score its points if it raises nothing (and its exercise's cell did not tamper with
    the judge's modules)."""
    if not session.alive:
        failure = boot()
        if failure:
            return TestResult(gc.grade_id, 0.0, gc.points, Status.CRASHED, failure)
        fetched = session.fetch(names)
        for sc in source.exercises():
            for name in sc.names:
                if name in fetched:
                    ns[name] = fetched[name]
                else:
                    ns.pop(name, None)
    session.take_incident()
    status, message = Status.PASSED, ""
    try:
        exec(compile(gc.code, f"<{gc.grade_id}>", "exec"), ns)  # noqa: S102 - the source's own test
    except remote.NotebookDeadline:
        raise
    except remote.CannotGradeRemotely as exc:
        status, message = Status.UNGRADABLE, f"could not grade remotely (a limit of the grader, not your code): {exc}"
    except guard.StudentTimeout:
        status, message = Status.TIMEOUT, "your code did not finish in time"
    except CheckFailed as exc:
        status, message = Status.FAILED, str(exc)
    except AssertionError as exc:
        status, message = Status.FAILED, str(exc) or "a check of this test failed"
    except Exception as exc:  # noqa: BLE001 - a NameError for a missing exercise, a crash in a test...
        status, message = Status.FAILED, f"{type(exc).__name__}: {exc}"
    except guard.ForbiddenCall as exc:
        status, message = Status.FAILED, f"a forbidden function was called: {exc}"
    incident = session.take_incident()
    if status == Status.FAILED and incident:
        status = Status(incident)
    exercise = gc.grade_id.removeprefix("test_").split("__")[0]
    if status == Status.PASSED and exercise in tampered:
        status = Status.FAILED
    if status != Status.PASSED:
        if exercise in broken:
            message = f"{broken[exercise]}\n{message}".strip()
    score = gc.points if status == Status.PASSED else 0.0
    return TestResult(gc.grade_id, score, gc.points, status, message[:4000])
