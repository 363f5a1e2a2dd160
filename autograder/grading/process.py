"""Worker processes seen from the grader: the zygote that forks them, and the pipes of one worker.

A :class:`Zygote` (``python -I -m autograder.grading.zygote``) imports PyTorch once per grading slot and
forks a launcher and a confined worker per notebook (see :mod:`autograder.grading.zygote`). A
:class:`WorkerProcess` holds one worker's request socket, its captured output (capped) and its
launcher's status lines (its pid, how it ended).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import autograder
from autograder.grading import sandbox
from autograder.grading.errors import ProcessDied

SPAWN_TIMEOUT_S = 60.0
ZYGOTE_TIMEOUT_S = 300.0
#: The folder holding this copy of ``autograder``: every grading process imports the grader's own code from it.
CODE_ROOT = str(Path(autograder.__file__).resolve().parent.parent)


def module_command(module: str) -> list[str]:
    """``python -I -m module``, run from this copy of the code.

    ``-I`` ignores PYTHONPATH, the user's site and the working directory, so plain ``-m`` would import whatever
    ``autograder`` the interpreter has installed (another checkout, an older version): the grading processes
    would then run other code than the command that started them.
    """
    boot = f"import runpy, sys; sys.path.insert(0, {CODE_ROOT!r}); runpy.run_module({module!r}, run_name='__main__')"
    return [sys.executable, "-I", "-c", boot]


class Zygote:
    """One pre-imported process per grading slot that forks a launcher and a worker per notebook."""

    def __init__(self, config: dict, env: dict[str, str], log: Any = subprocess.DEVNULL) -> None:
        self.config, self.env, self.log = config, env, log
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None

    def start(self) -> None:
        self.launch()
        self.configure(self.config)

    def launch(self) -> None:
        """Start the process: it imports PyTorch while the caller goes on, then waits for :meth:`configure`."""
        parent, child = socket.socketpair()
        env = dict(self.env, NNLAB_ZYGOTE_FD=str(child.fileno()))
        self.proc = subprocess.Popen(
            module_command("autograder.grading.zygote"), env=env, pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True, cwd="/",
        )  # fmt: skip
        child.close()
        self.sock = parent

    def configure(self, config: dict) -> None:
        """Send what to pre-import and what workers may read; return once the zygote is ready to fork."""
        assert self.sock is not None
        self.config = config
        self.sock.sendall(json.dumps(config).encode() + b"\n")
        self.sock.settimeout(ZYGOTE_TIMEOUT_S)
        line = b""
        while not line.endswith(b"\n"):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("the grading worker's zygote failed to start (see the slot log)")
            line += chunk
        self.sock.settimeout(None)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self, spec: dict) -> WorkerProcess:
        if not self.alive():
            self.close()
            self.start()
        rpc, rpc_child = socket.socketpair()
        out_r, out_w = os.pipe()
        st_r, st_w = os.pipe()
        try:
            socket.send_fds(self.sock, [json.dumps(spec).encode()], [rpc_child.fileno(), out_w, st_w])
        finally:
            rpc_child.close()
            os.close(out_w)
            os.close(st_w)
        proc = WorkerProcess(rpc, out_r, st_r, int(spec["output_cap"]))
        proc.wait_started(SPAWN_TIMEOUT_S)
        return proc

    def close(self) -> None:
        if self.proc is not None:
            sandbox.kill(self.proc.pid)
            with contextlib.suppress(Exception):
                self.proc.wait(5)
        if self.sock is not None:
            self.sock.close()
        self.proc, self.sock = None, None

    def sweep(self) -> None:
        """Kill every process below this grading process except the zygote (after each notebook)."""
        keep = self.proc.pid if self.alive() else -1
        for _ in range(20):
            stray = [p for p in sandbox.descendants(os.getpid()) if p != keep]
            if not stray:
                return
            for pid in stray:
                sandbox.kill(pid)
            sandbox.reap()
            time.sleep(0.01)


class WorkerProcess:
    """The pipes of one worker: requests, captured output, and its launcher's status line."""

    def __init__(self, rpc: socket.socket, out_fd: int, status_fd: int, output_cap: int) -> None:
        self.rpc, self.out_fd, self.status_fd = rpc, out_fd, status_fd
        self.pid = 0
        self.flags: list[str] = []
        self.exit: tuple[int, str] | None = None
        self.output = bytearray()
        self.output_dropped = 0
        self.output_cap = output_cap
        self.status_buf = b""
        self.buffer = bytearray()
        self.closed = False

    def wait_started(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not self.pid:
            if time.monotonic() > end or self.exit:
                raise ProcessDied("the notebook's process could not be started")
            self.pump(0.5)

    def pump(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for anything; read output and status; return True if rpc is readable."""
        fds = [f for f in (self.rpc.fileno(), self.out_fd, self.status_fd) if f >= 0]
        ready, _, _ = select.select(fds, [], [], max(timeout, 0))
        rpc_ready = False
        for fd in ready:
            if fd == self.out_fd:
                self._read_output()
            elif fd == self.status_fd:
                self._read_status()
            else:
                rpc_ready = True
        return rpc_ready

    def _read_output(self) -> None:
        try:
            data = os.read(self.out_fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            os.close(self.out_fd)
            self.out_fd = -1
            return
        room = self.output_cap - len(self.output)
        self.output += data[: max(room, 0)]
        self.output_dropped += max(len(data) - max(room, 0), 0)

    def _read_status(self) -> None:
        try:
            data = os.read(self.status_fd, 4096)
        except OSError:
            data = b""
        if not data:
            os.close(self.status_fd)
            self.status_fd = -1
            if self.exit is None:
                self.exit = (-9, "its launcher ended")
            return
        self.status_buf += data
        while b"\n" in self.status_buf:
            line, self.status_buf = self.status_buf.split(b"\n", 1)
            parts = line.decode(errors="replace").split(" ", 2)
            if parts[0] == "pid" and len(parts) >= 2:
                self.pid = int(parts[1])
                self.flags = [] if len(parts) < 3 or parts[2] == "-" else parts[2].split(",")
            elif parts[0] == "exit" and len(parts) >= 2:
                self.exit = (int(parts[1]), parts[2] if len(parts) > 2 else "")

    def wait_exit(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while self.exit is None and self.status_fd >= 0 and time.monotonic() < end:
            self.pump(end - time.monotonic())

    def kill(self) -> None:
        if self.pid:
            sandbox.kill(self.pid)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.kill()
        self.wait_exit(3.0)
        end = time.monotonic() + 1.0  # what the processes wrote before they died
        while self.out_fd >= 0 and time.monotonic() < end:
            if not select.select([self.out_fd], [], [], max(end - time.monotonic(), 0))[0]:
                break
            self._read_output()
        for fd in (self.out_fd, self.status_fd):
            if fd >= 0:
                os.close(fd)
        self.out_fd = self.status_fd = -1
        self.rpc.close()

    def death(self) -> tuple[str, str]:
        """Why the worker ended, in words, and the status it gives: crashed, killed or memory."""
        if self.exit is None:
            return "it stopped answering", "crashed"
        code, reason = self.exit
        if reason:
            return f"it was stopped: it {reason}", "memory" if "memory" in reason else "killed"
        if code == -signal.SIGKILL:
            return "it was killed (SIGKILL: out of memory, or stopped from outside)", "killed"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"it crashed ({name})", "crashed"
        return f"it exited with code {code} (sys.exit, os._exit or a crash)", "crashed"


def worker_env() -> dict[str, str]:
    """The whole environment a worker (and its zygote) gets: nothing of the grader's."""
    return {
        "PATH": "/usr/bin:/bin",
        "NNLAB_FAST": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }


def readable_paths(preimport: list[str]) -> list[str]:
    """What a worker may read: the Python installation, the system libraries, the course packages, data."""
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/lib", "/lib64", "/proc",
             "/sys/devices/system/cpu", "/dev/urandom", "/dev/zero", "/dev/null", "/etc/localtime", "/etc/passwd",
             "/etc/group", "/etc/ld.so.cache", "/etc/nsswitch.conf"}  # fmt: skip
    paths.update(sysconfig.get_paths().values())
    for name in {"autograder", "nnlab", *[m.split(".")[0] for m in preimport]}:
        module = sys.modules.get(name)
        for location in getattr(module, "__path__", []) or [os.path.dirname(getattr(module, "__file__", "") or "")]:
            if location:
                paths.add(location)
    data = Path(autograder.__file__).resolve().parent.parent / "data"
    if data.is_dir():
        paths.add(str(data))
    return sorted(p for p in paths if p and os.path.exists(p))
