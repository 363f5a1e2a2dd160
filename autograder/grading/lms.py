"""LMS round trip: grade a Canvas or Moodle "download all submissions" zip, export grades for their gradebooks.

Import (``grade EXPORT.zip --lms canvas|moodle``) runs nbgrader's own ``zip_collect`` machinery
(:class:`nbgrader.apps.ZipCollectApp`: its extractor, then a :class:`FileNameCollectorPlugin` per LMS that reads
the LMS's file-naming scheme) into ``OUT/.lms/<digest>/submitted/<lms id>/<assignment>/<notebook>.ipynb``, which
``grade`` then grades as usual. Every file of the zip is listed in ``OUT/lms_import.csv`` with the student it was
mapped to or the reason it was not; unmapped files are printed and make the exit status 1.

* Canvas names each file ``<lastfirst>_<user id>_<submission id>_<original name>`` (``<lastfirst>_late_...`` for
  a late submission); the student is the Canvas user id (the ``ID`` column of Canvas's gradebook).
* Moodle puts each participant's files in ``<Full Name>_<participant id>_assignsubmission_file_/`` (or, with
  "download submissions in folders" off, prefixes each file name so); the student is the participant id (the
  ``Participant N`` identifier of Moodle's grading worksheet).

Export (``--export canvas|moodle``) reads ``OUT/summary.csv`` (the same results as ``grades.csv``) and writes
``OUT/canvas_grades.csv`` (Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, one column
per assignment, a Points Possible row) or ``OUT/moodle_<assignment>.csv`` (Moodle's offline grading worksheet).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import re
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin

LMS_NAMES = ("canvas", "moodle")
MAX_MEMBERS = 200_000
MAX_BYTES = 8 << 30
IMPORT_REPORT = "lms_import.csv"
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments"]  # fmt: skip


@dataclass
class Entry:
    """One file of the LMS zip and what became of it."""

    file: str
    status: str = "unmapped"  # collected | unmapped
    student: str = ""
    name: str = ""
    notebook: str = ""
    late: str = ""
    reason: str = ""


class LmsCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector for one LMS's scheme; records every file it is shown in ``entries``."""

    lms = ""
    patterns: tuple[re.Pattern, ...] = ()
    extracted = ""  # set before collecting: paths are matched relative to nbgrader's extracted folder

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.entries: list[Entry] = []

    def collect(self, submitted_file: str) -> dict | None:
        rel = Path(submitted_file).relative_to(self.extracted).as_posix()
        entry = Entry(rel)
        self.entries.append(entry)
        if not rel.endswith(".ipynb"):
            entry.reason = "not a notebook (only .ipynb files are graded)"
            return None
        match = next((m for p in self.patterns if (m := p.search(rel))), None)
        if match is None:
            entry.reason = f"the name does not follow {self.lms.capitalize()}'s scheme: no student id in it"
            return None
        info = match.groupdict()
        entry.status, entry.student, entry.name = "collected", info["student_id"], info.get("name") or ""
        entry.notebook, entry.late = info["file_id"], "yes" if info.get("late") else ""
        return {"student_id": entry.student, "file_id": entry.notebook}


class CanvasCollector(LmsCollector):
    """``<lastfirst>_[late_]<user id>_<submission id>_<original name>`` (Canvas's download of all submissions)."""

    lms = "canvas"
    patterns = (re.compile(r"(?:^|/)(?P<name>[^/_]*)_(?:(?P<late>late)_)?(?P<student_id>\d+)_\d+_(?P<file_id>[^/]+)$"),)


class MoodleCollector(LmsCollector):
    """``<Full Name>_<participant id>_assignsubmission_file_/<original name>``, or that prefix on a flat file."""

    lms = "moodle"
    patterns = (
        re.compile(r"(?:^|/)(?P<name>[^/]+)_(?P<student_id>\d+)_assignsubmission_file_/(?P<file_id>.+)$"),
        re.compile(r"(?:^|/)(?P<name>[^/]+)_(?P<student_id>\d+)_assignsubmission_file_(?P<file_id>[^/]+)$"),
    )


COLLECTORS: dict[str, type[LmsCollector]] = {"canvas": CanvasCollector, "moodle": MoodleCollector}


class LmsError(Exception):
    """The LMS export cannot be used at all (a usage error: exit status 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The LMS options of ``python -m autograder grade``."""
    parser.add_argument("--lms", choices=LMS_NAMES, help="SUBMISSIONS is this LMS's 'download all submissions' zip")
    parser.add_argument("--export", choices=LMS_NAMES, help="also write the grades as this LMS's gradebook import CSV")
    parser.add_argument("--lms-column", help="Canvas column header (default: the assignment; 'Name (id)' for an "
                        "existing Canvas assignment)")  # fmt: skip


def assignments_of(solutions: Path) -> dict[str, list[str]]:
    """Assignment -> its notebook names (the course's source folders)."""
    folders = sorted(p for p in solutions.iterdir() if p.is_dir()) if solutions.is_dir() else []
    out = {f.name: sorted(n.name for n in f.glob("*.ipynb") if not n.name.startswith(".")) for f in folders}
    return {a: names for a, names in out.items() if names}


def _members(archive: Path) -> list[str]:
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LmsError(f"{archive} is not a readable zip file: {exc}") from exc
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_BYTES:
        raise LmsError(f"{archive} is too large (more than {MAX_MEMBERS} files or {MAX_BYTES >> 30} GiB)")
    return [i.filename for i in infos if not i.is_dir()]


def infer_assignment(members: list[str], assignments: dict[str, list[str]], asked: list[str] | None) -> str:
    """The one assignment the zip is for: ``--assignment``, else the one whose notebook names the files end with."""
    if asked:
        if len(asked) > 1:
            raise LmsError("an LMS zip holds one assignment: give --assignment once")
        return asked[0]
    found = {a for a, names in assignments.items() for m in members for n in names if m.endswith(n)}
    if len(found) != 1:
        which = ", ".join(sorted(found)) if found else "none"
        raise LmsError(f"cannot tell which assignment the zip is for (notebook names match: {which}): "
                       "give --assignment")  # fmt: skip
    return found.pop()


def collect(archive: Path, lms: str, assignment: str, solutions: Path, work: Path) -> tuple[Path, list[Entry]]:
    """Run nbgrader's ZipCollectApp with the LMS's collector; return the submitted folder and every file's fate."""
    from nbgrader.apps import ZipCollectApp
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    if work.exists():
        shutil.rmtree(work)
    inbox = work / "downloaded" / assignment / "archive"
    inbox.mkdir(parents=True)
    shutil.copyfile(archive, inbox / f"{lms}.zip")
    cfg = Config()
    cfg.CourseDirectory.root = str(work)
    cfg.CourseDirectory.release_directory = str(solutions.resolve())  # notebook names, for nbgrader's check
    cfg.ZipCollectApp.collector_plugin = COLLECTORS[lms]
    cfg.ZipCollectApp.force = True
    cfg.ExtractorPlugin.force = True
    app = ZipCollectApp(config=cfg)
    app.log = logging.getLogger(f"nnlab.lms.{lms}")  # nbgrader's own log lines are summed up in the report
    app.log.propagate = False
    app.log.addHandler(logging.NullHandler())
    app.coursedir = CourseDirectory(parent=app)
    app.coursedir.assignment_id = assignment
    app.init_plugins()
    collector: LmsCollector = app.collector_plugin_inst
    collector.extracted = str(work / "downloaded" / assignment / "extracted")
    try:
        app.extract_archive_files()
        app.process_extracted_files()
    except SystemExit as exc:  # nbgrader's app.fail(): e.g. two files of one student with the same name
        raise LmsError(f"nbgrader zip_collect stopped on {archive} (exit {exc.code})") from exc
    for entry in collector.entries:
        entry.file = entry.file.removeprefix(f"{lms}/")  # nbgrader extracts into a folder named after the zip
    return work / "submitted", collector.entries


def _write_csv(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    from autograder.grading.slot import atomic_write

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())


def read_import(out: Path) -> dict[str, Entry]:
    """Student id -> the first collected file's entry, from a previous import into ``out``."""
    path = out / IMPORT_REPORT
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        entries = [Entry(**{k: row.get(k, "") for k in (x.name for x in fields(Entry))}) for row in csv.DictReader(f)]
    return {e.student: e for e in reversed(entries) if e.status == "collected"}


def _summary(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


def export(out: Path, lms: str, column: str | None = None) -> tuple[list[Path], list[str]]:
    """Write the LMS gradebook CSV(s) from ``out/summary.csv``; return them and the problems (students left out)."""
    rows = _summary(out)
    people = read_import(out)
    problems: list[str] = []
    assignments = sorted({r["assignment"] for r in rows})
    if lms == "canvas":
        headers = {a: column if column and len(assignments) == 1 else a for a in assignments}
        maxima = {r["assignment"]: r["max_score"] for r in rows}
        table: dict[str, list[str]] = {}
        for r in rows:
            student = r["student"]
            if student not in table:
                known = people.get(student)
                canvas_id = known.student if known else student if student.isdigit() else ""
                login = "" if canvas_id else student  # Canvas also matches a row on its SIS Login ID
                table[student] = [known.name if known else student, canvas_id, "", login, ""] + [""] * len(assignments)
            table[student][len(CANVAS_FIXED) + assignments.index(r["assignment"])] = r["score"]
        possible = ["    Points Possible", "", "", "", ""] + [maxima[a] for a in assignments]
        path = out / "canvas_grades.csv"
        _write_csv(path, CANVAS_FIXED + [headers[a] for a in assignments], [possible] + list(table.values()))
        return [path], problems
    paths = []
    for a in assignments:
        lines = []
        for r in (r for r in rows if r["assignment"] == a):
            known = people.get(r["student"])
            pid = known.student if known else r["student"] if r["student"].isdigit() else ""
            if not pid:
                problems.append(f"{r['student']}/{a}: no Moodle participant id (import the Moodle zip with --lms "
                                f"moodle, or name the student's folder by it); left out of the worksheet")  # fmt: skip
                continue
            lines.append([f"Participant {pid}", known.name if known else "", "", "Submitted for grading", r["score"],
                          r["max_score"], "Yes", "", "", ""])  # fmt: skip
        path = out / f"moodle_{a}.csv"
        _write_csv(path, MOODLE_COLUMNS, lines)
        paths.append(path)
    return paths, problems


def import_zip(args: argparse.Namespace) -> list[Entry]:
    """Collect ``args.submissions`` (an LMS zip), point ``args`` at the collected folder; return unmapped files."""
    if args.merge or args.submissions is None or not args.submissions.is_file():
        raise LmsError("--lms takes the LMS's zip as SUBMISSIONS (not --merge, not a folder)")
    members = _members(args.submissions)
    assignment = infer_assignment(members, assignments_of(args.solutions), args.assignment)
    work = args.out / ".lms" / hashlib.sha256(args.submissions.read_bytes()).hexdigest()[:16]
    folder, entries = collect(args.submissions, args.lms, assignment, args.solutions, work)
    _write_csv(args.out / IMPORT_REPORT, [f.name for f in fields(Entry)], [list(asdict(e).values()) for e in entries])
    unmapped = [e for e in entries if e.status != "collected"]
    students = {e.student for e in entries if e.status == "collected"}
    print(f"grade: {args.lms}: {len(entries) - len(unmapped)} file(s) of {len(students)} student(s) collected for "
          f"{assignment}; {len(unmapped)} not mapped (see {args.out / IMPORT_REPORT})", file=sys.stderr)  # fmt: skip
    for e in unmapped:
        print(f"grade: warning: {args.lms}: {e.file}: {e.reason}", file=sys.stderr)
    if not students:
        raise LmsError(f"no file of {args.submissions} follows {args.lms.capitalize()}'s naming scheme")
    args.submissions, args.assignment = folder, [assignment]
    return unmapped


def run(args: argparse.Namespace, grade: Callable[[argparse.Namespace], int]) -> int:
    """``grade`` with the LMS options: collect the zip first (``--lms``), export after (``--export``)."""
    if not getattr(args, "lms", None) and not getattr(args, "export", None):
        return grade(args)
    try:
        unmapped = import_zip(args) if args.lms else []
    except LmsError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    code = grade(args)
    if code not in (0, 1):
        return code
    problems: list[str] = []
    if args.export:
        paths, problems = export(args.out, args.export, args.lms_column)
        for p in problems:
            print(f"grade: warning: {args.export}: {p}", file=sys.stderr)
        print(f"grade: {args.export} gradebook import: {', '.join(str(p) for p in paths)}", file=sys.stderr)
    return 1 if code or unmapped or problems else 0
