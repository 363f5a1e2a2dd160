"""What a ban list names, resolved: built-in names and patterns for the function mode, code objects for the
profiler, tensor attributes for a property (``ag.AUTOGRAD``: every route to autograd)."""

from __future__ import annotations

import fnmatch
import functools
import importlib
import inspect
import re
import types
from typing import Any

from torch.overrides import TorchFunctionMode

from autograder import reference
from autograder.guard.errors import ForbiddenCall
from autograder.guard.judge import _codes

# Other names under which torch exposes the same built-in operation.
ALIASES: dict[str, tuple[str, ...]] = {
    "sigmoid": ("expit", "special_expit"),
    "softmax": ("_softmax", "special_softmax"),
    "log_softmax": ("_log_softmax", "special_log_softmax"),
    "silu": ("swish",),
    # kernels under another name than the torch.nn.functional function that wraps them
    "cross_entropy": ("cross_entropy_loss",),
    "nll_loss": ("nll_loss_nd", "nll_loss2d", "nll_loss_forward", "nll_loss2d_forward"),
    "max_pool2d": ("max_pool2d_with_indices",),
}


# Every way to ask autograd for a derivative: forbidden inside exercises that compute one by hand.
AUTOGRAD: tuple[str, ...] = (
    "torch.autograd.grad",
    "torch.autograd.backward",
    "torch.Tensor.backward",
    "torch.autograd.forward_ad.make_dual",
    "torch.autograd.functional.jacobian",
    "torch.autograd.functional.hessian",
    "torch.autograd.functional.vjp",
    "torch.autograd.functional.jvp",
    "torch.autograd.functional.vhp",
    "torch.autograd.functional.hvp",
    "torch.func.grad",
    "torch.func.grad_and_value",
    "torch.func.vjp",
    "torch.func.jvp",
    "torch.func.jacrev",
    "torch.func.jacfwd",
    "torch.func.hessian",
    "torch.func.linearize",
    "torch.ops.aten.*backward*",  # torch's own backward kernels, e.g. torch.ops.aten.gelu_backward
    "torch.autograd.graph.*",  # get_gradient_edge, register_multi_grad_hook, ... (every function of the module)
    "torch.nn.grad.*",  # conv2d_input, conv2d_weight, ...: a convolution's derivatives
    "torch.Tensor.grad_fn",  # a recorded graph node, called directly: y.grad_fn(g), .next_functions[0][0](g)
)

# Attributes of torch.Tensor a ban list may name: while it is active, reading one from student code raises.
# (A C getset descriptor cannot be watched; a Python property put over it on torch.Tensor can.)
_ATTRIBUTES: dict[str, tuple[str, ...]] = {"torch.Tensor.grad_fn": ("grad_fn", "_grad_fn")}


class _Spy(TorchFunctionMode):
    def __init__(self, names: set[str], patterns: re.Pattern | None, hits: list[str]) -> None:
        super().__init__()
        self.names = names
        self.patterns = patterns
        self.hits = hits

    def forbidden(self, name: str) -> bool:
        base = name.split(".", 1)[0]  # an operator overload: torch.ops.aten.sigmoid.default is "sigmoid.default"
        return (
            base in self.names
            or (base.endswith("_") and base[:-1] in self.names)
            or (self.patterns is not None and self.patterns.fullmatch(base) is not None)
        )

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = getattr(func, "__name__", "")
        if self.forbidden(name):
            name = _label(func, name)
            self.hits.append(name)
            raise ForbiddenCall(name)
        return func(*args, **(kwargs or {}))


def _from_torch(fn: Any) -> bool:
    """Whether a built-in the profiler saw is PyTorch's (not Python's own ``max`` or ``sum``)."""
    owner = getattr(fn, "__self__", None)
    return any(
        (module or "").startswith("torch")
        for module in (getattr(fn, "__module__", None), type(owner).__module__, getattr(owner, "__module__", None))
    )


def _label(func: Any, name: str) -> str:
    """How a forbidden call is named to the student: as they most likely wrote it."""
    if type(func).__module__ == "torch._ops":  # an operator: torch.ops.aten.sigmoid.default
        return f"torch.ops.{func}"
    # torch.softmax, torch.special.expit, F.logsigmoid (which is torch._C._nn.log_sigmoid): the public name
    public = reference.public_name(func)
    if public:
        return public
    module = getattr(func, "__module__", None) or ""
    return f"{module}.{name}" if module.startswith("torch._C") else name  # torch._C._nn.mse_loss; x.sigmoid()


@functools.lru_cache(maxsize=256)  # a ban list resolves the same every time: once per process
def _resolve(paths: tuple[str, ...]) -> tuple[frozenset[str], re.Pattern | None, types.MappingProxyType]:
    """Names of built-ins and name patterns for the function mode, and code objects (-> the path named) for the
    profiler.

    ``torch.ops.aten.NAME`` names an operator (all its overloads); a ``*`` in it makes a pattern matched
    against the name of every built-in and operator called, e.g. ``torch.ops.aten.*backward*`` for every
    backward kernel, ``torch.ops.aten.*conv*`` for every convolution (``torch.mkldnn_convolution`` too).
    """
    names: set[str] = set()
    patterns: list[str] = []
    codes: dict[Any, str] = {}
    for path in paths:
        if path in _ATTRIBUTES:  # guarded by a property (see _guard_attributes)
            continue
        if path.endswith(".*") and not path.startswith("torch.ops."):  # every function and class of a module
            module = importlib.import_module(path[:-2])
            found: set = set()
            for attr, value in list(vars(module).items()):
                if getattr(value, "__module__", None) == module.__name__ and (
                    inspect.isfunction(value) or isinstance(value, type)
                ):
                    before = set(found)
                    _codes(value, vars(module), set(), found)
                    codes.update(dict.fromkeys(found - before, f"{path[:-2]}.{attr}"))
            continue
        if path.startswith("torch.ops."):
            op = path.rpartition(".")[2]
            if "*" in op:
                patterns.append(fnmatch.translate(op))
            else:
                names.add(op)
            continue
        try:
            obj = reference.get(path)
        except KeyError:  # not a PyTorch reference: e.g. a course helper such as "nnlab.train.evaluate"
            module, _, attr = path.rpartition(".")
            obj = getattr(importlib.import_module(module), attr)
        obj = inspect.unwrap(obj)  # a decorated function (e.g. @torch.no_grad()) is caught by its own code
        if isinstance(obj, type):  # an nn.Module class: catch its forward
            code = obj.forward.__code__
            codes[code] = path if codes.get(code, path) == path else ""  # shared code: named by its own name
        elif hasattr(obj, "__code__"):
            codes[obj.__code__] = path if codes.get(obj.__code__, path) == path else ""
            if path.startswith("torch.nn.functional."):  # and the kernel it wraps, e.g. torch._C._nn.mse_loss
                short = path.rpartition(".")[2]
                names.update({short, *ALIASES.get(short, ())})
        else:
            short = getattr(obj, "__name__", path.rpartition(".")[2])
            names.update({short, *ALIASES.get(short, ())})
    # read-only: the result is shared by every later guard with the same list (student code must not edit it)
    return frozenset(names), (re.compile("|".join(patterns)) if patterns else None), types.MappingProxyType(codes)
