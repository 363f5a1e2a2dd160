"""Lesson 08b's experiment: an MLP that over-fits 1,000 MNIST images, trained with early stopping on validation.

The lesson passes in the student's ``Dropout`` and ``early_stopping_epoch``; this module only holds the
configuration (full and fast mode), the network and the training loop, so the notebook stays short.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

import nnlab
from nnlab import cpu, data, train


@dataclass(frozen=True)
class Config:
    """What the experiment trains, in the current mode."""

    train_size: int  # training images: few, so that the network over-fits
    val_size: int  # validation images (from the course's validation split), used for every choice
    test_size: int  # test images, used once at the end
    epochs: int  # most epochs per run (early stopping usually ends a run sooner)
    patience: int
    batch_size: int = 100
    lr: float = 1e-3
    hidden: tuple[int, ...] = (256, 256)
    dropout: float = 0.5
    weight_decay: float = 3.0
    seed: int = 0


def config(fast: bool | None = None) -> Config:
    """Full mode: 1,000 training images, 5,000 validation, 10,000 test; fast mode (CI, grading): tiny."""
    if nnlab.FAST if fast is None else fast:
        return Config(train_size=200, val_size=500, test_size=1000, epochs=4, patience=2)
    return Config(train_size=1000, val_size=data.VALIDATION_SIZE, test_size=10_000, epochs=30, patience=5)


def load(cfg: Config, device: torch.device | str = "cpu") -> data.MNIST:
    """MNIST with the course's validation split, cut to the configuration's sizes.

    On a CPU it also sets the thread count the experiments train with: 1 or one per core, whichever runs a
    training step of the experiment's MLP faster now (:func:`nnlab.cpu.pick_threads`; 2 threads are about 1.6x
    faster on a quiet 2-core machine, many times slower on a busy one).
    """
    mnist = data.load_mnist(validation=data.VALIDATION_SIZE)
    if torch.device(device).type == "cpu":
        x, y = mnist.x_train[: cfg.batch_size], mnist.y_train[: cfg.batch_size]
        with torch.random.fork_rng():  # the probe's throwaway MLP draws nothing from the experiments' generator
            cpu.pick_threads(cpu.probe_step(mlp(cfg.hidden), x, y))
    return data.MNIST(
        *(
            t.to(device)
            for t in (
                mnist.x_train[: cfg.train_size],
                mnist.y_train[: cfg.train_size],
                mnist.x_test[: cfg.test_size],
                mnist.y_test[: cfg.test_size],
                mnist.x_val[: cfg.val_size],
                mnist.y_val[: cfg.val_size],
            )
        )
    )


def mlp(hidden: Sequence[int] = (256, 256), dropout: Callable[[], nn.Module] | None = None) -> nn.Sequential:
    """784-hidden-...-10 with ReLU; ``dropout()`` (a module) after each hidden activation when given."""
    layers: list[nn.Module] = [nn.Flatten()]
    sizes = [784, *hidden]
    for n_in, n_out in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        if dropout is not None:
            layers.append(dropout())
    layers.append(nn.Linear(sizes[-1], 10))
    return nn.Sequential(*layers)


@dataclass
class Run:
    """One training run: its curves per epoch, where it stopped, and the epoch whose weights it kept."""

    history: dict[str, list[float]]
    stop: int | None
    best: int | None
    seconds: float

    @property
    def val_acc(self) -> float:
        return self.history["val_acc"][self.best]

    @property
    def train_acc(self) -> float:
        return self.history["train_acc"][self.best]


def fit_early_stopping(
    model: nn.Module,
    mnist: data.MNIST,
    optimizer: torch.optim.Optimizer,
    *,
    cfg: Config,
    stop_rule: Callable[[list[float]], tuple[int | None, int | None]],
) -> Run:
    """Train for at most ``cfg.epochs``, asking ``stop_rule(val_losses)`` after every epoch whether to stop and
    which epoch is best; restore the best epoch's weights into ``model``. Accuracies are measured in eval mode."""
    loss_fn = nn.functional.cross_entropy
    batches = train.Batches(mnist.x_train, mnist.y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
    train_eval = train.Batches(mnist.x_train, mnist.y_train, 2000)
    val_eval = train.Batches(mnist.x_val, mnist.y_val, 2000)
    history: dict[str, list[float]] = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
    states, stop, best = [], None, None
    start = time.perf_counter()
    for _ in range(cfg.epochs):
        train.train_epoch(model, batches, loss_fn, optimizer)
        for prefix, evaluation in (("train", train_eval), ("val", val_eval)):
            loss, acc = train.evaluate(model, evaluation, loss_fn)
            history[f"{prefix}_loss"].append(loss)
            history[f"{prefix}_acc"].append(acc)
        states.append(copy.deepcopy(model.state_dict()))
        stop, best = stop_rule(history["val_loss"])
        if stop is not None:
            break
    if best is not None:
        model.load_state_dict(states[best])
    return Run(history, stop, best, time.perf_counter() - start)


__all__ = ["Config", "Run", "config", "fit_early_stopping", "load", "mlp"]
