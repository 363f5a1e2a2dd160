"""Autograd across the process boundary: a result computed in the worker joins the grader's graph.

:class:`RemoteGrad` wraps the value that came back; its backward asks the worker for the gradients (to the
grader's inputs, and accumulated into the student's own parameters there). A :class:`Lease` keeps the
worker's object alive while anything in the grader refers to it.
"""

from __future__ import annotations

from typing import Any

import torch


class Lease:
    """Keeps a worker's object alive while anything here refers to it (a tensor, its autograd node)."""

    __slots__ = ("__weakref__",)


class RemoteGrad(torch.autograd.Function):
    """Connects a result computed in the worker to the grader's autograd graph.

    ``y.grad_fn.saved_tensors`` shows (copies of) what the worker's node saved, and ``y.grad_fn`` passed back
    to the student's code (``SigmoidFunction.backward(y.grad_fn, g)``) is the worker's own node.
    """

    @staticmethod
    def forward(ctx: Any, link: Any, lease: Any, saved: list, data: torch.Tensor, dummy: torch.Tensor,
                *leaves: torch.Tensor) -> torch.Tensor:  # fmt: skip
        ctx.link, ctx.lease = link, lease
        if saved:
            ctx.save_for_backward(*saved)
        return data.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple:
        session, rid, gen, shapes = ctx.link
        grads = session.backward(rid, gen, grad.detach(), shapes)
        return (None, None, None, None, None, *grads)
