"""Lesson 02 — initialization, by principle (issue 12, part 6): every argument of an initializer varied (gain, a,
mode, nonlinearity, generator), the tensor it fills checked by the use it gets (any layout, any dtype, the same
object returned)."""

import math

import torch

from corpus import correct, wrong

LESSON = "02_initialization"
MINIMUM = (6, 3)  # wrong, correct

# ---------------------------------------------------------------- every argument varied


@wrong("kaiming_uniform_", "a ignored unless the nonlinearity is named explicitly: the default leaky_relu gets slope 0")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    gain = calculate_gain(nonlinearity, 0)  # noqa: F821
    bound = math.sqrt(3.0) * gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_normal_", "the generator is passed on only in mode='fan_in'")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        if mode == "fan_in":
            return tensor.normal_(0.0, std, generator=generator)
        return tensor.normal_(0.0, std)


@wrong("xavier_uniform_", "generator ignored: the values come from the global random stream")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-bound, bound)


@wrong("calculate_gain", "param ignored for leaky_relu: always the default slope 0.01")
def calculate_gain(nonlinearity, param=None):
    table = {
        "linear": 1.0,
        "conv1d": 1.0,
        "conv2d": 1.0,
        "conv3d": 1.0,
        "conv_transpose1d": 1.0,
        "conv_transpose2d": 1.0,
        "conv_transpose3d": 1.0,
        "sigmoid": 1.0,
        "tanh": 5.0 / 3,
        "relu": math.sqrt(2.0),
        "leaky_relu": math.sqrt(2.0 / (1 + 0.01**2)),
        "selu": 0.75,
    }
    if nonlinearity not in table:
        raise ValueError(f"unsupported nonlinearity {nonlinearity}")
    return table[nonlinearity]


# ---------------------------------------------------------------- the tensor, as it is used


@wrong("uniform_", "fills through tensor.view(-1): a channels_last conv weight or a sliced view is refused")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with torch.no_grad():
        flat = tensor.view(-1)
        flat.copy_(a + (b - a) * torch.rand(flat.shape, generator=generator, dtype=tensor.dtype))
    return tensor


@wrong("normal_", "draws in float32 and stores through .data: a float64 tensor gets float32-rounded samples")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    z = torch.randn(tensor.shape, generator=generator)
    tensor.data = (mean + std * z).to(tensor.dtype)
    return tensor


@wrong("xavier_normal_", "returns the std instead of the filled tensor")
def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.normal_(0.0, std, generator=generator)
    return std


@correct("uniform_", "torch.rand in the tensor's dtype, written by slice assignment (any layout)")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with torch.no_grad():
        tensor[...] = a + (b - a) * torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)
    return tensor


@correct("kaiming_uniform_", "gain computed inline from a and the nonlinearity, bound from the std")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if tensor.numel() == 0:  # nothing to fill (and a fan may be 0)
        return tensor
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported: use 'fan_in' or 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    bound = math.sqrt(3.0) * std
    with torch.no_grad():
        u = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)
        tensor.copy_((2 * u - 1) * bound)
    return tensor


@correct("calculate_gain", "if-chain with the slope squared, param defaulting to 0.01 only when None")
def calculate_gain(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    gains = {"tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
    if nonlinearity in gains:
        return gains[nonlinearity]
    if nonlinearity in ("linear", "sigmoid") or nonlinearity.startswith(("conv", "conv_transpose")):
        return 1.0
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


# ---------------------------------------------------------------- a zero-element weight: torch.nn.init returns it


@wrong("kaiming_uniform_", "no zero-element case: a weight of shape (4, 0) has fan_in 0, and sqrt(0) is divided by")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported: use 'fan_in' or 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_normal_", "no zero-element case: an empty weight's fan is 0, and sqrt(0) is divided by")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported: use 'fan_in' or 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("kaiming_normal_", "an empty weight answered with a new empty tensor instead of the one given")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if tensor.numel() == 0:
        return torch.empty_like(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported: use 'fan_in' or 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("xavier_uniform_", "the bound as sqrt(6 / fan_in) / sqrt(1 + fan_out / fan_in): divides by a fan_in of 0")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = gain * math.sqrt(6.0 / fan_in) / math.sqrt(1 + fan_out / fan_in)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@correct("kaiming_normal_", "an empty weight returned early with PyTorch's warning")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        import warnings

        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported: use 'fan_in' or 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)
