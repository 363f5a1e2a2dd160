"""nnlab.mlp (lesson 06's configuration, reference network, training and benchmark) and fit's hooks."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

import nnlab
from nnlab import cpu, mlp, train
from nnlab.data import MNIST


def tiny_mnist(n: int = 96, seed: int = 0) -> MNIST:
    """Random 28×28 'images' whose label is decided by the mean of one quarter: learnable in a few steps."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n + n // 3, 1, 28, 28, generator=g)
    y = (x[:, 0, :14, :14].mean((1, 2)) > 0).long()
    return MNIST(x[:n], y[:n], x[n:], y[n:])


def test_config_follows_the_mode() -> None:
    assert mlp.config(fast=False) == mlp.FULL and mlp.config(fast=True) == mlp.FAST
    assert mlp.config() == (mlp.FAST if nnlab.FAST else mlp.FULL)
    assert mlp.FULL.hidden == (256, 128) and mlp.FULL.epochs == 8 and mlp.FULL.subset is None
    assert mlp.FULL.target_accuracy == 0.98 and mlp.FAST.target_accuracy < mlp.FULL.target_accuracy
    assert mlp.FAST.subset is not None and mlp.FAST.epochs < mlp.FULL.epochs


def test_make_mlp_is_flatten_then_linear_layers_with_activations_between() -> None:
    net = mlp.make_mlp()
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes == [(256, 784), (256,), (128, 256), (128,), (10, 128), (10,)]
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    kinds = [type(m) for m in mlp.make_mlp(6, (5, 4), 3, nn.Tanh)]
    assert kinds == [nn.Flatten, nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert [type(m) for m in mlp.make_mlp(6, (), 3)] == [nn.Flatten, nn.Linear]


def test_fit_calls_the_given_loops_and_steps_the_scheduler() -> None:
    data = tiny_mnist()
    model = mlp.make_mlp(hidden=(16,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    calls: list[str] = []

    def my_train_epoch(model, batches, loss_fn, optimizer):
        calls.append("train")
        assert len(batches) == 3 and sum(len(y) for _, y in batches) == 96
        return train.train_epoch(model, batches, loss_fn, optimizer)

    def my_evaluate(model, batches, loss_fn):
        calls.append("evaluate")
        return 0.5, 0.25

    history = train.fit(
        model,
        train.Batches(data.x_train, data.y_train, 32, shuffle=True),
        train.Batches(data.x_test, data.y_test, 32),
        epochs=2,
        optimizer=optimizer,
        scheduler=scheduler,
        train_epoch=my_train_epoch,
        evaluate=my_evaluate,
        progress=False,
    )
    assert calls == ["train", "evaluate", "train", "evaluate"]
    assert history["test_loss"] == [0.5, 0.5] and history["test_acc"] == [0.25, 0.25]
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.025)


def test_fit_with_progress_hands_a_train_epoch_every_batch() -> None:
    data = tiny_mnist()
    seen: list[int] = []

    def counting(model, batches, loss_fn, optimizer):
        seen.extend(len(y) for _, y in batches)
        return 0.0, 0.0

    model = mlp.make_mlp(hidden=(8,))
    train.fit(
        model,
        train.Batches(data.x_train, data.y_train, 40),
        train.Batches(data.x_test, data.y_test, 40),
        epochs=1,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        train_epoch=counting,
        progress=True,
    )
    assert seen == [40, 40, 16]


def test_fit_keeps_its_own_loops_by_default() -> None:
    data = tiny_mnist()
    torch.manual_seed(0)
    model = mlp.make_mlp(hidden=(32,))
    history = train.fit(
        model,
        train.Batches(data.x_train, data.y_train, 16, shuffle=True),
        train.Batches(data.x_test, data.y_test, 64),
        epochs=3,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
        progress=False,
    )
    assert set(history) == {"train_loss", "train_acc", "test_loss", "test_acc", "seconds"}
    assert all(len(v) == 3 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_train_mlp_uses_the_config() -> None:
    cfg = dataclasses.replace(mlp.FAST, hidden=(16,), epochs=2, batch_size=32, lr=1e-2)
    torch.manual_seed(0)
    model = mlp.make_mlp(hidden=cfg.hidden)
    history = mlp.train_mlp(model, tiny_mnist(), cfg, progress=False)
    assert len(history["train_loss"]) == 2 and all(0.0 <= a <= 1.0 for a in history["test_acc"])


def test_benchmark_returns_the_promised_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    small = dataclasses.replace(mlp.FAST, epochs=1, subset=600)
    monkeypatch.setattr(mlp, "FAST", small)
    result = mlp.benchmark(fast=True)
    assert {"test_accuracy", "train_seconds", "epochs", "device", "seconds_per_epoch"} <= set(result)
    assert result["epochs"] == 1 and len(result["seconds_per_epoch"]) == 1
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["train_seconds"] > 0
    assert result["device"] == str(nnlab.device())


def test_pick_threads_times_the_lessons_mlp_and_keeps_the_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cpu, "thread_candidates", lambda: [1, 2])
    seen = []
    real_time_steps = cpu.time_steps

    def time_steps(step, threads: int, steps: int = 4, limit: float = 0.0) -> float:  # noqa: ANN001
        seen.append(threads)
        real_time_steps(step, threads, steps=1)  # the probe really runs the lesson's MLP on the data's first batch
        return 0.001 if threads == 2 else 0.01

    monkeypatch.setattr(cpu, "time_steps", time_steps)
    before = torch.get_num_threads()
    try:
        timings = mlp.pick_threads(tiny_mnist(), dataclasses.replace(mlp.FAST, hidden=(16,), batch_size=32))
        assert seen == [1, 2] * cpu.ROUNDS and timings == {1: 0.01, 2: 0.001} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_full_batch_training_runs_with_one_thread_and_restores_the_count() -> None:
    # tiny full-batch problems (lessons 01 and 03) train with one thread: a second only waits on a busy machine
    seen: list[int] = []

    class Spy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.Linear(2, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(torch.get_num_threads())
            return self.layer(x)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        losses = train.fit_full_batch(Spy(), torch.randn(8, 2), torch.randint(0, 2, (8,)), epochs=3)
        assert seen == [1, 1, 1] and len(losses) == 3
        assert torch.get_num_threads() == 2, "the thread count is restored after training"
    finally:
        torch.set_num_threads(before)
