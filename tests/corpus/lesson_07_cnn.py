"""Lesson 07 — convolutional networks: wrong answers students plausibly write, and other correct ones."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from corpus import correct, wrong

LESSON = "07_cnn"
MINIMUM = (30, 14)  # wrong, correct

# ---------------------------------------------------------------- conv2d_output_size


@wrong("conv2d_output_size", "true division, no floor")
def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1


@wrong("conv2d_output_size", "dilation ignored")
def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - kernel_size) // stride + 1


@wrong("conv2d_output_size", "padding counted on one side only")
def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1


@wrong("conv2d_output_size", "the +1 forgotten")
def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride


@wrong("conv2d_output_size", "rounds up (ceil mode)")
def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.ceil((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


@correct("conv2d_output_size", "math.floor of the true division")
def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return math.floor((size + 2 * padding - span) / stride) + 1


@correct("conv2d_output_size", "counting the window positions")
def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return len(range(0, size + 2 * padding - span + 1, stride))


# ---------------------------------------------------------------- conv2d


@wrong("conv2d", "calls F.conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    return F.conv2d(input, weight, bias, stride, padding)


@wrong("conv2d", "wraps nn.Conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    layer = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2:], stride, padding, bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer.to(input.dtype)(input)


@wrong("conv2d", "padding forgotten")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    cols = F.unfold(input, (kh, kw), stride=(sh, sw))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h - kh) // sh + 1, (w - kw) // sw + 1)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "kernel flipped (true convolution)")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    out = weight.flip(-2, -1).reshape(c_out, -1) @ cols
    out = out.reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "kernel transposed (u along the width)")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = F.pad(input, (pw, pw, ph, ph))
    kh, kw = weight.shape[2:]
    h_out, w_out = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    wt = weight.transpose(-2, -1) if kh == kw else weight
    out = 0
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
            out = out + torch.einsum("nchw,oc->nohw", patch, wt[:, :, u, v])
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "stride applied along the height only")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, _ = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, 1))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, w + 2 * pw - kw + 1)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "stride applied twice (strided windows, then every s-th output again)")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    out = out[:, :, ::sh, ::sw]
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "a (sH, sW) pair read as its first number for both axes")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    s = stride if isinstance(stride, int) else stride[0]
    p = padding if isinstance(padding, int) else padding[0]
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (p, p, p, p)), (kh, kw), stride=s)
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "bias broadcast along the width instead of the channels")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    return out if bias is None else out + bias


@wrong("conv2d", "bias ignored")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    return out


@wrong("conv2d", "the sum of the biases added to every channel")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    return out if bias is None else out + bias.sum()


@wrong("conv2d", "padded by repeating the border instead of zeros")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    x = F.pad(input, (pw, pw, ph, ph), mode="replicate") if ph or pw else input
    cols = F.unfold(x, (kh, kw), stride=(sh, sw))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "each output channel sees only its own input channel (depthwise)")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = F.pad(input, (pw, pw, ph, ph))
    c_out, c_in, kh, kw = weight.shape
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C_in, H', W', kh, kw)
    idx = torch.arange(c_out) % c_in
    out = torch.einsum("nohwuv,ouv->nohw", windows[:, idx], weight[torch.arange(c_out), idx])
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@wrong("conv2d", "result rebuilt with torch.tensor (autograd cut)")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return torch.tensor(out.tolist(), dtype=input.dtype)


@wrong("conv2d", "a private convolution kernel: torch.ops.aten._slow_conv2d_forward")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    return torch.ops.aten._slow_conv2d_forward(input, weight, weight.shape[2:], bias, pair(stride), pair(padding))


@wrong("conv2d", "a private convolution binding: torch._C._nn.thnn_conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    return torch._C._nn.thnn_conv2d(input, weight, weight.shape[2:], bias, pair(stride), pair(padding))


@correct("conv2d", "a loop over the kernel offsets with einsum")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = F.pad(input, (pw, pw, ph, ph))
    kh, kw = weight.shape[2:]
    h_out, w_out = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = torch.zeros(x.shape[0], weight.shape[0], h_out, w_out, dtype=input.dtype)
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
            out = out + torch.einsum("nchw,oc->nohw", patch, weight[:, :, u, v])
    return out if bias is None else out + bias[None, :, None, None]


@correct("conv2d", "a loop over output positions")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = F.pad(input, (pw, pw, ph, ph))
    c_out, _, kh, kw = weight.shape
    h_out, w_out = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    rows = []
    for i in range(h_out):
        row = []
        for j in range(w_out):
            window = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, C_in, kh, kw)
            row.append((window[:, None] * weight[None]).sum(dim=(2, 3, 4)))  # (N, C_out)
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


@correct("conv2d", "Tensor.unfold windows and einsum")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    kh, kw = weight.shape[2:]
    windows = F.pad(input, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, H', W', kh, kw)
    out = torch.einsum("nchwuv,ocuv->nohw", windows, weight)
    return out if bias is None else out + bias[:, None, None]


@correct("conv2d", "as_strided im2col and tensordot")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = F.pad(input, (pw, pw, ph, ph)).contiguous()
    n, c, h, w = x.shape
    kh, kw = weight.shape[2:]
    h_out, w_out = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.stride()
    windows = x.as_strided((n, c, h_out, w_out, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]))
    out = torch.tensordot(windows, weight, dims=([1, 4, 5], [1, 2, 3])).permute(0, 3, 1, 2)
    return out if bias is None else out + bias.reshape(-1, 1, 1)


@correct("conv2d", "F.unfold with its own padding argument")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    cols = F.unfold(input, (kh, kw), padding=(ph, pw), stride=(sh, sw))
    out = torch.matmul(weight.flatten(1), cols).unflatten(-1, ((h + 2 * ph - kh) // sh + 1, -1))
    return out if bias is None else out + bias[:, None, None]


# ---------------------------------------------------------------- max_pool2d


@wrong("max_pool2d", "calls F.max_pool2d")
def max_pool2d(input, kernel_size, stride=None):
    return F.max_pool2d(input, kernel_size, stride)


@wrong("max_pool2d", "wraps nn.MaxPool2d")
def max_pool2d(input, kernel_size, stride=None):
    return nn.MaxPool2d(kernel_size, stride)(input)


@wrong("max_pool2d", "stride=None taken as stride 1")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (1, 1) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    return input.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))


@wrong("max_pool2d", "pools over the channels too")
def max_pool2d(input, kernel_size, stride=None):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    s = k if stride is None else (stride if isinstance(stride, int) else stride[0])
    return input.unfold(1, k, s).unfold(2, k, s).unfold(3, k, s).amax(dim=(-3, -2, -1))


@wrong("max_pool2d", "averages instead of taking the maximum")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    return input.unfold(2, kh, sh).unfold(3, kw, sw).mean(dim=(-2, -1))


@wrong("max_pool2d", "running maximum started at 0")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    h_out, w_out = (input.shape[2] - kh) // sh + 1, (input.shape[3] - kw) // sw + 1
    out = torch.zeros(*input.shape[:2], h_out, w_out, dtype=input.dtype)
    for u in range(kh):
        for v in range(kw):
            out = torch.maximum(out, input[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw])
    return out


@wrong("max_pool2d", "partial windows kept (ceil mode)")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    h, w = input.shape[2:]
    extra_h = (-(h - kh)) % sh
    extra_w = (-(w - kw)) % sw
    x = F.pad(input, (0, extra_w, 0, extra_h), value=-math.inf)
    return x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))


@wrong("max_pool2d", "kernel (kH, kW) read as (width, height)")
def max_pool2d(input, kernel_size, stride=None):
    kw, kh = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sw, sh = (kw, kh) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    return input.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))


@wrong("max_pool2d", "only works when the size divides evenly (reshape trick)")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    n, c, h, w = input.shape
    return input.reshape(n, c, h // kh, kh, w // kw, kw).amax(dim=(3, 5))


@wrong("max_pool2d", "the kernel behind F.max_pool2d: torch.ops.aten.max_pool2d_with_indices")
def max_pool2d(input, kernel_size, stride=None):
    return torch.ops.aten.max_pool2d_with_indices(input, kernel_size, stride or kernel_size)[0]


@wrong("max_pool2d", "oneDNN's pooling kernel through a round trip: torch.mkldnn_max_pool2d")
def max_pool2d(input, kernel_size, stride=None):
    pooled = torch.mkldnn_max_pool2d(input.float().to_mkldnn(), kernel_size, stride or kernel_size)
    return pooled.to_dense().to(input.dtype)


@wrong("max_pool2d", "amax over the window: its gradient is shared among tied maxima")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    return input.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))


@wrong("max_pool2d", "a loop over window offsets with torch.maximum (splits the gradient at ties)")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    h_out, w_out = (input.shape[2] - kh) // sh + 1, (input.shape[3] - kw) // sw + 1
    out = None
    for u in range(kh):
        for v in range(kw):
            tap = input[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
            out = tap if out is None else torch.maximum(out, tap)
    return out


@wrong("max_pool2d", "max over the reversed window: the gradient goes to the last maximum")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    return input.unfold(2, kh, sh).unfold(3, kw, sw).flatten(-2).flip(-1).max(dim=-1).values


@correct("max_pool2d", "a loop over window offsets keeping the first maximum (torch.where with >, a NaN kept)")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    h_out, w_out = (input.shape[2] - kh) // sh + 1, (input.shape[3] - kw) // sw + 1
    out = None
    for u in range(kh):
        for v in range(kw):
            tap = input[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
            out = tap if out is None else torch.where((tap > out) | tap.isnan(), tap, out)
    return out


@correct("max_pool2d", "F.unfold then max over each column")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    cols = F.unfold(input, (kh, kw), stride=(sh, sw))  # (N, C*kh*kw, L)
    out = cols.reshape(n, c, kh * kw, cols.shape[-1]).max(dim=2).values
    return out.reshape(n, c, (h - kh) // sh + 1, (w - kw) // sw + 1)


@correct("max_pool2d", "crop to whole windows, then reshape when stride = kernel")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    if (sh, sw) == (kh, kw):
        n, c, h, w = input.shape
        ho, wo = h // kh, w // kw
        blocks = input[:, :, : ho * kh, : wo * kw].reshape(n, c, ho, kh, wo, kw).transpose(3, 4)
        return blocks.reshape(n, c, ho, wo, kh * kw).max(dim=-1).values
    return input.unfold(2, kh, sh).unfold(3, kw, sw).flatten(-2).max(dim=-1)[0]


# ---------------------------------------------------------------- SimpleCNN


@wrong("SimpleCNN", "the published network: no pooling")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x), dim=1)


@wrong("SimpleCNN", "no pooling, fc widened to C2·28·28")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 28 * 28, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


@wrong("SimpleCNN", "returns logits (no log-softmax)")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


@wrong("SimpleCNN", "returns probabilities (softmax)")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.softmax(self.fc(x.flatten(1)), dim=1)


@wrong("SimpleCNN", "log-softmax over the batch (dim=0)")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc(x.flatten(1)), dim=0)


@wrong("SimpleCNN", "average pooling instead of max-pooling")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.avg_pool2d(F.relu(self.conv1(x)), 2)
        x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


@wrong("SimpleCNN", "ReLU after conv2 forgotten")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(self.conv2(x), 2)
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


@wrong("SimpleCNN", "stride-2 convolutions instead of pooling")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


@wrong("SimpleCNN", "channels argument ignored")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


@correct("SimpleCNN", "nn.Sequential, pooling before ReLU (they commute)")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, 10),
            nn.LogSoftmax(dim=1),
        )

    def forward(self, x):
        return self.net(x)


@correct("SimpleCNN", "log-softmax applied twice (redundant: it is idempotent)")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(F.log_softmax(self.fc(x.flatten(1)), dim=1), dim=1)


# ---------------------------------------------------------------- receptive_field


@wrong("receptive_field", "strides ignored")
def receptive_field(layers):
    r, out = 1, []
    for k, _ in layers:
        r += k - 1
        out.append(r)
    return out


@wrong("receptive_field", "jump multiplied by the stride before it is used")
def receptive_field(layers):
    r, j, out = 1, 1, []
    for k, s in layers:
        j *= s
        r += (k - 1) * j
        out.append(r)
    return out


@wrong("receptive_field", "kernel sizes added up")
def receptive_field(layers):
    out, total = [], 0
    for k, _ in layers:
        total += k
        out.append(total)
    return out


@wrong("receptive_field", "only the last layer's field")
def receptive_field(layers):
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


@wrong("receptive_field", "kernel sizes multiplied")
def receptive_field(layers):
    out, total = [], 1
    for k, _ in layers:
        total *= k
        out.append(total)
    return out


@correct("receptive_field", "backwards from each layer to the input")
def receptive_field(layers):
    out = []
    for depth in range(1, len(layers) + 1):
        r = 1
        for k, s in reversed(layers[:depth]):
            r = (r - 1) * s + k
        out.append(r)
    return out


@correct("receptive_field", "closed form with products of strides")
def receptive_field(layers):
    return [
        1 + sum((k - 1) * math.prod(s for _, s in layers[:i]) for i, (k, _) in enumerate(layers[: n + 1]))
        for n in range(len(layers))
    ]
