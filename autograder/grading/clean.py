"""Clean a submitted notebook against its source before anything of it runs.

The source notebook (``solutions/<assignment>/<name>.ipynb``) is the authority: its locked and grade
cells are used as they are, whatever the submission did to its copies (deleted, edited, duplicated,
metadata stripped, turned into markdown); only the student's exercise cells (and written answers) are
taken from the submission. Every repair is described in words, for the CSV and the feedback.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.grading.status import Status
from autograder.notebook import cell_kind, strip_markers

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
HIDDEN = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*$.*?^[ \t]*### END HIDDEN TESTS[ \t]*$\n?", re.MULTILINE | re.DOTALL
)


def without_hidden_tests(source: str) -> str:
    """A grade cell as students see it (nbgrader's ClearHiddenTests): hidden tests removed entirely."""
    return HIDDEN.sub("", source)


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def defined_names(source: str) -> list[str]:
    """Names a cell defines at top level (functions, classes, assignments), in order; [] if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in tree.body:
        targets: list[Any] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    names.append(sub.id)
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------- the source


@dataclass
class SourceCell:
    kind: str  # "locked", "exercise", "grade", "answer" (a written answer) or "other"
    cell: Any  # the nbformat cell of the source
    grade_id: str = ""
    points: float = 0.0
    names: list[str] = field(default_factory=list)  # exercise: names grade cells may use

    @property
    def code(self) -> str:
        """What the grader executes (locked and grade cells, hidden tests included)."""
        return strip_markers(self.cell.source)

    @property
    def release(self) -> str:
        """What students got: hidden tests removed."""
        return without_hidden_tests(self.cell.source)


@dataclass
class SourceNotebook:
    path: Path
    nb: Any
    cells: list[SourceCell]

    @property
    def name(self) -> str:
        return self.path.name

    def grade_cells(self) -> list[SourceCell]:
        return [c for c in self.cells if c.kind == "grade"]

    def exercises(self) -> list[SourceCell]:
        return [c for c in self.cells if c.kind == "exercise"]


def load_source(path: Path) -> SourceNotebook:
    """Read a source notebook and sort its cells by nbgrader role."""
    nb = nbformat.read(path, as_version=4)
    cells: list[SourceCell] = []
    trusted_names: set[str] = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        gid = str(meta.get("grade_id", ""))
        kind = cell_kind(cell.cell_type, meta)
        if kind == "other":
            cells.append(SourceCell("other", cell))
            continue
        points = float(meta.get("points") or 0) if kind in ("grade", "answer") else 0.0
        cells.append(SourceCell(kind, cell, gid, points))
        if kind == "locked":
            trusted_names.update(defined_names(strip_markers(cell.source)))
    for c in cells:
        if c.kind == "exercise":
            names = [n for n in defined_names(strip_markers(c.cell.source)) if n not in trusted_names]
            if c.grade_id.isidentifier() and c.grade_id not in names:
                names.insert(0, c.grade_id)
            c.names = names
    return SourceNotebook(path, nb, cells)


# ---------------------------------------------------------------- the submission


@dataclass
class Cleaned:
    status: str  # "ok", "repaired" or "corrupt"
    nb: Any = None  # the notebook as graded: the source's structure, the student's answers
    exercises: dict[str, str] = field(default_factory=dict)  # exercise grade_id -> the student's code
    repairs: list[str] = field(default_factory=list)
    lossy: bool = False  # a repair may have lost (or guessed at) the student's work
    reason: str = ""


@dataclass
class _Cell:
    cell_type: str
    source: str
    meta: dict


def _salvage(data: Any) -> list[_Cell] | None:
    """Cells of a notebook-like JSON object that nbformat rejects (v3 worksheets, missing keys, ...)."""
    if not isinstance(data, dict):
        return None
    raw = data.get("cells")
    if raw is None and isinstance(data.get("worksheets"), list) and data["worksheets"]:
        raw = data["worksheets"][0].get("cells") if isinstance(data["worksheets"][0], dict) else None
    if not isinstance(raw, list):
        return None
    out = []
    for item in raw:
        if not isinstance(item, dict) or item.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        src = item.get("source", item.get("input", ""))
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        out.append(_Cell(item["cell_type"], src if isinstance(src, str) else "", meta))
    return out


def _kernel(data: Any) -> str:
    meta = data.get("metadata") if isinstance(data, dict) else None
    spec = meta.get("kernelspec") if isinstance(meta, dict) else None
    return str(spec.get("name", "")) if isinstance(spec, dict) else ""


def _read_cells(raw: bytes, repairs: list[str]) -> tuple[list[_Cell] | None, str]:
    """Parse the submitted bytes into cells, repairing what can be repaired; (None, reason) when corrupt."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        return None, f"the notebook is {len(raw) >> 20} MiB, more than the {MAX_NOTEBOOK_BYTES >> 20} MiB allowed"
    if b"\x00" in raw:
        count = raw.count(b"\x00")
        repairs.append(f"removed {count} NUL byte(s) from the file")
        raw = raw.replace(b"\x00", b"")
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text and "\ufffd" not in raw.decode("utf-8", errors="ignore"):
        repairs.append("replaced bytes that are not UTF-8")
    text = text.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return None, f"the file is not valid JSON ({str(exc)[:120]}); nothing of it could be graded"
    kernel = _kernel(data)
    if kernel != "python3":
        repairs.append(f"set the kernel to python3 (it was {kernel or 'missing'})")
    cells: list[_Cell] | None = None
    try:
        nb = nbformat.reads(text, as_version=4)
        with_errors = False
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError:
            with_errors = True
        if not with_errors:
            cells = [_Cell(c.cell_type, c.source, dict(c.get("metadata", {}))) for c in nb.cells]
    except Exception:  # noqa: BLE001 - nbformat rejects it: salvage below
        with_errors = True
    if cells is None:
        cells = _salvage(data)
        if cells is None:
            return None, "the file is JSON but not a notebook (no list of cells); nothing of it could be graded"
        repairs.append("repaired an invalid notebook structure")
    if any("\x00" in c.source for c in cells):
        for c in cells:
            c.source = c.source.replace("\x00", "")
        repairs.append("removed NUL characters from cell sources")
    return cells, ""


def _nbgrader(cell: _Cell) -> dict:
    meta = cell.meta.get("nbgrader") if isinstance(cell.meta, dict) else None
    return meta if isinstance(meta, dict) else {}


ROLE_KEYS = ("grade", "solution", "locked", "task", "points")


def _role(meta: dict) -> tuple:
    """The part of nbgrader's metadata that decides how a cell is graded (not checksums or versions)."""
    return tuple(meta.get(k) or False for k in ROLE_KEYS)


def clean(raw: bytes, source: SourceNotebook) -> Cleaned:
    """Rebuild the submission on the source's structure; see the module docstring."""
    repairs: list[str] = []
    cells, reason = _read_cells(raw, repairs)
    if cells is None:
        return Cleaned(Status.CORRUPT, repairs=repairs, lossy=True, reason=reason)
    by_id: dict[str, list[int]] = {}
    for i, c in enumerate(cells):
        gid = _nbgrader(c).get("grade_id")
        if isinstance(gid, str):
            by_id.setdefault(gid, []).append(i)
    used: set[int] = set()
    untagged = [i for i, c in enumerate(cells) if not _nbgrader(c).get("grade_id") and c.cell_type == "code"]
    out = copy.deepcopy(source.nb)
    out.cells = []
    exercises: dict[str, str] = {}
    lossy = False
    for sc in source.cells:
        if sc.kind == "other" or not sc.grade_id:
            out.cells.append(copy.deepcopy(sc.cell))
            continue
        copies = by_id.get(sc.grade_id, [])
        used.update(copies)
        what = "test cell" if sc.kind == "grade" else "locked cell" if sc.kind == "locked" else "exercise cell"
        if sc.kind in ("grade", "locked"):
            out.cells.append(copy.deepcopy(sc.cell))
            accepted = {_normal(sc.release), _normal(sc.cell.source)}
            if not copies:
                match = next((i for i in untagged if i not in used and _normal(cells[i].source) in accepted), None)
                if match is not None:
                    used.add(match)
                    repairs.append(f"restored {what} {sc.grade_id} (its nbgrader metadata had been removed)")
                else:
                    repairs.append(f"restored deleted {what} {sc.grade_id}")
                continue
            if len(copies) > 1:
                repairs.append(f"removed {len(copies) - 1} duplicate(s) of {what} {sc.grade_id}")
            if any(_normal(cells[i].source) not in accepted or cells[i].cell_type != "code" for i in copies):
                repairs.append(f"restored edited {what} {sc.grade_id}")
            elif any(_role(_nbgrader(cells[i])) != _role(sc.cell.metadata.get("nbgrader", {})) for i in copies):
                repairs.append(f"restored the nbgrader metadata of {what} {sc.grade_id}")
            continue
        cell = copy.deepcopy(sc.cell)
        chosen = [i for i in copies if cells[i].cell_type == sc.cell.cell_type]
        if chosen:
            if len(chosen) > 1:
                repairs.append(f"{what} {sc.grade_id} appears {len(chosen)} times: the last copy was graded")
                lossy = True
            cell.source = cells[chosen[-1]].source
        elif sc.kind == "exercise":
            wanted = set(sc.names) or {sc.grade_id}
            found = [i for i in untagged if i not in used and wanted & set(defined_names(cells[i].source))]
            if found:
                used.add(found[-1])
                cell.source = cells[found[-1]].source
                repairs.append(f"{what} {sc.grade_id} had lost its nbgrader metadata: matched by the name it defines")
            else:
                cell.source = ""
                repairs.append(f"{what} {sc.grade_id} is missing: its tests score 0")
            lossy = True
        else:
            cell.source = ""
        if sc.kind == "exercise":
            exercises[sc.grade_id] = cell.source
        out.cells.append(cell)
    status = Status.REPAIRED if repairs else Status.OK
    return Cleaned(status, out, exercises, repairs, lossy)
