"""The sandbox's processes: a zygote per grading slot, a launcher and a confined worker per notebook.

``python -I -m autograder.grading.zygote`` imports PyTorch and the modules the lessons' set-up cells
import, once, and never runs student code. For each notebook the grader asks it for a worker; the zygote
forks a *launcher*, which enters new namespaces where it can, forks the *worker*, watches it (process
count, memory) and reports how it ended. The worker confines itself (:mod:`autograder.grading.sandbox`),
then serves requests (:class:`autograder.grading.worker.Worker`).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

from autograder.grading import sandbox
from autograder.grading.output import CappedOutput
from autograder.grading.worker import Worker


def _read_config(ctl: socket.socket) -> dict:
    data = b""
    while not data.endswith(b"\n"):
        chunk = ctl.recv(65536)
        if not chunk:
            sys.exit(0)
        data += chunk
    return json.loads(data)


def zygote_main() -> None:
    """Import once, then fork a launcher per request (fds: rpc socket, output pipe, status pipe)."""
    ctl = socket.socket(fileno=int(os.environ.pop("NNLAB_ZYGOTE_FD")))
    sandbox.die_with_parent()
    sandbox.become_subreaper()
    config = _read_config(ctl)
    import importlib

    for name in config.get("preimport", []):
        with contextlib.suppress(BaseException):
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        import matplotlib.pyplot as plt

        plt.figure()
        plt.close("all")
    torch.set_num_threads(1)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    ctl.sendall(json.dumps({"ready": True, "pid": os.getpid()}).encode() + b"\n")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(ctl, 65536, 4)
        except OSError:
            return
        if not message:
            return
        spec = json.loads(message)
        pid = os.fork()
        if pid == 0:
            try:
                ctl.close()
                _launcher(spec, *fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)


def _write(fd: int, text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, text.encode())


def _children_exist(pid: int) -> bool:
    """Whether ``pid`` (any of its threads) has a child: one small read per thread, no /proc scan."""
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            if Path(f"/proc/{pid}/task/{tid}/children").read_bytes().strip():
                return True
    except OSError:
        return True
    return False


def _launcher(spec: dict, rpc_fd: int, out_fd: int, status_fd: int) -> None:
    """Start the worker in new namespaces (where allowed), watch it, kill what is left, report."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sandbox.die_with_parent()
    os.setsid()
    sandbox.become_subreaper()
    flags: list[str] = []
    if spec.get("namespaces") and sandbox.is_root():
        # The mount namespace is the worker's own (it mounts its /proc there); the launcher keeps the host's
        # /proc to watch the worker's processes.
        if sandbox.unshare(sandbox.CLONE_NEWPID | sandbox.CLONE_NEWNET | sandbox.CLONE_NEWIPC | sandbox.CLONE_NEWUTS):
            flags = ["pid", "net"]
    pid = os.fork()
    if pid == 0:
        os.close(status_fd)
        _worker_process(spec, rpc_fd, out_fd, flags)
    os.close(rpc_fd)
    os.close(out_fd)
    me = os.getpid()
    _write(status_fd, f"pid {pid} {','.join(flags) or '-'}\n")
    reason, status, last_scan = "", 0, 0.0
    max_procs, max_rss = int(spec["max_processes"]), int(spec["memory"]) * 2
    while True:
        try:
            wpid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if wpid == pid:
            status = st
            break
        if wpid:
            continue
        now = time.monotonic()
        if now - last_scan > 0.25 and (_children_exist(pid) or _children_exist(me)):
            last_scan = now
            tree = sandbox.descendants(me)
            if len(tree) > max_procs:
                reason = f"started more than {max_procs} processes"
            elif len(tree) > 1 and sum(tree.values()) > max_rss:
                # resident sizes count pages shared after fork() once per process: measure what each owns
                if sum(sandbox.proportional_memory(p) for p in tree) > max_rss:
                    reason = f"used more than {max_rss >> 20} MiB of memory across its processes"
            if reason:
                sandbox.kill(pid)
        time.sleep(0.02)
    sandbox.kill_descendants(me)
    code = os.waitstatus_to_exitcode(status) if status else 0
    _write(status_fd, f"exit {code} {reason}\n")
    os._exit(0)


def _worker_process(spec: dict, rpc_fd: int, out_fd: int, flags: list[str]) -> None:
    """Confine this process, then serve requests. Never returns."""
    try:
        sandbox.die_with_parent()
        scratch = Path(spec["scratch"])
        if flags and sandbox.unshare(sandbox.CLONE_NEWNS):
            flags.append("mnt")
            sandbox.private_mounts("pid" in flags, scratch, int(spec["scratch_bytes"]))
        sandbox.set_limits(memory_bytes=int(spec["memory"]), file_bytes=int(spec["file_bytes"]),
                           cpu_seconds=int(spec["cpu_seconds"]), max_processes=int(spec["max_processes"]))  # fmt: skip
        os.chdir(scratch)
        os.environ.clear()
        os.environ.update(spec["env"])
        os.environ.update({"HOME": str(scratch), "TMPDIR": str(scratch)})
        import tempfile

        tempfile.tempdir = None
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.closerange(3, rpc_fd)
        os.closerange(rpc_fd + 1, 65536)
        if sandbox.is_root():
            sandbox.drop_capabilities()
        sandbox.no_new_privileges()
        if spec.get("landlock", True):
            sandbox.landlock_restrict(spec["read"], [str(scratch), os.devnull])
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != scratch.resolve()]
        sandbox.set_process_name("nnlab-worker")
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        output = CappedOutput(1, 2, int(spec["output_cap"]))
        sys.stdout, sys.stderr = output.stdout, output.stderr
        Worker(socket.socket(fileno=rpc_fd), output).serve()
    except BaseException:  # noqa: BLE001 - report and leave
        with contextlib.suppress(BaseException):
            os.write(2, traceback.format_exc().encode())
    finally:
        os._exit(0)


if __name__ == "__main__":
    zygote_main()
