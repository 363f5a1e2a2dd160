"""Values from the worker to the grader, read strictly: plain data by value, anything else a handle.

Every answer was read by :func:`autograder.grading.wire.loads` (plain data and tensors, nothing else);
:meth:`Decoder.decode` then checks each tagged node (see :mod:`autograder.grading.protocol`) and fails
closed on anything malformed. Tensors the worker keeps are mirrored here; exceptions come back as local
classes; warnings are raised again here. A mixin of :class:`autograder.grading.remote.Session`.
"""

from __future__ import annotations

import builtins
import contextlib
import re
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from autograder import guard
from autograder.grading import protocol
from autograder.grading.autograd_bridge import Lease, RemoteGrad
from autograder.grading.encode import Pack
from autograder.grading.errors import ProtocolViolation
from autograder.grading.proxy import RemoteObject, proxy_class

_ALLOWED_DTYPES = {
    name for name in dir(torch) if isinstance(getattr(torch, name, None), torch.dtype) and not name.startswith("_")
}
_SAFE_EXCEPTIONS = {"SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException", "BaseExceptionGroup"}


class Decoder:
    """Reading answers (state: mirrors, proxies, exception classes, stand-in classes)."""

    gen: int
    quiet: Callable[[], contextlib.AbstractContextManager]
    incident: str
    mirrors: dict[int, tuple[weakref.ref, int]]
    proxies: weakref.WeakValueDictionary
    released: list[int]
    exceptions: dict[tuple[str, type], type]
    stand_ins: dict[int, Any]

    def _bad(self, what: str) -> ProtocolViolation:
        self._die(f"it sent a malformed {what}", "crashed")
        return ProtocolViolation(f"the notebook's process sent a malformed {what}")

    def decode(self, node: Any, pack: Pack | None = None, depth: int = 0) -> Any:
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
        proxy = object.__new__(proxy_class(name, is_callable))
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

    def _tensor(self, node: tuple, pack: Pack | None) -> torch.Tensor:
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
        lease = Lease()
        weakref.finalize(lease, self._release, rid, self.gen)
        with self.quiet():
            if meta["fn"] and rg:
                leaves = list(pack.leaves) if pack else []
                link = (self, rid, self.gen, [tuple(t.shape) for t in leaves])
                dummy = torch.zeros((), requires_grad=True)
                local = RemoteGrad.apply(link, lease, saved or [], data, dummy, *leaves)
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
        with self.quiet(), torch.no_grad():
            if local.shape == data.shape and local.dtype == data.dtype:
                if not local.numel() or not protocol.same_bits(local, data):
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
            if type(node) is tuple and len(node) in (5, 6) and node[0] == "T":  # the worker sends 6 (saved)
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
        if "rng" in extras:
            protocol.set_rng_state(extras["rng"])

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
                    with self.quiet(), torch.no_grad():
                        local.data = data
                self._sync(local, data, rg, grad)
                rid = self._mirror(local)
                if rid is not None:
                    self.mirrors[rid] = (self.mirrors[rid][0], local._version)

    def _restate(self, pack: Pack, states: list) -> None:
        """Copy back the attributes (plain data and tensors) of objects the call received by value.

        In one process the student's code would change the test's own objects (a probe recording
        ``model.training``, an optimizer's state); here it changed copies, whose state comes back. The
        student's code could change those objects in one process too: no new trust is given.
        """
        with self.quiet():
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
