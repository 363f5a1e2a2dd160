"""The grader's one vocabulary of outcomes: a test's status and a notebook's (grader, publish, feedback).

A ``Status`` is a ``str`` (it is written as is to the JSON results and the CSVs, and compares equal to its
value). ``passed`` and ``failed`` are the normal outcomes of a test; every other test status needs an
instructor's look (formgrader lists it as needing manual grading).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"  # a call or a cell ran out of time
    CRASHED = "crashed"  # the process ended (os._exit, a segfault, garbage on the channel)
    KILLED = "killed"  # too many processes, or SIGKILL
    MEMORY = "memory"
    DEADLINE = "deadline"  # the notebook's time ran out
    UNGRADABLE = "ungradable"  # the test needs something the grader cannot do across processes
    CORRUPT = "corrupt"  # not a notebook
    MISSING = "missing"  # no notebook submitted for it
    ERROR = "error"  # the grader itself failed on this submission
    # a notebook's status when every test passed or failed
    OK = "ok"
    REPAIRED = "repaired"


#: A test's normal outcomes.
CLEAN = frozenset({Status.PASSED, Status.FAILED})
#: A notebook's status when all its tests are clean.
NOTEBOOK_CLEAN = frozenset({Status.OK, Status.REPAIRED})
#: Worst first: a notebook's status is the worst of its tests' unclean statuses.
SEVERITY = (Status.ERROR, Status.CORRUPT, Status.CRASHED, Status.KILLED, Status.MEMORY, Status.TIMEOUT,
            Status.DEADLINE, Status.UNGRADABLE, Status.MISSING)  # fmt: skip


def worst(statuses: list[str]) -> Status | None:
    """The most severe unclean status among ``statuses`` (None if all are clean)."""
    bad = [Status(s) for s in statuses if s not in CLEAN]
    return min(bad, key=SEVERITY.index, default=None)
