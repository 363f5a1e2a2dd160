"""What can go wrong between the grader and a worker: the exceptions the grader handles."""

from __future__ import annotations


class ProcessDied(Exception):  # noqa: N818 - the name appears in students' messages
    """The notebook's process ended (or was stopped) while it was running student code."""


class NotebookDeadline(BaseException):  # noqa: N818
    """The notebook used up its time; nothing more of it is graded."""


class CannotGradeRemotely(BaseException):  # noqa: N818
    """A grade cell needs something a proxy cannot express: fail closed, never open."""


class ProtocolViolation(Exception):
    """The worker sent something that is not a well-formed answer."""
