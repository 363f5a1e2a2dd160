"""Lesson 06, the training loops' checks: the figures `train_one_epoch` and `evaluate` return (with the likely
slips), the parameters after an epoch, the modes the model ran in, and what evaluation must leave as found."""

from __future__ import annotations

import math
import types

import torch

import autograder as ag


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


def check_steps_once_per_batch(run: types.SimpleNamespace) -> None:
    """The optimizer stepped once per batch, and the parameters end where a correct loop puts them."""
    ag.check(
        len(run.steps) == len(run.sizes),
        f"`train_one_epoch` called optimizer.step() {len(run.steps)} time(s) on {run.label}: step once per batch, "
        "right after that batch's backward().",
    )
    check_parameters_after_training(run)


def check_zero_grad_each_step(run: types.SimpleNamespace) -> None:
    """Each backward found .grad cleared: every step used its own batch's gradient."""
    ag.check(
        len(run.model.stale) > 0, "no gradient reached the parameters: does `train_one_epoch` call loss.backward()?"
    )
    ag.check(
        not any(run.model.stale),
        "when loss.backward() ran for a later batch, the parameters' .grad still held the previous batch's "
        "gradient, so the two added up (backward accumulates into .grad). Clear the gradients once per step, "
        "before backward().",
    )


def check_train_mode(run: types.SimpleNamespace) -> None:
    """`train_one_epoch` ran the model (handed over in evaluation mode) in training mode at every forward."""
    ag.check(len(run.model.modes) > 0, "`train_one_epoch` never called the model.")
    ag.check(
        all(run.model.modes),
        "the model ran in evaluation mode (model.training was False) during training. It arrived in eval mode, as "
        "it does after a test pass: switch it to training mode at the start, so that dropout and batch norm "
        "behave as they should while training.",
    )


def check_eval_mode(run: types.SimpleNamespace) -> None:
    """`evaluate` ran the model (handed over in training mode) in evaluation mode at every forward."""
    ag.check(len(run.model.modes) > 0, "`evaluate` never called the model.")
    ag.check(
        not any(run.model.modes),
        "the model ran in training mode (model.training was True) during evaluation, so dropout kept dropping "
        "units and the results were random. Switch to evaluation mode first.",
    )


def check_no_grad(run: types.SimpleNamespace) -> None:
    """`evaluate` ran every forward with autograd's recording off."""
    ag.check(len(run.model.grad_modes) > 0, "`evaluate` never called the model.")
    ag.check(
        not any(run.model.grad_modes),
        "autograd was recording while `evaluate` ran the model (torch.is_grad_enabled() was True): evaluation "
        "never calls backward(), so turn recording off for the whole loop; it saves the memory and time of "
        "building a graph.",
    )
