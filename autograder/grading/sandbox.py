"""Operating-system confinement for the process that runs student code (Linux; ctypes, no extra packages).

Each layer is used where the kernel and the grader's privileges allow it and skipped otherwise;
:func:`capabilities` says which are available, and ``autograder/README.md`` states what each guarantees.

* resource limits (``setrlimit``): address space, file size, no core files, CPU seconds, and the number
  of processes when the grader is not root (the kernel ignores ``RLIMIT_NPROC`` for uid 0);
* Landlock (any user, Linux >= 5.13): read only the Python installation and the course packages, write
  only the scratch directory, no TCP, no signals to processes outside the sandbox (ABI >= 6);
* namespaces (root only): a new PID namespace (the worker is its init: when it dies, the kernel kills
  every process left in it, detached or not), a new network namespace (no interface but a downed
  loopback), a new mount namespace (a private /proc, a size-limited tmpfs scratch directory);
* capabilities dropped (root only): uid 0 without any capability cannot raise its limits, mount,
  trace or signal other users' processes;
* ``PR_SET_PDEATHSIG`` and ``PR_SET_CHILD_SUBREAPER``: a process whose parent dies is killed, and an
  orphaned descendant is re-parented to its launcher, never to init, so :func:`kill_descendants` finds it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_NAME = 15

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REC = 16384
MS_PRIVATE = 1 << 18

# x86_64 and aarch64 share the Landlock syscall numbers (they were added after the tables converged).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_TRUNCATE = 1 << 14
FS_IOCTL_DEV = 1 << 15
FS_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1


def _prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(arg4), ctypes.c_ulong(arg5))


def set_process_name(name: str) -> None:
    """The name shown in /proc/PID/comm (15 bytes)."""
    _prctl(PR_SET_NAME, ctypes.cast(ctypes.c_char_p(name.encode()[:15]), ctypes.c_void_p).value or 0)


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Get ``sig`` when the parent exits; exit now if it already has (the fork raced with its death)."""
    parent = os.getppid()
    _prctl(PR_SET_PDEATHSIG, sig)
    if os.getppid() != parent:
        os._exit(1)


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process instead of init."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1) == 0


def is_root() -> bool:
    return os.geteuid() == 0


def unshare(flags: int) -> bool:
    """``unshare(2)``; False (and nothing changed) when the kernel or privileges refuse."""
    return _libc.unshare(ctypes.c_int(flags)) == 0


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> bool:
    return (
        _libc.mount(
            source.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
            data.encode() if data else None,
        )
        == 0
    )  # fmt: skip


def private_mounts(proc: bool, scratch: Path | None, scratch_bytes: int) -> list[str]:
    """In a new mount namespace: stop propagation, mount a fresh /proc and a size-limited tmpfs scratch."""
    done = []
    if not _mount("none", "/", None, MS_REC | MS_PRIVATE):
        return done
    if proc and _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC):
        done.append("proc")
    if scratch is not None:
        opts = f"size={scratch_bytes},mode=0700"
        if _mount("tmpfs", str(scratch), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts):
            done.append("tmpfs")
    return done


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> bool:
    """Drop every capability (bounding, ambient, effective, permitted), for good."""
    for cap in range(64):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    # SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP(_LOCKED) | SECBIT_KEEP_CAPS_LOCKED
    _prctl(PR_SET_SECUREBITS, 0x01 | 0x02 | 0x04 | 0x08 | 0x20)
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    return _libc.capset(ctypes.byref(header), data) == 0


def no_new_privileges() -> None:
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


# ---------------------------------------------------------------- Landlock


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]  # fmt: skip


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    version = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(version), 0)


def landlock_restrict(read: Iterable[str], write: Iterable[str]) -> int:
    """Confine this process (and its future children) to reading ``read`` and writing ``write``.

    Execution of files is denied everywhere; so are TCP bind/connect (ABI >= 4) and signals or abstract
    unix sockets reaching outside the sandbox (ABI >= 6). Returns the ABI used (0: not confined).
    """
    abi = landlock_abi()
    if abi < 1:
        return 0
    fs = (1 << 13) - 1
    if abi >= 2:
        fs |= 1 << 13  # REFER
    if abi >= 3:
        fs |= FS_TRUNCATE
    if abi >= 5:
        fs |= FS_IOCTL_DEV
    attr = _RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)  # fmt: skip
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return 0
    read_access = FS_READ_FILE | FS_READ_DIR
    write_access = fs & ~FS_EXECUTE & ~(1 << 6) & ~(1 << 11)  # no exec, no character/block devices
    try:
        for paths, access in ((read, read_access), (write, write_access | read_access)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    allowed = access if os.path.isdir(path) else access & FS_FILE_ONLY
                    rule = _PathBeneath(allowed & fs, fd)
                    _libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), LANDLOCK_RULE_PATH_BENEATH,
                                  ctypes.byref(rule), 0)  # fmt: skip
                finally:
                    os.close(fd)
        no_new_privileges()
        if _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), 0) != 0:
            return 0
    finally:
        os.close(ruleset)
    return abi


# ---------------------------------------------------------------- limits


def vm_size() -> int:
    """This process's current virtual memory size in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def user_tasks(uid: int) -> int:
    """Threads (tasks) running as ``uid``: what the kernel counts against ``RLIMIT_NPROC``."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = dict(line.split(":", 1) for line in Path(f"/proc/{entry}/status").read_text().splitlines())
                if int(fields["Uid"].split()[0]) == uid:
                    count += int(fields["Threads"])
            except (OSError, ValueError, KeyError):
                pass
    return count


def set_limits(*, memory_bytes: int, file_bytes: int, cpu_seconds: int, max_processes: int | None) -> None:
    """Hard resource limits for this process and its children (the address space grows by ``memory_bytes``;
    ``max_processes`` more tasks than the user runs now: the kernel counts all of the user's, and none of root's)."""

    def limit(which: int, value: int) -> None:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    limit(resource.RLIMIT_CORE, 0)
    limit(resource.RLIMIT_AS, vm_size() + memory_bytes)
    limit(resource.RLIMIT_FSIZE, file_bytes)
    limit(resource.RLIMIT_CPU, cpu_seconds)
    if max_processes is not None and not is_root():
        limit(resource.RLIMIT_NPROC, user_tasks(os.getuid()) + max_processes)


# ---------------------------------------------------------------- processes


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, resident bytes) of a process, None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        fields = stat[stat.rindex(b")") + 2 :].split()
        return int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def proportional_memory(pid: int) -> int:
    """Bytes of memory a process owns (PSS: pages shared after a fork are divided among the sharers)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of ``root``: pid -> resident bytes (one scan of /proc)."""
    parent_of: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info:
                parent_of[int(entry)], rss[int(entry)] = info
    out: dict[int, int] = {}
    for pid in parent_of:
        seen, p = 0, pid
        while p in parent_of and seen < 4096:
            p, seen = parent_of[p], seen + 1
            if p == root:
                out[pid] = rss[pid]
                break
    return out


def kill_descendants(root: int, rounds: int = 20) -> int:
    """SIGKILL every descendant of ``root`` (again, until none is left); return how many were killed."""
    killed = 0
    for _ in range(rounds):
        pids = descendants(root)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.01)
    return killed


def reap() -> None:
    """Collect every exited child without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except OSError as exc:
        if exc.errno not in (errno.ESRCH, errno.EPERM):
            raise


def capabilities() -> dict[str, object]:
    """What confinement this machine offers the grader (for the run log and the README's table)."""
    return {
        "platform": sys.platform,
        "root": is_root(),
        "landlock_abi": landlock_abi() if sys.platform == "linux" else 0,
    }
