"""The course's nbgrader configuration, in one place.

``nbgrader_config.py`` at the repository root calls :func:`configure`, so the
``nbgrader`` command line, formgrader in JupyterLab and ``python -m autograder``
all see the same settings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT_S = 300


def put_venv_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH: make this interpreter's scripts folder findable."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def configure(c: Any, root: Path = ROOT) -> Any:
    """Fill a traitlets Config ``c`` with the course settings and return it."""
    put_venv_on_path()
    c.CourseDirectory.course_id = "nnlab"
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "notebooks"
    c.CourseDirectory.submitted_directory = "submitted"
    c.CourseDirectory.autograded_directory = "autograded"
    c.CourseDirectory.feedback_directory = "feedback"
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
    # Grading: a per-cell timeout; deleted grade cells come back from the source.
    c.ExecutePreprocessor.timeout = CELL_TIMEOUT_S
    c.Execute.timeout = CELL_TIMEOUT_S
    c.Execute.extra_arguments = []
    c.OverwriteCells.add_missing_cells = True
    # Feedback must never show hidden tests.
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import ClearHiddenTests, GetGrades

    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
    exchange = root / ".exchange"
    exchange.mkdir(exist_ok=True)
    c.Exchange.root = str(exchange)
    return c
