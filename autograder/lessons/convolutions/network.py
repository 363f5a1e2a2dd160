"""Lesson 07's network exercises: SimpleCNN (the fixed network in PyTorch's own layers, the student's weights
copied into it, the likely slips) and receptive_field (measured by autograd)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

import autograder as ag
from autograder.lessons.convolutions.conv import _close, explaining_edges

# ---------------------------------------------------------------- helpers_SimpleCNN
# the fixed network in PyTorch's own layers, and the student's weights copied into it
CNN_BAN = ("nnlab.cnn.LightCNN",)


def fixed_seed_network(channels: tuple[int, int]) -> nn.Sequential:
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 7 * 7, 10),
        nn.LogSoftmax(dim=1),
    )


def check_parameter_shapes(model: nn.Module, channels: tuple[int, int], name: str) -> nn.Sequential:
    """The student's parameters must be the fixed network's (any order); returns the reference with them copied."""
    with ag.pristine():
        ref = fixed_seed_network(channels)
        mine = sorted((tuple(p.shape) for p in model.parameters()), key=str)
        theirs = sorted((tuple(q.shape) for q in ref.parameters()), key=str)
        flat_no_pool = channels[1] * 28 * 28
        if any(flat_no_pool in s for s in mine):
            ag.fail(
                f"{name} has a linear layer with {flat_no_pool} inputs: that is {channels[1]}·28·28, the size "
                f"without pooling. Pool twice (28 → 14 → 7) so that fc takes {channels[1]}·7·7 inputs."
            )
        ag.check(
            mine == theirs,
            f"{name}'s parameters have shapes {mine}; the fixed network's are {theirs}: "
            "conv1 (C1, 1, 3, 3) + bias, conv2 (C2, C1, 3, 3) + bias, fc (10, C2·7·7) + bias.",
        )
        by_shape = {tuple(p.shape): p for p in model.parameters()}
        with torch.no_grad():
            for q in ref.parameters():
                q.copy_(by_shape[tuple(q.shape)])
    return ref


def simple_cnn_hint(ref: nn.Sequential, x: torch.Tensor, got: Any) -> str | None:
    """Which slip gives the student's output: other pooling, a missing ReLU, strided convolutions, another head."""
    conv1, _, _, conv2, _, _, _, fc, _ = ref
    f = {
        name: ag.reference.get(f"torch.nn.functional.{name}")
        for name in ("conv2d", "relu", "max_pool2d", "avg_pool2d", "linear", "log_softmax", "softmax")
    }

    def ident(t: torch.Tensor) -> torch.Tensor:
        return t

    def d(t: torch.Tensor) -> torch.Tensor:
        return t.detach().double()

    def run(
        pool: Any = f["max_pool2d"],
        relu1: Any = f["relu"],
        relu2: Any = f["relu"],
        stride: int | None = 1,
        head: Any = lambda z: f["log_softmax"](z, 1),
    ) -> Any:
        h = relu1(f["conv2d"](d(x), d(conv1.weight), d(conv1.bias), stride, 1))
        h = h if stride > 1 else pool(h, 2)
        h = relu2(f["conv2d"](h, d(conv2.weight), d(conv2.bias), stride, 1))
        h = h if stride > 1 else pool(h, 2)
        return head(f["linear"](h.flatten(1), d(fc.weight), d(fc.bias)))

    slips = [
        (dict(pool=f["avg_pool2d"]), "average pooling: the fix uses 2x2 max-pooling."),
        (dict(relu1=ident), "the ReLU after conv1 is missing."),
        (dict(relu2=ident), "the ReLU after conv2 is missing."),
        (
            dict(stride=2),
            "stride-2 convolutions also give 7x7 maps, but this exercise repairs the seed with two "
            "2x2 max-pools after the ReLUs.",
        ),
        (dict(head=ident), "the output is raw logits: end with log_softmax over the classes (dim=1)."),
        (dict(head=lambda z: f["softmax"](z, 1)), "the output is probabilities (softmax): take log_softmax instead."),
        (
            dict(head=lambda z: f["log_softmax"](z, 0)),
            "log_softmax ran over the batch (dim=0), not the classes (dim=1).",
        ),
    ]
    with ag.pristine(), torch.no_grad():
        for kwargs, why in slips:
            if _close(got, run(**kwargs)):
                return why
    return None


def images(n: int, seed: int) -> torch.Tensor:
    """n random 'images' (N, 1, 28, 28), standardised like MNIST."""
    return ag.inputs.randn(n, 1, 28, 28, seed=seed)


# ---------------------------------------------------------------- helpers_receptive_field
# the receptive field measured by autograd, and hints for the usual slips
def receptive_field_reference(layers: list) -> list[int]:
    """For each prefix of the stack: how far the gradient of output unit 0 reaches into the input."""
    conv = ag.reference.get("torch.nn.functional.conv2d")
    width, jump = 1, 1
    for k, s in layers:
        jump *= s
        width += k * jump
    sizes = []
    for depth in range(1, len(layers) + 1):
        x = torch.ones(1, 1, 1, width, dtype=torch.float64, requires_grad=True)
        out = x
        for k, s in layers[:depth]:  # all-ones kernels: every path adds, nothing cancels
            out = conv(out, torch.ones(1, 1, 1, k, dtype=torch.float64), stride=(1, s))
        (grad,) = torch.autograd.grad(out[..., 0].sum(), x)
        sizes.append(int(grad.flatten().nonzero().max()) + 1)
    return sizes


def receptive_field_hint(got: Any, case: ag.Case) -> str | None:
    """diagnose= for receptive_field: strides ignored, jump updated too early, kernels summed."""
    layers = case.args[0]
    if not isinstance(got, list | tuple):
        return None
    got = list(got)

    def formula(update_jump_first: bool = False, use_stride: bool = True) -> list[int]:
        r, j, out = 1, 1, []
        for k, s in layers:
            if update_jump_first:
                j *= s
            r += (k - 1) * (j if use_stride else 1)
            if not update_jump_first:
                j *= s
            out.append(r)
        return out

    sums = [sum(k for k, _ in layers[: i + 1]) for i in range(len(layers))]
    if got == formula(use_stride=False):
        return "strides are ignored: after a stride-s layer, neighbouring units are s times further apart (the jump)."
    if got == formula(update_jump_first=True):
        return "a layer widens the field by (k − 1) times the jump of its input, before its own stride applies."
    if got == sums:
        return "the field grows by k − 1 (times the jump) per layer, not by k: one 3x3 layer sees 3 pixels."
    return None


NETWORKS = {
    "SimpleCNN: conv3, pool2, conv3, pool2": [(3, 1), (2, 2), (3, 1), (2, 2)],
    "three 3x3 convolutions": [(3, 1), (3, 1), (3, 1)],
    "AlexNet's start: conv11/4, pool3/2, conv5, pool3/2": [(11, 4), (3, 2), (5, 1), (3, 2)],
}


def float64_copy(module: nn.Module) -> nn.Module:
    """A float64 copy of a network (the reference evaluated in float64)."""
    return copy.deepcopy(module).double()


# ---------------------------------------------------------------- SimpleCNN as the lesson uses it
#: how the checks run the network: the lesson trains it in channels_last memory format (cnn.train_cnn), and its
#: log-probabilities must stay exact for confident logits (images scaled up: logits hundreds apart)
SIMPLE_CNN_USES = {
    "channels_last": dict(channels=(8, 12), n=3, scale=1.0, channels_last=True),
    "confident": dict(channels=(8, 12), n=4, scale=500.0, channels_last=False),
}


def check_simple_cnn(cls: type, use: str) -> None:
    """SimpleCNN(channels) on images as the named use runs them computes the fixed network (in float64)."""
    setting = SIMPLE_CNN_USES[use]
    channels, n, scale, channels_last = (setting[k] for k in ("channels", "n", "scale", "channels_last"))
    name = f"SimpleCNN({channels})"
    with torch.random.fork_rng():
        torch.manual_seed(3)
        model = ag.construct(cls, channels, forbid=CNN_BAN, name=name)
    ref = check_parameter_shapes(model, channels, name)
    x = images(n, seed=60 + n) * scale
    label = f"{name} on {n} random images" + (" times 500 (logits hundreds apart)" if scale != 1.0 else "")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
        label = f"{name} and {n} images in channels_last memory format, as the lesson trains it"
    case = ag.Case(label, (x,))
    explaining_edges(lambda: _compare_with_fixed_network(model, ref, case))


def _compare_with_fixed_network(model: nn.Module, ref: nn.Sequential, case: ag.Case) -> None:
    got = ag.call_student(model, case, name="SimpleCNN", forbid=CNN_BAN)
    x = case.args[0].contiguous()
    with ag.pristine(), torch.no_grad():
        native = ref(x)
        expected = float64_copy(ref)(x.double())
    try:
        ag.compare(got, expected, name="SimpleCNN", case=case, expected_native=native)
    except ag.CheckFailed as failure:
        cause = simple_cnn_hint(ref, x, got)
        if cause is None and isinstance(got, torch.Tensor) and not bool(torch.isfinite(got).all()):
            cause = (
                "with confident logits, softmax rounds the small probabilities to 0 and their log is -inf: take "
                "the log-probabilities in one step, from the logits (log_softmax is exact where log(softmax) is not)."
            )
        raise ag.CheckFailed(f"{failure}\nLikely cause: {cause}" if cause else str(failure)) from None


# ---------------------------------------------------------------- SimpleCNN's grade checks
def _seeded_models(cls: type, channel_sets: list[tuple[int, int] | None], seed: int) -> list[nn.Module]:
    """``cls(channels)`` (``cls()`` for None) for each, built one after the other from ``seed``; the caller's
    random state is left alone."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return [
            ag.construct(cls, *([c] if c else []), forbid=CNN_BAN, name=f"SimpleCNN({c or ''})") for c in channel_sets
        ]


def check_parameters(cls: type, channel_sets: list[tuple[int, int]]) -> None:
    """SimpleCNN(channels) has the fixed network's parameter shapes, for each channel pair."""
    for model, channels in zip(_seeded_models(cls, channel_sets, seed=0), channel_sets, strict=True):
        check_parameter_shapes(model, channels, f"SimpleCNN({channels})")


def check_output_shapes(cls: type, batch_sizes: tuple[int, ...]) -> None:
    """SimpleCNN() maps a batch (N, 1, 28, 28) to (N, 10) for each N."""
    (model,) = _seeded_models(cls, [None], seed=0)
    for n in batch_sizes:
        case = ag.Case(f"a batch of {n} images (N, 1, 28, 28)", (images(n, seed=n),))
        out = ag.call_student(model, case, name="SimpleCNN", forbid=CNN_BAN)
        ag.check(
            isinstance(out, torch.Tensor) and tuple(out.shape) == (n, 10),
            f"SimpleCNN on a batch of {n} returned shape {tuple(getattr(out, 'shape', ()))}; expected ({n}, 10).",
        )


def check_fixed_network(cls: type, settings: list[tuple[tuple[int, int], int]]) -> None:
    """For each (channels, n): SimpleCNN(channels) on n random images computes the fixed network with its weights."""
    models = _seeded_models(cls, [channels for channels, _ in settings], seed=1)
    for model, (channels, n) in zip(models, settings, strict=True):
        ref = check_parameter_shapes(model, channels, f"SimpleCNN({channels})")
        case = ag.Case(f"SimpleCNN({channels}) on {n} random images", (images(n, seed=40 + n),))
        _compare_with_fixed_network(model, ref, case)


def check_log_probabilities(cls: type) -> None:
    """Each row of SimpleCNN()'s output is a log-probability distribution: exp sums to 1 over the classes, all <= 0."""
    (model,) = _seeded_models(cls, [None], seed=2)
    out = ag.call_student(
        model, ag.Case("6 random images", (images(6, seed=50) * 3,)), name="SimpleCNN", forbid=CNN_BAN
    )
    ag.check(
        isinstance(out, torch.Tensor) and tuple(out.shape) == (6, 10),
        f"SimpleCNN on 6 images should return a (6, 10) tensor; it returned {type(out).__name__} "
        f"{tuple(getattr(out, 'shape', ()))}.",
    )
    out = out.detach().double()
    row_sums, col_sums = out.exp().sum(1), out.exp().sum(0)
    if not torch.allclose(row_sums, torch.ones_like(row_sums), atol=1e-4):
        if torch.allclose(col_sums, torch.ones_like(col_sums), atol=1e-4):
            hint = " They do sum to 1 over the batch: log_softmax must run over the classes, dim=1."
        elif bool((out >= 0).all()) and torch.allclose(out.sum(1), torch.ones(6, dtype=out.dtype), atol=1e-4):
            hint = (
                " The outputs themselves sum to 1: they are probabilities (softmax). NLLLoss expects their "
                "logarithm: return log_softmax over dim=1."
            )
        else:
            hint = (
                " Return log_softmax of fc's output over the classes (dim=1): NLLLoss expects log-probabilities."
                " Raw logits would need CrossEntropyLoss; probabilities (softmax) suit neither loss."
            )
        ag.fail(f"the rows of exp(SimpleCNN(x)) sum to {[round(v, 3) for v in row_sums.tolist()]}, not 1.{hint}")
    ag.check(
        bool((out <= 1e-6).all()),
        "a log-probability is <= 0, since a probability is <= 1: some outputs are positive. Return "
        "log_softmax(fc(x), dim=1), not softmax.",
    )


def check_receptive_field(student: Callable, networks: dict[str, list[tuple[int, int]]]) -> None:
    """receptive_field on each named stack of (kernel, stride) layers, against the field autograd measures."""
    cases = [ag.Case(label, (layers,)) for label, layers in networks.items()]
    ag.check_function(student, receptive_field_reference, cases, diagnose=receptive_field_hint)
