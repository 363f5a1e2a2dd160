"""Lesson 06, the training loops: tiny problems whose exact results the course's own loops (nnlab.train) know,
and :func:`run_loop`, which runs the student's loop and the course's side by side on one of them."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

import autograder as ag
from autograder import guard
from nnlab import train

TRAIN_BAN = (
    "nnlab.train.train_epoch",
    "nnlab.train.evaluate",
    "nnlab.train.fit",
    "nnlab.train.predict",
    "nnlab.train.accuracy_of",
    "nnlab.mlp.train_mlp",
)
REFERENCE_LOOP = {"train_one_epoch": train.train_epoch, "evaluate": train.evaluate}


#: what the checks give the student's loop (its model; its optimizer's step hook is a closure of run_loop's)
HANDED = ("Probe",)


class Probe(nn.Module):
    """Wraps a network; records at each forward `self.training` and `torch.is_grad_enabled()`, and at each
    backward whether a parameter's .grad still held an earlier gradient."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.modes, self.grad_modes, self.stale = [], [], []
        for p in net.parameters():
            p.register_hook(lambda g, p=p: self.stale.append(p.grad is not None and bool(p.grad.ne(0).any())))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        self.grad_modes.append(torch.is_grad_enabled())
        return self.net(x)


def tiny_problem(sizes: tuple[int, ...], seed: int, dropout: float, scale: float = 1.0) -> tuple[Probe, list]:
    """A probed 4-6-3 tanh network with seeded weights (the last layer's times ``scale``: confident logits) and a
    list of (x, target) batches of the given sizes."""
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Dropout(dropout), nn.Linear(6, 3))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
        net[-1].weight.mul_(scale)
    batches = [(torch.randn(n, 4, generator=g), torch.randint(0, 3, (n,), generator=g)) for n in sizes]
    return Probe(net), batches


def step_counter(steps: list) -> Callable[..., None]:
    """An optimizer step hook that adds one entry to ``steps`` per step.

    A closure, not a module function: the sandboxed grader calls a test's closure back in its own process, so
    the count is the grader's, whichever process runs the student's loop."""

    def count_step(*_: Any) -> None:
        steps.append(1)

    return count_step


def run_loop(
    fn: Callable,
    name: str,
    sizes: tuple[int, ...] = (5, 3, 2),
    *,
    lr: float = 0.5,
    seed: int = 0,
    loss_fn: Callable | None = None,
    scale: float = 1.0,
    dropout: float | None = None,
    as_batches: bool = False,
) -> types.SimpleNamespace:
    """Run the student's `name` and the course's loop on identical copies of a tiny problem.

    train_one_epoch gets SGD(lr) and a model left in eval mode (dropout only if asked; both loops start from one
    random state); evaluate gets a model with dropout, left in train mode. ``scale`` multiplies the last layer's
    weights; ``as_batches`` passes a ``train.Batches`` (sizes then equal but the last), as the lesson does."""
    training = name == "train_one_epoch"
    loss_name = "cross-entropy" if loss_fn is None else getattr(loss_fn, "__name__", f"nn.{type(loss_fn).__name__}()")
    loss_fn = loss_fn or ag.reference.get("torch.nn.functional.cross_entropy")
    dropout = (0.0 if training else 0.5) if dropout is None else dropout
    sides = []
    for _ in range(2):
        model, batches = tiny_problem(sizes, seed, dropout=dropout, scale=scale)
        if as_batches:
            xs, ys = zip(*batches)
            batches = train.Batches(torch.cat(xs), torch.cat(ys), batch_size=sizes[0])
        model.train(not training)
        steps: list = []
        hook = step_counter(steps)
        opt = torch.optim.SGD(model.parameters(), lr=lr) if training else None
        if training:
            opt.register_step_post_hook(hook)
        sides.append((model, batches, opt, steps, hook))
    (model, batches, opt, steps, hook), (ref_model, ref_batches, ref_opt, _, _) = sides
    initial = [p.detach().clone() for p in model.parameters()]
    label = f"{len(sizes)} batches of {', '.join(map(str, sizes))} samples" + (
        f", loss_fn {loss_name}" if loss_name != "cross-entropy" else ""
    )
    if training and lr:
        label += f", SGD(lr={lr})"
    if scale != 1.0:
        label += " (confident logits, some beyond ±50)"
    if as_batches:
        label += f", given as train.Batches(x, y, batch_size={sizes[0]}) as the lesson passes them"
    args = (model, batches, loss_fn, opt)[: 4 if training else 3]
    with torch.random.fork_rng():  # dropout: both loops start from the same random state
        torch.manual_seed(seed + 1000)
        with guard.handed(hook):  # the optimizer's hook runs when the student's loop steps
            # keeps_mode=False: switching the model's mode is the exercise (check_train_mode/check_eval_mode)
            got = ag.call_student(fn, ag.Case(label, args), name=name, forbid=TRAIN_BAN, keeps_mode=False)
        rng_after = torch.get_rng_state()
    records = []

    def recording(out: Any, y: torch.Tensor) -> Any:
        loss = loss_fn(out, y)
        records.append((loss.item(), len(y), int((out.argmax(1) == y).sum())))
        return loss

    with ag.pristine(), torch.random.fork_rng():
        torch.manual_seed(seed + 1000)
        expected = REFERENCE_LOOP[name](*(ref_model, ref_batches, recording, ref_opt)[: 4 if training else 3])
        ref_rng_after = torch.get_rng_state()
        after = after_step_figures(sizes, seed, lr, loss_fn, scale) if training and lr else None
    return types.SimpleNamespace(
        name=name,
        label=label,
        got=got,
        expected=expected,
        model=model,
        ref_model=ref_model,
        initial=initial,
        steps=steps,
        sizes=sizes,
        records=records,
        after=after,
        loss_name=loss_name,
        rng_moved_alike=torch.equal(rng_after, ref_rng_after),
    )


def after_step_figures(sizes: tuple, seed: int, lr: float, loss_fn: Callable, scale: float) -> tuple[float, float]:
    """(mean loss, accuracy) of a loop that measures each batch after its step, with the updated weights: a slip."""
    model, batches = tiny_problem(sizes, seed, dropout=0.0, scale=scale)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    total, correct = 0.0, 0
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        with torch.no_grad():
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += int((out.argmax(1) == y).sum())
    return total / sum(sizes), correct / sum(sizes)
