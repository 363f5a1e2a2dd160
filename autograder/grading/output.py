"""The worker's standard output and error: the first bytes go to the grader's pipe, the rest is counted.

A student's code may print without end (300,000 lines per call). Written line by line to a pipe, that is a
system call per line and a grader that must read it all, which costs the call its time limit. Here the
text is encoded and buffered in C (``io.TextIOWrapper`` over ``io.BufferedWriter``); only full buffers
reach :class:`CappedSink`, which passes on the first ``cap`` bytes of both streams together and then
counts. Once the cap is spent, ``sys.stdout``/``sys.stderr`` become a :class:`Discard` whose ``write`` is a
C built-in: a ``print`` then costs what formatting its arguments costs, nothing more. ``print`` itself becomes
``functools.partial(print)``: the same function, with the same defaults (``sys.stdout`` looked up at each call,
``file=`` honoured), which the judge's profiler does not see (it sees calls of built-in functions, not of a
partial), so a student's debugging loop no longer pays two profiler events a line under a check. The count
goes back to the grader with every answer (the log says how much was dropped: at least that much).
"""

from __future__ import annotations

import builtins
import functools
import io
import os
import sys
from collections.abc import Callable

BUFFER = 1 << 16
_PRINT = builtins.print  # captured before student code runs


class CappedSink(io.RawIOBase):
    """A raw stream writing to ``fd`` until ``budget[0]`` bytes are spent (shared by stdout and stderr)."""

    def __init__(self, fd: int, budget: list[int], dropped: list[int], spent: Callable[[], None]) -> None:
        super().__init__()
        self.fd, self.budget, self.dropped, self.spent = fd, budget, dropped, spent

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        room = min(self.budget[0], n)
        if room > 0:
            view = memoryview(data)[:room]
            while view:
                try:
                    written = os.write(self.fd, view)
                except InterruptedError:
                    continue
                except OSError:  # the grader closed the pipe: nothing more can be shown
                    self.budget[0] = 0
                    break
                view = view[written:]
            self.budget[0] -= room
        self.dropped[0] += n - max(room, 0)
        if self.budget[0] <= 0:
            self.spent()
        return n


class Discard:
    """A text stream that drops everything, at the cost of one C call per write."""

    __slots__ = ("write", "flush", "encoding", "errors")

    def __init__(self) -> None:
        self.write, self.flush, self.encoding, self.errors = len, tuple, "utf-8", "backslashreplace"

    def isatty(self) -> bool:
        return False


class CappedOutput:
    """stdout and stderr for the worker, sharing one budget of bytes; ``take_dropped`` for each answer."""

    def __init__(self, out_fd: int, err_fd: int, cap: int) -> None:
        self.budget, self.dropped = [cap], [0]
        self.stdout = self._stream(out_fd)
        self.stderr = self._stream(err_fd)
        self.discard = Discard()

    def _stream(self, fd: int) -> io.TextIOWrapper:
        raw = CappedSink(fd, self.budget, self.dropped, self._spent)
        return io.TextIOWrapper(io.BufferedWriter(raw, BUFFER), encoding="utf-8", errors="backslashreplace")

    def _spent(self) -> None:
        """The cap is reached: from now on ``print`` goes to the cheap :class:`Discard` (streams a student's
        code holds keep counting), through a ``print`` the guard's profiler does not see."""
        if sys.stdout is self.stdout:
            sys.stdout = self.discard
            if builtins.print is _PRINT:
                builtins.print = functools.partial(_PRINT)
        if sys.stderr is self.stderr:
            sys.stderr = self.discard

    def flush(self) -> None:
        for stream in (self.stdout, self.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001,S110 - a student closed or broke the stream: nothing to show
                pass

    def take_dropped(self) -> int:
        """Bytes dropped since the last call (after flushing what is buffered)."""
        self.flush()
        n, self.dropped[0] = self.dropped[0], 0
        return n
