"""The worker's answers on the wire (autograder.grading.wire): tensors come back bit for bit with their
strides, anything but plain data and tensors is refused, and a malformed tensor record fails closed."""

from __future__ import annotations

import io
import os
import pickle

import pytest
import torch

from autograder.grading import wire


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (
        type(a) is type(b)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and a.stride() == b.stride()
        and a.requires_grad == b.requires_grad
        and (a.numel() == 0 or torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8)))
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.randn(3, 4),
        lambda: torch.randn(3, 4).t().clone(),  # transposed strides are kept
        lambda: torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last),
        lambda: torch.tensor(2.5, dtype=torch.float64),
        lambda: torch.randn(4, dtype=torch.bfloat16),
        lambda: torch.tensor([True, False, True]),
        lambda: torch.arange(-5, 5, dtype=torch.int8),
        lambda: torch.randn(3, dtype=torch.complex64),
        lambda: torch.empty(0, 3),
        lambda: torch.tensor([float("nan"), -0.0, float("inf")]),
    ],
)
def test_dense_tensors_travel_as_raw_bytes_and_come_back_bit_for_bit(make) -> None:  # noqa: ANN001
    t = make()
    assert wire._record(t)[0] == "t"
    got = wire.loads(wire.dumps(("ok", [t], {"k": t})))
    assert _same(got[1][0], t) and _same(got[2]["k"], t)
    if t.numel():  # not the sender's memory
        assert got[1][0].untyped_storage().data_ptr() != t.untyped_storage().data_ptr()


def test_other_tensors_fall_back_to_a_weights_only_archive() -> None:
    for t in (
        torch.randn(4, 4)[1:, 1:],  # a storage with gaps
        torch.randn(3).expand(2, 3),  # overlapping
        torch.randn(2, dtype=torch.complex64).conj(),  # the conjugate bit
        torch.randn(3, requires_grad=True),
    ):
        assert wire._record(t)[0] == "s"
        got = wire.loads(wire.dumps(t))
        assert type(got) is torch.Tensor and got.shape == t.shape and got.dtype == t.dtype
        assert torch.equal(got.resolve_conj(), t.resolve_conj()) and got.requires_grad == t.requires_grad


def test_plain_values_pass_and_every_global_is_refused() -> None:
    value = (None, True, 3, 2.5, 1 + 2j, "s", b"b", bytearray(b"x"), [1], {"k": (2,)}, {3}, frozenset({4}))
    assert wire.loads(wire.dumps(value)) == value

    class Evil:
        def __reduce__(self) -> tuple:
            return (os.system, ("true",))

    for payload in (pickle.dumps(Evil()), pickle.dumps(torch.nn.Linear(2, 2)), pickle.dumps(torch.ones(2))):
        with pytest.raises(pickle.UnpicklingError):
            wire.loads(payload)


def _forged(record: tuple) -> bytes:
    class Writer(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            return record if obj == "TENSOR" else None

    buf = io.BytesIO()
    Writer(buf, protocol=5).dump(("ok", "TENSOR"))
    return buf.getvalue()


@pytest.mark.parametrize(
    "record",
    [
        ("t", "float32", (2,), (1,), b"\x00" * 4),  # bytes short of the shape
        ("t", "float32", (2, 2), (1, 1), b"\x00" * 16),  # overlapping strides
        ("t", "float32", (2,), (2,), b"\x00" * 8),  # a gap
        ("t", "float32", (2,), (-1,), b"\x00" * 8),  # a negative stride
        ("t", "object", (1,), (1,), b"\x00" * 8),  # not a dtype
        ("t", "float32", [2], [1], b"\x00" * 8),  # lists, not tuples
        ("t", "float32", (2,), (1,), "text"),  # not bytes
        ("s", b"not an archive"),
        ("x", 1),
        "t",
    ],
)
def test_a_malformed_tensor_record_fails_closed(record: object) -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011 - UnpicklingError or torch.load's own error
        wire.loads(_forged(record))
    good = ("t", "float32", (2,), (1,), b"\x00" * 8)
    assert torch.equal(wire.loads(_forged(good))[1], torch.zeros(2))


def test_same_bits_compares_bits_not_values() -> None:
    from autograder.grading.protocol import same_bits

    nan = torch.tensor([float("nan"), 0.0, 1.0])
    assert same_bits(nan, nan.clone())  # NaN is NaN here
    assert not same_bits(nan, torch.tensor([float("nan"), -0.0, 1.0]))  # -0.0 is not 0.0
    assert not same_bits(nan, nan.double()) and not same_bits(nan, nan[:2])
    t = torch.randn(3, 4)
    assert same_bits(t.t(), t.t().contiguous()) and not same_bits(t.t(), t.t() + 1)
    assert same_bits(torch.ones(2, dtype=torch.bfloat16), torch.ones(2, dtype=torch.bfloat16))
    c = torch.randn(3, dtype=torch.complex64)
    assert same_bits(c.conj(), c.conj().resolve_conj()) and not same_bits(c.conj(), c)
    assert same_bits(torch.zeros(3, requires_grad=True), torch.zeros(3)) and same_bits(torch.empty(0), torch.empty(0))
