"""The grader's modules one by one, without a worker process: the message codec (worker encode -> grader
decode, strict on malformed input), proxies, iteration, the worker's capped output, statuses, options."""

from __future__ import annotations

import argparse
import io
import os
import time

import numpy as np
import pytest
import torch
from torch import nn

from autograder.grading import cli, protocol, proxy, remote, status, wire
from autograder.grading.errors import ProtocolViolation
from autograder.grading.options import DEFAULTS, Options
from autograder.grading.output import CappedOutput
from autograder.grading.worker import Worker


def _session() -> remote.Session:
    return remote.Session(None, {}, deadline=time.monotonic() + 60)  # type: ignore[arg-type]


def _wire(message: tuple) -> tuple:
    """What the grader reads: the worker's answer through the wire format."""
    return wire.loads(wire.dumps(message))


def _round_trip(value: object) -> object:
    worker, session = Worker(None), _session()  # type: ignore[arg-type]
    node = _wire((worker.encode(value), {}))[0]
    return session.decode(node)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -2.5,
        1 + 2j,
        "text",
        b"\x00bytes",
        torch.Size([2, 3]),
        torch.float64,
        torch.device("cpu"),
        (1, [2.0, "x"], {"k": (None,)}),
        {3: "three", "n": [1, 2]},
    ],  # fmt: skip
)
def test_plain_values_travel_by_value(value: object) -> None:
    assert _round_trip(value) == value
    assert type(_round_trip(value)) is type(value)


def test_tensors_parameters_and_arrays_travel_by_value() -> None:
    t = torch.arange(6.0).reshape(2, 3)[:, 1:]
    got = _round_trip(t)
    assert type(got) is torch.Tensor and torch.equal(got, t) and not got.requires_grad
    p = nn.Parameter(torch.ones(2))
    p.grad = torch.full((2,), 3.0)
    got = _round_trip(p)
    assert type(got) is nn.Parameter and got.requires_grad and torch.equal(got.grad, p.grad)
    a = np.arange(4, dtype=np.float32)
    got = _round_trip(a)
    assert isinstance(got, np.ndarray) and got.dtype == a.dtype and (got == a).all()
    assert _round_trip(np.float64(2.5)) == 2.5


def test_classes_the_grader_imports_travel_by_reference_and_others_as_handles() -> None:
    assert _round_trip(nn.Linear) is nn.Linear
    assert _round_trip(torch.Tensor) is torch.Tensor

    class Student(nn.Module):
        pass

    got = _round_trip(Student())
    assert isinstance(got, proxy.RemoteObject) and type(got).__name__ == "Student"
    assert isinstance(_round_trip(lambda x: x), proxy.RemoteCallable)


def test_a_tensor_subclass_comes_back_as_a_handle() -> None:
    class Sneaky(torch.Tensor):
        pass

    got = _round_trip(torch.zeros(2).as_subclass(Sneaky))
    assert type(got).__name__ == "Sneaky" and issubclass(type(got), proxy.RemoteObject)  # no worker to ask further


@pytest.mark.parametrize(
    "node",
    [
        "not a tuple",
        (),
        ("v", [1]),  # a list is not a plain value node
        ("zz", 1),  # unknown tag
        ("D", "not_a_dtype"),
        ("V", "cpu; rm -rf"),
        ("S", (1, "2")),
        ("G", "os", "system"),  # a class reference outside the allowed modules
        ("G", "torch", "__class__"),
        ("G", "torch", "manual_seed"),  # not a class
        ("H", "1", "Linear", True),
        ("di", [(("v", 1),)]),
        ("T", 1, torch.zeros(1), {"rg": "yes", "param": False, "fn": False}, None),
        ("A", 0),  # an argument reference outside a call
    ],
)
def test_decode_refuses_malformed_nodes(node: object) -> None:
    session = _session()
    with pytest.raises(ProtocolViolation):
        session.decode(node)
    assert session.dead_reason, "a malformed answer stops the worker"


def test_decode_refuses_deep_nesting() -> None:
    node: tuple = ("v", 1)
    for _ in range(60):
        node = ("tu", [node])
    with pytest.raises(ProtocolViolation):
        _session().decode(node)


def test_proxy_class_names_do_not_depend_on_what_was_graded_before() -> None:
    first = proxy.proxy_class("Linear", False)
    for i in range(2000):
        proxy.proxy_class(f"Other{i}", i % 2 == 0)
    again = proxy.proxy_class("Linear", False)
    assert again.__name__ == first.__name__ == "Linear"
    assert issubclass(proxy.proxy_class("linear", True), proxy.RemoteCallable)
    assert proxy.proxy_class("<lambda>", True).__name__ == "Remote__lambda_"


class _FakeSession:
    """Answers a proxy's hash request as a worker would."""

    def __init__(self, target: object) -> None:
        self.target = target

    def request(self, op: str, handle: object, *args: object, **fields: object) -> object:
        assert op == "hash"
        return hash(self.target)


def test_iteration_reads_ahead_only_where_it_runs_no_code() -> None:
    """A generator's side effects happen in the order the items are asked for; a list is read in batches."""
    worker = Worker(None)  # type: ignore[arg-type]
    effects: list[int] = []

    def gen():
        for i in range(5):
            effects.append(i)
            yield i

    g = gen()
    items, done = worker.operate("next_batch", g, (64,))
    assert items == [0] and effects == [0] and not done
    items, done = worker.operate("next_batch", iter(list(range(100))), (64,))
    assert items == list(range(64)) and not done
    items, done = worker.operate("next_batch", iter({"a": 1}), (64,))
    assert items == ["a"] and done


def test_a_proxy_hashes_as_the_worker_does() -> None:
    session = _FakeSession(("a", 1))
    obj = object.__new__(proxy.proxy_class("tuple", False))
    for name, value in (("_ag_session", session), ("_ag_rid", 1), ("_ag_gen", 0)):
        object.__setattr__(obj, name, value)
    assert hash(obj) == hash(("a", 1))
    session.request = lambda op, handle, *a, **k: "not an int"  # type: ignore[method-assign]
    with pytest.raises(ProtocolViolation):
        hash(obj)


def test_capped_output_keeps_the_first_bytes_and_counts_the_rest() -> None:
    r, w = os.pipe()
    try:
        out = CappedOutput(w, w, cap=1000)
        for i in range(300_000):
            print("line", i, file=out.stdout)
        out.stderr.write("e" * 10)
        dropped = out.take_dropped()
        os.close(w)
        w = -1
        kept = b""
        while chunk := os.read(r, 1 << 16):
            kept += chunk
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    total = sum(len(f"line {i}\n") for i in range(300_000)) + 10
    assert len(kept) == 1000 and kept.startswith(b"line 0\nline 1\n")
    assert dropped == total - 1000
    assert out.take_dropped() == 0


def test_the_worst_status_names_a_notebook() -> None:
    assert status.worst(["passed", "failed"]) is None
    assert status.worst(["timeout", "crashed", "passed"]) == status.Status.CRASHED
    assert status.worst(["missing", "ungradable"]) == "ungradable"
    assert set(status.SEVERITY) | status.CLEAN | status.NOTEBOOK_CLEAN == set(status.Status)


def test_the_cli_defaults_are_the_options_defaults() -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["submitted"])
    assert cli._options(args) == Options() == DEFAULTS


def test_once_the_cap_is_spent_print_goes_to_a_cheap_discard() -> None:
    import builtins
    import sys

    r, w = os.pipe()
    out = CappedOutput(w, w, cap=100)
    saved = sys.stdout, sys.stderr, builtins.print
    sys.stdout, sys.stderr = out.stdout, out.stderr
    own = io.StringIO()
    try:
        for i in range(20_000):
            print("line", i)
        swapped = sys.stdout is out.discard and sys.stderr is out.discard
        quiet = builtins.print is not saved[2]
        print("more, dropped")  # a print after the swap costs one C call and needs no flush
        sys.stdout.write("x")
        sys.stdout.flush()
        print("kept", 1, sep="-", end="!", file=own)  # print still honours its arguments
        sys.stdout = own
        print("and sys.stdout is read at each call")
    finally:
        sys.stdout, sys.stderr, builtins.print = saved
        out.flush()
        os.close(w)
    kept = os.read(r, 1 << 16)
    os.close(r)
    assert swapped and quiet and len(kept) == 100 and out.take_dropped() > 0
    assert own.getvalue() == "kept-1!and sys.stdout is read at each call\n"


def test_a_print_after_the_cap_costs_no_profiler_event() -> None:
    import builtins
    import sys

    r, w = os.pipe()
    out = CappedOutput(w, w, cap=10)
    saved = sys.stdout, sys.stderr, builtins.print
    sys.stdout, sys.stderr = out.stdout, out.stderr
    events: list[str] = []
    try:
        for i in range(2_000):
            print("line", i)
        out.flush()  # the buffered lines reach the sink: the cap is spent
        sys.setprofile(lambda frame, event, arg: events.append(f"{event} {getattr(arg, '__name__', '')}"))
        print("seen by nobody")
        sys.setprofile(None)
    finally:
        sys.setprofile(None)
        sys.stdout, sys.stderr, builtins.print = saved
        os.close(w)
        os.close(r)
    assert "c_call print" not in events and "c_call setprofile" in events, events


def test_a_tensor_the_worker_changed_is_refreshed_in_the_grader() -> None:
    # the worker reports every tensor a call changed in place (an optimizer's step, say) as a refresh node of its
    # tensor_node form; the grader's copy must follow, whether or not the call returned that tensor
    worker, session = Worker(None), _session()  # type: ignore[arg-type]
    param = torch.zeros(3)
    mine = session.decode(_wire((worker.encode(param), {}))[0])
    param.add_(1.0)  # changed in the worker
    refresh = _wire((None, {"refresh": [worker.tensor_node(param, None)]}))[1]
    session._common(refresh)
    assert torch.equal(mine, torch.ones(3)), "the grader's copy missed the worker's in-place change"


def test_random_state_travels_as_bytes_exactly_and_refuses_what_does_not_fit() -> None:
    torch.manual_seed(123)
    state = protocol.rng_state()
    assert type(state) is bytes
    expected = torch.rand(5)
    torch.manual_seed(0)
    assert protocol.set_rng_state(state)
    assert torch.equal(torch.rand(5), expected)  # the same draws as from the state it was taken from
    now = torch.get_rng_state()
    for bad in (state[:-1], state + b"\0", bytearray(state), torch.get_rng_state(), None):
        assert not protocol.set_rng_state(bad)  # type: ignore[arg-type]
    assert torch.equal(torch.get_rng_state(), now)  # nothing was set


def test_a_call_runs_under_the_graders_anomaly_and_deterministic_flags() -> None:
    # the grader's settings travel with every request (remote.settings): here grader and worker share one
    # process, so the request is made under the grader's flags and handled under the worker's own (all off)
    worker, session = Worker(None), _session()  # type: ignore[arg-type]
    exec(
        "import torch\n"
        "def flags():\n"
        "    return (torch.is_anomaly_enabled(), torch.are_deterministic_algorithms_enabled(),\n"
        "            torch.is_deterministic_algorithms_warn_only_enabled())\n",
        worker.ns,
    )
    rid = worker.register(worker.ns["flags"])

    def call(anomaly: bool, deterministic: bool, warn_only: bool) -> tuple:
        try:
            torch.autograd.set_detect_anomaly(anomaly)
            torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
            message, _ = session.pack((), {})
            message.update(op="call", rid=rid, forbid=(), grad=True, timeout=10.0, **remote.settings())
        finally:  # the worker's own settings
            torch.autograd.set_detect_anomaly(False)
            torch.use_deterministic_algorithms(False)
        status, node, extras = worker.handle(wire.loads_request(wire.dumps(message)))
        assert status == "ok" and "global" not in extras  # left as found: nothing to report
        assert not torch.is_anomaly_enabled() and not torch.are_deterministic_algorithms_enabled()  # set back
        return session.decode(_wire((node, {}))[0])

    assert call(False, False, False) == (False, False, False)
    assert call(True, False, False) == (True, False, False)
    assert call(False, True, True) == (False, True, True)
    assert call(True, True, False) == (True, True, False)
