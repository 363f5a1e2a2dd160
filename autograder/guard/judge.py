"""The judge, out of the student's reach: its code recognised by identity (code objects, module dicts), what a
check hands the student, and PyTorch's own code (which may read what a ban hides from the student)."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import types
from collections.abc import Iterator
from typing import Any

import torch._ops

# the Python frames through which every torch.ops operator is called
_OP_CALLS = {torch._ops.OpOverload.__call__.__code__, torch._ops.OpOverloadPacket.__call__.__code__}


# A hit on the judge's own code starts with this: the checks then say it belongs to the tests.
TESTS_OWN = "the tests' own "
# A hit on a change to the judge's own modules (the grading worker's seal) starts with this.
GRADERS_OWN = "the grader's own "

# modules of the judge whose functions student code may reach legitimately: this guard's callbacks (the function
# mode, the alarm) and the sandbox's proxies; they are trusted callers, never forbidden callees
_NOT_FORBIDDEN = ("autograder.guard", "autograder.grading")


def _codes(obj: Any, namespace: dict, seen: set[int], out: set) -> None:
    """Every code object of a function or class defined with ``namespace`` as globals (nested ones too)."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    elif isinstance(obj, property):
        for part in (obj.fget, obj.fset, obj.fdel):
            if part is not None:
                _codes(part, namespace, seen, out)
        return
    if isinstance(obj, type):
        for value in list(vars(obj).values()):
            _codes(value, namespace, seen, out)
        return
    wrapped = getattr(obj, "__wrapped__", None)
    if wrapped is not None and callable(wrapped):
        _codes(wrapped, namespace, seen, out)
    code = getattr(obj, "__code__", None)
    if code is None or getattr(obj, "__globals__", None) is not namespace:
        return
    stack = [code]
    while stack:
        code = stack.pop()
        if code not in out:
            out.add(code)
            stack.extend(c for c in code.co_consts if inspect.iscode(c))


class _Judge:
    """The judge's code as the profiler recognises it: by code object and by module dict, never by a name."""

    def __init__(self, modules: dict[str, Any]) -> None:
        self.forbidden: set = set()  # code a student's answer may not run
        self.trusted: dict = {}  # code object -> the module dict it runs with: allowed callers
        self.dicts: set[int] = set()  # id() of the forbidden modules' own dicts (code exec'd in them too)
        for name, module in modules.items():
            namespace = vars(module)
            codes: set = set()
            seen: set[int] = set()
            for value in list(namespace.values()):
                if isinstance(value, type) and value.__module__ != module.__name__:
                    continue
                _codes(value, namespace, seen, codes)
            self.trusted.update(dict.fromkeys(codes, namespace))
            if not name.startswith(_NOT_FORBIDDEN):
                self.forbidden |= codes
                self.dicts.add(id(namespace))
        guards = vars(sys.modules["autograder.guard"])
        for name in ("forbid", "time_limit", "handed"):  # a student's own guard would replace the check's
            self.forbidden.add(inspect.unwrap(guards[name]).__code__)  # (not its callbacks: the alarm)
        # read-only from here: student code that reaches this object cannot widen what is trusted
        self.forbidden = frozenset(self.forbidden)  # type: ignore[assignment]
        self.dicts = frozenset(self.dicts)  # type: ignore[assignment]
        self.trusted = types.MappingProxyType(self.trusted)  # type: ignore[assignment]
        self.watched = frozenset(self.forbidden | _OP_CALLS)  # the profiler's "call" events worth a look
        self.transparent = {
            contextlib._GeneratorContextManager.__enter__.__code__,
            contextlib._GeneratorContextManager.__exit__.__code__,
        }

    def trusted_frame(self, frame: Any) -> bool:
        """Whether ``frame`` runs the judge's own code in its own module (a student can set neither)."""
        return frame is not None and self.trusted.get(frame.f_code) is frame.f_globals

    def called_by_judge(self, frame: Any) -> bool:
        """Whether the judge's function running in ``frame`` was called by the judge (a ``with`` seen through)."""
        caller = frame.f_back
        while caller is not None and caller.f_code in self.transparent:
            caller = caller.f_back
        return self.trusted_frame(caller)


def _judge_label(frame: Any) -> str:
    """How the student's code most likely named the judge's function: ``neurons.collapse_reference``."""
    module = str(frame.f_globals.get("__name__", "autograder"))
    module = module.rpartition(".")[2] if module.startswith("autograder.lessons.") else "ag" + module[10:]
    return module if frame.f_code.co_name == "<module>" else f"{module}.{frame.f_code.co_qualname}"


# code the checks handed to the student as an argument (a test function f, a callback): theirs to call
_HANDED: list[frozenset] = []


def _handed_codes(value: Any, out: set, depth: int = 0) -> None:
    if depth > 3:
        return
    if isinstance(value, tuple | list):
        for item in value[:64]:
            _handed_codes(item, out, depth + 1)
    elif isinstance(value, dict):
        for item in list(value.values())[:64]:
            _handed_codes(item, out, depth + 1)
    elif isinstance(value, functools.partial):
        _handed_codes(value.func, out, depth + 1)
    elif inspect.ismethod(value):
        _handed_codes(value.__func__, out, depth + 1)
    elif isinstance(value, torch.optim.Optimizer):  # its hooks run when the student's code steps it
        for hooks in (value._optimizer_step_pre_hooks, value._optimizer_step_post_hooks):
            for hook in list(hooks.values())[:64]:
                _handed_codes(hook, out, depth)
    elif inspect.isfunction(value):
        _codes(value, value.__globals__, set(), out)
    elif not isinstance(value, type) and (type(value).__module__ or "").startswith("autograder"):
        _codes(type(value), vars(sys.modules[type(value).__module__]), set(), out)  # a probe object's methods


@contextlib.contextmanager
def handed(*values: Any) -> Iterator[None]:
    """While the body runs, the judge's functions among ``values`` (a check's arguments) may be called by the
    student's code: the check gave them (``numerical_gradient(f, x)`` calls the test's ``f``)."""
    codes: set = set()
    _handed_codes(values, codes)
    _HANDED.append(frozenset(codes))
    try:
        yield
    finally:
        _HANDED.pop()


_TORCH_CODES: dict[int, frozenset] = {}  # id() of a torch module's dict -> the code of its functions


def _torch_frame(frame: Any) -> bool:
    """Whether ``frame`` runs PyTorch's own code in its own module (``Tensor.__repr__`` reading ``grad_fn``):
    recognised by the module's dict and its functions' code objects, not by a name."""
    if frame is None:
        return False
    namespace = frame.f_globals
    name = namespace.get("__name__")
    module = sys.modules.get(name) if isinstance(name, str) and name.split(".")[0] == "torch" else None
    if module is None or vars(module) is not namespace:
        return False
    codes = _TORCH_CODES.get(id(namespace))
    if codes is None:
        found: set = set()
        seen: set[int] = set()
        for value in list(namespace.values()):
            _codes(value, namespace, seen, found)
        codes = _TORCH_CODES[id(namespace)] = frozenset(found)
    return frame.f_code in codes


_SEEN: dict[str, Any] = {}  # every judge module ever loaded (taking one out of sys.modules does not hide it)
_JUDGE: _Judge | None = None
_MODULES_SEEN = 0


def judge_codes() -> _Judge:
    """The judge as loaded now (a lesson module imported later is added when the next guard starts)."""
    global _JUDGE, _MODULES_SEEN
    if _JUDGE is not None and len(sys.modules) == _MODULES_SEEN:  # nothing imported since (the common case)
        return _JUDGE
    _MODULES_SEEN = len(sys.modules)
    fresh = {
        n: m
        for n, m in list(sys.modules.items())
        if n.split(".")[0] == "autograder" and isinstance(m, types.ModuleType) and n not in _SEEN
    }
    if fresh or _JUDGE is None:
        _SEEN.update(fresh)
        _JUDGE = _Judge(dict(_SEEN))
    return _JUDGE
