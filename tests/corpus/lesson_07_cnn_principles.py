"""Lesson 07 (07 and 07b) — issue 12 part 6: entries per principle, each ``why`` tagged with its principle.

[conventions] NaN in, NaN out (as F.conv2d / F.max_pool2d / F.adaptive_avg_pool2d: only where PyTorch's is NaN is
NaN required) and an empty batch, in every exercise that inherits them; [use] what the lesson's training hands an
exercise: tensors and modules in channels_last memory format; [numerics] log-probabilities stay exact for
confident logits.
"""

import torch
import torch.nn.functional as F
from torch import nn

from corpus import correct, wrong

LESSON = "07_cnn"
MINIMUM = (15, 8)  # wrong, correct

# ---------------------------------------------------------------- [conventions]


@wrong(
    "max_pool2d", "[conventions] a running maximum with torch.where(tap > out, ...): a NaN after the first is dropped"
)
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    h_out, w_out = (input.shape[2] - kh) // sh + 1, (input.shape[3] - kw) // sw + 1
    out = None
    for u in range(kh):
        for v in range(kw):
            tap = input[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
            out = tap if out is None else torch.where(tap > out, tap, out)
    return out


@wrong("max_pool2d", "[conventions] F.unfold, reshape(n, c, kh * kw, -1): an empty batch cannot infer the -1")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    cols = F.unfold(input, (kh, kw), stride=(sh, sw))
    out = cols.reshape(n, c, kh * kw, -1).max(dim=2).values
    return out.reshape(n, c, (h - kh) // sh + 1, (w - kw) // sw + 1)


@correct("max_pool2d", "[conventions] the window's taps stacked, max over them (NaN kept, first maximum at ties)")
def max_pool2d(input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    h_out, w_out = (input.shape[2] - kh) // sh + 1, (input.shape[3] - kw) // sw + 1
    taps = [
        input[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
        for u in range(kh)
        for v in range(kw)
    ]
    return torch.stack(taps).max(dim=0).values


@wrong("conv2d", "[conventions] rows of the unfolded input via reshape(n * L, -1): an empty batch cannot infer it")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    h_out, w_out = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    rows = cols.transpose(1, 2).reshape(n * cols.shape[-1], -1)
    out = (rows @ weight.reshape(c_out, -1).t()).reshape(n, h_out, w_out, c_out).permute(0, 3, 1, 2)
    return out if bias is None else out + bias.reshape(1, c_out, 1, 1)


@correct("conv2d", "[conventions] a dense matrix per window position (NaN spreads within its own image only)")
def conv2d(input, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = F.pad(input, (pw, pw, ph, ph))
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out, w_out = (h - kh) // sh + 1, (w - kw) // sw + 1
    rows = []
    for i in range(h_out):
        for j in range(w_out):
            placed = F.pad(weight, (j * sw, w - kw - j * sw, i * sh, h - kh - i * sh))  # zeros outside the window
            rows.append(placed.reshape(c_out, c_in * h * w))
    big = torch.stack(rows, dim=-1)  # (C_out, C_in*H*W, L)
    out = torch.einsum("okl,nk->nol", big, x.flatten(1)).reshape(n, c_out, h_out, w_out)
    return out if bias is None else out + bias.reshape(1, c_out, 1, 1)


@wrong("conv2d_backward", "[conventions] grad_output.reshape(n, c_out, -1): an empty batch cannot infer the -1")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    g = grad_output.reshape(n, c_out, -1)
    columns = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    grad_weight = torch.einsum("nol,nkl->ok", g, columns).reshape(weight.shape)
    grad_columns = torch.einsum("ok,nol->nkl", weight.reshape(c_out, -1), g)
    grad_padded = F.fold(grad_columns, (h + 2 * ph, w + 2 * pw), (kh, kw), stride=(sh, sw))
    return grad_padded[:, :, ph : ph + h, pw : pw + w], grad_weight, grad_output.sum(dim=(0, 2, 3))


@wrong(
    "conv2d_backward",
    "[conventions] transposed correlation by F.conv2d: grad_weight of an empty batch has shape (0, ...)",
)
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    ho, wo = grad_output.shape[-2:]
    dil = grad_output.new_zeros(n, c_out, (ho - 1) * sh + 1, (wo - 1) * sw + 1)
    dil[:, :, ::sh, ::sw] = grad_output
    hp, wp = h + 2 * ph, w + 2 * pw
    full = F.pad(dil, (kw - 1, kw - 1 + wp - ((wo - 1) * sw + kw), kh - 1, kh - 1 + hp - ((ho - 1) * sh + kh)))
    gxp = F.conv2d(full, weight.flip(-2, -1).transpose(0, 1))
    gi = gxp[:, :, ph : ph + h, pw : pw + w]
    # weight: correlate each input channel with each grad_output map (batch as channels), dilation = stride
    xp = F.pad(input, (pw, pw, ph, ph))
    gw = F.conv2d(xp.transpose(0, 1), grad_output.transpose(0, 1), dilation=(sh, sw))
    gw = gw.transpose(0, 1)[:, :, :kh, :kw]
    return gi, gw, grad_output.sum((0, 2, 3))


@correct("conv2d_backward", "[conventions] every size explicit: unfold, einsum, fold (an empty batch gives zeros)")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    ho, wo = grad_output.shape[-2:]
    g = grad_output.reshape(n, c_out, ho * wo)
    columns = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    grad_weight = torch.einsum("nol,nkl->ok", g, columns).reshape(c_out, c_in, kh, kw)
    grad_columns = torch.einsum("ok,nol->nkl", weight.reshape(c_out, c_in * kh * kw), g)
    grad_padded = F.fold(grad_columns, (h + 2 * ph, w + 2 * pw), (kh, kw), stride=(sh, sw))
    return grad_padded[:, :, ph : ph + h, pw : pw + w], grad_weight, g.sum(dim=(0, 2))


@wrong("max_pool2d_backward", "[conventions] grad_output.reshape(n * c, 1, -1): an empty batch cannot infer the -1")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    columns = F.unfold(input.reshape(n * c, 1, h, w), (kh, kw), stride=(sh, sw))
    first = columns.argmax(dim=1, keepdim=True)
    routed = torch.zeros_like(columns).scatter_(1, first, grad_output.reshape(n * c, 1, -1))
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@wrong("max_pool2d_backward", "[conventions] a mask of maxima built with ==: a window holding NaN routes no gradient")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    ho, wo = grad_output.shape[-2:]

    def tap(u, v):
        return slice(u, u + sh * (ho - 1) + 1, sh), slice(v, v + sw * (wo - 1) + 1, sw)

    best = torch.stack([input[(..., *tap(u, v))] for u in range(kh) for v in range(kw)]).amax(0)
    taken = torch.zeros_like(best, dtype=torch.bool)
    grad = torch.zeros_like(input)
    for u in range(kh):
        for v in range(kw):
            hit = (input[(..., *tap(u, v))] == best) & ~taken
            grad[(..., *tap(u, v))] += torch.where(hit, grad_output, torch.zeros_like(grad_output))
            taken |= hit
    return grad


# ---------------------------------------------------------------- adaptive_avg_pool2d


@correct("max_pool2d_backward", "[conventions] taps stacked, max(dim=0).indices routes the gradient (NaN: to the NaN)")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    ho, wo = grad_output.shape[-2:]
    spots = [
        (slice(u, u + sh * (ho - 1) + 1, sh), slice(v, v + sw * (wo - 1) + 1, sw)) for u in range(kh) for v in range(kw)
    ]
    winner = torch.stack([input[(..., *spot)] for spot in spots]).max(dim=0).indices
    grad = torch.zeros_like(input)
    for k, spot in enumerate(spots):
        grad[(..., *spot)] += torch.where(winner == k, grad_output, torch.zeros_like(grad_output))
    return grad


@wrong(
    "adaptive_avg_pool2d", "[conventions] each window averaged via reshape(n, c, -1): an empty batch cannot infer it"
)
def adaptive_avg_pool2d(input, output_size):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    n, c, h, w = input.shape
    out = input.new_empty(n, c, oh, ow)
    for i in range(oh):
        for j in range(ow):
            window = input[:, :, i * h // oh : -(-(i + 1) * h // oh), j * w // ow : -(-(j + 1) * w // ow)]
            out[:, :, i, j] = window.reshape(n, c, -1).mean(-1)
    return out


# ---------------------------------------------------------------- [use]


@wrong("SimpleCNN", "[use] flattens with x.view(x.size(0), -1): fails on the channels_last maps the lesson trains on")
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
        return F.log_softmax(self.fc(x.view(x.size(0), -1)), dim=1)


@correct("SimpleCNN", "[use] nn.Sequential with nn.Flatten and nn.LogSoftmax (any memory format)")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * 7 * 7, 10), nn.LogSoftmax(dim=1),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x)


@wrong("conv2d_backward", "[use] weight.view(c_out, -1): fails on the channels_last weights of the lesson's training")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, _, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    g = grad_output.flatten(2)
    columns = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    grad_weight = torch.einsum("nol,nkl->ok", g, columns).view(weight.shape)
    grad_columns = torch.einsum("ok,nol->nkl", weight.view(c_out, -1), g)
    grad_padded = F.fold(grad_columns, (h + 2 * ph, w + 2 * pw), (kh, kw), stride=(sh, sw))
    return grad_padded[:, :, ph : ph + h, pw : pw + w], grad_weight, grad_output.sum(dim=(0, 2, 3))


@wrong("max_pool2d_backward", "[use] input.view(n * c, 1, h, w): fails on channels_last tensors")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    columns = F.unfold(input.view(n * c, 1, h, w), (kh, kw), stride=(sh, sw))
    first = columns.argmax(dim=1, keepdim=True)
    routed = torch.zeros_like(columns).scatter_(1, first, grad_output.reshape(n * c, 1, columns.shape[-1]))
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@wrong("adaptive_avg_pool2d", "[use] each map flattened to a row with view(-1, h * w): fails on channels_last maps")
def adaptive_avg_pool2d(input, output_size):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    n, c, h, w = input.shape
    if (oh, ow) == (1, 1):
        return input.view(-1, h * w).mean(1).view(n, c, 1, 1)
    rows = []
    for i in range(oh):
        row = [
            input[:, :, i * h // oh : -(-(i + 1) * h // oh), j * w // ow : -(-(j + 1) * w // ow)].mean((-2, -1))
            for j in range(ow)
        ]
        rows.append(torch.stack(row, dim=-1))
    return torch.stack(rows, dim=-2)


@correct("adaptive_avg_pool2d", "[use] mean over (H, W) with keepdim for the global case (any memory format)")
def adaptive_avg_pool2d(input, output_size):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    h, w = input.shape[-2:]
    if (oh, ow) == (1, 1):
        return input.mean(dim=(2, 3), keepdim=True)
    return torch.stack(
        [
            torch.stack(
                [
                    input[..., i * h // oh : -(-(i + 1) * h // oh), j * w // ow : -(-(j + 1) * w // ow)].mean((2, 3))
                    for j in range(ow)
                ],
                dim=-1,
            )
            for i in range(oh)
        ],
        dim=-2,
    )


# ---------------------------------------------------------------- [numerics]


@wrong("SimpleCNN", "[numerics] torch.log(torch.softmax(...)): -inf for confident logits")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        self.fc = nn.Linear(channels[1] * 49, 10)
        self.conv1 = nn.Conv2d(1, channels[0], (3, 3), padding=(1, 1))
        self.conv2 = nn.Conv2d(channels[0], channels[1], (3, 3), padding=(1, 1))

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.conv1(x)), kernel_size=2, stride=2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), kernel_size=2, stride=2)
        return torch.log(torch.softmax(self.fc(x.flatten(1)), dim=-1))


@wrong("SimpleCNN", "[numerics] log-softmax by hand, z - log(sum(exp(z))): exp overflows for confident logits")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        z = self.fc(F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1))
        return z - torch.log(torch.exp(z).sum(dim=1, keepdim=True))


@correct("SimpleCNN", "[numerics] log-softmax by hand with logsumexp, reshape(len(x), -1)")
class SimpleCNN(nn.Module):
    def __init__(self, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        z = self.fc(F.max_pool2d(F.relu(self.conv2(x)), 2).reshape(len(x), -1))
        return z - z.logsumexp(dim=1, keepdim=True)


# ---------------------------------------------------------------- [use] the gradient the lesson measures


@wrong("ResidualBlock", "[use] the shortcut detached (x.detach()): same output, no gradient along the shortcut")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x):
        identity = self.shortcut(x.detach())  # "keep a copy of the input"
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + identity)


@correct("ResidualBlock", "[use] the shortcut's input kept in a variable first, in-place ReLU on the sum")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x):
        identity = x
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out)) + self.shortcut(identity)
        return F.relu_(out)
