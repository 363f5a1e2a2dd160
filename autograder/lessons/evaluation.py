"""Grading for honest evaluation (lessons 06-07): before a long run, the model and its loop must overfit one batch.

"Overfit one small batch first" is the classic sanity check: a network with hundreds of thousands of parameters
memorises 64 images in a few steps, unless something between the data and the update is broken (a graph cut by
``torch.no_grad()`` or ``.detach()``, weights that cannot break their symmetry, a loop that never steps, a loss on
the wrong tensor). :func:`check_overfits_one_batch` runs the student's model class and the student's training
epoch on the first 64 images of the course's training split, one step per call, with Adam, and asks for every one
of the 64 to be classified right within :data:`OVERFIT_STEPS` steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch
from torch import nn

from autograder import reference
from autograder.checks import Case, call_student, check, construct, fail
from autograder.lessons.training import TRAIN_BAN
from autograder.reference import pristine

#: images in the batch to memorise, steps allowed, and Adam's learning rate
OVERFIT_BATCH, OVERFIT_STEPS, OVERFIT_LR = 64, 50, 1e-3
#: the course's own training helpers and reference networks: not allowed inside the student's model or loop
FORBID = (*TRAIN_BAN, "nnlab.mlp.make_mlp", "nnlab.deep.deep_mlp")


@functools.lru_cache(maxsize=1)
def training_batch(n: int = OVERFIT_BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images and labels of the course's training split (never validation or test images)."""
    from nnlab import data

    mnist = data.load_mnist(validation=data.VALIDATION_SIZE)
    return mnist.x_train[:n].clone(), mnist.y_train[:n].clone()


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with pristine(), torch.no_grad():
        was_training = model.training
        model.eval()
        out = model(x)
        model.train(was_training)
    return float((out.argmax(1) == y).float().mean())


def check_overfits_one_batch(
    model_cls: Callable[[], nn.Module],
    train_one_epoch: Callable,
    *,
    forbid: Sequence[str] = FORBID,
    steps: int = OVERFIT_STEPS,
    name: str = "MLPClassifier()",
) -> None:
    """``model_cls()`` trained by the student's ``train_one_epoch`` on one batch of 64 images reaches 100 %.

    Each call of ``train_one_epoch`` gets that one batch (so it makes one step) and Adam(lr=1e-3). Fails with the
    likely cause when the model cannot learn or does not get there. Returns nothing: a grade cell's last value
    would be read by nbgrader as partial credit.
    """
    x, y = training_batch()
    with torch.random.fork_rng():  # a seeded model, and the caller's random state left alone
        torch.manual_seed(0)
        model = construct(model_cls, forbid=forbid, name=name)
    params = [p for p in model.parameters() if p.requires_grad]
    check(
        bool(params),
        f"{name} has no trainable parameters that `model.parameters()` can find, so an optimizer has nothing to "
        "update: keep the layers in module attributes (an `nn.Sequential`), not in a plain Python list.",
    )
    model.train()
    out = call_student(model, Case(f"the first {len(y)} training images", (x,)), name=f"{name}.forward", forbid=forbid)
    check(
        isinstance(out, torch.Tensor) and out.requires_grad,
        f"{name}'s output is not connected to its parameters (autograd recorded nothing: is the forward run "
        "under `torch.no_grad()`, or is its output detached?). No gradient can reach the weights, so nothing "
        "can train.",
    )
    with pristine():
        optimizer = torch.optim.Adam(params, lr=OVERFIT_LR)
    loss_fn = reference.get("torch.nn.functional.cross_entropy")
    batch = [(x, y)]
    initial = [p.detach().clone() for p in params]
    accuracies = []
    for step in range(1, steps + 1):
        case = Case(
            f"step {step} on one batch of the first {len(y)} training images", (model, batch, loss_fn, optimizer)
        )
        # keeps_mode=False: setting training mode is train_one_epoch's job (06a's own cells check it)
        call_student(train_one_epoch, case, name="train_one_epoch", forbid=forbid, keeps_mode=False)
        accuracies.append(_accuracy(model, x, y))
        if accuracies[-1] == 1.0:
            return
    if all(torch.equal(p.detach(), q) for p, q in zip(params, initial, strict=True)):
        fail(
            f"after {steps} calls of your `train_one_epoch` on one batch, no parameter of {name} has changed: "
            "each call must end each batch with `optimizer.step()`, after `loss.backward()`."
        )
    moved = [i for i, (p, q) in enumerate(zip(params, initial, strict=True)) if not torch.equal(p.detach(), q)]
    frozen = (
        ""
        if len(moved) == len(params)
        else (
            f" Only {len(moved)} of its {len(params)} parameter tensors ever changed: the others get no gradient "
            "(with every weight equal, e.g. all zero, every hidden unit computes the same thing and gets the same "
            "update: initialise the weights randomly, as nn.Linear does)."
        )
    )
    trace = ", ".join(f"{a:.0%}" for a in accuracies[9::10])
    fail(
        f"{name}, trained by your `train_one_epoch` for {steps} steps on the same {len(y)} training images, "
        f"classifies only {round(accuracies[-1] * len(y))} of them right (accuracy every 10 steps: {trace}). A "
        f"network this size memorises one batch in a few steps; when it cannot, something between the data and "
        f"the update is broken, and a long run would only hide it.{frozen}"
    )
