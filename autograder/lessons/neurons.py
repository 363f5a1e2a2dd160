"""Lesson 01, the neuron: what the grade cells of ``01_neurons`` compare with and forbid."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

import autograder as ag

# what linear may not call
LINEAR_BAN = ("torch.nn.functional.linear", "torch.nn.Linear", "torch.nn.functional.bilinear")

# what Linear may not call while it is built
INIT_BAN = ("torch.nn.Linear", "torch.nn.init.uniform_", "torch.nn.init.kaiming_uniform_", "torch.nn.init.normal_")


def neuron_reference(x: torch.Tensor, w: torch.Tensor, b: float | torch.Tensor, activation) -> torch.Tensor:  # noqa: ANN001
    """activation(x @ w + b)."""
    return activation(x @ w + b)


def reference_mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """The PyTorch network an MLP must equal."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [activation()] if i else []
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def trainable_scalars(model: nn.Module) -> int:
    """The number count_parameters must return."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def collapse_reference(layers: list[nn.Module]) -> tuple[torch.Tensor, torch.Tensor]:
    """The composition of the layers as one (W, b), computed in float64, returned in the layers' dtype."""
    dtype = layers[0].weight.dtype
    W = torch.eye(layers[0].weight.shape[1], dtype=torch.float64)
    b = torch.zeros(layers[0].weight.shape[1], dtype=torch.float64)
    for layer in layers:
        W, b = layer.weight.double() @ W, layer.weight.double() @ b
        b = b + layer.bias.double() if layer.bias is not None else b
    return W.detach().to(dtype), b.detach().to(dtype)


def seeded_stack(
    sizes: list[int], bias: bool = True, seed: int = 40, dtype: torch.dtype = torch.float32
) -> list[nn.Linear]:
    """nn.Linear layers of the given sizes and dtype, drawn from a fixed seed."""
    torch.manual_seed(seed)
    return [nn.Linear(a, c, bias=bias, dtype=dtype) for a, c in zip(sizes[:-1], sizes[1:])]


def check_parameters(cls: type) -> None:
    """Linear(3, 2) registers weight (out, in) and bias (out,) as parameters; bias=False gives bias None."""
    layer = ag.construct(cls, 3, 2, forbid=INIT_BAN)
    params = dict(layer.named_parameters())
    ag.check(
        set(params) == {"weight", "bias"},
        f"Linear(3, 2) should have parameters 'weight' and 'bias'; model.parameters() finds {sorted(params)}. "
        "Wrap tensors in nn.Parameter so that PyTorch registers them.",
    )
    ag.check(
        tuple(params["weight"].shape) == (2, 3),
        f"weight has shape {tuple(params['weight'].shape)}; PyTorch's convention is (out_features, in_features).",
    )
    ag.check(
        tuple(params["bias"].shape) == (2,), f"bias has shape {tuple(params['bias'].shape)}; expected (out_features,)."
    )
    no_bias = ag.construct(cls, 3, 2, bias=False, forbid=INIT_BAN)
    ag.check(
        getattr(no_bias, "bias", "missing") is None and len(list(no_bias.parameters())) == 1,
        "Linear(3, 2, bias=False) should have only a weight, and self.bias should be None.",
    )


def check_init(cls: type) -> None:
    """Weight and bias are drawn from U(-1/sqrt(in), 1/sqrt(in)), fresh for every layer."""
    big = ag.construct(cls, 400, 1000, forbid=INIT_BAN)
    k = 1 / math.sqrt(400)
    ag.stats.check_uniform(big.weight, -k, k, what="Linear(400, 1000).weight")
    bias = ag.construct(cls, 100, 20000, forbid=INIT_BAN).bias
    ag.stats.check_uniform(bias, -0.1, 0.1, what="Linear(100, 20000).bias")
    first, second = ag.construct(cls, 3, 2, forbid=INIT_BAN), ag.construct(cls, 3, 2, forbid=INIT_BAN)
    ag.check(
        not torch.equal(first.weight, second.weight),
        "Two new layers got identical weights: do not fix a seed inside Linear.",
    )


def check_forward(cls: type) -> None:
    """forward computes linear(input, weight, bias) with the layer's own parameters, on every batch a network feeds
    it (any leading dims, a non-contiguous view, float64 after .double(), no bias), and the gradient reaches them."""
    layer = ag.construct(cls, 3, 4, forbid=INIT_BAN)
    ag.check(tuple(layer.weight.shape) == (4, 3), "Linear(3, 4).weight should have shape (4, 3): (out, in).")
    W, b = layer.weight.detach().clone(), layer.bias.detach().clone()

    def reference(x: torch.Tensor) -> torch.Tensor:
        return x @ W.to(x.dtype).T + b.to(x.dtype)

    r = ag.inputs.randn
    cases = [
        ag.Case("Linear(3, 4) on a (6, 3) batch", (r(6, 3, seed=22),)),
        ag.Case("Linear(3, 4) on a (2, 5, 3) batch (a batch of sequences)", (r(2, 5, 3, seed=23),)),
        ag.Case("Linear(3, 4) on a non-contiguous (6, 3) batch (a (3, 6) tensor transposed)", (r(3, 6, seed=24).T,)),
        ag.Case("Linear(3, 4) on a channels_last (2, 4, 5, 3) batch",
                (r(2, 4, 5, 3, seed=25).contiguous(memory_format=torch.channels_last),)),
    ]  # fmt: skip
    ag.check_function(layer, reference, cases, name="Linear.forward", forbid=LINEAR_BAN, allowed_hint="your linear")
    no_bias = ag.construct(cls, 3, 4, bias=False, forbid=INIT_BAN)
    W0 = no_bias.weight.detach().clone()
    ag.check_function(
        no_bias,
        lambda x: x @ W0.to(x.dtype).T,
        [ag.Case("Linear(3, 4, bias=False) on a (6, 3) batch", (r(6, 3, seed=26),))],
        name="Linear.forward",
        forbid=LINEAR_BAN,
        allowed_hint="your linear",
    )
    wide = ag.call_student(layer.double, ag.Case("Linear(3, 4).double()"), name="Linear.double", forbid=LINEAR_BAN)
    ag.check_function(
        wide,
        reference,
        [ag.Case("Linear(3, 4).double() on a float64 (6, 3) batch", (r(6, 3, seed=27, dtype=torch.float64),))],
        name="Linear.forward",
        forbid=LINEAR_BAN,
        allowed_hint="your linear",
    )
    check_trains(cls)


def check_trains(cls: type) -> None:
    """The output stays connected to weight and bias, and backward gives them nn.Linear's gradients."""
    layer = ag.construct(cls, 3, 4, forbid=INIT_BAN)
    x, upstream = ag.inputs.randn(6, 3, seed=28), ag.inputs.randn(6, 4, seed=29)
    label = "Linear(3, 4) on a (6, 3) batch, then backward"
    out = ag.call_student(lambda: layer(x), ag.Case(label), name="Linear.forward", forbid=LINEAR_BAN)
    ag.check(
        isinstance(out, torch.Tensor) and out.grad_fn is not None,
        "Linear's output is cut off from its parameters (it has no grad_fn): training could not change weight and "
        "bias. Compute it from self.weight and self.bias themselves (not .data, .detach() or new tensors).",
    )
    # backward as training calls it: the gradients accumulate into the layer's own parameters (also in a sandbox)
    ag.call_student(lambda: out.backward(upstream), ag.Case(label), name="Linear", forbid=LINEAR_BAN)
    for name, expected in (("weight", upstream.T @ x), ("bias", upstream.sum(0))):
        grad = getattr(layer, name).grad
        ag.check(grad is not None, f"after backward, self.{name} has no gradient: use it (the Parameter) in forward.")
        ag.compare(grad, expected, name="Linear", case=ag.Case(label), what=f"gradient of self.{name}")


def check_neuron_batches(student: Callable, cases: Sequence[tuple]) -> None:
    """neuron matches activation(x @ w + b) on each case ``(label, N, D, b, activation)``: the first N rows and D
    columns of a seeded (64, 5) batch and the first D weights of a seeded (5,) w; ``activation`` is a callable or
    the dotted name of PyTorch's function."""
    x, w = ag.inputs.randn(64, 5, seed=1), ag.inputs.randn(5, seed=2)
    built = [
        ag.Case(label, (x[:n, :d], w[:d], b, ag.reference.get(f) if isinstance(f, str) else f))
        for label, n, d, b, f in cases
    ]
    ag.check_function(student, neuron_reference, built)


def _linear_args(shape: tuple[int, ...], out: int, seed: int, layout: str = "contiguous") -> tuple[torch.Tensor, ...]:
    """Seeded input of ``shape`` (seed), weight (out, in) (seed + 1) and bias (out,) (seed + 2), laid out as
    ``layout``: "contiguous", "transposed" (a 2-D view of the transposed draw), "channels_last" or "float64"."""
    r, dtype = ag.inputs.randn, torch.float64 if layout == "float64" else torch.float32
    x = r(*shape[::-1], seed=seed, dtype=dtype).T if layout == "transposed" else r(*shape, seed=seed, dtype=dtype)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    return x, r(out, shape[-1], seed=seed + 1, dtype=dtype), r(out, seed=seed + 2, dtype=dtype)


def check_linear_batches(student: Callable, cases: Sequence[tuple]) -> None:
    """linear matches F.linear on each case ``(label, input shape, out_features, seed[, layout])`` (see
    :func:`_linear_args`), without calling PyTorch's linear."""
    built = [ag.Case(label, _linear_args(shape, out, seed, *layout)) for label, shape, out, seed, *layout in cases]
    ag.check_function(student, "torch.nn.functional.linear", built, forbid=LINEAR_BAN, allowed_hint="@ and +")


def check_mlp(cls: type, sizes: list[int], activation: type[nn.Module] | None = None, note: str = "") -> None:
    """MLP(sizes[, activation]) computes what the equivalent nn.Sequential computes on a seeded (7, in) batch;
    without ``activation`` the class's default (ReLU) is used, and ``note`` is added to the name shown."""
    x = ag.inputs.randn(7, sizes[0], seed=31, scale=2.0)
    given = () if activation is None else (activation,)
    name = f"MLP({sizes}" + "".join(f", nn.{a.__name__}" for a in given) + ")" + (f" ({note})" if note else "")
    ag.check_module_matches(ag.construct(cls, sizes, *given), reference_mlp(sizes, *given),
                            [ag.Case(f"a (7, {sizes[0]}) batch", (x,))], name=name)  # fmt: skip


def check_frozen_and_shared(student: Callable) -> None:
    """count_parameters leaves out a frozen weight and counts a layer used twice once."""
    frozen = reference_mlp([6, 5, 4])
    frozen[0].weight.requires_grad_(False)
    shared = nn.Linear(4, 4)
    cases = [
        ag.Case("an MLP whose first weight is frozen", (frozen,)),
        ag.Case("nn.Sequential(shared, nn.ReLU(), shared)", (nn.Sequential(shared, nn.ReLU(), shared),)),
    ]
    ag.check_function(student, trainable_scalars, cases)
