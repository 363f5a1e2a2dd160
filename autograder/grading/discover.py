"""Find the submissions: ``<student>/<assignment>/<notebook>.ipynb`` in a folder or a zip of one."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_ZIP_BYTES = 8 << 30
MAX_FILE_BYTES = 64 << 20
MAX_MEMBERS = 200_000
COPY_SUFFIX = re.compile(r"(-copy\d*|\s*\(\d+\)|_copy\d*|[-_ ]?(final|submission|submit|v\d+))$", re.IGNORECASE)


class SubmissionError(Exception):
    """The submissions cannot be read at all (a usage error: exit code 2)."""


def extract_zip(archive: Path, target: Path) -> Path:
    """Extract the notebooks (and timestamps) of a zip safely: no absolute or ``..`` paths, no links, size caps."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{archive} is not a readable zip file: {exc}") from exc
    marker = target / ".complete"
    if marker.exists():
        return target
    total = 0
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise SubmissionError(f"{archive} has more than {MAX_MEMBERS} entries")
        for info in members:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            mode = info.external_attr >> 16
            if info.is_dir() or not parts or ".." in parts or name.startswith("/") or stat.S_ISLNK(mode):
                continue
            if not (parts[-1].endswith(".ipynb") or parts[-1] == "timestamp.txt") or "__MACOSX" in parts:
                continue
            if info.file_size > MAX_FILE_BYTES:
                continue
            total += info.file_size
            if total > MAX_ZIP_BYTES:
                raise SubmissionError(f"{archive} unpacks to more than {MAX_ZIP_BYTES >> 30} GiB of notebooks")
            out = target.joinpath(*parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src:
                data = src.read(MAX_FILE_BYTES + 1)
            out.write_bytes(data[:MAX_FILE_BYTES])
    marker.write_text("ok")
    return target


def find_root(path: Path, assignments: set[str]) -> Path:
    """The folder whose children are student folders (descends through single wrapping folders)."""
    for _ in range(4):
        children = [c for c in path.iterdir() if c.is_dir() and not c.name.startswith((".", "__"))]
        if any((c / a).is_dir() for c in children for a in assignments):
            return path
        if len(children) == 1:
            path = children[0]
            continue
        return path
    return path


def notebooks_in(folder: Path) -> list[Path]:
    """The notebooks of one assignment folder (any depth), without checkpoints, hidden files or symbolic
    links (a link could make the grader read another student's work, or any file, as this one's)."""
    out = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(files):
            p = Path(top) / name
            if name.endswith(".ipynb") and not name.startswith(".") and p.is_file() and not p.is_symlink():
                out.append(p)
    return sorted(out)


def _stem(name: str) -> str:
    stem = name.lower().removesuffix(".ipynb").strip()
    while True:
        new = COPY_SUFFIX.sub("", stem).strip()
        if new == stem:
            return stem
        stem = new


@dataclass
class Match:
    path: Path | None
    repair: str = ""


def match_notebooks(expected: list[str], found: list[Path], folder: Path) -> dict[str, Match]:
    """Pair each expected notebook name with a submitted file: same name, or a close name, or the only one left."""
    out: dict[str, Match] = {}
    left = list(found)
    for name in expected:
        exact = [p for p in left if p.name == name and p.parent == folder] or [p for p in left if p.name == name]
        if exact:
            out[name] = Match(exact[0])
            left.remove(exact[0])
    missing = [n for n in expected if n not in out]
    scored = sorted(
        ((difflib.SequenceMatcher(None, _stem(n), _stem(p.name)).ratio(), n, p) for n in missing for p in left),
        key=lambda x: (-x[0], x[1], str(x[2])),
    )
    for ratio, name, path in scored:
        if name in out or path not in left:
            continue
        if ratio >= 0.6 or (len(missing) == 1 and len(left) == 1):
            rel = path.relative_to(folder)
            out[name] = Match(path, f"graded {rel} as {name} (the file was misnamed)")
            left.remove(path)
    for name in expected:
        out.setdefault(name, Match(None))
    return out


@dataclass
class Submission:
    student: str
    assignment: str
    folder: Path
    notebooks: dict[str, Match] = field(default_factory=dict)

    def key(self, salt: str) -> str:
        """Identifies what is graded: the grader's version and sources (``salt``) and the submitted bytes."""
        h = hashlib.sha256(salt.encode())
        for name, match in sorted(self.notebooks.items()):
            h.update(name.encode() + b"\0")
            if match.path is not None:
                h.update(str(match.path.relative_to(self.folder)).encode() + b"\0")
                h.update(hashlib.sha256(match.path.read_bytes()).digest())
        return h.hexdigest()


def discover(root: Path, sources: dict[str, list[str]], only: list[str] | None) -> tuple[list[Submission], list[str]]:
    """Every (student, assignment) folder under ``root``; warnings for folders that match no assignment."""
    wanted = set(only or sources)
    warnings = []
    subs = []

    def folders(path: Path) -> list[Path]:
        return sorted(
            p for p in path.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__"))
        )

    for student_dir in folders(root):
        for folder in folders(student_dir):
            if folder.name not in sources:
                warnings.append(f"{student_dir.name}/{folder.name}: no assignment of that name in solutions/ (ignored)")
                continue
            if folder.name not in wanted:
                continue
            found = notebooks_in(folder)
            sub = Submission(
                student_dir.name, folder.name, folder, match_notebooks(sources[folder.name], found, folder)
            )
            subs.append(sub)
    return subs, warnings


def shard_of(student: str, count: int) -> int:
    """The shard (1..count) a student belongs to: a hash of the name, the same on every machine."""
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % count + 1
