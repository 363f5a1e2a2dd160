"""The sandboxed side of grading: a zygote that forks one confined worker per notebook.

``python -I -m autograder.grading.worker`` starts the *zygote*: it imports PyTorch and the modules the
lessons' set-up cells import, once, and never runs student code. For each notebook the grader asks it
for a worker; the zygote forks a *launcher*, which enters new namespaces where it can, forks the *worker*,
watches it (process count, memory) and reports how it ended. The worker confines itself
(:mod:`autograder.grading.sandbox`), then serves the grader's requests: execute a cell, call an object,
read an attribute... Student code runs only here; every answer goes back by value (tensors, numbers)
or as a handle, and the grader decides (:mod:`autograder.grading.remote`).
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import io
import json
import operator
import os
import pickle
import random
import signal
import socket
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from autograder import guard, reference
from autograder.grading import protocol, sandbox

# Captured before any student code runs: rebinding these names in a notebook changes nothing here.
_forbid = guard.forbid
_handed = guard.handed
_time_limit = guard.time_limit
_ForbiddenCall = guard.ForbiddenCall
_StudentTimeout = guard.StudentTimeout
_torch_save = torch.save
_Tensor = torch.Tensor
_Parameter = nn.Parameter
_Generator = torch.Generator
_equal = torch.equal

MAX_ITEMS = 100_000
MAX_TEXT = 20_000
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


def _type_name(obj: Any) -> str:
    return type.__dict__["__name__"].__get__(type(obj))


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.numel() == 0:
        return True
    return _equal(a.reshape(-1).contiguous().view(torch.uint8), b.reshape(-1).contiguous().view(torch.uint8))


def _fingerprint(value: Any, depth: int = 0) -> Any:
    """A cheap comparable summary of a value (tensors by identity and version, containers by content)."""
    t = type(value)
    if value is None or t in (bool, int, float, complex, str, bytes):
        return (t.__name__, value)
    if t is _Tensor or t is _Parameter:
        return ("T", id(value), value._version)
    if depth > 20:
        return ("X", id(value))
    if issubclass(t, (list, tuple)):
        items = tuple.__iter__(value) if issubclass(t, tuple) else list.__iter__(value)
        return ("L", id(value), tuple(_fingerprint(x, depth + 1) for x in items))
    if issubclass(t, dict):
        return (
            "D",
            id(value),
            tuple((_fingerprint(k, depth + 1), _fingerprint(v, depth + 1)) for k, v in dict.items(value)),
        )
    return ("O", id(value))


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


class GraderCallable:
    """A callable argument that lives in the grader (e.g. a lambda of a test): calling it asks the grader."""

    def __init__(self, worker: Worker, cid: int, name: str) -> None:
        self._worker, self._cid, self.__name__ = worker, cid, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._worker.callback(self._cid, args, kwargs)

    def __repr__(self) -> str:
        return f"<test function {self.__name__}>"


class Worker:
    """Serves one notebook's requests on a socket; everything a student cell defines lives in ``self.ns``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
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
        buf = io.BytesIO()
        _torch_save(message, buf)
        self.sock.sendall(protocol.frame(protocol.TORCH, buf.getvalue()))

    def recv(self) -> dict:
        while len(self.buffer) < protocol.HEADER.size or len(self.buffer) < protocol.HEADER.size + self._length():
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise _Quit
            self.buffer += chunk
        n = protocol.HEADER.size + self._length()
        payload = bytes(self.buffer[protocol.HEADER.size : n])
        del self.buffer[:n]
        return pickle.loads(payload)

    def _length(self) -> int:
        return protocol.HEADER.unpack_from(self.buffer)[0]

    def serve(self) -> None:
        while True:
            try:
                request = self.recv()
            except _Quit:
                return
            self.send(self.handle(request))
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()

    # ------------------------------------------------------------ values

    def register(self, obj: Any) -> int:
        rid = self.rid_of.get(id(obj))
        if rid is not None and self.table.get(rid) is obj:
            return rid
        rid, self.next_rid = self.next_rid, self.next_rid + 1
        self.table[rid] = obj
        self.rid_of[id(obj)] = rid
        return rid

    def release(self, rids: list[int]) -> None:
        for rid in rids:
            obj = self.table.pop(rid, None)
            if obj is not None and self.rid_of.get(id(obj)) == rid:
                del self.rid_of[id(obj)]
            self.sent.pop(rid, None)
            self.grad_inputs.pop(rid, None)

    def snapshot(self, t: torch.Tensor) -> tuple:
        grad = t.grad if t.is_leaf else None
        return (t.detach().clone(), None if grad is None else grad.detach().clone(), t.requires_grad)

    def tensor_node(self, t: torch.Tensor, designated: list[torch.Tensor] | None) -> tuple:
        rid = self.register(t)
        grad = t.grad if t.is_leaf else None
        meta = {"rg": bool(t.requires_grad), "param": type(t) is _Parameter, "fn": t.grad_fn is not None}
        saved = None
        if t.grad_fn is not None:
            if rid not in self.grad_inputs:
                self.grad_inputs[rid] = list(designated or [])
            with contextlib.suppress(Exception):
                found = getattr(t.grad_fn, "saved_tensors", None)
                if found is not None:
                    saved = [x.detach().clone().as_subclass(_Tensor) for x in found if isinstance(x, _Tensor)]
        self.sent[rid] = self.snapshot(t)
        data = t.detach().clone()
        if type(data) is not _Tensor:
            data = data.as_subclass(_Tensor)
        g = None if grad is None or type(grad) is not _Tensor else grad.detach().clone()
        return ("T", rid, data, meta, g, saved)

    def class_node(self, cls: type) -> tuple | None:
        module = type.__dict__["__module__"].__get__(cls) if "__module__" in cls.__dict__ else None
        qualname = type.__dict__["__qualname__"].__get__(cls)
        if not isinstance(module, str) or module.split(".")[0] not in protocol.CLASS_MODULES:
            return None
        obj: Any = sys.modules.get(module)
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        return ("G", module, qualname) if obj is cls else None

    def encode(self, obj: Any, args: list | None = None, designated: list | None = None, depth: int = 0) -> tuple:
        """Tag a value for the grader (see :mod:`protocol`); anything else becomes a handle."""
        t = type(obj)
        if obj is None or t in (bool, int, float, complex, str):
            return ("v", obj)
        if t is bytes:
            return ("b", obj)
        if t is _Tensor or t is _Parameter:
            for i, arg in enumerate(args or ()):
                if arg is obj:
                    return ("A", i)
            return self.tensor_node(obj, designated)
        if t is torch.Size:
            return ("S", tuple(int(d) for d in obj))
        if t is torch.dtype:
            return ("D", str(obj).removeprefix("torch."))
        if t is torch.device:
            return ("V", str(obj))
        if isinstance(obj, np.generic) and t.__module__ == "numpy" and obj.dtype.kind in "biufc":
            return ("v", obj.item())
        if t is np.ndarray and obj.dtype.kind in "biufc" and obj.size <= 1 << 26:
            return ("N", torch.from_numpy(np.array(obj, copy=True)))
        if depth < 32:
            if issubclass(t, (tuple, list)):  # C-level iteration: a subclass's __iter__ is not called
                seq = list(tuple.__iter__(obj) if issubclass(t, tuple) else list.__iter__(obj))
                if len(seq) <= MAX_ITEMS:
                    tag = "li" if issubclass(t, list) else "tu"
                    return (tag, [self.encode(x, args, designated, depth + 1) for x in seq])
            if issubclass(t, dict):
                pairs = list(dict.items(obj))
                if len(pairs) <= MAX_ITEMS:
                    return ("di", [(self.encode(k, args, designated, depth + 1),
                                    self.encode(v, args, designated, depth + 1)) for k, v in pairs])  # fmt: skip
        if isinstance(obj, type):
            node = self.class_node(obj)
            if node:
                return node
        return ("H", self.register(obj), _type_name(obj)[:60], callable(obj))

    def refreshes(self) -> list[tuple]:
        """Tensors the grader mirrors that changed since they were last sent (values, grad, requires_grad)."""
        out = []
        for rid, (data, grad, rg) in list(self.sent.items()):
            t = self.table.get(rid)
            if t is None:
                continue
            now_grad = t.grad if t.is_leaf else None
            changed = (
                not _same_bits(t.detach(), data)
                or t.requires_grad != rg
                or (now_grad is None) != (grad is None)
                or (now_grad is not None and not _same_bits(now_grad.detach(), grad))
            )
            if changed:
                out.append(self.tensor_node(t, None))
        return out

    # ------------------------------------------------------------ arguments

    def unpack(self, request: dict) -> tuple[list, tuple, tuple[dict, list]]:
        """The call's tensors (index -> worker object), its arguments, and (kwargs, objects sent by value)."""
        tensors: list[Any] = []
        for entry in request.get("tensors", ()):
            if entry[0] == "rt":
                tensors.append(self.table[entry[1]])
            elif entry[0] == "gen":
                g = _Generator()
                g.set_state(entry[1])
                tensors.append(g)
            else:
                _, data, rg, param, grad = entry
                t = _Parameter(data, requires_grad=rg) if param else data.requires_grad_(rg)
                if grad is not None and t.is_leaf:
                    t.grad = grad
                tensors.append(t)
        blob = request.get("args")
        if blob is None:
            return tensors, (), ({}, [])
        worker = self

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, pid: Any) -> Any:
                kind = pid[0]
                if kind in ("t", "rt", "gen"):
                    return tensors[pid[-1]]
                if kind == "h":
                    return worker.table[pid[1]]
                if kind == "cb":
                    return GraderCallable(worker, pid[1], pid[2])
                if kind == "ns":
                    return worker.trusted[pid[1]]
                if kind == "gradfn":
                    return worker.table[pid[1]].grad_fn
                raise pickle.UnpicklingError(f"unknown reference {kind!r}")

            def find_class(self, module: str, name: str) -> Any:
                try:
                    return reference.get(f"{module}.{name}")
                except KeyError:
                    return super().find_class(module, name)

        unpickler = Unpickler(io.BytesIO(blob))
        args, kwargs = unpickler.load()
        try:
            tracked = unpickler.load()
            hooks = unpickler.load()
        except EOFError:
            tracked, hooks = [], []
        for index, fns in hooks:  # a test's tensor hooks (pickle drops them): they call back into the grader
            for fn in fns:
                with contextlib.suppress(Exception):
                    tensors[index].register_hook(fn)
        return tensors, args, (kwargs, tracked)

    def apply_pushes(self, pushes: list) -> None:
        for rid, data, rg, grad in pushes:
            t = self.table.get(rid)
            if type(t) not in (_Tensor, _Parameter):
                continue
            with torch.no_grad():
                if t.shape == data.shape and t.dtype == data.dtype:
                    t.copy_(data)
                else:
                    t.data = data
            if t.is_leaf:
                if t.requires_grad != rg:
                    t.requires_grad_(rg)
                t.grad = grad
            self.sent[rid] = self.snapshot(t)

    @staticmethod
    def pointers(tensors: list) -> list:
        return [t.data_ptr() if type(t) in (_Tensor, _Parameter) else None for t in tensors]

    def post(self, tensors: list, pointers: list) -> list:
        """The call's tensor arguments after the call (the grader copies changes into its own), and whether
        each still uses the memory it arrived with."""
        out = []
        for t, ptr in zip(tensors, pointers):
            if type(t) is _Generator:
                out.append(("gen", t.get_state()))
            elif type(t) in (_Tensor, _Parameter):
                grad = t.grad if t.is_leaf else None
                g = None if grad is None or type(grad) is not _Tensor else grad.detach().clone()
                data = t.detach().clone().as_subclass(_Tensor)
                out.append(("P", data, bool(t.requires_grad), g, t.data_ptr() != ptr))
            else:
                out.append(("v", None))
        return out

    @staticmethod
    def fingerprints(obj: Any) -> dict:
        try:
            return {k: _fingerprint(v) for k, v in list(getattr(obj, "__dict__", {}).items())[:200]}
        except Exception:  # noqa: BLE001 - then everything counts as changed
            return {}

    def states(self, tracked: list, tensors: list, before: list[dict]) -> list:
        """The attributes that the call changed on the objects the grader sent by value (modules, optimizers,
        a test's classes), as data: an attribute whose value holds an object of the worker's is left out."""

        def plain(node: Any) -> bool:
            if type(node) is tuple and node and node[0] == "H":
                return False
            return all(plain(x) for x in node if type(x) in (tuple, list)) if type(node) in (tuple, list) else True

        out = []
        for obj, was in zip(tracked, before):
            items = []
            for name, value in list(getattr(obj, "__dict__", {}).items())[:200]:
                if type(name) is str and not name.startswith("__") and was.get(name) != _fingerprint(value):
                    node = self.encode(value, tensors)
                    if plain(node):
                        items.append((name, node))
            out.append(items)
        return out

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
        desc = {"type": _type_name(exc)[:60], "bases": bases, "message": message, "kind": kind}
        if isinstance(exc, NotImplementedError):  # which of the student's functions is unfinished
            with contextlib.suppress(BaseException):
                desc["where"] = str(guard.raised_in(exc))[:100]
        return desc

    def student(self, request: dict, fn: Any, tensors: list | None = None, handed: tuple = ()) -> tuple:
        """Run ``fn()`` (student code) under the request's time limit, bans and grad mode; encode the outcome.

        ``handed``: the call's arguments, which the student's code may call even where they are the judge's (a
        test function ``f`` of a lesson module)."""
        hits: list[str] = []
        forbid = tuple(request.get("forbid", ()))
        timeout = request.get("timeout")
        grad_mode = request.get("grad", torch.is_grad_enabled())
        designated = [tensors[i] for i in request.get("grad_idx", ())] if tensors else []
        if "rng" in request:
            torch.set_rng_state(request["rng"])
        dtype = torch.get_default_dtype()
        if "dtype" in request:
            torch.set_default_dtype(getattr(torch, request["dtype"]))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with _time_limit(timeout):
                    with _handed(*handed), _forbid(*forbid) as hits, torch.set_grad_enabled(grad_mode):
                        value = fn()
                    outcome = ("ok", self.encode(value, tensors, designated))
            except BaseException as exc:  # noqa: BLE001 - everything a student raises is reported
                outcome = ("raise", self.describe(exc))
        torch.set_default_dtype(dtype)
        extras: dict[str, Any] = {
            "hits": [str(h) for h in hits][:20],
            "warnings": [
                (_type_name(w.message), str(w.message)[:2000], str(w.filename)[:200], int(w.lineno or 0))
                for w in caught[:MAX_WARNINGS]
            ],  # fmt: skip
        }
        if "rng" in request:
            extras["rng"] = torch.get_rng_state()
        return outcome + (extras,)

    def handle(self, request: dict) -> tuple:
        try:
            self.release(request.get("release", ()))
            self.apply_pushes(request.get("pushes", ()))
            reply = self.dispatch(request)
        except BaseException as exc:  # noqa: BLE001 - a request the worker cannot serve
            reply = ("raise", self.describe(exc), {})
        reply[2]["refresh"] = self.refreshes()
        return reply

    def dispatch(self, request: dict) -> tuple:
        op = request["op"]
        if op == "ping":
            return ("ok", ("v", None), {})
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
        if op == "next_batch":
            items, done = [], False
            for _ in range(int(args[0])):
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

        reply = self.student(request, run)
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


def rebuild_optimizer(cls: type, state: dict, pre: list, post: list) -> Any:
    """An optimizer unpickled with its step hooks (pickle drops them; the grader sends them along)."""
    opt = cls.__new__(cls)
    opt.__setstate__(state)
    for hook in pre:
        opt.register_step_pre_hook(hook)
    for hook in post:
        opt.register_step_post_hook(hook)
    return opt


# ---------------------------------------------------------------- processes


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
    ctl.sendall(json.dumps({"ready": True, "pid": os.getpid(), "vm": sandbox.vm_size()}).encode() + b"\n")
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
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), write_through=True)
        Worker(socket.socket(fileno=rpc_fd)).serve()
    except BaseException:  # noqa: BLE001 - report and leave
        with contextlib.suppress(BaseException):
            os.write(2, traceback.format_exc().encode())
    finally:
        os._exit(0)


if __name__ == "__main__":
    zygote_main()
