"""The worker's seal: the judge's own modules, as they were before any student code ran, kept that way.

The guard (:mod:`autograder.guard`) looks up its helpers at call time: module globals (``_resolve``, ``_Spy``),
class attributes (``_Spy.forbidden``), a function's ``__code__``/``__defaults__``/``__kwdefaults__`` and the
cells of its closure (``forbid`` is a wrapper whose closure holds the generator function). A student cell in the
worker can import those modules and rebind any of them. :class:`Seal` records, at the end of the worker's trusted
start, the identity of every one of them in the modules the worker's guarded execution depends on
(:data:`SEALED`); :meth:`Seal.intact` compares identities (one list of ``id()``: each value looked up by its
recorded name, as the judge's code looks it up, and each space's size) and :meth:`Seal.repair` puts back what
changed and names it. It runs before and after every request of the worker's that runs student code, so the
comparison is flat lists built by ``map`` in C, not a Python loop.

Identities only: the seal holds a reference to every recorded object, so an ``id()`` cannot be reused. The
contents of the modules' mutable containers (caches such as ``judge._SEEN``) are not sealed.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from itertools import chain
from operator import attrgetter
from typing import Any

#: Modules the worker's guarded execution depends on (prefixes end with a dot: the package and its submodules).
SEALED = (
    "autograder.guard.",
    "autograder.checks.state",
    "autograder.reference",
    "autograder.grading.worker",
    "autograder.grading.worker_codec",
    "autograder.grading.protocol",
    "autograder.grading.wire",
    "autograder.grading.output",
    "autograder.grading.sandbox",
    "autograder.grading.zygote",
    "autograder.grading.seal",
)
#: Globals the judge rebinds itself (``judge_codes`` rebuilds its cache when a module is imported): a change is
#: not a hit, and the value is renewed by the judge's own code rather than trusted.
VOLATILE = {("autograder.guard.judge", "_JUDGE"), ("autograder.guard.judge", "_MODULES_SEEN")}
#: Keys Python itself adds to a module's globals (a warning raised from its code): kept, not a hit.
BENIGN = frozenset({"__warningregistry__"})
_FUNCTION_FIELDS = ("__code__", "__defaults__", "__kwdefaults__")
_MISSING = object()
_CODE, _DEFAULTS, _KWDEFAULTS = map(attrgetter, _FUNCTION_FIELDS)
_CONTENTS = attrgetter("cell_contents")


def sealed_modules(modules: dict[str, Any] | None = None) -> dict[str, types.ModuleType]:
    """The loaded modules named by :data:`SEALED`."""
    out = {}
    for name, module in list((sys.modules if modules is None else modules).items()):
        if not isinstance(module, types.ModuleType):
            continue
        if any(name == p or (p.endswith(".") and (name.startswith(p) or name == p[:-1])) for p in SEALED):
            out[name] = module
    return out


def _functions_of(value: Any) -> Iterable[types.FunctionType]:
    """The plain functions a global or class attribute stands for (methods, properties, wrappers)."""
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if isinstance(value, property):
        return [f for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType)]
    return [value] if isinstance(value, types.FunctionType) else []


class Seal:
    """The recorded identities of the sealed modules' globals, classes and functions."""

    def __init__(self, modules: dict[str, types.ModuleType]) -> None:
        self.modules = modules
        self.spaces: list[tuple[str, Any, Any]] = []  # (label, mapping to compare, owner: module dict or class)
        self.functions: list[tuple[str, types.FunctionType]] = []
        self.cells: list[tuple[str, types.CellType]] = []
        self.kinds = [type(m) for m in modules.values()]
        seen: set[int] = set()
        for name, module in modules.items():
            self.spaces.append((name, vars(module), vars(module)))
            for key, value in list(vars(module).items()):
                label = f"{name}.{key}"
                if isinstance(value, type) and value.__module__ == name:
                    self.spaces.append((f"{name}.{value.__qualname__}", value.__dict__, value))
                    for attr, member in list(value.__dict__.items()):
                        for fn in _functions_of(member):
                            self._function(f"{name}.{value.__qualname__}.{attr}", fn, seen)
                for fn in _functions_of(value):
                    if (fn.__module__ or "").startswith("autograder"):
                        self._function(label, fn, seen)
        self._functions = [fn for _, fn in self.functions]
        self._defaulted = [fn for fn in self._functions if fn.__defaults__ is not None]
        self._kwdefaulted = [fn for fn in self._functions if fn.__kwdefaults__ is not None]
        self.record()

    def _function(self, label: str, fn: types.FunctionType, seen: set[int], depth: int = 0) -> None:
        if id(fn) in seen or depth > 3:
            return
        seen.add(id(fn))
        self.functions.append((label, fn))
        inner = getattr(fn, "__wrapped__", None)
        if isinstance(inner, types.FunctionType):
            self._function(f"{label}.__wrapped__", inner, seen, depth + 1)
        for i, cell in enumerate(fn.__closure__ or ()):
            try:
                content = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            self.cells.append((f"{label}.__closure__[{i}]", cell))
            if isinstance(content, types.FunctionType) and (content.__module__ or "").startswith("autograder"):
                self._function(f"{label}.<{fn.__code__.co_freevars[i]}>", content, seen, depth + 1)

    def record(self) -> None:
        """Take the identities as they are now (the trusted start; after a repair, the judge's own renewals)."""
        self.items = [dict(space) for _, space, _ in self.spaces]  # holds every value: its id stays unique
        self.fields = [tuple(getattr(fn, f) for f in _FUNCTION_FIELDS) for _, fn in self.functions]
        self.contents = [cell.cell_contents for _, cell in self.cells]
        self._mappings = [space for _, space, _ in self.spaces]
        self._lookups = [space.__getitem__ for space in self._mappings]
        self._keys = [tuple(space) for space in self.items]
        self._cells = [cell for _, cell in self.cells]
        self._modules = list(self.modules.values())
        self._fast = self._ids()

    def _ids(self) -> tuple[list[int], list[int]]:
        """The identities, as one flat list: each recorded key's value looked up as the judge's code looks it up,
        every function's ``__code__`` (and its defaults where it has some: elsewhere none is ever used), the
        closure cells' contents, the modules' types; and, apart, each space's size (a key added)."""
        try:
            ids = list(map(id, chain(
                chain.from_iterable(map(map, self._lookups, self._keys)),
                map(_CODE, self._functions), map(_DEFAULTS, self._defaulted), map(_KWDEFAULTS, self._kwdefaulted),
                map(_CONTENTS, self._cells), map(type, self._modules),
            )))  # fmt: skip
        except (KeyError, ValueError):  # a key deleted, a closure cell emptied
            ids = []
        return ids, list(map(len, self._mappings))

    def intact(self) -> bool:
        """Whether every recorded identity is still in place (the check after every request: keep it cheap)."""
        return self._ids() == self._fast

    def repair(self) -> list[str]:
        """Put back everything that changed since :meth:`record`; the dotted names of what student code changed."""
        changed: list[str] = []
        renew = False
        for (label, space, owner), was in zip(self.spaces, self.items, strict=True):
            module = label if isinstance(owner, dict) else ""
            for key in [k for k in list(space) if k not in was and k not in BENIGN]:
                changed.append(f"{label}.{key}")
                self._set(owner, key, _MISSING)
            for key, value in was.items():
                if space.get(key, _MISSING) is not value:
                    if (module, key) in VOLATILE:
                        renew = True
                        continue
                    changed.append(f"{label}.{key}")
                    self._set(owner, key, value)
        for (label, fn), was in zip(self.functions, self.fields, strict=True):
            for field, value in zip(_FUNCTION_FIELDS, was, strict=True):
                if getattr(fn, field) is not value:
                    changed.append(f"{label}.{field}")
                    setattr(fn, field, value)
        for (label, cell), value in zip(self.cells, self.contents, strict=True):
            if getattr(cell, "cell_contents", _MISSING) is not value:
                changed.append(label)
                cell.cell_contents = value
        for (name, module), kind in zip(self.modules.items(), self.kinds, strict=True):
            if type(module) is not kind:
                changed.append(f"{name}.__class__")
                module.__class__ = kind
        if renew:  # the judge's cache, rebuilt by the judge's own code
            judge = self.modules.get("autograder.guard.judge")
            if judge is not None:
                vars(judge)["_JUDGE"] = None
                judge.judge_codes()
        self.record()
        return changed

    @staticmethod
    def _set(owner: Any, key: str, value: Any) -> None:
        if isinstance(owner, dict):
            if value is _MISSING:
                owner.pop(key, None)
            else:
                owner[key] = value
        elif value is _MISSING:
            type.__delattr__(owner, key)
        else:
            type.__setattr__(owner, key, value)

    def check(self) -> list[str]:
        """:meth:`repair` where something changed; [] (and nothing done) where the seal is intact."""
        return [] if self.intact() else self.repair()
