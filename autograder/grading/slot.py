"""A grading process (``python -I -m autograder.grading.slot``): grades the jobs its parent sends, one at a time.

Protocol on stdin/stdout, one JSON object per line: the parent sends the configuration, the slot answers
``{"ready": true}``; then for each job (a student's assignment) the slot writes the feedback, the
autograded notebooks, the logs and, last and atomically, ``results/<assignment>/<student>.json``, and
answers ``{"done": id}``. Anything the graded code prints goes to the workers' pipes, never here.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from autograder.grading import sandbox

#: torch._dynamo: an optimizer's first step imports it lazily (seconds on a loaded machine, and a time limit that
#: interrupts the import leaves it half-initialised); imported here, it costs no student's time limit.
ALWAYS = ["torch", "torch._dynamo", "numpy", "matplotlib", "matplotlib.pyplot", "autograder", "nnlab"]


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write a file so that a reader sees the old content or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def preimports(sources: list[Any]) -> list[str]:
    """Modules the lessons' locked cells import (and always torch, numpy, matplotlib, autograder, nnlab)."""
    names = list(ALWAYS)
    for src in sources:
        for cell in src.cells:
            if cell.kind != "locked":
                continue
            try:
                tree = ast.parse(cell.code)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names += [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.append(node.module)
                    names += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(names))


def _import_all(names: list[str]) -> list[str]:
    ok = []
    for name in names:
        try:
            importlib.import_module(name)
            ok.append(name)
        except Exception:  # noqa: BLE001 - "from nnlab import data" names an attribute, not always a module
            pass
    return ok


def output_notebook(nb: Any, result: dict) -> Any:
    """The cleaned notebook with each grade cell's verdict as its output (for formgrader and instructors)."""
    import nbformat

    tests = {t["test"]: t for t in result["tests"]}
    for cell in nb.cells:
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id", "")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            t = tests.get(gid)
            if t and t["status"] != "passed":
                cell.outputs = [nbformat.v4.new_output("error", ename=t["status"], evalue=t["message"], traceback=[])]
    return nb


def grade_job(job: dict, sources: list[Any], zygote: Any, options: Any, out: Path) -> None:
    import nbformat

    from autograder.grading import feedback, grader

    student, assignment = job["student"], job["assignment"]
    notebooks = []
    for src in sources:
        match = job["notebooks"].get(src.name) or {"path": None, "repair": ""}
        raw = Path(match["path"]).read_bytes() if match.get("path") else None
        res, nb = grader.grade_notebook(src, raw, zygote, options, [match["repair"]] if match.get("repair") else [])
        data = res.to_json()
        cells = data.pop("cells")
        log = data.pop("log")
        stem = src.name.removesuffix(".ipynb")
        atomic_write(out / "feedback" / student / assignment / f"{stem}.html",
                     feedback.render(student, assignment, data, cells))  # fmt: skip
        if nb is not None:
            nb = output_notebook(nb, data)
            atomic_write(out / "autograded" / student / assignment / src.name, nbformat.writes(nb))
        atomic_write(out / "logs" / assignment / student / f"{stem}.txt", log)
        notebooks.append(data)
    result = {"key": job["key"], "student": student, "assignment": assignment, "notebooks": notebooks}
    atomic_write(out / "results" / assignment / f"{student}.json", json.dumps(result, indent=1, sort_keys=True))


def main() -> None:
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sandbox.die_with_parent()
    config = json.loads(sys.stdin.readline())
    from autograder.grading import process

    # The zygote imports PyTorch while this process imports the grader and the lessons' modules.
    zygote = process.Zygote({}, dict(process.worker_env(), MPLCONFIGDIR=config["mplconfigdir"]), log=sys.stderr)
    zygote.launch()
    import torch

    from autograder.grading import grader, remote
    from autograder.grading.clean import load_source

    torch.set_num_threads(1)
    options = grader.Options(**config["options"])
    sources = {aid: [load_source(Path(p)) for p in paths] for aid, paths in config["sources"].items()}
    pre = _import_all(preimports([s for group in sources.values() for s in group]))
    remote.install_guard_hooks()
    zygote.configure({"preimport": pre, "read": remote.readable_paths(pre)})
    out = Path(config["out"])
    protocol_out.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    for line in sys.stdin:
        job = json.loads(line)
        try:
            grade_job(job, sources[job["assignment"]], zygote, options, out)
            protocol_out.write(json.dumps({"done": job["id"]}) + "\n")
        except Exception:  # noqa: BLE001 - the parent records the error for this student and goes on
            protocol_out.write(json.dumps({"done": job["id"], "error": traceback.format_exc()[-4000:]}) + "\n")
    zygote.close()


if __name__ == "__main__":
    main()
