"""What a guard raises inside student code."""

from __future__ import annotations


class ForbiddenCall(BaseException):
    """Raised inside student code that reaches a forbidden reference.

    A BaseException, so that a student's ``except Exception`` cannot swallow it.
    """


class StudentTimeout(BaseException):
    """Raised inside student code that runs past its time limit."""
