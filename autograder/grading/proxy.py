"""Proxies: the grader's stand-ins for objects that live in the worker.

Everything done to a :class:`RemoteObject` (attributes, calls, items, iteration, operators, ``repr``) is a
request to the worker through its session. A proxy's class is named after the remote type, so messages
read ``it returned Linear``; ``isinstance`` consults a local stand-in of the worker's class hierarchy.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from autograder.grading.errors import CannotGradeRemotely, ProtocolViolation


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
        # the worker's hash, as __eq__ is the worker's (never id(): equal objects must hash alike)
        value = self._ag_session.request("hash", self)
        if type(value) is not int:
            raise ProtocolViolation("hash() gave no integer")
        return value

    def __iter__(self) -> Iterator[Any]:
        return _RemoteIterator(self._ag_session, self._ag_session.request("iter", self))

    def __next__(self) -> Any:
        return next(_RemoteIterator(self._ag_session, self, batch=1))  # one item: nothing read ahead and lost

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
    """Iterates a remote iterator: in batches of up to ``batch`` items where the worker knows that reading
    ahead runs no code (a list's or a dict's iterator), one item per request otherwise (a generator's side
    effects then happen in the order the test asks for its items)."""

    def __init__(self, session: Any, handle: Any, batch: int = 64) -> None:
        self.session, self.handle, self.batch, self.items, self.done = session, handle, batch, [], False

    def __iter__(self) -> _RemoteIterator:
        return self

    def __next__(self) -> Any:
        if not self.items and not self.done:
            if not isinstance(self.handle, RemoteObject):
                raise TypeError(f"iter() gave a {type(self.handle).__name__}, not an iterator")
            batch = self.session.request("next_batch", self.handle, self.batch)
            if type(batch) is not tuple or len(batch) != 2 or type(batch[0]) is not list:
                raise ProtocolViolation("malformed iteration")
            self.items, self.done = list(batch[0]), batch[1] is True
            self.items.reverse()
        if not self.items:
            raise StopIteration
        return self.items.pop()


def proxy_class(name: str, is_callable: bool) -> type:
    """A proxy class named after the remote type, so messages read ``it returned Linear``.

    The name depends on nothing but ``name``: the cache only saves making the class again (whichever
    students were graded before, a message names the student's own type).
    """
    clean = re.sub(r"\W", "_", name)[:40] or "RemoteObject"
    if not clean[0].isalpha():
        clean = "Remote_" + clean
    return _make_proxy_class(clean, is_callable)


@functools.lru_cache(maxsize=512)
def _make_proxy_class(name: str, is_callable: bool) -> type:
    return type(name, (RemoteCallable if is_callable else RemoteObject,), {"__slots__": ()})
