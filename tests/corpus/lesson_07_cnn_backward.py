"""Lesson 07b — backward through convolution and pooling, global pooling, residual blocks: wrong and correct answers."""

import torch
import torch.nn.functional as F
from torch import nn

from corpus import correct, wrong

LESSON = "07_cnn/07b_backward_and_modern.ipynb"
MINIMUM = (30, 8)  # wrong, correct


# ---------------------------------------------------------------- conv2d_backward


@wrong("conv2d_backward", "asks autograd for the gradients")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    x = input.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    return torch.autograd.grad(F.conv2d(x, w, b, stride, padding), (x, w, b), grad_output)


@wrong("conv2d_backward", "calls .backward() on the forward")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    x = input.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    F.conv2d(x, w, None, stride, padding).backward(grad_output)
    return x.grad, w.grad, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "torch.nn.grad.conv2d_input / conv2d_weight")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    gi = torch.nn.grad.conv2d_input(input.shape, weight, grad_output, stride, padding)
    gw = torch.nn.grad.conv2d_weight(input, weight.shape, grad_output, stride, padding)
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "F.conv_transpose2d for grad_input")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h, w = input.shape[-2:]
    kh, kw = weight.shape[-2:]
    extra = ((h + 2 * ph - kh) % sh, (w + 2 * pw - kw) % sw)
    gi = F.conv_transpose2d(grad_output, weight, None, (sh, sw), (ph, pw), output_padding=extra)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    gw = torch.einsum("nol,nkl->ok", grad_output.flatten(2), cols).reshape(weight.shape)
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "the aten kernel torch.ops.aten.convolution_backward")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    s = [stride] * 2 if isinstance(stride, int) else list(stride)
    p = [padding] * 2 if isinstance(padding, int) else list(padding)
    return torch.ops.aten.convolution_backward(
        grad_output, input, weight, [weight.shape[0]], s, p, [1, 1], False, [0, 0], 1, [True, True, True]
    )


@wrong("conv2d_backward", "torch.convolution with transposed=True")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    h, w = input.shape[-2:]
    kh, kw = weight.shape[-2:]
    extra = [(h + 2 * ph - kh) % sh, (w + 2 * pw - kw) % sw]
    gi = torch.convolution(grad_output, weight, None, [sh, sw], [ph, pw], [1, 1], True, extra, 1)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    gw = torch.einsum("nol,nkl->ok", grad_output.flatten(2), cols).reshape(weight.shape)
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "grad_input correlates with the kernel unflipped (a true convolution mix-up)")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    g = grad_output.flatten(2)
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    flipped = weight.flip(-2, -1).reshape(c_out, -1)
    gcols = torch.einsum("ok,nol->nkl", flipped, g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), (kh, kw), stride=(sh, sw))[:, :, ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "grad_weight rotated by 180 degrees")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    g = grad_output.flatten(2)
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape).flip(-2, -1)
    gcols = torch.einsum("ok,nol->nkl", weight.reshape(c_out, -1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), (kh, kw), stride=(sh, sw))[:, :, ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "grad_input not cropped: the padded input's gradient")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    g = grad_output.flatten(2)
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.reshape(c_out, -1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), (kh, kw), stride=(sh, sw))
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "padding cropped from one side only")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), (kh, kw), stride=(sh, sw))
    g = grad_output.flatten(2)
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.reshape(c_out, -1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), (kh, kw), stride=(sh, sw))[:, :, :h, :w]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "stride ignored in grad_weight (loop over offsets, stride-1 slices)")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = F.pad(input, (pw, pw, ph, ph))
    n, c_out, ho, wo = grad_output.shape
    kh, kw = weight.shape[-2:]
    gw = torch.zeros_like(weight)
    gxp = torch.zeros_like(xp)
    for u in range(kh):
        for v in range(kw):
            gw[:, :, u, v] = torch.einsum("noij,ncij->oc", grad_output, xp[:, :, u : u + ho, v : v + wo])
            rows, cols = slice(u, u + sh * (ho - 1) + 1, sh), slice(v, v + sw * (wo - 1) + 1, sw)
            gxp[:, :, rows, cols] += torch.einsum("noij,oc->ncij", grad_output, weight[:, :, u, v])
    gi = gxp[:, :, ph : ph + input.shape[2], pw : pw + input.shape[3]]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "stride ignored in grad_input (contributions placed 1 pixel apart)")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = F.pad(input, (pw, pw, ph, ph))
    n, c_out, ho, wo = grad_output.shape
    kh, kw = weight.shape[-2:]
    gw = torch.zeros_like(weight)
    gxp = torch.zeros_like(xp)
    for u in range(kh):
        for v in range(kw):
            rows, cols = slice(u, u + sh * (ho - 1) + 1, sh), slice(v, v + sw * (wo - 1) + 1, sw)
            gw[:, :, u, v] = torch.einsum("noij,ncij->oc", grad_output, xp[:, :, rows, cols])
            gxp[:, :, u : u + ho, v : v + wo] += torch.einsum("noij,oc->ncij", grad_output, weight[:, :, u, v])
    gi = gxp[:, :, ph : ph + input.shape[2], pw : pw + input.shape[3]]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "bias gradient summed over space only, not the batch")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))[..., ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.sum((2, 3))


@wrong("conv2d_backward", "bias gradient summed over the batch only")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))[..., ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.sum(0)


@wrong("conv2d_backward", "bias gradient averaged instead of summed")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))[..., ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.mean((0, 2, 3))


@wrong("conv2d_backward", "grad_weight averaged over the batch")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape) / input.shape[0]
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))[..., ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "grad_weight's C_out and C_in axes swapped")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    c_in = input.shape[1]
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape[0], c_in, -1).transpose(0, 1)
    gw = gw.reshape(c_in, weight.shape[0], *weight.shape[-2:])
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))[..., ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "grad_input's size assumed to be (H_out - 1)·s + k - 2p (drops uncovered rows)")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    kh, kw = weight.shape[-2:]
    ho, wo = grad_output.shape[-2:]
    hp, wp = (ho - 1) * sh + kh, (wo - 1) * sw + kw
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (hp, wp), (kh, kw), stride=(sh, sw))[..., ph : hp - ph, pw : wp - pw]
    return gi, gw, grad_output.sum((0, 2, 3))


@wrong("conv2d_backward", "returns only grad_input and grad_weight")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))[..., ph : ph + h, pw : pw + w]
    return gi, gw


@correct("conv2d_backward", "im2col backwards: einsum on unfolded columns, then F.fold and crop")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    gw = torch.einsum("nol,nkl->ok", g, cols).reshape(weight.shape)
    gcols = torch.einsum("ok,nol->nkl", weight.flatten(1), g)
    gi = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))[..., ph : ph + h, pw : pw + w]
    return gi, gw, grad_output.sum((0, 2, 3))


@correct("conv2d_backward", "a loop over kernel offsets with strided slices and +=")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = F.pad(input, (pw, pw, ph, ph))
    ho, wo = grad_output.shape[-2:]
    kh, kw = weight.shape[-2:]
    gw = torch.zeros_like(weight)
    gxp = torch.zeros_like(xp)
    for u in range(kh):
        for v in range(kw):
            rows, cols = slice(u, u + sh * (ho - 1) + 1, sh), slice(v, v + sw * (wo - 1) + 1, sw)
            gw[:, :, u, v] = torch.einsum("noij,ncij->oc", grad_output, xp[:, :, rows, cols])
            gxp[:, :, rows, cols] += torch.einsum("noij,oc->ncij", grad_output, weight[:, :, u, v])
    gi = gxp[:, :, ph : ph + input.shape[2], pw : pw + input.shape[3]]
    return gi, gw, grad_output.sum((0, 2, 3))


@correct("conv2d_backward", "matrix products (bmm / @) on the columns")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    g = grad_output.flatten(2)
    cols = F.unfold(F.pad(input, (pw, pw, ph, ph)), weight.shape[-2:], stride=(sh, sw))
    h, w = input.shape[-2:]
    gw = (g @ cols.transpose(1, 2)).sum(0).reshape(weight.shape)
    gcols = weight.flatten(1).t() @ g
    padded = F.fold(gcols, (h + 2 * ph, w + 2 * pw), weight.shape[-2:], stride=(sh, sw))
    return padded[..., ph : ph + h, pw : pw + w], gw, g.sum((0, 2))


@correct("conv2d_backward", "plain Python loops over output positions")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = F.pad(input, (pw, pw, ph, ph))
    kh, kw = weight.shape[-2:]
    gw = torch.zeros_like(weight)
    gxp = torch.zeros_like(xp)
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            window = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, C_in, kh, kw)
            g = grad_output[:, :, i, j]  # (N, C_out)
            gw += torch.einsum("no,nchw->ochw", g, window)
            gxp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += torch.einsum("no,ochw->nchw", g, weight)
    return gxp[:, :, ph : ph + input.shape[2], pw : pw + input.shape[3]], gw, grad_output.sum(dim=(0, 2, 3))


# ---------------------------------------------------------------- max_pool2d_backward


@wrong("max_pool2d_backward", "autograd through F.max_pool2d")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    x = input.detach().requires_grad_(True)
    return torch.autograd.grad(F.max_pool2d(x, kernel_size, stride), x, grad_output)[0]


@wrong("max_pool2d_backward", "the indices of F.max_pool2d(return_indices=True)")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    _, idx = F.max_pool2d(input, kernel_size, stride, return_indices=True)
    n, c, h, w = input.shape
    flat = torch.zeros(n, c, h * w, dtype=input.dtype)
    return flat.scatter_add_(2, idx.flatten(2), grad_output.flatten(2)).reshape(input.shape)


@wrong("max_pool2d_backward", "the aten kernel max_pool2d_with_indices_backward")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    _, idx = torch.ops.aten.max_pool2d_with_indices(input, [kh, kw], [sh, sw])
    return torch.ops.aten.max_pool2d_with_indices_backward(grad_output, input, [kh, kw], [sh, sw], [0, 0], [1, 1],
                                                           False, idx)  # fmt: skip


@wrong("max_pool2d_backward", "ties: gradient shared equally among tied maxima")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    cols = F.unfold(input.reshape(n * c, 1, h, w), (kh, kw), stride=(sh, sw))
    is_max = (cols == cols.amax(1, keepdim=True)).to(input.dtype)
    share = is_max / is_max.sum(1, keepdim=True)
    routed = share * grad_output.reshape(n * c, 1, -1)
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@wrong("max_pool2d_backward", "ties: every tied maximum gets the whole gradient")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    cols = F.unfold(input.reshape(n * c, 1, h, w), (kh, kw), stride=(sh, sw))
    is_max = (cols == cols.amax(1, keepdim=True)).to(input.dtype)
    routed = is_max * grad_output.reshape(n * c, 1, -1)
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@wrong("max_pool2d_backward", "ties: the gradient goes to the last maximum")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    cols = F.unfold(input.reshape(n * c, 1, h, w), (kh, kw), stride=(sh, sw))
    last = kh * kw - 1 - cols.flip(1).argmax(1, keepdim=True)
    routed = torch.zeros_like(cols).scatter_(1, last, grad_output.reshape(n * c, 1, -1))
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@wrong("max_pool2d_backward", "ties: autograd of amax by hand, through a loop with torch.maximum")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    ho, wo = grad_output.shape[-2:]
    grad = torch.zeros_like(input)
    best = None
    for u in range(kh):
        for v in range(kw):
            tap = input[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw]
            best = tap if best is None else torch.maximum(best, tap)
    count = torch.zeros_like(best)
    for u in range(kh):
        for v in range(kw):
            count += input[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw] == best
    for u in range(kh):
        for v in range(kw):
            rows, cols = slice(u, u + sh * (ho - 1) + 1, sh), slice(v, v + sw * (wo - 1) + 1, sw)
            grad[:, :, rows, cols] += (input[:, :, rows, cols] == best) * grad_output / count
    return grad


@wrong("max_pool2d_backward", "overlapping windows overwrite instead of adding up")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    ho, wo = grad_output.shape[-2:]
    windows = input.unfold(2, kh, sh).unfold(3, kw, sw).reshape(n, c, ho, wo, -1)
    first = windows.argmax(-1)
    rows = torch.arange(ho).view(-1, 1) * sh + first // kw
    cols = torch.arange(wo).view(1, -1) * sw + first % kw
    flat = torch.zeros(n, c, h * w, dtype=input.dtype)
    flat.scatter_(2, (rows * w + cols).flatten(2), grad_output.flatten(2))  # scatter_ keeps one write
    return flat.reshape(n, c, h, w)


@wrong("max_pool2d_backward", "stride=None taken as stride 1")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (1, 1) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    cols = F.unfold(input.reshape(n * c, 1, h, w), (kh, kw), stride=(sh, sw))
    first = cols.argmax(1, keepdim=True)
    g = grad_output.reshape(n * c, 1, -1)
    g = F.pad(g, (0, cols.shape[-1] - g.shape[-1]))
    routed = torch.zeros_like(cols).scatter_(1, first, g)
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@wrong("max_pool2d_backward", "the gradient spread over the whole window (average pooling's backward)")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    routed = grad_output.reshape(n * c, 1, -1).expand(-1, kh * kw, -1)
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@correct("max_pool2d_backward", "argmax of unfolded windows, scatter_, F.fold")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    cols = F.unfold(input.reshape(n * c, 1, h, w), (kh, kw), stride=(sh, sw))
    first = cols.argmax(1, keepdim=True)
    routed = torch.zeros_like(cols).scatter_(1, first, grad_output.reshape(n * c, 1, cols.shape[-1]))
    return F.fold(routed, (h, w), (kh, kw), stride=(sh, sw)).reshape(n, c, h, w)


@correct("max_pool2d_backward", "Tensor.unfold, argmax, global indices and scatter_add_")
def max_pool2d_backward(grad_output, input, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n, c, h, w = input.shape
    ho, wo = grad_output.shape[-2:]
    first = input.unfold(2, kh, sh).unfold(3, kw, sw).reshape(n, c, ho, wo, kh * kw).argmax(-1)
    rows = torch.arange(ho).view(-1, 1) * sh + first // kw
    cols = torch.arange(wo).view(1, -1) * sw + first % kw
    flat = torch.zeros(n, c, h * w, dtype=input.dtype)
    return flat.scatter_add_(2, (rows * w + cols).flatten(2), grad_output.flatten(2)).reshape(n, c, h, w)


@wrong("adaptive_avg_pool2d", "calls F.adaptive_avg_pool2d")
def adaptive_avg_pool2d(input, output_size):
    return F.adaptive_avg_pool2d(input, output_size)


@wrong("adaptive_avg_pool2d", "wraps nn.AdaptiveAvgPool2d")
def adaptive_avg_pool2d(input, output_size):
    return nn.AdaptiveAvgPool2d(output_size)(input)


@wrong("adaptive_avg_pool2d", "sums instead of averaging")
def adaptive_avg_pool2d(input, output_size):
    return input.sum(dim=(-2, -1), keepdim=True)


@wrong("adaptive_avg_pool2d", "drops the spatial axes: returns (N, C)")
def adaptive_avg_pool2d(input, output_size):
    return input.mean(dim=(-2, -1))


@wrong("adaptive_avg_pool2d", "averages the channels too")
def adaptive_avg_pool2d(input, output_size):
    return input.mean(dim=(1, 2, 3), keepdim=True).expand(-1, input.shape[1], 1, 1)


@wrong("adaptive_avg_pool2d", "global max instead of average")
def adaptive_avg_pool2d(input, output_size):
    return input.amax(dim=(-2, -1), keepdim=True)


@wrong("adaptive_avg_pool2d", "avg_pool2d with kernel H // out: wrong where the size does not divide")
def adaptive_avg_pool2d(input, output_size):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    h, w = input.shape[-2:]
    return F.avg_pool2d(input, (h // oh, w // ow))


@wrong("adaptive_avg_pool2d", "only the global case: any output size gives (N, C, 1, 1)")
def adaptive_avg_pool2d(input, output_size):
    return input.mean(dim=(-2, -1), keepdim=True)


@correct("adaptive_avg_pool2d", "loops over windows floor(i·H/o) .. ceil((i+1)·H/o)")
def adaptive_avg_pool2d(input, output_size):
    import math

    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    h, w = input.shape[-2:]
    out = input.new_empty(*input.shape[:2], oh, ow)
    for i in range(oh):
        for j in range(ow):
            r0, r1 = math.floor(i * h / oh), math.ceil((i + 1) * h / oh)
            c0, c1 = math.floor(j * w / ow), math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = input[:, :, r0:r1, c0:c1].mean(dim=(-2, -1))
    return out


@correct("adaptive_avg_pool2d", "averaging matrices: P_H @ x @ P_W^T")
def adaptive_avg_pool2d(input, output_size):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size

    def averaging(n, o):
        m = torch.zeros(o, n, dtype=input.dtype)
        for i in range(o):
            start, end = (i * n) // o, -(-(i + 1) * n // o)
            m[i, start:end] = 1.0 / (end - start)
        return m

    h, w = input.shape[-2:]
    return averaging(h, oh) @ input @ averaging(w, ow).T


# ---------------------------------------------------------------- ResidualBlock


@wrong("ResidualBlock", "shortcut added after the final ReLU")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))) + self.shortcut(x)


@wrong("ResidualBlock", "no projection when the channels change")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + x)


@wrong("ResidualBlock", "projection without batch norm")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


@wrong("ResidualBlock", "a projection even when the identity fits")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                      nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


@wrong("ResidualBlock", "the stride on the second convolution")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


@wrong("ResidualBlock", "ReLU before batch norm (conv, ReLU, BN)")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(self.bn1(F.relu(self.conv1(x))))) + self.shortcut(x))


@wrong("ResidualBlock", "convolutions with a bias before batch norm")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


@wrong("ResidualBlock", "no shortcut at all (a plain block)")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


@wrong("ResidualBlock", "one BatchNorm2d shared by both convolutions")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        return F.relu(self.bn(self.conv2(F.relu(self.bn(self.conv1(x))))) + self.shortcut(x))


@wrong("ResidualBlock", "batch statistics in eval mode too (F.batch_norm with training=True)")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip

    def forward(self, x):
        def bn(m, t):
            return F.batch_norm(t, None, None, m.weight, m.bias, training=True, eps=m.eps)

        out = F.relu(bn(self.bn1, self.conv1(x)))
        if isinstance(self.shortcut, nn.Identity):
            return F.relu(bn(self.bn2, self.conv2(out)) + x)
        return F.relu(bn(self.bn2, self.conv2(out)) + bn(self.shortcut[1], self.shortcut[0](x)))


@correct("ResidualBlock", "the main path as nn.Sequential, nn.ReLU modules")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        if stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))  # fmt: skip
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.main(x) + self.shortcut(x))


@correct("ResidualBlock", "shortcut None when the identity fits, torch.relu, in-place add")
class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.proj = None
        self.proj_bn = None
        if stride != 1 or in_channels != out_channels:
            self.proj = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)
            self.proj_bn = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        identity = x if self.proj is None else self.proj_bn(self.proj(x))
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        out += identity
        return torch.relu(out)
