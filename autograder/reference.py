"""The PyTorch references, captured when ``autograder`` is first imported.

A notebook imports ``autograder`` in its first (locked) cell, before any student
code runs. From then on :func:`get` returns the original objects, and
:func:`pristine` temporarily undoes whatever a student cell rebound or patched
(``torch.sigmoid = my_sigmoid``, ``torch.allclose = lambda *a: True``,
``torch.Tensor.softmax = ...``) while a reference or a comparison is computed.
The student's own world is put back afterwards, untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.autograd.functional
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init
import torch.testing

_ROOTS: dict[str, Any] = {
    "torch": torch,
    "torch.nn": nn,
    "torch.nn.functional": F,
    "torch.nn.init": torch.nn.init,
    "torch.special": torch.special,
    "torch.linalg": torch.linalg,
    "torch.testing": torch.testing,
    "torch.autograd": torch.autograd,
    "torch.autograd.functional": torch.autograd.functional,
    "torch.Tensor": torch.Tensor,
    "numpy": np,
}


def _namespaces() -> dict[str, Any]:
    """Every namespace whose attributes are snapshotted: the roots and nn's module classes."""
    spaces = dict(_ROOTS)
    for name, obj in vars(nn).items():
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            spaces[f"torch.nn.{name}"] = obj
    spaces["torch.nn.Module"] = nn.Module
    return spaces


_SPACES = _namespaces()
_SNAPSHOT: dict[str, dict[str, Any]] = {key: dict(vars(space)) for key, space in _SPACES.items()}


def get(path: str) -> Any:
    """The original object at a dotted path, e.g. ``get("torch.nn.functional.relu")``."""
    space, _, attr = path.rpartition(".")
    if space not in _SNAPSHOT or attr not in _SNAPSHOT[space]:
        raise KeyError(f"no captured reference named {path!r}")
    return _SNAPSHOT[space][attr]


def public_name(obj: Any, spaces: tuple[str, ...] = ("torch.nn.functional", "torch.special", "torch")) -> str:
    """The dotted public name under which ``obj`` was captured (``F.logsigmoid`` for ``torch._C._nn.log_sigmoid``),
    '' if none."""
    for space in spaces:
        for attr, value in _SNAPSHOT[space].items():
            if value is obj and not attr.startswith("_"):
                return f"{space}.{attr}"
    return ""


@contextlib.contextmanager
def pristine() -> Iterator[None]:
    """Run the body with every snapshotted attribute restored; then put the student's back."""
    undo: list[tuple[Any, str, Any]] = []
    for key, space in _SPACES.items():
        now = dict(vars(space))
        snap = _SNAPSHOT[key]
        for attr, value in snap.items():
            if attr in now and now[attr] is not value:
                undo.append((space, attr, now[attr]))
                setattr(space, attr, value)
            elif attr not in now:
                undo.append((space, attr, _MISSING))
                setattr(space, attr, value)
        if isinstance(space, type):
            for attr in now.keys() - snap.keys():
                undo.append((space, attr, now[attr]))
                delattr(space, attr)
    try:
        yield
    finally:
        for space, attr, value in reversed(undo):
            if value is _MISSING:
                delattr(space, attr)
            else:
                setattr(space, attr, value)


_MISSING = object()
