"""What a check concludes: a case, a failure that teaches, and the two helpers every check uses."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Case:
    """One call of the function under test: positional and keyword arguments, and a label."""

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


class CheckFailed(AssertionError):
    """A grade check failed; the message teaches."""


class NotAttempted(CheckFailed):
    """The exercise still raises NotImplementedError."""


def fail(message: str) -> None:
    """Fail the current check with a teaching message."""
    raise CheckFailed(message)


def check(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        fail(message)
