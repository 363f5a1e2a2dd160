"""Honest evaluation: fit names its held-out set; the overfit-one-batch check passes a working model and loop only."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autograder import CheckFailed
from autograder.lessons import evaluation
from nnlab import mlp, train


def test_fit_names_the_held_out_set_in_its_history() -> None:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g)
    model = mlp.make_mlp(hidden=(8,))
    history = train.fit(
        model,
        train.Batches(x[:48], y[:48], 16),
        train.Batches(x[48:], y[48:], 16),
        epochs=2,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        progress=False,
        held_out="val",
    )
    assert set(history) == {"train_loss", "train_acc", "val_loss", "val_acc", "seconds"}
    assert all(len(v) == 2 for v in history.values())


def _correct_epoch(model, batches, loss_fn, optimizer):  # noqa: ANN001, ANN202
    return train.train_epoch(model, batches, loss_fn, optimizer)


def _epoch_without_step(model, batches, loss_fn, optimizer):  # noqa: ANN001, ANN202
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
    return 0.0, 0.0


@pytest.mark.slow  # reads MNIST and trains a few dozen steps: seconds on a loaded 2-core machine
def test_the_overfit_check_passes_a_working_model_and_loop_and_leaves_the_random_state() -> None:
    state = torch.get_rng_state()
    assert evaluation.check_overfits_one_batch(mlp.make_mlp, _correct_epoch, forbid=()) is None  # nbgrader: no credit
    assert torch.equal(torch.get_rng_state(), state)
    x, y = evaluation.training_batch()
    assert x.shape == (evaluation.OVERFIT_BATCH, 1, 28, 28) and len(y) == evaluation.OVERFIT_BATCH


@pytest.mark.slow
def test_the_overfit_check_names_a_loop_that_never_steps() -> None:
    with pytest.raises(CheckFailed, match="no parameter .* has changed"):
        evaluation.check_overfits_one_batch(mlp.make_mlp, _epoch_without_step, forbid=())


@pytest.mark.slow
def test_the_overfit_check_names_a_model_without_trainable_parameters() -> None:
    class Frozen(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = [nn.Linear(784, 10)]  # a plain list: nn.Module does not see it

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layers[0](x.flatten(1))

    with pytest.raises(CheckFailed, match="no trainable parameters"):
        evaluation.check_overfits_one_batch(Frozen, _correct_epoch, forbid=())
