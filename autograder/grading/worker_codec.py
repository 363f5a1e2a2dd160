"""Values in the worker: what it sends the grader (tagged nodes) and how it reads the grader's requests.

:meth:`WorkerCodec.encode` turns a result into the tagged tuples of :mod:`autograder.grading.protocol`
(plain data by value, anything else a handle kept in ``table``); :meth:`WorkerCodec.unpack` reads a call's
arguments (tensors, handles, the test's functions as :class:`GraderCallable`). Tensors sent to the grader
are remembered, so changes on either side are carried back (``refreshes``, ``apply_pushes``, ``post``).
A mixin of :class:`autograder.grading.worker.Worker`.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import sys
from typing import Any

import numpy as np
import torch
from torch import nn

from autograder import reference
from autograder.grading import protocol

# Captured before any student code runs: rebinding these names in a notebook changes nothing here.
_Tensor = torch.Tensor
_Parameter = nn.Parameter
_Generator = torch.Generator
_same_bits = protocol.same_bits

MAX_ITEMS = 100_000


def type_name(obj: Any) -> str:
    return type.__dict__["__name__"].__get__(type(obj))


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


def rebuild_optimizer(cls: type, state: dict, pre: list, post: list) -> Any:
    """An optimizer unpickled with its step hooks (pickle drops them; the grader sends them along)."""
    opt = cls.__new__(cls)
    opt.__setstate__(state)
    for hook in pre:
        opt.register_step_pre_hook(hook)
    for hook in post:
        opt.register_step_post_hook(hook)
    return opt


class GraderCallable:
    """A callable argument that lives in the grader (e.g. a lambda of a test): calling it asks the grader."""

    def __init__(self, worker: WorkerCodec, cid: int, name: str) -> None:
        self._worker, self._cid, self.__name__ = worker, cid, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._worker.callback(self._cid, args, kwargs)

    def __repr__(self) -> str:
        return f"<test function {self.__name__}>"


class _Unpickler(pickle.Unpickler):
    """Reads one request's arguments: the references :meth:`Encoder._persistent_id` made, resolved here."""

    def __init__(self, buf: io.BytesIO, worker: WorkerCodec, tensors: list) -> None:
        super().__init__(buf)
        self.worker, self.tensors = worker, tensors

    def persistent_load(self, pid: Any) -> Any:
        kind = pid[0]
        if kind in ("t", "rt", "gen"):
            return self.tensors[pid[-1]]
        if kind == "h":
            return self.worker.table[pid[1]]
        if kind == "cb":
            return GraderCallable(self.worker, pid[1], pid[2])
        if kind == "ns":
            return self.worker.trusted[pid[1]]
        if kind == "gradfn":
            return self.worker.table[pid[1]].grad_fn
        raise pickle.UnpicklingError(f"unknown reference {kind!r}")

    def find_class(self, module: str, name: str) -> Any:
        try:
            return reference.get(f"{module}.{name}")
        except KeyError:
            return super().find_class(module, name)


class WorkerCodec:
    """The worker's object table and the tensors it shares with the grader."""

    table: dict[int, Any]
    rid_of: dict[int, int]
    next_rid: int
    sent: dict[int, tuple]
    grad_inputs: dict[int, list[torch.Tensor]]
    trusted: dict[str, Any]

    def callback(self, cid: int, args: tuple, kwargs: dict) -> Any:
        raise NotImplementedError

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
        return ("H", self.register(obj), type_name(obj)[:60], callable(obj))

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
        unpickler = _Unpickler(io.BytesIO(blob), self, tensors)
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
