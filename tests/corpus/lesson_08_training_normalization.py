"""Lesson 08c — normalization: wrong answers students plausibly write, and other correct ones."""

import torch
import torch.nn.functional as F
from torch import nn

from corpus import correct, wrong

LESSON = "08_training/08c_normalization.ipynb"
MINIMUM = (40, 12)  # wrong, correct

# ---------------------------------------------------------------- batch_norm


@wrong("batch_norm", "unbiased variance in the normalisation")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        mean, var = input.mean(dims), input.var(dims)  # unbiased by default
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var)
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "biased variance in the running update")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var)
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "running statistics rebound, not updated in place")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        if running_mean is not None:
            running_mean = (1 - momentum) * running_mean + momentum * mean.detach()
            running_var = (1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "momentum used as (1 - momentum)")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(momentum).add_((1 - momentum) * mean)
                running_var.mul_(momentum).add_((1 - momentum) * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "eps outside the square root")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / (torch.sqrt(var.reshape(shape)) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "no eps at all")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape))
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "4-D input normalised over the batch dim only (per channel and pixel)")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=0, unbiased=False, keepdim=True)
        n = input.shape[0]
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean.reshape(input.shape[1], -1).mean(1))
                running_var.mul_(1 - momentum).add_(momentum * var.reshape(input.shape[1], -1).mean(1) * n / (n - 1))
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (input - mean) / torch.sqrt(var + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "4-D input normalised over every dim, channels included")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training and input.dim() > 2:
        var, mean = torch.var_mean(input, unbiased=False)
    elif training:
        var, mean = torch.var_mean(input, dim=0, unbiased=False)
    else:
        mean, var = running_mean, running_var
    if training and running_mean is not None:
        n = input.numel() // input.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    mean = mean.reshape(shape) if mean.dim() else mean
    var = var.reshape(shape) if var.dim() else var
    out = (input - mean) / torch.sqrt(var + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "weight and bias not reshaped per channel (broadcast along the last dim)")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight if weight is not None else out
    return out + bias if bias is not None else out


@wrong("batch_norm", "eval mode uses the batch statistics")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    var, mean = torch.var_mean(input, dim=dims, unbiased=False)
    if training and running_mean is not None:
        n = input.numel() // input.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "training mode normalises with the running statistics (updated first)")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training and running_mean is not None:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    if running_mean is None:
        running_var, running_mean = torch.var_mean(input, dim=dims, unbiased=False)
    out = (input - running_mean.reshape(shape)) / torch.sqrt(running_var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "eval mode updates the running statistics too")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    var, mean = torch.var_mean(input, dim=dims, unbiased=False)
    n = input.numel() // input.shape[1]
    if running_mean is not None and n > 1:
        with torch.no_grad():
            if not training:
                mean, var = running_mean.clone(), running_var.clone()
            running_mean.mul_(1 - momentum).add_(momentum * input.mean(dims))
            running_var.mul_(1 - momentum).add_(momentum * input.var(dims))
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "running statistics replaced by the batch's (no moving average)")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        if running_mean is not None:
            with torch.no_grad():
                running_mean.copy_(mean)
                running_var.copy_(input.var(dims))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "crashes when the running buffers are None in training")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "centres the caller's input in place")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        n = input.numel() // input.shape[1]
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = input.sub_(mean.reshape(shape)).div_(torch.sqrt(var.reshape(shape) + eps))
    out = out * weight.reshape(shape) if weight is not None else out
    return out + bias.reshape(shape) if bias is not None else out


@wrong("batch_norm", "calls F.batch_norm")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


@wrong("batch_norm", "calls the aten kernel torch.native_batch_norm")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    return torch.native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)[0]


@correct("batch_norm", "mean of squares minus square of the mean, running update with lerp_")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training and input.numel() // input.shape[1] <= 1:
        raise ValueError("Expected more than 1 value per channel when training")
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    if training:
        mean = input.mean(dims)
        var = (input * input).mean(dims) - mean * mean
        n = input.numel() // input.shape[1]
        with torch.no_grad():
            if running_mean is not None:
                running_mean.lerp_(mean, momentum)
            if running_var is not None:
                running_var.lerp_(var * n / (n - 1), momentum)
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


@correct("batch_norm", "channels moved first and flattened, two passes, running update with copy_")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training and input.numel() // input.shape[1] <= 1:
        raise ValueError("Expected more than 1 value per channel when training")
    c = input.shape[1]
    flat = input.transpose(0, 1).reshape(c, -1)  # (C, n)
    shape = [1, c] + [1] * (input.dim() - 2)
    if training:
        n = flat.shape[1]
        mean = flat.sum(1) / n
        var = ((flat - mean[:, None]) ** 2).sum(1) / n
        if running_mean is not None:
            with torch.no_grad():
                running_mean.copy_((1 - momentum) * running_mean + momentum * mean)
                running_var.copy_((1 - momentum) * running_var + momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    w = weight if weight is not None else torch.ones_like(mean)
    b = bias if bias is not None else torch.zeros_like(mean)
    scale = w / torch.sqrt(var + eps)
    return input * scale.view(shape) + (b - mean * scale).view(shape)


@correct("batch_norm", "einsum for the sums, the running buffers written with [...] =")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training and input.numel() // input.shape[1] <= 1:
        raise ValueError("Expected more than 1 value per channel when training")
    x = input.reshape(input.shape[0], input.shape[1], -1)  # (N, C, L)
    n = x.shape[0] * x.shape[2]
    if training:
        mean = torch.einsum("ncl->c", x) / n
        centred = x - mean[None, :, None]
        var = torch.einsum("ncl,ncl->c", centred, centred) / n
        with torch.no_grad():
            if running_mean is not None:
                running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            if running_var is not None:
                running_var[...] = (1 - momentum) * running_var + momentum * var * (n / (n - 1))
    else:
        mean, var = running_mean, running_var
        centred = x - mean[None, :, None]
    out = centred / torch.sqrt(var[None, :, None] + eps)
    if weight is not None:
        out = out * weight[None, :, None]
    if bias is not None:
        out = out + bias[None, :, None]
    return out.reshape(input.shape)


@correct("batch_norm", "unbiased variance from torch.var, rescaled by (n - 1)/n to normalise")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training and input.numel() // input.shape[1] <= 1:
        raise ValueError("Expected more than 1 value per channel when training")
    dims = tuple([0, *range(2, input.dim())])
    shape = (1, input.shape[1]) + (1,) * (input.dim() - 2)
    if training:
        n = input.numel() // input.shape[1]
        mean = input.mean(dims)
        unbiased = input.var(dims, unbiased=True)
        var = unbiased * (n - 1) / n
        with torch.no_grad():
            if running_mean is not None:
                running_mean.sub_(momentum * (running_mean - mean))
            if running_var is not None:
                running_var.sub_(momentum * (running_var - unbiased))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.view(shape)) / (var.view(shape) + eps) ** 0.5
    return out * (weight.view(shape) if weight is not None else 1) + (bias.view(shape) if bias is not None else 0)


# ---------------------------------------------------------------- batch_norm_forward_with_cache


@wrong("batch_norm_forward_with_cache", "returns the output only, no cache")
def batch_norm_forward_with_cache(input, weight, bias, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    var, mean = torch.var_mean(input, dim=dims, unbiased=False)
    return (input - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) * weight.reshape(shape) + bias.reshape(
        shape
    )


@wrong("batch_norm_forward_with_cache", "unbiased variance")
def batch_norm_forward_with_cache(input, weight, bias, eps=1e-5):
    dims = [0, *range(2, input.dim())]
    shape = [1, -1] + [1] * (input.dim() - 2)
    var, mean = torch.var_mean(input, dim=dims)
    invstd = 1 / torch.sqrt(var + eps)
    x_hat = (input - mean.reshape(shape)) * invstd.reshape(shape)
    return x_hat * weight.reshape(shape) + bias.reshape(shape), (x_hat, invstd, weight)


@correct("batch_norm_forward_with_cache", "rsqrt, statistics with keepdim, the same cache")
def batch_norm_forward_with_cache(input, weight, bias, eps=1e-5):
    dims = tuple([0, *range(2, input.dim())])
    mean = input.mean(dims, keepdim=True)
    var = ((input - mean) ** 2).mean(dims, keepdim=True)
    invstd = torch.rsqrt(var + eps)
    x_hat = (input - mean) * invstd
    shape = [1, -1] + [1] * (input.dim() - 2)
    return x_hat * weight.view(shape) + bias.view(shape), (x_hat, invstd.flatten(), weight)


@correct("batch_norm_forward_with_cache", "channels first and flattened, statistics by sums")
def batch_norm_forward_with_cache(input, weight, bias, eps=1e-5):
    c = input.shape[1]
    flat = input.transpose(0, 1).reshape(c, -1)
    n = flat.shape[1]
    mean = flat.sum(1) / n
    var = ((flat - mean[:, None]) ** 2).sum(1) / n
    invstd = 1.0 / (var + eps).sqrt()
    shape = [1, c] + [1] * (input.dim() - 2)
    x_hat = (input - mean.view(shape)) * invstd.view(shape)
    return weight.view(shape) * x_hat + bias.view(shape), (x_hat, invstd, weight)


# ---------------------------------------------------------------- batch_norm_backward (cache = (x_hat, invstd, weight))


@wrong("batch_norm_backward", "missing the mean terms (treats the statistics as constants)")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    grad_input = grad_output * weight.reshape(shape) * invstd.reshape(shape)
    return grad_input, (grad_output * x_hat).sum(dims), grad_output.sum(dims)


@wrong("batch_norm_backward", "missing the term through the variance")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    g = grad_output * weight.reshape(shape)
    grad_input = invstd.reshape(shape) * (g - g.mean(dims, keepdim=True))
    return grad_input, (grad_output * x_hat).sum(dims), grad_output.sum(dims)


@wrong("batch_norm_backward", "missing the term through the mean")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    g = grad_output * weight.reshape(shape)
    grad_input = invstd.reshape(shape) * (g - x_hat * (g * x_hat).mean(dims, keepdim=True))
    return grad_input, (grad_output * x_hat).sum(dims), grad_output.sum(dims)


@wrong("batch_norm_backward", "unbiased variance (n - 1) in the variance path")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    n = x_hat.numel() // x_hat.shape[1]
    istd = invstd.reshape(shape)
    centred = x_hat / istd
    g = grad_output * weight.reshape(shape)
    grad_var = (g * centred).sum(dims, keepdim=True) * -0.5 * istd**3
    grad_mean = -(g * istd).sum(dims, keepdim=True)
    grad_input = g * istd + grad_var * 2 * centred / (n - 1) + grad_mean / n
    return grad_input, (grad_output * x_hat).sum(dims), grad_output.sum(dims)


@wrong("batch_norm_backward", "grad_weight and grad_bias averaged over the batch instead of summed")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    g = grad_output * weight.reshape(shape)
    grad_input = invstd.reshape(shape) * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
    return grad_input, (grad_output * x_hat).mean(dims), grad_output.mean(dims)


@wrong("batch_norm_backward", "grad_weight and grad_bias summed over the batch but not over space")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    g = grad_output * weight.reshape(shape)
    grad_input = invstd.reshape(shape) * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
    return grad_input, (grad_output * x_hat).sum(0), grad_output.sum(0)


@wrong("batch_norm_backward", "grad_weight not summed at all (one per sample)")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    g = grad_output * weight.reshape(shape)
    grad_input = invstd.reshape(shape) * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
    return grad_input, grad_output * x_hat, grad_output.sum(dims)


@wrong("batch_norm_backward", "forgets the weight (gamma) in grad_input")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    g = grad_output
    grad_input = invstd.reshape(shape) * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
    return grad_input, (grad_output * x_hat).sum(dims), grad_output.sum(dims)


@wrong("batch_norm_backward", "scales the cache in place (breaks a second use)")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    grad_bias = grad_output.sum(dims)
    grad_weight = (grad_output * x_hat).sum(dims)
    g = grad_output * weight.reshape(shape)
    proj = (g * x_hat).mean(dims, keepdim=True)
    grad_input = (g - g.mean(dims, keepdim=True) - x_hat.mul_(proj)) * invstd.reshape(shape)
    return grad_input, grad_weight, grad_bias


@wrong("batch_norm_backward", "asks autograd")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    x = (x_hat / invstd.reshape(shape)).detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros_like(weight, requires_grad=True)
    var, mean = torch.var_mean(x, dim=dims, unbiased=False, keepdim=True)
    y = (x - mean) / torch.sqrt(var + 1e-5) * w.reshape(shape) + b.reshape(shape)
    return torch.autograd.grad(y, (x, w, b), grad_output)


@correct("batch_norm_backward", "the three paths written out: dvar, dmean, then dx")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    dims = [0, *range(2, x_hat.dim())]
    shape = [1, -1] + [1] * (x_hat.dim() - 2)
    n = x_hat.numel() // x_hat.shape[1]
    istd = invstd.reshape(shape)
    centred = x_hat / istd
    g = grad_output * weight.reshape(shape)
    grad_var = (g * centred).sum(dims, keepdim=True) * -0.5 * istd**3
    grad_mean = -(g * istd).sum(dims, keepdim=True) + grad_var * (-2 * centred).mean(dims, keepdim=True)
    grad_input = g * istd + grad_var * 2 * centred / n + grad_mean / n
    return grad_input, (grad_output * x_hat).sum(dims), grad_output.sum(dims)


@correct("batch_norm_backward", "einsum on (N, C, L), with n times the gradient minus the sums")
def batch_norm_backward(grad_output, cache):
    x_hat, invstd, weight = cache
    g = grad_output.reshape(grad_output.shape[0], grad_output.shape[1], -1)
    xh = x_hat.reshape(g.shape)
    n = g.shape[0] * g.shape[2]
    grad_bias = torch.einsum("ncl->c", g)
    grad_weight = torch.einsum("ncl,ncl->c", g, xh)
    scale = (weight * invstd / n)[None, :, None]
    grad_input = scale * (n * g - grad_bias[None, :, None] - xh * grad_weight[None, :, None])
    return grad_input.reshape(grad_output.shape), grad_weight, grad_bias


# ---------------------------------------------------------------- layer_norm


@wrong("layer_norm", "normalises over the batch dim")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    var, mean = torch.var_mean(input, dim=0, unbiased=False, keepdim=True)
    out = (input - mean) / torch.sqrt(var + eps)
    out = out * weight if weight is not None else out
    return out + bias if bias is not None else out


@wrong("layer_norm", "always normalises over the last dim only")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    var, mean = torch.var_mean(input, dim=-1, unbiased=False, keepdim=True)
    out = (input - mean) / torch.sqrt(var + eps)
    out = out * weight if weight is not None else out
    return out + bias if bias is not None else out


@wrong("layer_norm", "normalises over every dim but the batch dim")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(1, input.dim()))
    var, mean = torch.var_mean(input, dim=dims, unbiased=False, keepdim=True)
    out = (input - mean) / torch.sqrt(var + eps)
    out = out * weight if weight is not None else out
    return out + bias if bias is not None else out


@wrong("layer_norm", "unbiased variance")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(input.dim() - len(normalized_shape), input.dim()))
    var, mean = torch.var_mean(input, dim=dims, keepdim=True)
    out = (input - mean) / torch.sqrt(var + eps)
    out = out * weight if weight is not None else out
    return out + bias if bias is not None else out


@wrong("layer_norm", "eps outside the square root")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(input.dim() - len(normalized_shape), input.dim()))
    var, mean = torch.var_mean(input, dim=dims, unbiased=False, keepdim=True)
    out = (input - mean) / (torch.sqrt(var) + eps)
    out = out * weight if weight is not None else out
    return out + bias if bias is not None else out


@wrong("layer_norm", "calls F.rms_norm on the centred input")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(input.dim() - len(normalized_shape), input.dim()))
    centred = input - input.mean(dims, keepdim=True)
    out = F.rms_norm(centred, normalized_shape, weight, eps)
    return out + bias if bias is not None else out


@correct("layer_norm", "trailing dims flattened, mean of squares")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    k = len(normalized_shape)
    flat = input.reshape(*input.shape[: input.dim() - k], -1)
    mean = flat.mean(-1, keepdim=True)
    var = (flat * flat).mean(-1, keepdim=True) - mean * mean
    out = ((flat - mean) / torch.sqrt(var + eps)).reshape(input.shape)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@correct("layer_norm", "two passes with rsqrt, negative dims")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = [-(i + 1) for i in range(len(normalized_shape))]
    centred = input - input.mean(dims, keepdim=True)
    out = centred * torch.rsqrt((centred**2).mean(dims, keepdim=True) + eps)
    return (out * weight if weight is not None else out) + (bias if bias is not None else 0)


# ---------------------------------------------------------------- BatchNorm1d


@wrong("BatchNorm1d", "num_batches_tracked never counted")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input):
        momentum = 0.1 if self.momentum is None else self.momentum
        use_batch = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch, momentum,
                          self.eps)  # fmt: skip


@wrong("BatchNorm1d", "ignores eval mode (always the batch statistics)")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input):
        momentum = self.momentum
        if self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, True, momentum or 0.0,
                          self.eps)  # fmt: skip


@wrong("BatchNorm1d", "counts num_batches_tracked in eval mode too")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input):
        momentum = self.momentum
        if self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        use_batch = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                          momentum or 0.0, self.eps)  # fmt: skip


@wrong("BatchNorm1d", "running statistics as plain attributes, not buffers")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        self.running_mean = torch.zeros(num_features) if track_running_stats else None
        self.running_var = torch.ones(num_features) if track_running_stats else None
        self.num_batches_tracked = torch.tensor(0) if track_running_stats else None

    def forward(self, input):
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        use_batch = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                          momentum or 0.0, self.eps)  # fmt: skip


@wrong("BatchNorm1d", "running statistics as parameters")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        self.running_mean = nn.Parameter(torch.zeros(num_features), requires_grad=False)
        self.running_var = nn.Parameter(torch.ones(num_features), requires_grad=False)
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, input):
        if self.training:
            self.num_batches_tracked += 1
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                          self.momentum or 0.0, self.eps)  # fmt: skip


@wrong("BatchNorm1d", "weight and bias as plain tensors (nothing to learn)")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = torch.ones(num_features) if affine else None
        self.bias = torch.zeros(num_features) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input):
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        use_batch = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                          momentum or 0.0, self.eps)  # fmt: skip


@wrong("BatchNorm1d", "momentum=None treated as momentum 0.1 (no cumulative average)")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input):
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
        use_batch = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                          self.momentum or 0.1, self.eps)  # fmt: skip


@wrong("BatchNorm1d", "running_var initialised to zeros")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.zeros(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input):
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:
                momentum = 1 / self.num_batches_tracked.item()
        use_batch = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                          momentum or 0.0, self.eps)  # fmt: skip


@wrong("BatchNorm1d", "subclasses nn.BatchNorm1d")
class BatchNorm1d(nn.BatchNorm1d):
    pass


@correct("BatchNorm1d", "the statistics inline (no call of batch_norm), running update with lerp_")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.empty(num_features).fill_(1.0))
            self.bias = nn.Parameter(torch.empty(num_features).fill_(0.0))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        tracked = track_running_stats
        self.register_buffer("running_mean", torch.zeros(num_features) if tracked else None)
        self.register_buffer("running_var", torch.ones(num_features) if tracked else None)
        self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long) if tracked else None)

    def forward(self, input):
        dims = [0] + list(range(2, input.dim()))
        shape = [1, -1] + [1] * (input.dim() - 2)
        if self.training or self.running_mean is None:
            mean = input.mean(dims)
            var = input.var(dims, unbiased=False)
            if self.training and self.running_mean is not None:
                self.num_batches_tracked += 1
                m = 1.0 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
                n = input.numel() / input.shape[1]
                with torch.no_grad():
                    self.running_mean.lerp_(mean, m)
                    self.running_var.lerp_(var * n / (n - 1), m)
        else:
            mean, var = self.running_mean, self.running_var
        out = (input - mean.view(shape)) / (var.view(shape) + self.eps).sqrt()
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


@correct("BatchNorm1d", "buffers registered in a loop, momentum None handled by the count")
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        initial = {
            "running_mean": torch.zeros(num_features),
            "running_var": torch.ones(num_features),
            "num_batches_tracked": torch.tensor(0),
        }
        for name, value in initial.items():
            self.register_buffer(name, value if track_running_stats else None)

    def forward(self, input):
        factor = self.momentum if self.momentum is not None else 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / self.num_batches_tracked.item()
        stats = (
            (self.running_mean, self.running_var) if (not self.training or self.track_running_stats) else (None,) * 2
        )
        return batch_norm(input, *stats, self.weight, self.bias, self.training or self.running_mean is None, factor,
                          self.eps)  # fmt: skip
