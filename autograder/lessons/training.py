"""Lesson 06, training an MLP: tiny problems whose exact results the course's own loops (nnlab.train) know, and
the checks of ``06a_mlp_training``'s grade cells (accuracy's live in :mod:`autograder.lessons.accuracy_checks`)."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

import autograder as ag
from autograder import guard
from autograder.lessons.accuracy_checks import check_accuracy as check_accuracy  # 06a's grade cells call training.*
from autograder.lessons.accuracy_checks import check_accuracy_in_a_loop as check_accuracy_in_a_loop
from nnlab import mlp, train

# ---------------------------------------------------------------- training_problems
# tiny problems whose exact results the course's own loops (nnlab.train) know
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
            got = ag.call_student(fn, ag.Case(label, args), name=name, forbid=TRAIN_BAN)
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


def check_loss_and_accuracy(run: types.SimpleNamespace) -> None:
    """The returned (mean loss per sample, accuracy) match the course's loop; name the likely slip if not."""
    name, got = run.name, run.got
    ag.check(
        isinstance(got, tuple | list) and len(got) == 2,
        f"`{name}` should return two numbers, (mean loss per sample, accuracy); it returned "
        f"{type(got).__name__} on {run.label}.",
    )
    for what, value in zip(("mean loss", "accuracy"), got):
        ag.check(
            isinstance(value, int | float) and not isinstance(value, bool),
            f"the {what} `{name}` returns should be a Python float; it is a {type(value).__name__}. "
            "Take numbers out of one-element tensors with `.item()`"
            + (
                " (a loss tensor kept across batches also keeps every batch's graph in memory)."
                if name == "train_one_epoch"
                else "."
            ),
        )
    losses, sizes, corrects = zip(*run.records)

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-9)

    in_train_mode = name == "evaluate" and any(run.model.modes)
    mode_slip = "the forward ran in training mode, where dropout changes the outputs." if in_train_mode else None
    (loss, acc), (exp_loss, exp_acc) = got, run.expected
    total = sum(loss * n for loss, n in zip(losses, sizes))
    slips = [
        (total, "that is the total over all samples: divide by the number of samples."),
        (
            sum(losses) / len(losses),
            f"that is the mean of the batch means, but the batches hold "
            f"{', '.join(map(str, sizes))} samples: weight each batch's mean loss by its size.",
        ),
        (
            sum(losses),
            "that is the sum of the batch means: weight each by its batch size and divide by the number of samples.",
        ),
        (total / len(losses), "that is the total divided by the number of batches, not of samples."),
        (losses[-1], "that is the last batch's loss alone: accumulate over every batch."),
    ]
    after_step = (
        "each batch's figures were measured after optimizer.step(), with the updated weights: report those of "
        "the forward pass that the step used (the weights the batch was trained with)."
    )
    if run.after:
        slips.insert(0, (run.after[0], after_step))
    if not close(loss, exp_loss):
        cause = mode_slip or next((why for value, why in slips if close(loss, value)), None)
        if cause is None and not math.isfinite(loss) and math.isfinite(exp_loss):
            cause = (
                "with confident logits, softmax rounds the small probabilities to 0 and their log is -inf: give "
                "loss_fn the logits as the model returns them (it takes their log-softmax in one stable step)."
            )
        if cause is None and run.loss_name != "cross-entropy":
            cause = f"is every batch's loss computed by the loss_fn argument (here {run.loss_name}), as given?"
        ag.fail(
            f"`{name}` returned a mean loss of {loss:.6g} on {run.label}; a correct loop gives "
            f"{exp_loss:.6g}, the loss of every sample averaged over the epoch."
            + (f"\nLikely cause: {cause}" if cause else "")
        )
    slips = [
        (sum(corrects), "that is the number of correct predictions: divide by the number of samples."),
        (
            sum(c / n for c, n in zip(corrects, sizes)) / len(sizes),
            "that is the mean of the batch accuracies: with batches of different sizes, count correct "
            "predictions over all samples.",
        ),
        (corrects[-1] / sizes[-1], "that is the last batch's accuracy alone: count over every batch."),
        (100 * exp_acc, "that is a percentage: return a fraction between 0 and 1."),
    ]
    if run.after:
        slips.insert(0, (run.after[1], after_step))
    if not close(acc, exp_acc):
        cause = mode_slip or next((why for value, why in slips if close(acc, value)), None)
        ag.fail(
            f"`{name}` returned an accuracy of {acc:.6g} on {run.label}; a correct loop gives {exp_acc:.6g}, "
            "the fraction of all samples classified right." + (f"\nLikely cause: {cause}" if cause else "")
        )


def check_parameters_after_training(run: types.SimpleNamespace) -> None:
    """After the epoch the parameters equal those of a correct loop."""
    if all(torch.equal(p.detach(), q) for p, q in zip(run.model.parameters(), run.initial)):
        ag.fail(
            f"`train_one_epoch` left every parameter unchanged on {run.label}. Each step needs the batch's "
            "gradients in .grad when optimizer.step() runs: loss.backward() first, and no zero_grad() between "
            "backward() and step()."
        )
    case = ag.Case(run.label)
    for i, (p, q) in enumerate(zip(run.model.parameters(), run.ref_model.parameters())):
        try:
            ag.compare(
                p.detach(), q.detach(), name="train_one_epoch", case=case, what=f"parameter #{i} after the epoch"
            )
        except ag.CheckFailed as failure:
            cause = (
                "the gradients of earlier batches were still in .grad at a later backward()"
                if any(run.model.stale)
                else "each step should follow the gradient of that batch's mean loss, as loss_fn returns it"
            )
            raise ag.CheckFailed(f"{failure}\nLikely cause: {cause}.") from None


def check_random_state(run: types.SimpleNamespace) -> None:
    """With dropout, the loop draws its masks from the caller's generator, as a correct loop does: same masks,
    same parameters after the epoch, and the generator left where a correct loop leaves it."""
    ag.check(
        run.rng_moved_alike,
        f"after `{run.name}` on {run.label} (the model has dropout), PyTorch's random generator is not where a "
        "correct loop leaves it: the loop reseeded it (torch.manual_seed) or drew other random numbers (a second "
        "forward pass of a batch). Dropout's masks come from the caller's random state; seeding is the caller's "
        "choice, made once before training, not at every epoch.",
    )
    if run.name == "train_one_epoch":
        check_parameters_after_training(run)


def check_run(run: types.SimpleNamespace) -> None:
    """The figures of the run (and, for train_one_epoch, the parameters after it) match a correct loop's."""
    check_loss_and_accuracy(run)
    if run.name == "train_one_epoch":
        check_parameters_after_training(run)


def check_left_as_found(run: types.SimpleNamespace) -> None:
    """`evaluate` changes nothing of the caller's but the model's mode: parameters, their dtype, no .grad, and
    PyTorch's random generator (evaluation draws no random number)."""
    check_random_state(run)
    params = list(run.model.parameters())
    for i, (p, q) in enumerate(zip(params, run.initial, strict=True)):
        ag.check(
            p.dtype == q.dtype and p.shape == q.shape,
            f"`evaluate` changed the caller's model on {run.label}: parameter #{i} was {q.dtype} {tuple(q.shape)}, "
            f"it is now {p.dtype} {tuple(p.shape)}. Evaluation measures the model as it is; convert a copy (or the "
            "outputs), never the caller's model in place.",
        )
        ag.check(
            torch.equal(p.detach(), q),
            f"`evaluate` changed parameter #{i} of the model on {run.label}: evaluation only measures.",
        )
    ag.check(
        all(p.grad is None for p in params),
        f"after `evaluate` on {run.label} the parameters hold gradients (.grad is set): evaluation never calls "
        "backward(), so it leaves .grad as it found it.",
    )


# ---------------------------------------------------------------- classifier_reference
# the network MLPClassifier must equal, what it may not call, and likely slips
CLASSIFIER_BAN = ("nnlab.mlp.make_mlp", "nnlab.deep.deep_mlp")
reference_classifier = mlp.make_mlp


def check_classifier(cls: type, args: tuple, x: torch.Tensor, label: str, name: str) -> None:
    """Build the student's MLPClassifier ``cls(*args)`` and compare it, on x, with the equivalent nn.Sequential."""
    model = ag.construct(cls, *args, forbid=CLASSIFIER_BAN, name=name)
    try:
        ag.check_module_matches(
            model, reference_classifier(*args), [ag.Case(label, (x,))], name=name, forbid=CLASSIFIER_BAN
        )
    except ag.CheckFailed as failure:
        if isinstance(failure, ag.NotAttempted):
            raise
        cause = None
        if any(s in str(failure) for s in ("cannot be multiplied", "is invalid for input of size", "result has shape")):
            cause = (
                "each sample arrives as an image (channels, height, width): flatten every dimension but the "
                "first (the batch), using the input's own sizes, before the first Linear layer."
            )
        else:
            out = ag.call_student(model, ag.Case(label, (x,)), name=name, forbid=CLASSIFIER_BAN).detach().double()
            ones = torch.ones(out.shape[0], dtype=out.dtype)
            if torch.allclose(out.sum(1), ones, atol=1e-4):
                cause = (
                    "every row of the output sums to 1: those are probabilities. Return logits; "
                    "cross_entropy applies log_softmax itself."
                )
            elif torch.allclose(out.exp().sum(1), ones, atol=1e-4):
                cause = (
                    "the output rows are log-probabilities (log_softmax). Return logits; cross_entropy "
                    "applies log_softmax itself."
                )
            elif bool((out >= 0).all()):
                cause = (
                    "no output is negative: is an activation applied after the last layer? Logits can be any "
                    "real number."
                )
        if cause:
            raise ag.CheckFailed(f"{failure}\nLikely cause: {cause}") from None
        raise
