"""Lesson 07 — every route to autograd is forbidden where a derivative is derived by hand (issue 12, part 6).

A forward ``F.conv2d`` is allowed in ``conv2d_backward``; calling the node it recorded (which runs PyTorch's
convolution backward) is not.
"""

import torch
import torch.nn.functional as F

from corpus import correct, wrong

LESSON = "07_cnn"
MINIMUM = (2, 1)  # wrong, correct


@wrong("conv2d_backward", "calls the node F.conv2d recorded: out.grad_fn(grad_output)")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    x = input.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    out = F.conv2d(x, w, b, stride=stride, padding=padding)
    grad_input, grad_weight, grad_bias = out.grad_fn(grad_output)
    return grad_input.detach(), grad_weight.detach(), grad_bias.detach()


@wrong("conv2d_backward", "reaches the recorded node through torch.autograd.graph.get_gradient_edge")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    x = input.detach().requires_grad_(True)
    w = weight.detach().requires_grad_(True)
    b = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    node = torch.autograd.graph.get_gradient_edge(F.conv2d(x, w, b, stride=stride, padding=padding)).node
    return tuple(g.detach() for g in node(grad_output))


@correct("conv2d_backward", "correlations: the weight's gradient by F.conv2d of the input with grad_output")
def conv2d_backward(grad_output, input, weight, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c_in, h, w = input.shape
    c_out, _, kh, kw = weight.shape
    columns = F.unfold(input, (kh, kw), padding=(ph, pw), stride=(sh, sw))  # (N, C_in*kh*kw, L)
    g = grad_output.reshape(n, c_out, grad_output.shape[2] * grad_output.shape[3])
    grad_weight = (g @ columns.transpose(1, 2)).sum(0).reshape(weight.shape)
    grad_columns = weight.reshape(c_out, -1).T @ g
    grad_input = F.fold(grad_columns, (h, w), (kh, kw), padding=(ph, pw), stride=(sh, sw))
    return grad_input, grad_weight, grad_output.sum(dim=(0, 2, 3))
