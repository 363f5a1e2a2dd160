"""Grade what formgrader collected into the hub course, ready for nbgrader's "release feedback".

    python deploy/jupyterhub/grade_collected.py ASSIGNMENT [--course STATE/course] [grade options...]

Runs ``python -m autograder grade COURSE/submitted --assignment ASSIGNMENT --out COURSE/graded`` with the
course's gradebook (``COURSE/graded/gradebook.db``, which formgrader shows), then puts each submission's
``timestamp.txt`` and ``submission_secret.txt`` beside its feedback page: nbgrader's release_feedback names the
released file by them, so that only the student who submitted can fetch it. Then release the feedback from
formgrader (or ``nbgrader release_feedback ASSIGNMENT`` in COURSE). Exit status: grade's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COURSE = Path(os.environ.get("NNLAB_HUB_STATE", HERE / "state")) / "course"
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def grade(course: Path, assignment: str, extra: list[str]) -> int:
    """``python -m autograder grade`` over the collected submissions of one assignment."""
    graded = course / "graded"
    cmd = [sys.executable, "-m", "autograder", "grade", str(course / "submitted"), "--assignment", assignment,
           "--out", str(graded), "--gradebook", f"sqlite:///{graded.resolve() / 'gradebook.db'}", *extra]  # fmt: skip
    return subprocess.run(cmd, check=False).returncode


def beside_feedback(course: Path, assignment: str) -> list[str]:
    """Copy nbgrader's submission files next to each student's feedback; return the students whose feedback is
    ready to release."""
    ready = []
    for folder in sorted((course / "graded" / "feedback").glob(f"*/{assignment}")):
        student = folder.parent.name
        submitted = course / "submitted" / student / assignment
        if all((submitted / f).is_file() for f in NBGRADER_FILES):
            for name in NBGRADER_FILES:
                shutil.copyfile(submitted / name, folder / name)
            ready.append(student)
        else:
            print(f"grade_collected: {student}/{assignment} was not submitted through the exchange: its feedback "
                  "cannot be released there", file=sys.stderr)  # fmt: skip
    return ready


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("--course", type=Path, default=COURSE, help="the hub course folder (default: %(default)s)")
    args, extra = parser.parse_known_args(argv)
    if not (args.course / "submitted").is_dir():
        print(f"grade_collected: {args.course}/submitted does not exist: collect first (formgrader)", file=sys.stderr)
        return 2
    code = grade(args.course, args.assignment, extra)
    if code in (0, 1):
        ready = beside_feedback(args.course, args.assignment)
        print(f"grade_collected: feedback ready to release for {len(ready)} student(s): {', '.join(ready)}",
              file=sys.stderr)  # fmt: skip
    return code


if __name__ == "__main__":
    sys.exit(main())
