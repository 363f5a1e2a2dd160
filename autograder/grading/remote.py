"""The grader's side of a worker: start it, talk to it, and stand in for the student's objects.

A grade cell runs in the grader's own process with the real ``autograder`` and the source notebook's
locked cells; each exercise name is bound to a *proxy*. Calling a proxy sends the arguments to the
worker (tensors by value, the grader's own functions as callbacks), where the student's object is
called under the exercise's ``forbid=`` list and time limit (taken from the ``ag`` guard that is active
in the grader, see :func:`install_guard_hooks`). The result comes back by value, read with
``torch.load(weights_only=True)`` and checked node by node, or as a handle to an object that stays in
the worker (a student's ``Linear(3, 2)``), whose attributes, methods, items and iteration are proxied
too. In-place changes to tensor arguments and the global random state are copied back, so an
initializer that fills its argument behaves as it would in one process; tensors that come from the
worker are mirrored (written back when the grader changes them in place, refreshed when the worker
does), and a result with a ``grad_fn`` back-propagates through the worker.
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import functools
import io
import json
import os
import pickle
import re
import select
import signal
import socket
import subprocess
import sys
import time
import types
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

import autograder
from autograder import guard
from autograder.grading import protocol, sandbox
from autograder.grading.worker import rebuild_optimizer

GRACE_S = 2.0
SPAWN_TIMEOUT_S = 60.0
ZYGOTE_TIMEOUT_S = 300.0


class ProcessDied(Exception):  # noqa: N818 - the name appears in students' messages
    """The notebook's process ended (or was stopped) while it was running student code."""


class NotebookDeadline(BaseException):  # noqa: N818
    """The notebook used up its time; nothing more of it is graded."""


class CannotGradeRemotely(BaseException):  # noqa: N818
    """A grade cell needs something a proxy cannot express: fail closed, never open."""


class ProtocolViolation(Exception):
    """The worker sent something that is not a well-formed answer."""


# ---------------------------------------------------------------- the ag guard, seen from the grader


@dataclass
class _Guard:
    forbid: tuple[str, ...] = ()
    hits: list[str] | None = None
    deadline: float | None = None


_NO_GUARD = _Guard()
_ACTIVE: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar("autograder_remote_guard", default=None)


def _active() -> _Guard:
    """The ag guard active here (ban list, hits, deadline); an empty one outside any check."""
    return _ACTIVE.get() or _NO_GUARD


_HOOKED = False


def install_guard_hooks() -> None:
    """Make ``ag.forbid``/``ag.time_limit`` (as used by every check) also tell proxies what is active.

    In-process the guards watch the student's code directly; here that code runs in the worker, so the
    proxies forward the active ban list and the time left with each call. Done once per grading process.
    """
    global _HOOKED
    if _HOOKED:
        return
    original_forbid, original_limit = guard.forbid, guard.time_limit

    @contextlib.contextmanager
    def forbid(*paths: str) -> Iterator[list[str]]:
        with original_forbid(*paths) as hits:
            outer = _active()
            token = _ACTIVE.set(_Guard(outer.forbid + tuple(paths), hits, outer.deadline))
            try:
                yield hits
            finally:
                _ACTIVE.reset(token)

    @contextlib.contextmanager
    def time_limit(seconds: float | None) -> Iterator[None]:
        outer = _active()
        deadline = outer.deadline
        if seconds:
            deadline = min(deadline or float("inf"), time.monotonic() + seconds)
        token = _ACTIVE.set(_Guard(outer.forbid, outer.hits, deadline))
        try:
            with original_limit(seconds):
                yield
        finally:
            _ACTIVE.reset(token)

    functools.update_wrapper(forbid, original_forbid)
    functools.update_wrapper(time_limit, original_limit)
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "") or ""
        if name.split(".")[0] in ("autograder", "nnlab"):
            for attr, value in list(vars(module).items()):
                if value is original_forbid:
                    setattr(module, attr, forbid)
                elif value is original_limit:
                    setattr(module, attr, time_limit)
    _HOOKED = True


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Suspend the grader's own guards while the grader (not student code) moves data."""
    profiler = sys.getprofile()
    swap = callable(profiler)  # ag.forbid's profiler (a C-level one, e.g. cProfile, is left alone)
    if swap:
        sys.setprofile(None)
    try:
        with torch._C.DisableTorchFunction():
            yield
    finally:
        if swap:
            sys.setprofile(profiler)


# ---------------------------------------------------------------- processes


class Zygote:
    """One pre-imported process per grading slot that forks a launcher and a worker per notebook."""

    def __init__(self, config: dict, env: dict[str, str], log: Any = subprocess.DEVNULL) -> None:
        self.config, self.env, self.log = config, env, log
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.vm = 0

    def start(self) -> None:
        parent, child = socket.socketpair()
        env = dict(self.env, NNLAB_ZYGOTE_FD=str(child.fileno()))
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.grading.worker"], env=env, pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True, cwd="/",
        )  # fmt: skip
        child.close()
        self.sock = parent
        parent.sendall(json.dumps(self.config).encode() + b"\n")
        parent.settimeout(ZYGOTE_TIMEOUT_S)
        line = b""
        while not line.endswith(b"\n"):
            chunk = parent.recv(4096)
            if not chunk:
                raise RuntimeError("the grading worker's zygote failed to start (see the slot log)")
            line += chunk
        parent.settimeout(None)
        self.vm = int(json.loads(line).get("vm", 0))

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
        proc = WorkerProcess(rpc, out_r, st_r)
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

    def __init__(self, rpc: socket.socket, out_fd: int, status_fd: int) -> None:
        self.rpc, self.out_fd, self.status_fd = rpc, out_fd, status_fd
        self.pid = 0
        self.flags: list[str] = []
        self.exit: tuple[int, str] | None = None
        self.output = bytearray()
        self.output_dropped = 0
        self.output_cap = 64 * 1024
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


# ---------------------------------------------------------------- proxies


class RemoteObject:
    """A handle to an object that lives in the worker. Everything on it is a request to the worker."""

    __slots__ = ("_ag_session", "_ag_rid", "_ag_gen", "__weakref__")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_ag_"):
            raise AttributeError(name)
        return self._ag_session.request("getattr", self, name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_ag_"):
            object.__setattr__(self, name, value)
        else:
            self._ag_session.request("setattr", self, value, name=name)

    def __delattr__(self, name: str) -> None:
        self._ag_session.request("delattr", self, name=name)

    @property
    def __class__(self) -> Any:  # isinstance(proxy, nn.Module) asks the worker's class
        return self._ag_session.stand_in(self._ag_session.request("getattr", self, name="__class__"))

    def __repr__(self) -> str:
        return self._ag_session.text("repr", self)

    def __str__(self) -> str:
        return self._ag_session.text("str", self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __dir__(self) -> list[str]:
        return list(self._ag_session.request("dir", self))

    def __len__(self) -> int:
        value = self._ag_session.request("len", self)
        if type(value) is not int or value < 0:
            raise ProtocolViolation("len() gave no length")
        return value

    def __bool__(self) -> bool:
        return bool(self._ag_session.request("bool", self) is True)

    def __hash__(self) -> int:
        value = self._ag_session.request("hash", self)
        return value if type(value) is int else id(self)

    def __iter__(self) -> Iterator[Any]:
        return _RemoteIterator(self._ag_session, self._ag_session.request("iter", self))

    def __next__(self) -> Any:
        return next(_RemoteIterator(self._ag_session, self))

    def __contains__(self, item: Any) -> bool:
        return self._ag_session.request("contains", self, item) is True

    def __getitem__(self, key: Any) -> Any:
        return self._ag_session.request("getitem", self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ag_session.request("setitem", self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._ag_session.request("delitem", self, key)

    def __deepcopy__(self, memo: dict) -> Any:
        return self._ag_session.request("deepcopy", self)

    def __copy__(self) -> Any:
        return self._ag_session.request("copy", self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise CannotGradeRemotely("a handle to the student's object cannot be copied out of its process")

    def __enter__(self) -> Any:
        return self._ag_session.request("getattr", self, name="__enter__")()

    def __exit__(self, *exc: Any) -> Any:
        return self._ag_session.request("getattr", self, name="__exit__")(*exc)


def _binary(op: str) -> Callable:
    def method(self: RemoteObject, other: Any) -> Any:
        return self._ag_session.request(op, self, other)

    return method


def _reflected(op: str) -> Callable:
    def method(self: RemoteObject, other: Any) -> Any:
        return self._ag_session.request("rcall", self, op, other)

    return method


def _unary(op: str) -> Callable:
    def method(self: RemoteObject) -> Any:
        return self._ag_session.request(op, self)

    return method


for _op in ("eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
            "and", "or", "xor"):  # fmt: skip
    _name = _op + "_" if _op in ("and", "or") else _op
    setattr(RemoteObject, f"__{_op}__", _binary(_name))
    if _op not in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(RemoteObject, f"__r{_op}__", _reflected(_name))
for _op in ("neg", "pos", "abs", "invert", "index"):
    setattr(RemoteObject, f"__{_op}__", _unary(_op))


class RemoteCallable(RemoteObject):
    """A handle to a function, class or other callable object of the student's."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ag_session.call(self, args, kwargs)

    def __instancecheck__(self, instance: Any) -> bool:
        if not isinstance(instance, RemoteObject):
            return False
        return self._ag_session.request("isinstance", self, instance) is True

    def __subclasscheck__(self, subclass: Any) -> bool:
        if not isinstance(subclass, RemoteObject):
            return False
        return self._ag_session.request("issubclass", self, subclass) is True


class _RemoteIterator:
    """Iterates a remote iterator in batches."""

    def __init__(self, session: Session, handle: Any) -> None:
        self.session, self.handle, self.items, self.done = session, handle, [], False

    def __iter__(self) -> _RemoteIterator:
        return self

    def __next__(self) -> Any:
        if not self.items and not self.done:
            if not isinstance(self.handle, RemoteObject):
                raise TypeError(f"iter() gave a {type(self.handle).__name__}, not an iterator")
            batch = self.session.request("next_batch", self.handle, 64)
            if type(batch) is not tuple or len(batch) != 2 or type(batch[0]) is not list:
                raise ProtocolViolation("malformed iteration")
            self.items, self.done = list(batch[0]), batch[1] is True
            self.items.reverse()
        if not self.items:
            raise StopIteration
        return self.items.pop()


_PROXY_CLASSES: dict[tuple[str, bool], type] = {}


def _proxy_class(name: str, is_callable: bool) -> type:
    """A proxy class named after the remote type, so messages read ``it returned Linear``."""
    clean = re.sub(r"\W", "_", name)[:40] or "RemoteObject"
    if not clean[0].isalpha():
        clean = "Remote_" + clean
    key = (clean, is_callable)
    if key not in _PROXY_CLASSES:
        if len(_PROXY_CLASSES) > 512:
            key = ("RemoteObject", is_callable)
        base = RemoteCallable if is_callable else RemoteObject
        _PROXY_CLASSES[key] = _PROXY_CLASSES.get(key) or type(key[0], (base,), {"__slots__": ()})
    return _PROXY_CLASSES[key]


class _Lease:
    """Keeps a worker's object alive while anything here refers to it (a tensor, its autograd node)."""

    __slots__ = ("__weakref__",)


class _RemoteGrad(torch.autograd.Function):
    """Connects a result computed in the worker to the grader's autograd graph.

    ``y.grad_fn.saved_tensors`` shows (copies of) what the worker's node saved, and ``y.grad_fn`` passed back
    to the student's code (``SigmoidFunction.backward(y.grad_fn, g)``) is the worker's own node.
    """

    @staticmethod
    def forward(ctx: Any, link: Any, lease: Any, saved: list, data: torch.Tensor, dummy: torch.Tensor,
                *leaves: torch.Tensor) -> torch.Tensor:  # fmt: skip
        ctx.link, ctx.lease = link, lease
        if saved:
            ctx.save_for_backward(*saved)
        return data.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple:
        session, rid, gen, shapes = ctx.link
        grads = session.backward(rid, gen, grad.detach(), shapes)
        return (None, None, None, None, None, *grads)


# ---------------------------------------------------------------- the session


@dataclass
class _Pack:
    """What was sent with one request: the tensors in argument order, and what they were locally."""

    locals: list[Any] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)
    pids: list[tuple] = field(default_factory=list)
    leaves: list[torch.Tensor] = field(default_factory=list)
    tracked: list[Any] = field(default_factory=list)  # objects sent by value whose state comes back
    tracked_ids: set[int] = field(default_factory=set)


_FUNCTIONS = (types.FunctionType, types.LambdaType)
_ALLOWED_DTYPES = {
    name for name in dir(torch) if isinstance(getattr(torch, name, None), torch.dtype) and not name.startswith("_")
}
_SAFE_EXCEPTIONS = {"SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException", "BaseExceptionGroup"}


class Session:
    """One notebook's worker, as the grader sees it. Not thread-safe; one per grading process at a time."""

    def __init__(self, zygote: Zygote, spec: dict, *, deadline: float, op_timeout: float = 10.0,
                 call_cap: float | None = None, output_cap: int = 64 * 1024) -> None:  # fmt: skip
        self.zygote, self.spec = zygote, spec
        self.deadline = deadline
        self.op_timeout, self.call_cap, self.output_cap = op_timeout, call_cap, output_cap
        self.call_timeout = 60.0
        self.proc: WorkerProcess | None = None
        self.gen = 0
        self.dead_reason = ""
        self.incident = ""
        self.output = bytearray()
        self.output_dropped = 0
        self.flags: list[str] = []
        self.released: list[int] = []
        self.mirrors: dict[int, tuple[weakref.ref, int]] = {}
        self.proxies: weakref.WeakValueDictionary[int, RemoteObject] = weakref.WeakValueDictionary()
        self.callbacks: dict[int, Callable] = {}
        self.callback_ids: dict[int, int] = {}
        self.trusted: dict[str, Any] = {}
        self.exceptions: dict[tuple[str, type], type] = {}
        self.stand_ins: dict[int, Any] = {}
        self.calls: list[_Pack] = []  # the calls in progress, innermost last

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.close()
        self.gen += 1
        self.mirrors.clear()
        self.stand_ins.clear()
        self.proxies = weakref.WeakValueDictionary()
        self.released.clear()
        self.dead_reason = ""
        self.proc = self.zygote.spawn(self.spec)
        self.flags = self.proc.flags

    @property
    def alive(self) -> bool:
        return self.proc is not None and not self.dead_reason

    def close(self) -> None:
        if self.proc is not None:
            self.proc.close()
            self._collect_output()
            self.proc = None

    def _collect_output(self) -> None:
        if self.proc is None:
            return
        room = self.output_cap - len(self.output)
        self.output += self.proc.output[: max(room, 0)]
        self.output_dropped += self.proc.output_dropped + max(len(self.proc.output) - max(room, 0), 0)
        self.proc.output.clear()
        self.proc.output_dropped = 0

    def _die(self, reason: str, incident: str) -> None:
        """Stop the worker (the launcher kills everything it started) and remember why."""
        if self.proc is not None and not self.dead_reason:
            self.proc.kill()
            self.proc.wait_exit(3.0)
        self.dead_reason = reason
        self.incident = self.incident or incident

    # ------------------------------------------------------------ transport

    def _send(self, request: dict) -> None:
        payload = pickle.dumps(request, protocol=5)
        try:
            self.proc.rpc.sendall(protocol.frame(protocol.PICKLE, payload))
        except OSError as exc:
            raise self._gone() from exc

    def _gone(self) -> ProcessDied:
        assert self.proc is not None
        self.proc.wait_exit(2.0)
        reason, kind = self.proc.death()
        self._die(reason, kind)
        return ProcessDied(f"the notebook's process ended while running your code: {reason}")

    def _receive(self, deadline: float, timeout: float) -> tuple:
        proc = self.proc
        assert proc is not None
        while True:
            buf = proc.buffer
            if len(buf) >= protocol.HEADER.size:
                length, kind = protocol.HEADER.unpack_from(buf)
                if length > protocol.MAX_MESSAGE or kind != protocol.TORCH:
                    self._die("it sent a message the grader refuses (too large or malformed)", "crashed")
                    raise ProcessDied("the notebook's process sent more data than the grader accepts")
                end = protocol.HEADER.size + length
                if len(buf) >= end:
                    payload = bytes(buf[protocol.HEADER.size : end])
                    del buf[:end]
                    return self._load(payload)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if deadline >= self.deadline:
                    self._die("the notebook's time ran out", "deadline")
                    raise NotebookDeadline("the notebook used up its grading time")
                self._die("it did not answer in time", "timeout")
                raise guard.StudentTimeout("no answer in time")
            if proc.pump(min(remaining, 0.5)):
                try:
                    chunk = proc.rpc.recv(1 << 20)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise self._gone()
                buf += chunk
            if proc.exit is not None and not select.select([proc.rpc], [], [], 0)[0]:
                raise self._gone()

    def _load(self, payload: bytes) -> tuple:
        try:
            message = torch.load(io.BytesIO(payload), weights_only=True)
        except Exception as exc:  # noqa: BLE001 - anything unreadable is the worker's fault
            self._die("it sent data the grader cannot read", "crashed")
            raise ProcessDied(
                f"the notebook's process sent something that is not a result ({type(exc).__name__})"
            ) from None
        if type(message) is not tuple or not message or type(message[-1]) is not dict:
            self._die("it sent a malformed message", "crashed")
            raise ProcessDied("the notebook's process sent a malformed answer")
        return message

    def transact(self, request: dict, timeout: float) -> tuple:
        """Send a request, serve callbacks until the answer comes; kill the worker on any interruption."""
        if not self.alive:
            raise ProcessDied(f"the notebook's process is not running ({self.dead_reason or 'not started'})")
        timeout = max(0.05, min(timeout, self.deadline - time.monotonic()))
        deadline = min(time.monotonic() + timeout + GRACE_S, self.deadline)
        request["release"], self.released = self.released, []
        request["pushes"] = self._pushes()
        request["rng"] = torch.get_rng_state()
        request["dtype"] = str(torch.get_default_dtype()).removeprefix("torch.")
        request.setdefault("timeout", timeout)
        busy = True
        try:
            with _quiet():
                self._send(request)
            while True:
                with _quiet():
                    reply = self._receive(deadline, timeout)
                if reply[0] == "callback":
                    self._serve_callback(reply)
                    continue
                busy = False
                return reply
        except BaseException:
            if busy and self.alive:
                self._die("the grader stopped it while it was running (a time limit)", "timeout")
            raise
        finally:
            self._collect_output()

    # ------------------------------------------------------------ sending values

    def _mirror(self, t: torch.Tensor) -> int | None:
        for rid, (ref, _) in self.mirrors.items():
            if ref() is t:
                return rid
        return None

    def _pushes(self) -> list:
        out = []
        for rid, (ref, version) in list(self.mirrors.items()):
            t = ref()
            if t is not None and t._version != version:
                grad = t.grad.detach().clone() if t.is_leaf and t.grad is not None else None
                out.append((rid, t.detach().clone(), bool(t.requires_grad), grad))
                self.mirrors[rid] = (ref, t._version)
        return out

    def _persistent_id(self, obj: Any, pack: _Pack) -> Any:
        t = type(obj)
        if issubclass(t, RemoteObject):
            if object.__getattribute__(obj, "_ag_session") is not self or obj._ag_gen != self.gen:
                raise CannotGradeRemotely("an object of the student's from an earlier process was used again")
            return ("h", obj._ag_rid)
        if issubclass(t, torch.Tensor) or t is torch.Generator:
            if id(obj) in pack.index:
                return pack.pids[pack.index[id(obj)]]
            if t is torch.Generator:
                entry: tuple = ("gen", obj.get_state())
            elif t is torch.Tensor or t is nn.Parameter:
                rid = self._mirror(obj)
                if rid is not None:
                    entry = ("rt", rid)
                else:
                    grad = obj.grad.detach().clone() if obj.is_leaf and obj.grad is not None else None
                    # detach(), not clone(): pickle copies the storage and keeps the view (offset, strides),
                    # so a non-contiguous view arrives as one (reshape copies it there too)
                    data = obj.detach().as_subclass(torch.Tensor)
                    entry = ("t", data, bool(obj.requires_grad), t is nn.Parameter, grad)
            else:
                raise CannotGradeRemotely(f"a tensor subclass ({t.__name__}) cannot be sent to the notebook's process")
            idx = len(pack.locals)
            pid = (entry[0], idx)
            pack.locals.append(obj)
            pack.entries.append(entry)
            pack.index[id(obj)] = idx
            pack.pids.append(pid)
            return pid
        if isinstance(obj, torch.autograd.function.BackwardCFunction):
            link = getattr(obj, "link", None)
            if type(link) is tuple and len(link) == 4 and link[0] is self and link[2] == self.gen:
                return ("gradfn", link[1])
            raise CannotGradeRemotely("an autograd node of the grader's cannot be sent to the notebook's process")
        if (
            isinstance(obj, nn.Module | torch.optim.Optimizer)
            or getattr(t, "__module__", "") == protocol.NOTEBOOK_MODULE
        ):
            if id(obj) not in pack.tracked_ids and not isinstance(obj, type):
                pack.tracked_ids.add(id(obj))
                pack.tracked.append(obj)
        if isinstance(obj, _FUNCTIONS) or isinstance(obj, type):
            module = getattr(obj, "__module__", None)
            qualname = getattr(obj, "__qualname__", "")
            if module == protocol.NOTEBOOK_MODULE:
                if self.trusted.get(qualname) is obj:
                    return ("ns", qualname)
                if isinstance(obj, type):
                    raise CannotGradeRemotely(
                        f"the class {qualname} of a test cannot be sent to the notebook's process"
                    )
                return self._callback_id(obj)
            if isinstance(obj, type) or self._importable(obj, module, qualname):
                return None
            return self._callback_id(obj)
        return None

    @staticmethod
    def _importable(obj: Any, module: str | None, qualname: str) -> bool:
        target: Any = sys.modules.get(module or "")
        for part in qualname.split("."):
            target = getattr(target, part, None)
        return target is obj

    def _callback_id(self, fn: Callable) -> tuple:
        cid = self.callback_ids.get(id(fn))
        if cid is None or self.callbacks.get(cid) is not fn:
            cid = len(self.callbacks) + 1
            self.callbacks[cid] = fn
            self.callback_ids[id(fn)] = cid
        return ("cb", cid, str(getattr(fn, "__name__", "function"))[:60])

    def pack(self, args: tuple, kwargs: dict) -> tuple[dict, _Pack]:
        pack = _Pack()
        session = self

        class Pickler(pickle.Pickler):
            def persistent_id(self, obj: Any) -> Any:
                return session._persistent_id(obj, pack)

            def reducer_override(self, obj: Any) -> Any:
                if isinstance(obj, torch.optim.Optimizer) and not isinstance(obj, RemoteObject):
                    # pickle drops an optimizer's hooks: send them (as callbacks, if they are the test's)
                    hooks = (
                        list(obj._optimizer_step_pre_hooks.values()),
                        list(obj._optimizer_step_post_hooks.values()),
                    )
                    return (rebuild_optimizer, (type(obj), obj.__getstate__(), *hooks))
                return NotImplemented

        buf = io.BytesIO()
        try:
            with _quiet():
                pickler = Pickler(buf, protocol=5)
                pickler.dump((tuple(args), dict(kwargs)))
                pickler.dump(pack.tracked)
                hooks = [(i, list(t._backward_hooks.values())) for i, t in enumerate(pack.locals)
                         if isinstance(t, torch.Tensor) and t._backward_hooks]  # fmt: skip
                pickler.dump(hooks)
        except CannotGradeRemotely:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a generator, a lock, an open file
            raise CannotGradeRemotely(f"an argument cannot be sent to the notebook's process: {exc}") from None
        pack.leaves = [t for t in pack.locals if isinstance(t, torch.Tensor) and t.requires_grad]
        grad_idx = [i for i, t in enumerate(pack.locals) if isinstance(t, torch.Tensor) and t.requires_grad]
        return {"tensors": pack.entries, "args": buf.getvalue(), "grad_idx": grad_idx}, pack

    # ------------------------------------------------------------ receiving values

    def _bad(self, what: str) -> ProtocolViolation:
        self._die(f"it sent a malformed {what}", "crashed")
        return ProtocolViolation(f"the notebook's process sent a malformed {what}")

    def decode(self, node: Any, pack: _Pack | None = None, depth: int = 0) -> Any:
        if type(node) is not tuple or not node or type(node[0]) is not str or depth > 40:
            raise self._bad("value")
        tag = node[0]
        if tag == "v" and len(node) == 2 and type(node[1]) in (type(None), bool, int, float, complex, str):
            return node[1]
        if tag == "b" and len(node) == 2 and type(node[1]) is bytes:
            return node[1]
        if tag == "T" and len(node) in (5, 6):
            return self._tensor(node, pack)
        if tag == "A" and len(node) == 2 and pack is not None and type(node[1]) is int:
            if 0 <= node[1] < len(pack.locals) and isinstance(pack.locals[node[1]], torch.Tensor):
                return pack.locals[node[1]]
        if tag == "S" and len(node) == 2 and type(node[1]) is tuple and all(type(d) is int for d in node[1]):
            return torch.Size(node[1])
        if tag == "D" and len(node) == 2 and node[1] in _ALLOWED_DTYPES:
            return getattr(torch, node[1])
        if tag == "V" and len(node) == 2 and type(node[1]) is str and re.fullmatch(r"[a-z]+(:\d+)?", node[1]):
            return torch.device(node[1])
        if tag in ("tu", "li") and len(node) == 2 and type(node[1]) is list:
            items = [self.decode(x, pack, depth + 1) for x in node[1]]
            return tuple(items) if tag == "tu" else items
        if tag == "di" and len(node) == 2 and type(node[1]) is list:
            out = {}
            for pair in node[1]:
                if type(pair) is not tuple or len(pair) != 2:
                    raise self._bad("dict")
                out[self.decode(pair[0], pack, depth + 1)] = self.decode(pair[1], pack, depth + 1)
            return out
        if tag == "N" and len(node) == 2 and type(node[1]) is torch.Tensor:
            return node[1].numpy()
        if tag == "G" and len(node) == 3:
            return self._class(node[1], node[2])
        if tag == "H" and len(node) == 4 and type(node[1]) is int and type(node[2]) is str and type(node[3]) is bool:
            return self._proxy(node[1], node[2], node[3])
        raise self._bad(f"value ({tag!r})")

    def _class(self, module: Any, qualname: Any) -> type:
        if type(module) is not str or type(qualname) is not str or module.split(".")[0] not in protocol.CLASS_MODULES:
            raise self._bad("class reference")
        target: Any = sys.modules.get(module)
        for part in qualname.split("."):
            if not part.isidentifier() or part.startswith("__"):
                raise self._bad("class reference")
            target = getattr(target, part, None)
        if not isinstance(target, type):
            raise self._bad("class reference")
        return target

    def _proxy(self, rid: int, name: str, is_callable: bool) -> RemoteObject:
        proxy = self.proxies.get(rid)
        if proxy is not None:
            return proxy
        proxy = object.__new__(_proxy_class(name, is_callable))
        object.__setattr__(proxy, "_ag_session", self)
        object.__setattr__(proxy, "_ag_rid", rid)
        object.__setattr__(proxy, "_ag_gen", self.gen)
        self.proxies[rid] = proxy
        weakref.finalize(proxy, self._release, rid, self.gen)
        return proxy

    def _release(self, rid: int, gen: int) -> None:
        if gen == self.gen:
            self.released.append(rid)
            self.mirrors.pop(rid, None)

    def _tensor(self, node: tuple, pack: _Pack | None) -> torch.Tensor:
        _, rid, data, meta, grad = node[:5]
        saved = node[5] if len(node) == 6 else None
        if (
            type(rid) is not int
            or type(data) is not torch.Tensor
            or type(meta) is not dict
            or not all(type(meta.get(k)) is bool for k in ("rg", "param", "fn"))
            or (grad is not None and type(grad) is not torch.Tensor)
            or not (saved is None or (type(saved) is list and all(type(t) is torch.Tensor for t in saved)))
        ):
            raise self._bad("tensor")
        entry = self.mirrors.get(rid)
        local = entry[0]() if entry else None
        if local is not None:
            self._sync(local, data, meta["rg"], grad)
            self.mirrors[rid] = (entry[0], local._version)
            return local
        rg = meta["rg"] and (data.is_floating_point() or data.is_complex())
        lease = _Lease()
        weakref.finalize(lease, self._release, rid, self.gen)
        with _quiet():
            if meta["fn"] and rg:
                leaves = list(pack.leaves) if pack else []
                link = (self, rid, self.gen, [tuple(t.shape) for t in leaves])
                dummy = torch.zeros((), requires_grad=True)
                local = _RemoteGrad.apply(link, lease, saved or [], data, dummy, *leaves)
            elif meta["param"]:
                local = nn.Parameter(data, requires_grad=rg)
            else:
                local = data.requires_grad_(rg)
            if grad is not None and local.is_leaf and grad.shape == local.shape and grad.dtype == local.dtype:
                local.grad = grad
        local._ag_lease = lease
        self.mirrors[rid] = (weakref.ref(local), local._version)
        return local

    def _sync(self, local: torch.Tensor, data: torch.Tensor, rg: bool, grad: torch.Tensor | None) -> None:
        """Make a local tensor equal to the worker's (values, grad, requires_grad), in place."""
        with _quiet(), torch.no_grad():
            if local.shape == data.shape and local.dtype == data.dtype:
                same = local.detach().reshape(-1).view(torch.uint8) if local.numel() else None
                if same is None or not torch.equal(same, data.reshape(-1).contiguous().view(torch.uint8)):
                    local.copy_(data)
            else:
                local.data = data
            if local.is_leaf:
                if local.requires_grad != rg and (local.is_floating_point() or local.is_complex()):
                    local.requires_grad_(rg)
                if grad is None or (grad.shape == local.shape and grad.dtype == local.dtype):
                    local.grad = grad

    def _common(self, extras: dict) -> None:
        """Mirror refreshes, warnings and the random state that come with every answer."""
        for node in extras.get("refresh", ()) if type(extras.get("refresh", ())) is list else ():
            if type(node) is tuple and len(node) == 5 and node[0] == "T":
                rid = node[1]
                entry = self.mirrors.get(rid) if type(rid) is int else None
                if entry and entry[0]() is not None:
                    self._tensor(node, None)
        for item in extras.get("warnings", ())[:20] if type(extras.get("warnings", ())) is list else ():
            if type(item) is tuple and len(item) == 4 and all(type(x) is str for x in item[:3]):
                category = getattr(builtins, item[0], None)
                if not (isinstance(category, type) and issubclass(category, Warning)):
                    category = UserWarning
                with contextlib.suppress(Exception):
                    warnings.warn_explicit(item[1], category, item[2], int(item[3]) if type(item[3]) is int else 0)
        rng = extras.get("rng")
        if type(rng) is torch.Tensor and rng.dtype == torch.uint8 and rng.shape == torch.get_rng_state().shape:
            torch.set_rng_state(rng)

    def _exception(self, desc: Any) -> BaseException:
        if type(desc) is not dict:
            raise self._bad("exception")
        kind, name, message = desc.get("kind"), str(desc.get("type", "Exception")), str(desc.get("message", ""))
        if kind == "timeout":
            self.incident = self.incident or "timeout"
            return guard.StudentTimeout("no answer in time")
        if kind == "forbidden":
            return guard.ForbiddenCall(message)
        if kind == "memory":
            self.incident = self.incident or "memory"
        base: type = Exception
        for candidate in [name] + [str(b) for b in desc.get("bases", []) if type(b) is str]:
            cls = getattr(builtins, candidate, None)
            if isinstance(cls, type) and issubclass(cls, Exception):
                base = cls
                break
        if base.__name__ == name and name not in _SAFE_EXCEPTIONS:
            cls = base
        else:
            clean = re.sub(r"\W", "_", name)[:60] or "Exception"
            cls = self.exceptions.setdefault((clean, base), type(clean, (base,), {"__module__": "student"}))
        try:
            exc = cls(message)
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs 5 arguments
            return type(name, (Exception,), {})(message)
        if isinstance(exc, NotImplementedError) and type(desc.get("where")) is str:
            exc.raised_in = desc["where"][:100]  # read by guard.raised_in: the traceback stayed in the worker
        return exc

    # ------------------------------------------------------------ requests

    def _timeout(self, call: bool = False) -> float:
        """Seconds the worker gets: what is left of the check's own time limit (``ag.time_limit``) if one is
        active, else ``call_timeout`` for a call and ``op_timeout`` for an attribute, item, repr..."""
        active = _active()
        if active.deadline is not None:
            timeout = active.deadline - time.monotonic() - 0.25
        else:
            timeout = self.call_timeout if call else self.op_timeout
        if self.call_cap:
            timeout = min(timeout, self.call_cap)
        return max(timeout, 0.05)

    def request(self, op: str, proxy: RemoteObject, *args: Any, **fields: Any) -> Any:
        """An operation on a remote object (attribute, item, iteration, operator...)."""
        if object.__getattribute__(proxy, "_ag_gen") != self.gen:
            raise ProcessDied("this object belonged to an earlier run of the notebook's process")
        message, pack = self.pack(args, {})
        message.update(op=op, rid=proxy._ag_rid, **fields)
        message["forbid"] = _active().forbid
        return self._finish(self.transact(message, self._timeout()), pack)

    def call(self, proxy: RemoteObject, args: tuple, kwargs: dict) -> Any:
        if object.__getattribute__(proxy, "_ag_gen") != self.gen:
            raise ProcessDied("this object belonged to an earlier run of the notebook's process")
        active = _active()
        message, pack = self.pack(args, kwargs)
        message.update(op="call", rid=proxy._ag_rid, forbid=active.forbid, grad=torch.is_grad_enabled())
        self.calls.append(pack)
        try:
            reply = self.transact(message, self._timeout(call=True))
        finally:
            self.calls.pop()
        extras = reply[-1]
        post = extras.get("post")
        if type(post) is list and len(post) == len(pack.locals):
            for local, entry in zip(pack.locals, post):
                self._post(local, entry)
        states = extras.get("state")
        if type(states) is list and len(states) == len(pack.tracked):
            self._restate(pack, states)
        hits = extras.get("hits")
        if type(hits) is list and hits:
            if active.hits is not None:
                active.hits.extend(str(h) for h in hits)
            if reply[0] == "ok":
                self._common(extras)
                raise guard.ForbiddenCall(str(hits[0]))
        return self._finish(reply, pack)

    def _finish(self, reply: tuple, pack: _Pack | None) -> Any:
        if len(reply) != 3 or reply[0] not in ("ok", "raise"):
            raise self._bad("answer")
        status, value, extras = reply
        with _quiet():
            self._common(extras)
            if status == "raise":
                raise self._exception(value)
            return self.decode(value, pack)

    def _post(self, local: Any, entry: Any) -> None:
        if type(entry) is not tuple or not entry:
            return
        if entry[0] == "gen" and type(local) is torch.Generator and len(entry) == 2:
            if type(entry[1]) is torch.Tensor and entry[1].dtype == torch.uint8:
                with contextlib.suppress(Exception):
                    local.set_state(entry[1])
        elif entry[0] == "P" and isinstance(local, torch.Tensor) and len(entry) == 5:
            _, data, rg, grad, replaced = entry
            if type(data) is torch.Tensor and type(rg) is bool and (grad is None or type(grad) is torch.Tensor):
                if replaced is True:  # the student's code gave it new storage (tensor.data = ...): so do we
                    with _quiet(), torch.no_grad():
                        local.data = data
                self._sync(local, data, rg, grad)
                rid = self._mirror(local)
                if rid is not None:
                    self.mirrors[rid] = (self.mirrors[rid][0], local._version)

    def _restate(self, pack: _Pack, states: list) -> None:
        """Copy back the attributes (plain data and tensors) of objects the call received by value.

        In one process the student's code would change the test's own objects (a probe recording
        ``model.training``, an optimizer's state); here it changed copies, whose state comes back. The
        student's code could change those objects in one process too: no new trust is given.
        """
        with _quiet():
            for obj, state in zip(pack.tracked, states):
                if type(state) is not list:
                    continue
                for item in state:
                    if type(item) is tuple and len(item) == 2 and type(item[0]) is str and not item[0].startswith("__"):
                        with contextlib.suppress(Exception):
                            object.__setattr__(obj, item[0], self.decode(item[1], pack))

    def stand_in(self, cls: Any, depth: int = 0) -> Any:
        """A local class for a class of the worker's, with local stand-ins for its bases.

        ``isinstance(x, torch.Tensor)`` consults ``x.__class__`` only when it is a real class; the stand-in
        is one (``class Linear(nn.Module)`` of the student's becomes a local empty subclass of nn.Module).
        It is never instantiated: every use of the object still goes to the worker.
        """
        if not isinstance(cls, RemoteObject):  # (a type check: a proxy's __class__ is not consulted)
            return cls if isinstance(cls, type) else type(cls)
        if depth > 16:
            return type(cls)
        rid = cls._ag_rid
        if rid in self.stand_ins:
            return self.stand_ins[rid]
        made: Any = type(cls)
        try:
            bases = self.request("getattr", cls, name="__bases__")
            name = self.request("getattr", cls, name="__name__")
            if type(bases) is tuple and bases and type(name) is str:
                local = tuple(self.stand_in(b, depth + 1) for b in bases)
                if all(isinstance(b, type) for b in local):
                    clean = re.sub(r"\W", "_", name)[:60] or "StudentClass"
                    made = type(clean, local, {"__module__": "student", "__qualname__": clean})
        except Exception:  # noqa: BLE001 - no stand-in: isinstance() is then False, which fails closed
            made = type(cls)
        self.stand_ins[rid] = made
        return made

    def text(self, op: str, proxy: RemoteObject) -> str:
        try:
            value = self.request(op, proxy)
        except Exception:  # noqa: BLE001 - repr() inside a failure message must not fail
            return f"<{type(proxy).__name__} of the student's (unavailable)>"
        return value if type(value) is str else f"<{type(proxy).__name__}>"

    def backward(self, rid: int, gen: int, grad: torch.Tensor, shapes: list[tuple]) -> list:
        if gen != self.gen or not self.alive:
            raise RuntimeError("cannot back-propagate through a result of the student's: its process has ended")
        message, pack = self.pack((grad,), {})
        message.update(op="backward", rid=rid)
        grads = self._finish(self.transact(message, self._timeout()), pack)
        if type(grads) is not list or len(grads) != len(shapes):
            raise RuntimeError("the student's process returned gradients of the wrong number")
        out = []
        for g, shape in zip(grads, shapes):
            if g is not None and (not isinstance(g, torch.Tensor) or tuple(g.shape) != shape):
                raise RuntimeError("the student's process returned a gradient of the wrong shape")
            out.append(None if g is None else g.detach())
        return out

    def _serve_callback(self, message: tuple) -> None:
        if len(message) != 4 or type(message[1]) is not int:
            raise self._bad("callback")
        _, cid, encoded, extras = message
        fn = self.callbacks.get(cid)
        try:
            with _quiet():
                self._common(extras)
                post = extras.get("post") if type(extras) is dict else None
                if self.calls and type(post) is list and len(post) == len(self.calls[-1].locals):
                    for local, entry in zip(self.calls[-1].locals, post):
                        self._post(local, entry)
                decoded = self.decode(encoded)
            if fn is None or type(decoded) is not tuple or len(decoded) != 2 or type(decoded[1]) is not dict:
                raise ProtocolViolation("malformed callback")
            result = fn(*decoded[0], **decoded[1])
            reply, _ = self.pack((result,), {})
            reply["op"] = "reply"
        except Exception as exc:  # noqa: BLE001 - the test's function failed: the student's code sees an error
            reply = {"op": "reply", "error": f"{type(exc).__name__}: {exc}"}
        with _quiet():
            self._send(reply)

    # ------------------------------------------------------------ notebook-level operations

    def execute(self, source: str, filename: str, *, trusted: bool, timeout: float) -> dict | None:
        """Run one cell in the worker; None if it ran, else what went wrong (its exception or the process)."""
        request = {"op": "exec", "source": source, "filename": filename, "trusted": trusted, "timeout": timeout}
        try:
            reply = self.transact(request, timeout)
        except guard.StudentTimeout:
            return {"type": "Timeout", "message": f"the cell did not finish within {timeout:g} s", "kind": "timeout"}
        except ProcessDied as exc:
            return {"type": "ProcessDied", "message": str(exc), "kind": "crashed"}
        if reply[0] == "ok":
            with _quiet():
                self._common(reply[-1])
            return None
        desc = reply[1] if type(reply[1]) is dict else {"type": "Error", "message": "", "kind": "error"}
        return {"type": str(desc.get("type")), "message": str(desc.get("message", ""))[:2000],
                "kind": str(desc.get("kind"))}  # fmt: skip

    def fetch(self, names: list[str]) -> dict[str, Any]:
        """The values the worker's notebook namespace binds to ``names`` (proxies for functions and classes)."""
        reply = self.transact({"op": "names", "names": list(names)}, self.op_timeout)
        values = self._finish(reply, None)
        out = {}
        for item in values if type(values) is list else ():
            if type(item) is tuple and len(item) == 2 and type(item[0]) is str and item[0] in names:
                out[item[0]] = item[1]
        return out

    def take_incident(self) -> str:
        incident, self.incident = self.incident, ""
        return incident

    def log(self) -> str:
        text = self.output.decode("utf-8", errors="replace")
        if self.output_dropped:
            text += f"\n[... {self.output_dropped} more bytes of output were dropped]"
        return text


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
