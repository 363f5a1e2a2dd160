"""Lesson 02 — parameter initialization: wrong answers students plausibly write, and other correct ones.

The variants run in the lesson's namespace (``torch``, ``math``, ``nn`` and the other exercises' solutions
are defined there); each replaces one exercise and must be rejected (or accepted) by its grade cells.
"""

import math

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "02_initialization"
MINIMUM = (50, 12)  # wrong, correct (the issue asks for at least 12 and 5)

# ---------------------------------------------------------------- zeros_, ones_, constant_


@wrong("zeros_", "multiplies by 0: NaN or inf in uninitialized memory survives")
def zeros_(tensor):
    with torch.no_grad():
        return tensor.mul_(0)


@wrong("zeros_", "returns a new tensor instead of filling the given one")
def zeros_(tensor):
    return torch.zeros_like(tensor)


@wrong("zeros_", "fills without torch.no_grad(): autograd refuses it on a parameter")
def zeros_(tensor):
    return tensor.zero_()


@wrong("zeros_", "calls torch.nn.init.zeros_")
def zeros_(tensor):
    return nn.init.zeros_(tensor)


@correct("zeros_", "slice assignment under no_grad")
def zeros_(tensor):
    with torch.no_grad():
        tensor[...] = 0
    return tensor


@wrong("ones_", "rebinds the local name: the caller's tensor is untouched")
def ones_(tensor):
    tensor = torch.ones_like(tensor)
    return tensor


@wrong("ones_", "replaces the storage with tensor.data = ...")
def ones_(tensor):
    tensor.data = torch.ones(tensor.shape, dtype=tensor.dtype)
    return tensor


@wrong("ones_", "returns tensor.data, a different tensor object")
def ones_(tensor):
    with torch.no_grad():
        tensor.fill_(1.0)
    return tensor.data


@correct("ones_", "copy_ from torch.ones_like")
def ones_(tensor):
    with torch.no_grad():
        tensor.copy_(torch.ones_like(tensor))
    return tensor


@wrong("constant_", "adds val to the old values instead of overwriting them")
def constant_(tensor, val):
    with torch.no_grad():
        return tensor.add_(val)


@wrong("constant_", "fills tensor.reshape(-1), which is a copy for a non-contiguous view")
def constant_(tensor, val):
    with torch.no_grad():
        tensor.reshape(-1).fill_(val)
    return tensor


@wrong("constant_", "val truncated to an int")
def constant_(tensor, val):
    with torch.no_grad():
        return tensor.fill_(int(val))


@correct("constant_", "zero_ then add_")
def constant_(tensor, val):
    with torch.no_grad():
        return tensor.zero_().add_(val)


# ---------------------------------------------------------------- uniform_, normal_


@wrong("uniform_", "scales U(0, 1) by b instead of b - a")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with torch.no_grad():
        return tensor.copy_(a + b * torch.rand(tensor.shape, generator=generator))


@wrong("uniform_", "forgets to shift by a")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with torch.no_grad():
        return tensor.copy_((b - a) * torch.rand(tensor.shape, generator=generator))


@wrong("uniform_", "samples a normal with the uniform's mean and std")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with torch.no_grad():
        z = torch.randn(tensor.shape, generator=generator)
        return tensor.copy_((a + b) / 2 + (b - a) / math.sqrt(12) * z)


@wrong("uniform_", "ignores generator")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with torch.no_grad():
        return tensor.copy_(a + (b - a) * torch.rand(tensor.shape))


@wrong("uniform_", "fixes a seed inside the function")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    torch.manual_seed(0)
    with torch.no_grad():
        return tensor.uniform_(a, b, generator=generator)


@wrong("uniform_", "reseeds the global generator from the one passed")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    if generator is not None:
        torch.manual_seed(generator.initial_seed())
    with torch.no_grad():
        return tensor.copy_(a + (b - a) * torch.rand(tensor.shape))


@wrong("uniform_", "returns a new tensor instead of filling the given one")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return a + (b - a) * torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)


@correct("uniform_", "Tensor.uniform_ with the generator")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with torch.no_grad():
        return tensor.uniform_(a, b, generator=generator)


@correct("uniform_", "torch.rand in the default dtype, copied in; old-style .data instead of no_grad")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    tensor.data.copy_(torch.rand(tensor.shape, generator=generator) * (b - a) + a)
    return tensor


@wrong("normal_", "takes std for the variance: mean + sqrt(std) * z")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with torch.no_grad():
        return tensor.copy_(mean + math.sqrt(std) * torch.randn(tensor.shape, generator=generator))


@wrong("normal_", "squares std: mean + std**2 * z")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with torch.no_grad():
        return tensor.copy_(mean + std**2 * torch.randn(tensor.shape, generator=generator))


@wrong("normal_", "ignores mean")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("normal_", "fills without torch.no_grad()")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return tensor.normal_(mean, std, generator=generator)


@wrong("normal_", "Tensor.normal_ without passing the generator on")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with torch.no_grad():
        return tensor.normal_(mean, std)


@correct("normal_", "Tensor.normal_ with the generator")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with torch.no_grad():
        return tensor.normal_(mean, std, generator=generator)


@correct("normal_", "torch.randn_like, then copy_")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with torch.no_grad():
        tensor.copy_(torch.randn_like(tensor, generator=generator) * std + mean)
    return tensor


# ---------------------------------------------------------------- calculate_fan_in_and_fan_out


@wrong("calculate_fan_in_and_fan_out", "forgets the receptive field of a conv kernel")
def calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("fan in and fan out need at least 2 dimensions")
    return tensor.size(1), tensor.size(0)


@wrong("calculate_fan_in_and_fan_out", "fan_in and fan_out swapped")
def calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("fan in and fan out need at least 2 dimensions")
    rf = math.prod(tensor.shape[2:])
    return tensor.size(0) * rf, tensor.size(1) * rf


@wrong("calculate_fan_in_and_fan_out", "no check for 1-D tensors: IndexError instead of ValueError")
def calculate_fan_in_and_fan_out(tensor):
    rf = math.prod(tensor.shape[2:])
    return tensor.size(1) * rf, tensor.size(0) * rf


@wrong("calculate_fan_in_and_fan_out", "an assert instead of ValueError")
def calculate_fan_in_and_fan_out(tensor):
    assert tensor.dim() >= 2, "need at least 2 dimensions"
    rf = math.prod(tensor.shape[2:])
    return tensor.size(1) * rf, tensor.size(0) * rf


@wrong("calculate_fan_in_and_fan_out", "returns tensors from torch.prod")
def calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("fan in and fan out need at least 2 dimensions")
    rf = torch.tensor(tensor.shape[2:]).prod()
    return tensor.size(1) * rf, tensor.size(0) * rf


@correct("calculate_fan_in_and_fan_out", "math.prod of the kernel's shape")
def calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError(f"need at least 2 dimensions, got shape {tuple(tensor.shape)}")
    rf = math.prod(tensor.shape[2:])
    return tensor.shape[1] * rf, tensor.shape[0] * rf


@correct("calculate_fan_in_and_fan_out", "receptive field as tensor[0][0].numel() (older PyTorch)")
def calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    rf = tensor[0][0].numel() if tensor.dim() > 2 else 1
    return tensor.size(1) * rf, tensor.size(0) * rf


# ---------------------------------------------------------------- calculate_gain


@wrong("calculate_gain", "leaky_relu's slope not squared")
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid") or nonlinearity.startswith("conv_t"):
        return 1.0
    gains = {"tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        return math.sqrt(2 / (1 + (0.01 if param is None else param)))
    if nonlinearity in gains:
        return gains[nonlinearity]
    raise ValueError(f"unknown nonlinearity {nonlinearity}")


@wrong("calculate_gain", "default slope 0 instead of 0.01")
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid") or nonlinearity.startswith("conv_t"):
        return 1.0
    gains = {"tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        return math.sqrt(2 / (1 + (param or 0) ** 2))
    if nonlinearity in gains:
        return gains[nonlinearity]
    raise ValueError(f"unknown nonlinearity {nonlinearity}")


@wrong("calculate_gain", "`param or 0.01` treats a slope of 0 as missing")
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid") or nonlinearity.startswith("conv_t"):
        return 1.0
    gains = {"tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        return math.sqrt(2 / (1 + (param or 0.01) ** 2))
    if nonlinearity in gains:
        return gains[nonlinearity]
    raise ValueError(f"unknown nonlinearity {nonlinearity}")


@wrong("calculate_gain", "ReLU's gain as 2 (the variance factor, not the std's)")
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid") or nonlinearity.startswith("conv_t"):
        return 1.0
    gains = {"tanh": 5 / 3, "relu": 2.0, "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2 / (1 + slope**2))
    if nonlinearity in gains:
        return gains[nonlinearity]
    raise ValueError(f"unknown nonlinearity {nonlinearity}")


@wrong("calculate_gain", "an unknown name falls through to 1")
def calculate_gain(nonlinearity, param=None):
    if nonlinearity == "tanh":
        return 5 / 3
    if nonlinearity == "relu":
        return math.sqrt(2)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2 / (1 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    return 1.0


@wrong("calculate_gain", "a dict lookup raises KeyError for an unknown name")
def calculate_gain(nonlinearity, param=None):
    slope = 0.01 if param is None else param
    gains = {"linear": 1, "conv1d": 1, "conv2d": 1, "conv3d": 1, "conv_transpose1d": 1, "conv_transpose2d": 1,
             "conv_transpose3d": 1, "sigmoid": 1, "tanh": 5 / 3, "relu": math.sqrt(2),
             "leaky_relu": math.sqrt(2 / (1 + slope**2)), "selu": 3 / 4}  # fmt: skip
    return gains[nonlinearity]


@wrong("calculate_gain", "the transposed convolutions are missing")
def calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    gains = {"tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2 / (1 + slope**2))
    if nonlinearity in gains:
        return gains[nonlinearity]
    raise ValueError(f"unknown nonlinearity {nonlinearity}")


@wrong("calculate_gain", "calls torch.nn.init.calculate_gain")
def calculate_gain(nonlinearity, param=None):
    return nn.init.calculate_gain(nonlinearity, param)


@correct("calculate_gain", "a dict, with a ValueError for unknown names")
def calculate_gain(nonlinearity, param=None):
    slope = 0.01 if param is None else param
    gains = {"linear": 1, "conv1d": 1, "conv2d": 1, "conv3d": 1, "conv_transpose1d": 1, "conv_transpose2d": 1,
             "conv_transpose3d": 1, "sigmoid": 1, "tanh": 5 / 3, "relu": 2**0.5,
             "leaky_relu": (2 / (1 + slope * slope)) ** 0.5, "selu": 0.75}  # fmt: skip
    if nonlinearity not in gains:
        raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
    return gains[nonlinearity]


# ---------------------------------------------------------------- xavier_uniform_, xavier_normal_


@wrong("xavier_uniform_", "fan_in only (LeCun's variance)")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821 - the lesson's
    bound = gain * math.sqrt(3.0 / fan_in)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("xavier_uniform_", "the std used as the uniform bound")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("xavier_uniform_", "gain ignored")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("xavier_uniform_", "fans from the first two dims only: conv receptive field forgotten")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_out, fan_in = tensor.shape[0], tensor.shape[1]
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("xavier_uniform_", "returns a new tensor instead of filling the given one")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return torch.empty(tensor.shape).uniform_(-bound, bound, generator=generator)


@wrong("xavier_uniform_", "fills without torch.no_grad()")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return tensor.uniform_(-bound, bound, generator=generator)


@wrong("xavier_uniform_", "calls torch.nn.init.xavier_uniform_")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    return torch.nn.init.xavier_uniform_(tensor, gain=gain, generator=generator)


@correct("xavier_uniform_", "torch.rand stretched to [-b, b], copied in")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    b = math.sqrt(3) * gain * math.sqrt(2 / (fan_in + fan_out))
    with torch.no_grad():
        u = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)
        tensor.copy_((2 * u - 1) * b)
    return tensor


@wrong("xavier_normal_", "the uniform bound used as the std")
def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("xavier_normal_", "the variance 2 / (fan_in + fan_out) used as the std")
def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = gain * 2.0 / (fan_in + fan_out)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("xavier_normal_", "ignores generator")
def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.normal_(0.0, std)


@wrong("xavier_normal_", "samples a uniform distribution (copied from xavier_uniform_)")
def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = math.sqrt(3) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@correct("xavier_normal_", "torch.randn scaled, copied in")
def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = gain * (2.0 / float(fan_in + fan_out)) ** 0.5
    with torch.no_grad():
        tensor.copy_(std * torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype))
    return tensor


# ---------------------------------------------------------------- kaiming_uniform_, kaiming_normal_


@wrong("kaiming_uniform_", "std without the gain")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = math.sqrt(3.0) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_uniform_", "ignores mode='fan_out'")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, _ = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan_in)  # noqa: F821
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_uniform_", "leaky_relu gain with 1 + a instead of 1 + a²")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    gain = math.sqrt(2.0 / (1 + a)) if nonlinearity == "leaky_relu" else calculate_gain(nonlinearity)  # noqa: F821
    bound = math.sqrt(3.0) * gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_uniform_", "an unknown mode silently means fan_out")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)  # noqa: F821
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_uniform_", "the std used as the uniform bound")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_uniform_", "fixes a seed inside the function")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    torch.manual_seed(1234)
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@correct("kaiming_uniform_", "torch.rand stretched to [-b, b], copied in")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:  # an empty weight: nothing to fill, as in torch.nn.init
        return tensor
    fans = dict(zip(("fan_in", "fan_out"), calculate_fan_in_and_fan_out(tensor)))  # noqa: F821
    if mode not in fans:
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fans[mode])  # noqa: F821
    b = math.sqrt(3.0) * std
    with torch.no_grad():
        tensor.copy_(torch.rand(tensor.shape, generator=generator) * 2 * b - b)
    return tensor


@wrong("kaiming_normal_", "samples a uniform distribution (copied from kaiming_uniform_)")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@wrong("kaiming_normal_", "the gain under the square root")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = math.sqrt(calculate_gain(nonlinearity, a) / (fan_in if mode == "fan_in" else fan_out))  # noqa: F821
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("kaiming_normal_", "mode read the wrong way round")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_out if mode == "fan_in" else fan_in)  # noqa: F821
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("kaiming_normal_", "the nonlinearity ignored: always ReLU's sqrt(2)")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = math.sqrt(2.0) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@wrong("kaiming_normal_", "fills through tensor.detach() but returns that alias, not the tensor")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"bad mode {mode}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    return tensor.detach().normal_(0.0, std, generator=generator)


@correct("kaiming_normal_", "variance first, then its square root; torch.randn copied in")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if min(tensor.shape) == 0:  # an empty weight: nothing to fill, as in torch.nn.init
        return tensor
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', not {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)  # noqa: F821
    variance = calculate_gain(nonlinearity, a) ** 2 / (fan_in if mode == "fan_in" else fan_out)  # noqa: F821
    with torch.no_grad():
        tensor.copy_(torch.randn(tensor.shape, generator=generator) * math.sqrt(variance))
    return tensor
