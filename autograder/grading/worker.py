"""The worker: serves one notebook's requests inside the sandbox, where student code runs.

The grader asks it to execute a cell, call an object, read an attribute, iterate, back-propagate... Each
request that runs student code runs under the request's ``forbid=`` list, time limit, grad mode, default
dtype, anomaly detection, deterministic algorithms and random state, with warnings recorded. Every answer
goes back by value (tensors, numbers) or as a handle (:mod:`autograder.grading.worker_codec`), and the
grader decides (:mod:`autograder.grading.remote`).
The processes around it (zygote, launcher, confinement): :mod:`autograder.grading.zygote`.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import operator
import socket
import warnings
from typing import Any

import torch

from autograder import guard
from autograder.checks import state as global_state
from autograder.grading import protocol, wire
from autograder.grading.output import CappedOutput
from autograder.grading.seal import Seal, sealed_modules
from autograder.grading.worker_codec import MAX_ITEMS, WorkerCodec, type_name

# Captured before any student code runs: rebinding these names in a notebook changes nothing here.
_forbid = guard.forbid
_handed = guard.handed
_time_limit = guard.time_limit
_ForbiddenCall = guard.ForbiddenCall
_StudentTimeout = guard.StudentTimeout
_GRADERS_OWN = guard.GRADERS_OWN

MAX_TEXT = 20_000
#: Iterators whose next() runs no student code: a proxy may read ahead on them.
PREFETCHABLE = frozenset(type(iter(x)) for x in ([], (), {}, {}.values(), {}.items(), range(0), "", set(), b""))
MAX_WARNINGS = 20
OPERATORS = {
    name: getattr(operator, name)
    for name in (
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "add",
        "sub",
        "mul",
        "truediv",
        "floordiv",
        "mod",
        "pow",
        "matmul",
        "neg",
        "pos",
        "abs",
        "and_",
        "or_",
        "xor",
        "invert",
        "contains",
        "getitem",
        "setitem",
        "delitem",
        "index",
    )  # fmt: skip
}


class _Quit(Exception):
    pass


class _IPythonStub:
    """What ``get_ipython()`` returns in the worker: every attribute and call is a no-op stub."""

    def __getattr__(self, name: str) -> Any:
        return _IPythonStub()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _IPythonStub()

    def __iter__(self) -> Any:
        return iter(())


def _get_ipython() -> _IPythonStub:
    return _IPythonStub()


def tamper_message(changed: list[str]) -> str:
    """What a request that changed the judge's modules is told (the seal has put them back)."""
    names = ", ".join(f"`{n}`" for n in dict.fromkeys(changed).keys() if n)
    return (
        f"your code rebinds {names}, which belongs to the grader: it was put back, and this does not count. "
        "Leave the grader's modules alone and write the answer yourself."
    )


class Worker(WorkerCodec):
    """Serves one notebook's requests on a socket; everything a student cell defines lives in ``self.ns``."""

    def __init__(self, sock: socket.socket, output: CappedOutput | None = None, seal: Seal | None = None) -> None:
        self.sock = sock
        # the end of the trusted start: the judge's modules as they are now, kept so (see autograder.grading.seal)
        self.seal = seal if seal is not None else Seal(sealed_modules())
        self.tampered: list[str] = []  # what student code changed of them, in order (nested requests included)
        self.output = output
        self.ns: dict[str, Any] = {"__name__": protocol.NOTEBOOK_MODULE, "__builtins__": builtins,
                                   "get_ipython": _get_ipython}  # fmt: skip
        self.trusted: dict[str, Any] = {}
        self.table: dict[int, Any] = {}
        self.rid_of: dict[int, int] = {}
        self.next_rid = 1
        self.sent: dict[int, tuple] = {}
        self.grad_inputs: dict[int, list[torch.Tensor]] = {}
        self.active: list[list] = []  # tensors of the calls in progress (a callback may be nested in one)
        self.buffer = bytearray()

    # ------------------------------------------------------------ transport

    def send(self, message: tuple) -> None:
        self.sock.sendall(protocol.frame(protocol.ANSWER, wire.dumps(message)))

    def recv(self) -> dict:
        while len(self.buffer) < protocol.HEADER.size or len(self.buffer) < protocol.HEADER.size + self._length():
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise _Quit
            self.buffer += chunk
        n = protocol.HEADER.size + self._length()
        payload = bytes(self.buffer[protocol.HEADER.size : n])
        del self.buffer[:n]
        return wire.loads_request(payload)

    def _length(self) -> int:
        return protocol.HEADER.unpack_from(self.buffer)[0]

    def serve(self) -> None:
        while True:
            try:
                request = self.recv()
            except _Quit:
                return
            self.send(self.handle(request))

    # ------------------------------------------------------------ requests

    def describe(self, exc: BaseException) -> dict:
        kind = "error"
        if isinstance(exc, _StudentTimeout):
            kind = "timeout"
        elif isinstance(exc, _ForbiddenCall):
            kind = "forbidden"
        elif isinstance(exc, MemoryError) or "can't allocate memory" in str(exc):
            kind = "memory"
        try:
            message = str(exc)[:MAX_TEXT]
        except BaseException:  # noqa: BLE001 - a student's exception whose str() fails
            message = "(the exception's message could not be read)"
        bases = [c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"]
        desc = {"type": type_name(exc)[:60], "bases": bases, "message": message, "kind": kind}
        if isinstance(exc, NotImplementedError):  # which of the student's functions is unfinished
            with contextlib.suppress(BaseException):
                desc["where"] = str(guard.raised_in(exc))[:100]
        return desc

    def student(self, request: dict, fn: Any, tensors: list | None = None, handed: tuple = ()) -> tuple:
        """Run ``fn()`` (student code) under the request's time limit, bans and grad mode; encode the outcome.

        ``handed``: the call's arguments, which the student's code may call even where they are the judge's (a
        test function ``f`` of a lesson module)."""
        first = len(self.tampered)
        self.tampered += self.seal.check()  # a change made outside any request (a student's __del__)
        checked = False
        hits: list[str] = []
        forbid = tuple(request.get("forbid", ()))
        timeout = request.get("timeout")
        grad_mode = request.get("grad", torch.is_grad_enabled())
        designated = [tensors[i] for i in request.get("grad_idx", ())] if tensors else []
        if "rng" in request:
            protocol.set_rng_state(request["rng"])
        own = global_state.snapshot()  # the worker's own settings, set back after the call
        if "dtype" in request:
            torch.set_default_dtype(getattr(torch, request["dtype"]))
        global_state.set_flags(request.get("anomaly", own.anomaly), request.get("deterministic", own.deterministic))
        left: dict[str, Any] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with _time_limit(timeout):
                    with _handed(*handed), _forbid(*forbid) as hits, torch.set_grad_enabled(grad_mode):
                        start = global_state.snapshot()
                        try:
                            value = fn()
                        finally:  # a global setting the call left changed: reported, then set back here
                            end = global_state.snapshot()
                            if end != start:
                                left = global_state.encode(end)
                                global_state.restore(start)
                self.tampered += self.seal.check()
                checked = True
                if len(self.tampered) > first:
                    raise _ForbiddenCall("")
                outcome = ("ok", self.encode(value, tensors, designated))
            except BaseException as exc:  # noqa: BLE001 - everything a student raises is reported
                outcome = ("raise", self.describe(exc))
        if not checked:
            self.tampered += self.seal.check()
        tampered = self.tampered[first:]
        if tampered:  # put back already; the request fails, with what it changed
            hits = [_GRADERS_OWN + name for name in tampered] + list(hits)
            outcome = ("raise", self.describe(_ForbiddenCall(tamper_message(tampered))))
        torch.set_default_dtype(own.default_dtype)
        global_state.set_flags(own.anomaly, own.deterministic)
        extras: dict[str, Any] = {
            "hits": [str(h) for h in hits][:20],
            "warnings": [
                (type_name(w.message), str(w.message)[:2000], str(w.filename)[:200], int(w.lineno or 0))
                for w in caught[:MAX_WARNINGS]
            ],  # fmt: skip
        }
        if "rng" in request:
            extras["rng"] = protocol.rng_state()
        if left:
            extras["global"] = left  # the grader takes it over: its check sees what a check in one process sees
        return outcome + (extras,)

    def handle(self, request: dict) -> tuple:
        try:
            self.release(request.get("release", ()))
            self.apply_pushes(request.get("pushes", ()))
            reply = self.dispatch(request)
        except BaseException as exc:  # noqa: BLE001 - a request the worker cannot serve
            reply = ("raise", self.describe(exc), {})
        reply[2]["refresh"] = self.refreshes()
        if self.output is not None:
            reply[2]["dropped"] = self.output.take_dropped()
        return reply

    def dispatch(self, request: dict) -> tuple:
        op = request["op"]
        if op == "exec":
            return self.execute(request)
        if op == "names":
            values = [(name, self.encode(self.ns[name])) for name in request["names"] if name in self.ns]
            return ("ok", ("li", [("tu", [("v", n), v]) for n, v in values]), {})
        tensors, args, (kwargs, tracked) = self.unpack(request)
        target = self.table[request["rid"]] if "rid" in request else None
        if op == "call":
            before = [self.fingerprints(obj) for obj in tracked]
            pointers = self.pointers(tensors)
            self.active.append((tensors, pointers))
            try:
                reply = self.student(request, lambda: target(*args, **kwargs), tensors, handed=(args, kwargs))
            finally:
                self.active.pop()
            reply[2]["post"] = self.post(tensors, pointers)
            reply[2]["state"] = self.states(tracked, tensors, before)
            return reply
        if op == "getattr":
            return self.student(request, lambda: getattr(target, request["name"]), tensors)
        if op == "setattr":
            return self.student(request, lambda: setattr(target, request["name"], args[0]), tensors)
        if op == "delattr":
            return self.student(request, lambda: delattr(target, request["name"]), tensors)
        if op == "backward":
            return self.student(request, lambda: self.backward(target, args[0], request["rid"]), tensors)
        return self.student(request, lambda: self.operate(op, target, args), tensors)

    def operate(self, op: str, target: Any, args: tuple) -> Any:
        if op in OPERATORS:
            return OPERATORS[op](target, *args)
        if op == "rcall":  # a reflected binary operator: other <op> target
            return OPERATORS[args[0]](args[1], target)
        if op == "len":
            return int(len(target))
        if op == "bool":
            return bool(target)
        if op == "hash":
            return int(hash(target))
        if op == "repr":
            return str(repr(target))[:MAX_TEXT]
        if op == "str":
            return str(str(target))[:MAX_TEXT]
        if op == "dir":
            return [str(n) for n in dir(target)][:MAX_ITEMS]
        if op == "iter":
            return iter(target)
        if op == "next_batch":  # reading ahead only where it runs no code (see proxy._RemoteIterator)
            items, done = [], False
            for _ in range(int(args[0]) if type(target) in PREFETCHABLE else 1):
                try:
                    items.append(next(target))
                except StopIteration:
                    done = True
                    break
            return (items, done)
        if op == "isinstance":
            return bool(isinstance(args[0], target))
        if op == "issubclass":
            return bool(issubclass(args[0], target))
        if op == "deepcopy":
            return copy.deepcopy(target)
        if op == "copy":
            return copy.copy(target)
        raise ValueError(f"unknown operation {op!r}")

    def backward(self, t: Any, grad: torch.Tensor, rid: int) -> list:
        """d(t)/d(designated inputs) for the grader; gradients of the worker's own leaves are accumulated."""
        inputs = [x for x in self.grad_inputs.get(rid, [])]
        stop = {id(x.grad_fn) for x in inputs if x.grad_fn is not None}
        designated = {id(x) for x in inputs}
        leaves, seen, stack = [], set(), [t.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen or id(node) in stop:
                continue
            seen.add(id(node))
            var = getattr(node, "variable", None)
            if var is not None and id(var) not in designated and var.requires_grad:
                leaves.append(var)
            stack.extend(n for n, _ in node.next_functions)
        wanted = [x for x in inputs if x.requires_grad] + leaves
        grads = torch.autograd.grad([t], wanted, [grad], retain_graph=True, allow_unused=True) if wanted else ()
        by_input = dict(zip([id(x) for x in wanted], grads))
        with torch.no_grad():
            for leaf in leaves:
                g = by_input.get(id(leaf))
                if g is not None:
                    if leaf.grad is None:
                        leaf.grad = g.detach().clone()
                    else:
                        leaf.grad += g
        return [by_input.get(id(x)) for x in inputs]

    def execute(self, request: dict) -> tuple:
        """Run one cell's source in the notebook namespace."""
        before = dict(self.ns)
        missing = object()
        code = compile(request["source"], request["filename"], "exec")

        def run() -> None:
            exec(code, self.ns)  # noqa: S102 - this is the sandbox

        first = len(self.tampered)
        reply = self.student(request, run)
        if len(self.tampered) > first:  # a cell that changed the judge: the grader fails its exercise's tests
            return ("raise", {**reply[1], "kind": "tampered"}, reply[2])
        if request.get("trusted"):
            for name, value in self.ns.items():
                if before.get(name, missing) is not value:
                    self.trusted[name] = value
        return (reply[0], ("v", None) if reply[0] == "ok" else reply[1], reply[2])

    # ------------------------------------------------------------ callbacks into the grader

    def callback(self, cid: int, args: tuple, kwargs: dict) -> Any:
        encoded = self.encode((args, kwargs))
        # the call's tensor arguments as they are now: the test's function may read them (p.grad in a hook)
        extras = {"refresh": self.refreshes(), "post": self.post(*self.active[-1]) if self.active else None}
        self.send(("callback", cid, encoded, extras))
        while True:
            request = self.recv()
            if request["op"] == "reply":
                break
            self.send(self.handle(request))
        if request.get("error"):
            raise RuntimeError(request["error"])
        _, args2, _ = self.unpack(request)
        return args2[0]
