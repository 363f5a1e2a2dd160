"""nnlab.resnet: lesson 07b's training recipe picks its CPU threads by measuring."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import nnlab
from nnlab import cpu, data, resnet


def test_train_and_test_keeps_the_thread_count_measured_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cpu, "thread_candidates", lambda: [1, 2])
    seen = []

    def time_steps(step, threads: int, steps: int = 4, limit: float = 0.0) -> float:  # noqa: ANN001
        seen.append(threads)
        step()  # the probe trains a copy of the model on the first training batch
        return 0.001 if threads == 1 else 0.01

    monkeypatch.setattr(cpu, "time_steps", time_steps)
    fashion = data.load_fashion_mnist(subset=240, validation=60)
    rec = dataclasses.replace(resnet.FAST, subset=240, validation=60, batch_size=60, precision="float32")
    assert rec.threads == "auto"
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        nnlab.set_seed(0)
        history = resnet.train_and_test(resnet.ResNetSmall((4, 8)), fashion, rec, device=torch.device("cpu"))
        assert seen == [1, 2] * cpu.ROUNDS and history["threads"] == 1 == torch.get_num_threads()
        assert len(history["val_acc"]) == rec.epochs and 0.0 <= history["test_accuracy"] <= 1.0
    finally:
        torch.set_num_threads(before)


def test_the_notebook_trains_the_narrower_residual_cnn_in_both_modes() -> None:
    """07b's own cells build ResNetSmall(24, 48) from the student's blocks; the benchmark's model is the recipe's."""
    assert resnet.notebook_recipe(fast=True).channels == resnet.notebook_recipe(fast=False).channels == (24, 48)
    assert resnet.notebook_recipe(fast=True).epochs == resnet.FAST.epochs
    assert resnet.RESIDUAL == f"ResNetSmall{resnet.FULL.channels}" and resnet.RESIDUAL in resnet.MODELS
    model = resnet.MODELS[resnet.RESIDUAL]()
    assert model.fc.in_features == resnet.FULL.channels[1]


def test_train_and_test_trains_in_the_precision_measured_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    # the measurement answering bfloat16: the forward runs under autocast, the weights stay float32
    monkeypatch.setattr(cpu, "pick_precision", lambda step_for, device, choice: ("bfloat16", {}))
    fashion = data.load_fashion_mnist(subset=240, validation=60)
    rec = dataclasses.replace(resnet.FAST, subset=240, validation=60, batch_size=60, threads=1)
    assert resnet.FULL.precision == rec.precision == "auto"
    nnlab.set_seed(0)
    model = resnet.ResNetSmall((4, 8))
    history = resnet.train_and_test(model, fashion, rec, device=torch.device("cpu"))
    assert history["precision"] == "bfloat16" and all(p.dtype == torch.float32 for p in model.parameters())
