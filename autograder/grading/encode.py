"""Values from the grader to the worker: tensors by value (or as mirrors), functions as callbacks.

:meth:`Encoder.pack` pickles a call's arguments; tensors, generators, handles, the test's functions and
the locked cells' objects travel as persistent ids the worker resolves (see ``worker_codec.unpack``).
Modules, optimizers and objects of locked-cell classes go by value and are *tracked*: what the call
changes on them comes back. A mixin of :class:`autograder.grading.remote.Session`.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import sys
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from autograder.grading import protocol
from autograder.grading.errors import CannotGradeRemotely
from autograder.grading.proxy import RemoteObject
from autograder.grading.worker_codec import rebuild_optimizer


@dataclass
class Pack:
    """What was sent with one request: the tensors in argument order, and what they were locally."""

    locals: list[Any] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)
    pids: list[tuple] = field(default_factory=list)
    leaves: list[torch.Tensor] = field(default_factory=list)
    tracked: list[Any] = field(default_factory=list)  # objects sent by value whose state comes back
    tracked_ids: set[int] = field(default_factory=set)


_FUNCTIONS = (types.FunctionType, types.LambdaType)


class _Pickler(pickle.Pickler):
    """Pickles one request's arguments: what :meth:`Encoder._persistent_id` names travels by reference."""

    def __init__(self, buf: io.BytesIO, session: Encoder, pack: Pack) -> None:
        super().__init__(buf, protocol=5)
        self.session, self.pack = session, pack

    def persistent_id(self, obj: Any) -> Any:
        return self.session._persistent_id(obj, self.pack)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, torch.optim.Optimizer) and not isinstance(obj, RemoteObject):
            # pickle drops an optimizer's hooks: send them (as callbacks, if they are the test's)
            hooks = (list(obj._optimizer_step_pre_hooks.values()), list(obj._optimizer_step_post_hooks.values()))
            return (rebuild_optimizer, (type(obj), obj.__getstate__(), *hooks))
        return NotImplemented


class Encoder:
    """Packing a request's arguments (state: mirrors, callbacks, the locked cells' objects)."""

    gen: int
    quiet: Callable[[], contextlib.AbstractContextManager]
    trusted: dict[str, Any]
    mirrors: dict[int, tuple[weakref.ref, int]]
    callbacks: dict[int, Callable]
    callback_ids: dict[int, int]

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

    def _persistent_id(self, obj: Any, pack: Pack) -> Any:
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

    def pack(self, args: tuple, kwargs: dict) -> tuple[dict, Pack]:
        pack = Pack()
        buf = io.BytesIO()
        try:
            with self.quiet():
                pickler = _Pickler(buf, self, pack)
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
