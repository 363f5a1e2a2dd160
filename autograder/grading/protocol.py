"""Message framing between the grader and the worker.

Every message is ``!QB`` (payload length, kind) followed by the payload. The grader sends pickles
(the worker trusts the grader); the worker answers in :mod:`autograder.grading.wire`'s format, plain data
and tensors read by a pickle that imports nothing, which the grader then checks node by node (the grader
never trusts the worker).

Values travel as tagged tuples:

=========================  =====================================================================
``("v", x)``               None, bool, int, float, complex or str
``("b", x)``               bytes
``("T", rid, t, meta, g)`` a tensor by value (``meta``: requires_grad, parameter, has grad_fn), its grad
``("A", i)``               the i-th tensor argument of the current call, itself (in-place results)
``("S", dims)``            torch.Size; ``("D", name)`` a dtype; ``("V", name)`` a device
``("tu"|"li", items)``     tuple, list; ``("di", [(k, v), ...])`` dict
``("N", t)``               a numpy array (sent as a tensor)
``("G", module, name)``    a class the grader imports itself (torch, numpy, builtins, ...)
``("H", rid, name, c)``    a handle to any other object, kept in the worker (``c``: callable)
=========================  =====================================================================
"""

from __future__ import annotations

import struct

import numpy as np
import torch

# Captured at import, before any student code runs in the worker.
_equal, _array_equal, _uint8 = torch.equal, np.array_equal, torch.uint8

HEADER = struct.Struct("!QB")
PICKLE = ord("P")
ANSWER = ord("A")
#: The largest message the grader accepts from a worker.
MAX_MESSAGE = 256 * 1024 * 1024
#: Name of the notebook namespace (``__module__`` of functions and classes defined in cells).
NOTEBOOK_MODULE = "__nnlab_notebook__"
#: Modules whose classes may be named by reference (``"G"`` nodes), resolved in ``sys.modules`` only.
CLASS_MODULES = ("builtins", "torch", "numpy", "collections", "nnlab", "autograder", "abc", "enum", "typing")


def rng_state() -> bytes:
    """The global torch random state as plain bytes: what travels with every request and answer.

    Bytes, not the state's tensor: pickling a tensor, and a tensor record in a ``torch.save`` archive, cost
    about a millisecond a message, paid on every round trip.
    """
    return torch.get_rng_state().numpy().tobytes()


def set_rng_state(state: bytes) -> bool:
    """Set the global torch random state from :func:`rng_state` bytes; False (nothing set) if they do not fit."""
    if type(state) is not bytes or len(state) != torch.get_rng_state().numel():
        return False
    torch.set_rng_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
    return True


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two tensors hold the same shape, dtype and bits (NaN equals NaN, -0.0 differs from 0.0).

    Compared as bytes by numpy: ``torch.equal`` on uint8 views is ~8x slower, and both sides compare every
    tensor they share with the other after every request (``refreshes``, ``_sync``).
    """
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.numel() == 0:
        return True
    a, b = a.detach().reshape(-1).contiguous(), b.detach().reshape(-1).contiguous()
    try:
        return bool(_array_equal(a.view(_uint8).numpy(), b.view(_uint8).numpy()))
    except (RuntimeError, TypeError):  # no byte view (a conjugate bit, say): compare the resolved values
        return _equal(a.resolve_conj().resolve_neg().view(_uint8), b.resolve_conj().resolve_neg().view(_uint8))


def frame(kind: int, payload: bytes) -> bytes:
    return HEADER.pack(len(payload), kind) + payload
