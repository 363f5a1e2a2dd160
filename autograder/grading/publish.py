"""Turn per-student result files into grades.csv, summary.csv and nbgrader's gradebook (one writer)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import warnings
from pathlib import Path
from typing import Any

from autograder.grading.slot import atomic_write
from autograder.grading.status import CLEAN, NOTEBOOK_CLEAN, Status, worst

GRADE_COLUMNS = ["student", "assignment", "notebook", "test_id", "score", "max_score", "status", "message"]
SUMMARY_COLUMNS = ["student", "assignment", "score", "max_score", "status", "tests_passed", "tests_total",
                   "needs_attention", "message"]  # fmt: skip


def _num(x: float) -> str:
    return f"{x:g}"


def load(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and "notebooks" in data else None


def attention(result: dict) -> bool:
    """Whether a student's assignment needs a look: a repair that may have lost work, a non-clean status,
    or code that reaches into the judge (``review``)."""
    return any(
        nb.get("lossy") or nb.get("review") or any(t["status"] not in CLEAN for t in nb["tests"])
        for nb in result["notebooks"]
    )


def _notes(nb: dict) -> str:
    parts = []
    if nb.get("reason"):
        parts.append(nb["reason"])
    if nb.get("repairs"):
        parts.append("repairs: " + "; ".join(nb["repairs"]))
    if nb.get("review"):
        parts.append("review the code: " + "; ".join(nb["review"]))
    return " | ".join(parts)


def rows(results: list[dict]) -> tuple[list[list[str]], list[list[str]]]:
    grades, summary = [], []
    for r in sorted(results, key=lambda r: (r["student"], r["assignment"])):
        score = total = passed = count = 0.0
        statuses, notes = [], []
        for nb in r["notebooks"]:
            note = _notes(nb)
            if note:
                notes.append(f"{nb['notebook']}: {note}")
            statuses.append(nb["status"])
            for t in nb["tests"]:
                message = t["message"]
                if nb.get("repairs"):
                    message = (message + " " if message else "") + "[repairs: " + "; ".join(nb["repairs"]) + "]"
                grades.append([r["student"], r["assignment"], nb["notebook"], t["test"], _num(t["score"]),
                               _num(t["max_score"]), t["status"], message])  # fmt: skip
                score += t["score"]
                total += t["max_score"]
                passed += t["status"] == Status.PASSED
                count += 1
        status = worst([s for s in statuses if s not in NOTEBOOK_CLEAN]) or (
            Status.REPAIRED if Status.REPAIRED in statuses else Status.OK
        )
        summary.append([r["student"], r["assignment"], _num(score), _num(total), str(status), _num(passed), _num(count),
                        "yes" if attention(r) else "no", " || ".join(notes)])  # fmt: skip
    return grades, summary


def _csv(columns: list[str], data: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(data)
    return buf.getvalue()


def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema, read from nbgrader's migration scripts in this process."""
    import nbgrader
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("nbgrader's alembic scripts name no head revision")
    return head


def create_gradebook(url: str) -> None:
    """Create nbgrader's tables, stamped with the schema's revision, where ``url`` names an empty database.

    nbgrader's ``Gradebook`` does the same for a new database, but asks for the revision by running ``alembic
    heads`` in a new interpreter: about 2 s of CPU on every grading run. The result is the same database (a
    test opens it with nbgrader and compares the stamp with nbgrader's own).
    """
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url, future=True)
    try:
        if inspect(engine).get_table_names():
            return
        Base.metadata.create_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": alembic_head()})
    finally:
        engine.dispose()


def gradebook(url: str, results: list[dict], sources: dict[str, list[Any]]) -> None:
    """Record the assignments' cells and every student's scores in nbgrader's gradebook (formgrader reads it).

    A test whose status is not ``passed`` or ``failed`` (a crash, a time-out, a corrupt file...) is marked
    ``needs_manual_grade`` so that formgrader lists it for a look.
    """
    from nbgrader.api import Gradebook
    from nbgrader.utils import compute_checksum

    from autograder.config import put_venv_on_path

    put_venv_on_path()
    create_gradebook(url)
    used = {r["assignment"] for r in results}
    with warnings.catch_warnings(), Gradebook(url, course_id="nnlab") as gb:
        warnings.simplefilter("ignore")
        for aid in sorted(used):
            gb.update_or_create_assignment(aid)
            for src in sources.get(aid, []):
                nb_name = src.name.removesuffix(".ipynb")
                gb.update_or_create_notebook(nb_name, aid)
                for sc in src.cells:
                    if not sc.grade_id:
                        continue
                    meta = sc.cell.metadata.get("nbgrader", {})
                    if sc.kind == "grade" or meta.get("grade"):
                        gb.update_or_create_grade_cell(sc.grade_id, nb_name, aid, max_score=sc.points,
                                                       cell_type=sc.cell.cell_type)  # fmt: skip
                    if meta.get("solution"):
                        gb.update_or_create_solution_cell(sc.grade_id, nb_name, aid)
                    gb.update_or_create_source_cell(sc.grade_id, nb_name, aid, cell_type=sc.cell.cell_type,
                                                    locked=bool(meta.get("locked")), source=sc.cell.source,
                                                    checksum=compute_checksum(sc.cell))  # fmt: skip
        for r in sorted(results, key=lambda r: (r["student"], r["assignment"])):
            gb.update_or_create_student(r["student"])
            gb.update_or_create_submission(r["assignment"], r["student"])
            for nb in r["notebooks"]:
                nb_name = nb["notebook"].removesuffix(".ipynb")
                for t in nb["tests"]:
                    grade = gb.find_grade(t["test"], nb_name, r["assignment"], r["student"])
                    grade.auto_score = float(t["score"])
                    grade.needs_manual_grade = t["status"] not in CLEAN
        gb.db.commit()


def nbgrader_config(out: Path, url: str, solutions: Path) -> None:
    """``out/nbgrader_config.py``: run formgrader (``cd OUT && nbgrader formgrader``) on these grades."""
    text = (
        '"""Written by `python -m autograder grade`: formgrader on the graded run in this folder."""\n\n'
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(out.resolve())!r}\n"
        "c.CourseDirectory.course_id = 'nnlab'\n"
        f"c.CourseDirectory.source_directory = {str(solutions.resolve())!r}\n"
        "c.CourseDirectory.autograded_directory = 'autograded'\n"
        "c.CourseDirectory.feedback_directory = 'feedback'\n"
        f"c.CourseDirectory.db_url = {url!r}\n"
    )
    atomic_write(out / "nbgrader_config.py", text)


def publish(out: Path, results: list[dict], sources: dict[str, list[Any]], url: str | None, solutions: Path) -> None:
    grades, summary = rows(results)
    atomic_write(out / "grades.csv", _csv(GRADE_COLUMNS, grades))
    atomic_write(out / "summary.csv", _csv(SUMMARY_COLUMNS, summary))
    if url:
        gradebook(url, results, sources)
        nbgrader_config(out, url, solutions)


def copy_outputs(src: Path, dst: Path, result: dict) -> None:
    """Copy one student's feedback, autograded notebooks and logs between run folders (for --merge)."""
    s, a = result["student"], result["assignment"]
    for sub in (Path("feedback") / s / a, Path("autograded") / s / a, Path("logs") / a / s):
        if (src / sub).is_dir() and src.resolve() != dst.resolve():
            shutil.copytree(src / sub, dst / sub, dirs_exist_ok=True)
    atomic_write(dst / "results" / a / f"{s}.json", json.dumps(result, indent=1, sort_keys=True))
