"""Autograd seen by what it leaves, not by a call: saved-tensor hooks around a student's call.

The profiler sees every Python call and every C function called from Python, but not a C function called from
C: ``functools.partial(engine.run_backward)(...)``, or a recorded node fetched through
``functools.partial(torch._C.TensorBase.grad_fn.__get__)`` and then called. Whatever the route, computing a
derivative of a non-trivial op reads back what its forward saved for backward (the engine and a node called
directly alike), while a derivative written by hand reads nothing back. So while a ban on autograd is active,
:func:`watch_unpacks` pushes saved-tensor default hooks: *pack* keeps the tensor (detached, with its version),
*unpack* during the student's call is a hit. The hooks are pushed and popped in the process that runs the
student's code (the grading worker too: its guard is :func:`autograder.guard.forbid`).

After the call the hooks must still be on top of the stack: student code that popped them (C from C) is a hit.
Not seen: a derivative that reads nothing saved (a sum, a linear map by a constant); a graph recorded before
any watch began and handed to the call (the checks hand copies without a graph); hooks of one's own pushed
over ours and popped again before returning, or ours popped and pushed back; forward-mode AD (dual numbers save
nothing); a graph recorded in another thread (the hooks are thread-local, as the profiler is).
``torch._C._current_graph_task_id()`` is not used: a node called directly runs outside any graph task (-1).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

from autograder.guard.errors import ForbiddenCall

# A ban list naming one of these forbids asking autograd for a derivative: it also watches the saved tensors.
ENGINE_ROUTES = frozenset({"torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
                           "torch.Tensor.grad_fn"})  # fmt: skip
#: the hit of a derivative taken by autograd out of the profiler's sight, as the student is told
UNPACKED = "autograd's backward engine"
#: the hit of student code that popped the hooks
POPPED = "torch._C._autograd._pop_saved_tensors_default_hooks"

# captured at import, before student code runs
_PUSH = torch._C._autograd._push_saved_tensors_default_hooks
_POP = torch._C._autograd._pop_saved_tensors_default_hooks
_TOP = torch._C._autograd._top_saved_tensors_default_hooks
_DETACH = torch.Tensor.detach
_MAX_FOREIGN = 64  # hooks left above ours that the end of the call takes off (a student's own, pushed C from C)


def watches_unpacks(paths: tuple[str, ...]) -> bool:
    """Whether a ban list forbids autograd (then :func:`watch_unpacks` runs beside the profiler)."""
    return not ENGINE_ROUTES.isdisjoint(paths)


# the hits of the watches active now, innermost last: a tensor saved under an earlier watch and read back during
# a later one (a graph kept from a previous call) is a hit of the later one
_WATCHING: list[list[str]] = []


@contextlib.contextmanager
def watch_unpacks(hits: list[str]) -> Iterator[None]:
    """While the body runs, a tensor saved for backward (under this watch or an earlier one) and read back, by the
    engine or by a node called directly, appends :data:`UNPACKED` to ``hits`` and raises :class:`ForbiddenCall`.

    Tensors saved while the body runs stay packed by these hooks afterwards: read back later outside any watch
    (the judge's own backward), they are returned as saved, with PyTorch's check that no in-place change came in
    between.
    """

    def pack(tensor: torch.Tensor) -> tuple[torch.Tensor, int]:
        # detached: the saved output of a node must not hold that node (a cycle no collector frees)
        return _DETACH(tensor), tensor._version

    def unpack(packed: tuple[torch.Tensor, int]) -> torch.Tensor:
        if _WATCHING:
            _WATCHING[-1].append(UNPACKED)
            raise ForbiddenCall(UNPACKED)
        tensor, version = packed
        if tensor._version != version:  # what PyTorch checks for a tensor saved without hooks
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"a tensor of shape {tuple(tensor.shape)} is at version {tensor._version}; expected version "
                f"{version} instead."
            )
        return tensor

    _PUSH(pack, unpack)
    _WATCHING.append(hits)
    try:
        yield
    finally:
        while _WATCHING and _WATCHING.pop() is not hits:  # (a watch left open inside this one ends with it)
            pass
        if not _pop_ours(pack, unpack):
            hits.append(POPPED)


def _pop_ours(pack: Callable, unpack: Callable) -> bool:
    """Pop our hooks; False if they were no longer on top (the student's code popped or covered them)."""
    for extra in range(_MAX_FOREIGN):
        top = _TOP(False)
        if top is None:
            return False
        if top[0] is pack and top[1] is unpack:
            _POP()
            return extra == 0
        _POP()  # a pair pushed by the student's code and left there
    return False
