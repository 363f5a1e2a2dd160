"""Tensor attributes a ban hides from student code: a Python property over torch.Tensor's C descriptor while the
ban is active (a C getset descriptor cannot be watched by the profiler; a property can)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import torch

from autograder.guard.judge import _Judge, _torch_frame
from autograder.guard.names import _ATTRIBUTES


@contextlib.contextmanager
def _guard_attributes(paths: tuple[str, ...], judge: _Judge, caught: Any) -> Iterator[None]:
    """While the body runs, reading a banned attribute of a tensor (``y.grad_fn``) from student code raises;
    PyTorch's and the judge's own code still read it."""
    attrs = [(path, attr) for path in paths for attr in _ATTRIBUTES.get(path, ())]
    if not attrs:
        yield
        return
    absent = object()
    saved = {attr: vars(torch.Tensor).get(attr, absent) for _, attr in attrs}

    def guarded(path: str, attr: str) -> property:
        native = getattr(torch._C.TensorBase, attr)  # the C descriptor, captured here

        def read(tensor: torch.Tensor) -> Any:
            caller = sys._getframe(1)
            if not (judge.trusted_frame(caller) or _torch_frame(caller)):
                caught(f"tensor.{attr}")
            return native.__get__(tensor, type(tensor))

        def write(tensor: torch.Tensor, value: Any) -> None:
            native.__set__(tensor, value)

        return property(read, write, doc=native.__doc__)

    for path, attr in attrs:
        setattr(torch.Tensor, attr, guarded(path, attr))
    try:
        yield
    finally:
        for attr, previous in saved.items():
            if previous is absent:
                delattr(torch.Tensor, attr)
            else:
                setattr(torch.Tensor, attr, previous)
