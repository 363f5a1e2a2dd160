"""The checks library: references survive tampering, forbidden calls are caught, failures teach."""

from __future__ import annotations

import math
import sys

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import autograder as ag
from autograder import guard, reference

SIGMOID_BAN = ("torch.sigmoid", "torch.nn.functional.sigmoid")


def good_sigmoid(x):
    return torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))


def check_sigmoid(fn) -> None:
    ag.check_elementwise(fn, "torch.sigmoid", name="sigmoid", forbid=SIGMOID_BAN)


def failure(fn, checker=check_sigmoid) -> str:
    with pytest.raises(ag.CheckFailed) as info:
        checker(fn)
    return str(info.value)


# ---------------------------------------------------------------- references survive tampering


def test_pristine_undoes_rebinding_and_patching() -> None:
    saved = torch.sigmoid, torch.allclose, F.relu
    torch.sigmoid = lambda x: x
    torch.allclose = lambda *a, **k: True
    F.relu = lambda x: x
    torch.Tensor.custom_attr = 1
    try:
        with ag.pristine():
            assert torch.sigmoid is saved[0] and torch.allclose is saved[1] and F.relu is saved[2]
            assert not hasattr(torch.Tensor, "custom_attr")
        assert torch.sigmoid(torch.tensor(3.0)) == 3.0, "the student's world is put back"
        assert torch.Tensor.custom_attr == 1
        # a wrong answer still fails although the student "fixed" torch.sigmoid and allclose
        failure(lambda x: x)
    finally:
        torch.sigmoid, torch.allclose, F.relu = saved
        del torch.Tensor.custom_attr


def test_patched_tensor_method_does_not_change_the_reference() -> None:
    original = torch.Tensor.softmax
    torch.Tensor.softmax = lambda self, dim: self  # F.softmax calls input.softmax
    try:
        ag.check_function(
            lambda x, dim: torch.exp(x - torch.logsumexp(x, dim, keepdim=True)),
            "torch.nn.functional.softmax",
            [ag.Case("logits", (ag.inputs.randn(3, 4), 1))],
        )
    finally:
        torch.Tensor.softmax = original


def test_get_rejects_unknown_names() -> None:
    with pytest.raises(KeyError):
        reference.get("torch.not_a_function")


# ---------------------------------------------------------------- forbidden references


@pytest.mark.parametrize(
    "call",
    [
        lambda x: torch.sigmoid(x),
        lambda x: x.sigmoid(),
        lambda x: x.clone().sigmoid_(),
        lambda x: F.sigmoid(x),
        lambda x: nn.Sigmoid()(x),
        lambda x: torch.special.expit(x),
        lambda x: torch._C._VariableFunctions.sigmoid(x),
        lambda x: torch.ops.aten.sigmoid(x),
        lambda x: torch.ops.aten.sigmoid.default(x),
    ],
    ids=[
        "torch.sigmoid",
        "method",
        "in-place method",
        "F.sigmoid",
        "nn.Sigmoid",
        "expit",
        "C binding",
        "aten operator",
        "aten overload",
    ],
)
def test_every_form_of_a_forbidden_reference_is_caught(call) -> None:
    assert "does not allow" in failure(call)


def test_autograd_ban_covers_backward_kernels_and_only_them() -> None:
    """ag.AUTOGRAD's pattern catches every aten backward kernel; forward operators stay allowed."""
    x = torch.randn(5)
    for kernel in (
        lambda: torch.ops.aten.tanh_backward(torch.ones(5), x.tanh()),
        lambda: torch.ops.aten.gelu_backward.default(torch.ones(5), x),
        lambda: torch.ops.aten._softmax_backward_data(torch.ones(5), x.softmax(0), 0, x.dtype),
    ):
        with pytest.raises(guard.ForbiddenCall, match=r"torch\.ops\.aten\..*backward"), guard.forbid(*ag.AUTOGRAD):
            kernel()
    with guard.forbid(*ag.AUTOGRAD):
        torch.ops.aten.gelu(x) + torch.tanh(x).sum() + torch.exp(x).mul(2).sum()


def _graph() -> tuple[torch.Tensor, torch.Tensor]:
    leaf = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    return leaf, torch.exp(leaf) * 2


@pytest.mark.parametrize(
    "route",
    [
        lambda leaf, y: y.grad_fn(torch.ones_like(y)),
        lambda leaf, y: y.grad_fn.next_functions[0][0](torch.ones_like(y)),
        lambda leaf, y: getattr(y, "_grad_fn"),  # noqa: B009 - read through the built-in getattr
        lambda leaf, y: torch.autograd.graph.get_gradient_edge(y).node(torch.ones_like(y)),
        lambda leaf, y: torch.nn.grad.conv2d_input((1, 1, 4, 3), torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 2)),
        lambda leaf, y: torch.nn.grad.conv2d_weight(torch.ones(1, 1, 4, 3), (1, 1, 2, 2), torch.ones(1, 1, 3, 2)),
    ],
    ids=["grad_fn called", "next_functions", "_grad_fn", "autograd.graph", "nn.grad input", "nn.grad weight"],
)
def test_autograd_ban_covers_the_recorded_graph_and_nn_grad(route) -> None:
    leaf, y = _graph()
    with pytest.raises(guard.ForbiddenCall), guard.forbid(*ag.AUTOGRAD):
        route(leaf, y)
    assert "grad_fn" not in vars(torch.Tensor) and y.grad_fn is not None  # the property is gone afterwards


def test_autograd_ban_lets_torch_read_the_graph_itself() -> None:
    leaf, y = _graph()
    with guard.forbid(*ag.AUTOGRAD) as hits:
        shown = repr(y) + repr(nn.Linear(3, 2)(leaf.float()))  # Tensor.__repr__ reads grad_fn
    assert "grad_fn=<MulBackward0>" in shown and not hits


@pytest.mark.parametrize(
    "call",
    [
        lambda x: torch.sigmoid(x),
        lambda x: x.sigmoid(),
        lambda x: torch.ops.aten.sigmoid.default(x),
        lambda x: torch._C._VariableFunctions.sigmoid(x),
    ],
    ids=["torch.sigmoid", "method", "aten overload", "C binding"],
)
def test_switching_function_modes_off_does_not_hide_a_forbidden_call(call) -> None:
    def hidden(x):
        with torch._C.DisableTorchFunction():
            return call(x)

    assert "does not allow" in failure(hidden)


def test_removing_the_profiler_is_itself_caught() -> None:
    def hidden(x):
        profiler = sys.getprofile()
        sys.setprofile(None)
        try:
            with torch._C.DisableTorchFunction():
                return torch.sigmoid(x)
        finally:
            sys.setprofile(profiler)

    before = sys.getprofile()
    assert "`sys.setprofile`" in failure(hidden)
    with guard.forbid("torch.sigmoid"):
        assert sys.getprofile() is not before
        # a guard nested by code that is not the judge's is a student's own, which would replace the check's
        with pytest.raises(guard.ForbiddenCall, match="tests' own ag.guard.forbid"), guard.forbid("torch.tanh"):
            pass
    assert sys.getprofile() is before


def test_pythons_own_builtins_are_not_mistaken_for_torchs() -> None:
    with guard.forbid("torch.max", "torch.sum", "torch.abs"):
        assert max(1, 2) == 2 and sum([1, 2]) == 3 and abs(-1) == 1
    with pytest.raises(guard.ForbiddenCall), guard.forbid("torch.max"):
        torch.tensor([1.0]).max()


def test_swallowing_the_forbidden_call_does_not_help() -> None:
    def sneaky(x):
        try:
            return torch.sigmoid(x)
        except BaseException:  # noqa: BLE001
            return good_sigmoid(x)

    assert "does not allow" in failure(sneaky)


def test_python_level_references_are_caught_by_code() -> None:
    def init(t):
        return nn.init.xavier_uniform_(t)

    with pytest.raises(guard.ForbiddenCall), guard.forbid("torch.nn.init.xavier_uniform_"):
        init(torch.empty(3, 4))
    alias = nn.init.xavier_uniform_
    with pytest.raises(guard.ForbiddenCall), guard.forbid("torch.nn.init.xavier_uniform_"):
        alias(torch.empty(3, 4))


def test_allowed_building_blocks_pass_and_the_profiler_is_restored() -> None:
    import sys

    before = sys.getprofile()
    check_sigmoid(good_sigmoid)
    check_sigmoid(lambda x: 0.5 * (1 + torch.tanh(x / 2)))
    assert sys.getprofile() is before


# ---------------------------------------------------------------- what is checked, and how failures read


def test_not_implemented_is_reported_as_not_attempted() -> None:
    def sigmoid(x):
        raise NotImplementedError()

    assert "not implemented yet" in failure(sigmoid)
    assert "`sigmoid` is not implemented yet" in failure(sigmoid)


def test_an_unfinished_function_it_builds_on_is_named() -> None:
    """mish built on the student's softplus, which still raises: the message sends them to softplus."""

    def softplus(x):
        raise NotImplementedError()

    def mish(x):
        return x * torch.tanh(softplus(x))

    with pytest.raises(ag.NotAttempted, match="`mish` calls your `softplus`, which is not implemented yet"):
        ag.check_elementwise(mish, "torch.nn.functional.mish", name="mish")

    class Linear(nn.Module):
        def forward(self, x):
            raise NotImplementedError()

    with pytest.raises(ag.NotAttempted, match="`Linear.forward` is not implemented yet"):
        ag.call_student(Linear(), ag.Case("one input", (torch.ones(2),)), name="Linear.forward")


def test_wrong_values_name_the_worst_element() -> None:
    msg = failure(lambda x: 1 / (1 + torch.exp(x)))
    assert "Worst at index" in msg and "input" in msg and "expected" in msg


def test_overflow_to_nan_is_explained() -> None:
    msg = failure(lambda x: torch.exp(x) / (1 + torch.exp(x)))
    assert "overflowed" in msg


def test_shape_dtype_device_and_type() -> None:
    assert "shape" in failure(lambda x: good_sigmoid(x)[None])
    assert "dtype" in failure(lambda x: good_sigmoid(x.double()))
    assert "torch.Tensor" in failure(lambda x: good_sigmoid(x).tolist())

    class Always(torch.Tensor):
        def __eq__(self, other):
            return True

    assert "subclass" in failure(lambda x: good_sigmoid(x).as_subclass(Always))


def test_in_place_modification_of_the_input_fails() -> None:
    def sigmoid(x):
        x.mul_(-1).exp_().add_(1).reciprocal_()
        return x

    assert "in place" in failure(sigmoid)


def test_student_exceptions_become_messages_with_hints() -> None:
    msg = failure(lambda x: x @ torch.ones(3, 2))
    assert "raised RuntimeError" in msg


def test_an_endless_loop_times_out() -> None:
    def sigmoid(x):
        while True:
            pass

    with pytest.raises(ag.CheckFailed, match="did not return within"):
        ag.check_elementwise(sigmoid, "torch.sigmoid", name="sigmoid", timeout=0.3)


def test_python_numbers_must_match_type() -> None:
    def count(model):
        return torch.tensor(3)

    with pytest.raises(ag.CheckFailed, match="Python int"):
        ag.check_function(count, lambda m: 3, [ag.Case("a model", (None,))], name="count")


def test_tuple_results_are_compared_item_by_item() -> None:
    ref = lambda x: (x * 2, x + 1)  # noqa: E731
    ag.check_function(lambda x: (x * 2, x + 1), ref, [ag.Case("x", (ag.inputs.randn(4),))])
    with pytest.raises(ag.CheckFailed, match=r"\[1\]"):
        ag.check_function(lambda x: (x * 2, x + 2), ref, [ag.Case("x", (ag.inputs.randn(4),))])


# ---------------------------------------------------------------- tolerance policy (property tests)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-30, 30, width=32), min_size=1, max_size=50))
def test_different_correct_formulas_pass(values) -> None:
    x = torch.tensor(values, dtype=torch.float32)
    for fn in (good_sigmoid, lambda t: 0.5 * (1 + torch.tanh(t / 2)), lambda t: torch.exp(-F.softplus(-t))):
        ag.check_function(fn, "torch.sigmoid", [ag.Case("hypothesis input", (x,))], elementwise=True)


@settings(max_examples=40, deadline=None)
@given(st.floats(-8, 8, width=32), st.floats(1e-3, 0.1))
def test_a_perturbation_beyond_tolerance_fails(value, delta) -> None:
    x = torch.tensor([value], dtype=torch.float32)
    with pytest.raises(ag.CheckFailed):
        ag.check_function(lambda t: torch.sigmoid(t) + delta, "torch.sigmoid", [ag.Case("x", (x,))])


def test_float64_results_are_held_to_float64_tolerance() -> None:
    x = ag.inputs.randn(100).double()
    with pytest.raises(ag.CheckFailed):  # float32 internals are not good enough for float64 output
        ag.check_function(lambda t: torch.sigmoid(t.float()).double() + 1e-6, "torch.sigmoid", [ag.Case("x", (x,))])


def test_statistical_checks_accept_samplers_and_reject_wrong_scales() -> None:
    g = torch.Generator().manual_seed(0)
    ag.stats.check_uniform(torch.rand(50000, generator=g) * 2 - 1, -1, 1, what="u")
    ag.stats.check_normal(torch.randn(50000, generator=g) * 0.1, 0.0, 0.1, what="n")
    with pytest.raises(ag.CheckFailed):
        ag.stats.check_uniform(torch.rand(50000, generator=g), -1, 1, what="u")
    with pytest.raises(ag.CheckFailed):
        ag.stats.check_normal(torch.randn(50000, generator=g) * math.sqrt(2) * 0.1, 0.0, 0.1, what="n")


def test_check_raises_wants_the_named_error() -> None:
    def strict(x, reduction="mean"):
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return x

    case = ag.Case("reduction='average'", (torch.ones(2),), {"reduction": "average"})
    assert isinstance(ag.check_raises(strict, case, ValueError), ValueError)
    with pytest.raises(ag.CheckFailed, match="instead of raising ValueError"):
        ag.check_raises(lambda x, reduction="mean": x, case, ValueError, name="loose")
    with pytest.raises(ag.CheckFailed, match="raised KeyError"):
        ag.check_raises(lambda x, reduction="mean": {}[reduction], case, ValueError, name="keyed")


def test_keyword_tensors_reach_the_reference_in_float64() -> None:
    seen = []

    def ref(x, *, weight):
        seen.append(weight.dtype)
        return x * weight

    x, w = ag.inputs.randn(5), ag.inputs.randn(5, seed=9)
    ag.check_function(lambda x, *, weight: x * weight, ref, [ag.Case("weights", (x,), {"weight": w})])
    assert seen == [torch.float64, torch.float32]  # float64 values, then the float32 shape/dtype/finiteness


def test_a_global_setting_left_changed_fails_and_is_set_back() -> None:
    from autograder.checks import state

    def leaves_grad_off(x: torch.Tensor) -> torch.Tensor:
        torch.set_grad_enabled(False)
        return x * 2

    def leaves_float64(x: torch.Tensor) -> torch.Tensor:
        torch.set_default_dtype(torch.float64)
        return x * 2

    def restores(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            torch.set_default_dtype(torch.float64)
            torch.set_default_dtype(torch.float32)
            return x * 2

    before = state.snapshot()
    for fn, said in ((leaves_grad_off, "gradient recording off"), (leaves_float64, "default dtype")):
        with pytest.raises(ag.CheckFailed, match=said):
            ag.call_student(fn, ag.Case("x", (torch.ones(2),)), name=fn.__name__)
        assert state.snapshot() == before
    ag.call_student(restores, ag.Case("x", (torch.ones(2),)), name="restores")


def test_the_grader_takes_over_only_well_formed_state() -> None:
    from autograder.checks import state

    before = state.snapshot()
    try:
        for junk in (None, [], {"grad_enabled": "no", "default_dtype": "int64", "anomaly": [1, 2]}):
            state.apply(junk)
            assert state.snapshot() == before
        state.apply(state.encode(state.State(False, torch.float64, before.anomaly, before.deterministic)))
        assert not torch.is_grad_enabled() and torch.get_default_dtype() == torch.float64
    finally:
        state.restore(before)


def test_a_model_keeps_its_mode_and_a_deterministic_call_its_random_sequence() -> None:
    model = nn.Linear(2, 2)

    def leaves_eval(m: nn.Module) -> int:
        m.eval()
        return 1

    with pytest.raises(ag.CheckFailed, match="in evaluation mode"):
        ag.call_student(leaves_eval, ag.Case("a model", (model,)), name="leaves_eval")
    assert model.training
    ag.call_student(model.eval, ag.Case("model.eval()"), name="eval")  # switching is that call's job
    assert not model.training
    model.train()
    # the exercise's name decides nothing: an `evaluate` is held to the rule unless its check says keeps_mode=False
    with pytest.raises(ag.CheckFailed, match="in evaluation mode"):
        ag.call_student(leaves_eval, ag.Case("a model", (model,)), name="evaluate")
    assert model.training
    ag.call_student(leaves_eval, ag.Case("a model", (model,)), name="evaluate", keeps_mode=False)
    assert not model.training

    def reseeds() -> float:
        torch.manual_seed(0)
        return 1.0

    before = torch.get_rng_state()
    ag.call_student(reseeds, ag.Case("no rule"), name="reseeds")  # not asked: allowed
    with pytest.raises(ag.CheckFailed, match="global random generator"):
        ag.call_student(reseeds, ag.Case("a step"), name="reseeds", keeps_rng=True)
    ag.call_student(lambda: 1.0, ag.Case("a step"), name="pure", keeps_rng=True)
    torch.set_rng_state(before)
