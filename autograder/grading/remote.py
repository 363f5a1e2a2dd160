"""The grader's side of one notebook's worker: start it, send requests, serve callbacks, read answers.

A grade cell runs in the grader's own process with the real ``autograder`` and the source notebook's
locked cells; each exercise name is bound to a proxy (:mod:`autograder.grading.proxy`). Calling a proxy
sends the arguments to the worker (:mod:`~autograder.grading.encode`), where the student's object is
called under the exercise's ``forbid=`` list and time limit (:mod:`~autograder.grading.guard_bridge`). The
answer is read strictly (:mod:`~autograder.grading.decode`); a result with a ``grad_fn`` back-propagates
through the worker (:mod:`~autograder.grading.autograd_bridge`). The processes: :mod:`~autograder.grading.process`.
"""

from __future__ import annotations

import contextlib
import select
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import torch

from autograder import guard
from autograder.checks import state as global_state
from autograder.grading import protocol, wire
from autograder.grading.decode import Decoder
from autograder.grading.encode import Encoder, Pack
from autograder.grading.errors import CannotGradeRemotely, NotebookDeadline, ProcessDied, ProtocolViolation
from autograder.grading.guard_bridge import active_guard, install_guard_hooks
from autograder.grading.options import DEFAULTS
from autograder.grading.process import WorkerProcess, Zygote, readable_paths, worker_env
from autograder.grading.proxy import RemoteObject

__all__ = ["CannotGradeRemotely", "NotebookDeadline", "ProcessDied", "ProtocolViolation", "Session", "Zygote",
           "install_guard_hooks", "readable_paths", "worker_env"]  # fmt: skip

GRACE_S = 2.0


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Suspend the grader's own guards while the grader (not student code) moves data.

    It lives in this module because ``autograder.guard`` lets this module (by name) switch its profiler off.
    """
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


def settings() -> dict[str, Any]:
    """The grader's global settings that travel with every request: the worker runs student code under them
    (the random state, the default dtype, anomaly detection, deterministic algorithms; a call adds grad mode)."""
    now = global_state.snapshot()
    return {"rng": protocol.rng_state(), "dtype": str(now.default_dtype).removeprefix("torch."),
            "anomaly": now.anomaly, "deterministic": now.deterministic}  # fmt: skip


class Session(Encoder, Decoder):
    """One notebook's worker, as the grader sees it. Not thread-safe; one per grading process at a time."""

    quiet = staticmethod(quiet)

    def __init__(self, zygote: Zygote, spec: dict, *, deadline: float, op_timeout: float = 10.0,
                 call_cap: float | None = None, output_cap: int = DEFAULTS.output_cap) -> None:  # fmt: skip
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
        self.calls: list[Pack] = []  # the calls in progress, innermost last

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
        payload = wire.dumps(request)
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
                if length > protocol.MAX_MESSAGE or kind != protocol.ANSWER:
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
            message = wire.loads(payload)
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
        request.update(settings())
        request.setdefault("timeout", timeout)
        busy = True
        try:
            with quiet():
                self._send(request)
            while True:
                with quiet():
                    reply = self._receive(deadline, timeout)
                dropped = reply[-1].get("dropped")
                if type(dropped) is int and dropped > 0:
                    self.output_dropped += dropped
                if reply[0] == "callback":
                    self._serve_callback(reply)
                    continue
                busy = False
                if "global" in reply[-1]:  # a global setting the student's code left changed in the worker
                    global_state.apply(reply[-1]["global"])
                return reply
        except BaseException:
            if busy and self.alive:
                self._die("the grader stopped it while it was running (a time limit)", "timeout")
            raise
        finally:
            self._collect_output()

    # ------------------------------------------------------------ requests

    def _timeout(self, call: bool = False) -> float:
        """Seconds the worker gets: what is left of the check's own time limit (``ag.time_limit``) if one is
        active, else ``call_timeout`` for a call and ``op_timeout`` for an attribute, item, repr..."""
        active = active_guard()
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
        message["forbid"] = active_guard().forbid
        return self._finish(self.transact(message, self._timeout()), pack)

    def call(self, proxy: RemoteObject, args: tuple, kwargs: dict) -> Any:
        if object.__getattribute__(proxy, "_ag_gen") != self.gen:
            raise ProcessDied("this object belonged to an earlier run of the notebook's process")
        active = active_guard()
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

    def _finish(self, reply: tuple, pack: Pack | None) -> Any:
        if len(reply) != 3 or reply[0] not in ("ok", "raise"):
            raise self._bad("answer")
        status, value, extras = reply
        with quiet():
            self._common(extras)
            if status == "raise":
                raise self._exception(value)
            return self.decode(value, pack)

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
            with quiet():
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
        with quiet():
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
            with quiet():
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
            text += f"\n[... at least {self.output_dropped} more bytes of output were dropped]"
        return text
