"""The worker's answers on the wire: plain data pickled, tensors as raw bytes, read back by a pickle that
imports nothing (but ``complex``).

The grader never trusts the worker. An answer is a pickle (protocol 5) read by :class:`_Reader`, whose
``find_class`` refuses every global but ``complex``: only plain data can come out of it (None, bools, numbers, strings,
bytes, bytearrays, tuples, lists, dicts, sets). Tensors travel as persistent records:

* ``("t", dtype, shape, strides, raw)``: a plain dense CPU tensor, its storage's bytes in storage order
  (a transposed or ``channels_last`` tensor keeps its strides); rebuilt with ``torch.frombuffer`` after
  strict checks (a known dtype, sizes that fit the bytes);
* ``("s", archive)``: anything else (a quantized or sparse tensor, conjugate or negative bits, a storage
  with gaps), a ``torch.save`` archive read with ``torch.load(weights_only=True)`` as before.

The grader's requests use the same tensor records (:func:`loads_request`: the worker trusts the grader,
any pickle): pickling a tensor costs ~100 us, a record a few. A ``torch.save`` archive read with
``weights_only=True`` costs a few hundred microseconds per answer (its
unpickler is Python); this format costs a few, on every round trip of the grading.
"""

from __future__ import annotations

import io
import math
import pickle
from typing import Any

import torch

# Captured at import, before any student code runs in the worker.
_Tensor = torch.Tensor
_save = torch.save
_uint8 = torch.uint8
_strided = torch.strided

#: dtypes sent as raw bytes (every other tensor goes as a ``torch.save`` archive)
_RAW = (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128, torch.uint8,
        torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)  # fmt: skip
DTYPES: dict[str, torch.dtype] = {str(d).removeprefix("torch."): d for d in _RAW}
_NAMES = {d: n for n, d in DTYPES.items()}


def _dense(shape: tuple, stride: tuple) -> bool:
    """Whether these strides lay the elements out without gaps or overlaps, in some order of the dims."""
    expected = 1
    for st, n in sorted((st, n) for n, st in zip(shape, stride) if n != 1):
        if st != expected:
            return False
        expected *= n
    return True


def _record(t: torch.Tensor) -> tuple:
    """The persistent record of one tensor (see the module's docstring)."""
    name = _NAMES.get(t.dtype)
    if (
        name is not None
        and type(t) is _Tensor
        and t.layout == _strided
        and t.device.type == "cpu"
        and not t.requires_grad
        and not t.is_conj()
        and not t.is_neg()
        and t.storage_offset() == 0
        and t.untyped_storage().nbytes() == t.numel() * t.element_size()
        and _dense(tuple(t.shape), t.stride())
    ):
        flat = t.as_strided((t.numel(),), (1,), 0).view(_uint8)
        raw = pickle.PickleBuffer(flat.numpy()) if t.numel() else b""
        return ("t", name, tuple(t.shape), tuple(t.stride()), raw)
    buf = io.BytesIO()
    _save(t, buf)
    return ("s", buf.getvalue())


class _Writer(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        return _record(obj) if isinstance(obj, _Tensor) else None


def dumps(message: Any) -> bytes:
    """A message as bytes, tensors by :func:`_record` (the worker's answers, and the grader's requests)."""
    buf = io.BytesIO()
    _Writer(buf, protocol=5).dump(message)
    return buf.getvalue()


def _tensor(record: Any, trusted: bool = False) -> torch.Tensor:
    """A tensor from its record, or UnpicklingError for anything that does not fit exactly."""
    if type(record) is not tuple or not record:
        raise pickle.UnpicklingError("malformed tensor record")
    if record[0] == "s" and len(record) == 2 and type(record[1]) is bytes:
        t = torch.load(io.BytesIO(record[1]), weights_only=True)
        if not (type(t) is _Tensor or (trusted and isinstance(t, _Tensor))):
            raise pickle.UnpicklingError("a tensor record holds something else")
        return t
    if record[0] != "t" or len(record) != 5:
        raise pickle.UnpicklingError("malformed tensor record")
    _, name, shape, stride, raw = record
    dtype = DTYPES.get(name) if type(name) is str else None
    if (
        dtype is None
        or type(shape) is not tuple
        or type(stride) is not tuple
        or len(shape) != len(stride)
        or len(shape) > 64
        or not all(type(x) is int and x >= 0 for x in shape + stride)
        or type(raw) not in (bytes, bytearray)
    ):
        raise pickle.UnpicklingError("malformed tensor record")
    numel = math.prod(shape)
    if len(raw) != numel * dtype.itemsize or not (numel == 0 or _dense(shape, stride)):
        raise pickle.UnpicklingError("a tensor record's sizes do not fit its bytes")
    if not numel:
        return torch.empty_strided(shape, stride, dtype=dtype)
    flat = torch.frombuffer(raw if type(raw) is bytearray else bytearray(raw), dtype=dtype)
    return torch.empty(0, dtype=dtype).set_(flat.untyped_storage(), 0, shape, stride)


class _Reader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "complex"):  # complex numbers pickle as complex(real, imag)
            return complex
        raise pickle.UnpicklingError(f"an answer may not name {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        return _tensor(pid)


def loads(payload: bytes) -> Any:
    """Read an answer: plain data and tensors, nothing else (any other global raises UnpicklingError)."""
    return _Reader(io.BytesIO(payload)).load()


class _TrustedReader(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        return _tensor(pid, trusted=True)


def loads_request(payload: bytes) -> Any:
    """Read a request of the grader's, in the worker (which trusts the grader): any pickle, tensors as records."""
    return _TrustedReader(io.BytesIO(payload)).load()
