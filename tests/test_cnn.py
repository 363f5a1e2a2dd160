"""nnlab.cnn: the lesson-07 CNN, its recipe, the CPU tuning and the benchmark's contract."""

from __future__ import annotations

import copy
import ctypes

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

import nnlab
from nnlab import cnn, data


def test_light_cnn_shapes_and_size() -> None:
    model = cnn.LightCNN((16, 32))
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    # conv1 16·(9+1), conv2 32·(16·9+1), fc 10·(32·49+1)
    assert sum(p.numel() for p in model.parameters()) == 160 + 4640 + 15690


def test_channels_last_changes_the_layout_not_the_result() -> None:
    torch.manual_seed(0)
    model = cnn.LightCNN((4, 8))
    x = torch.randn(5, 1, 28, 28)
    expected = model(x)
    fast = cnn.to_device(model, torch.device("cpu"), channels_last=True)
    xl = cnn.images_on(x, torch.device("cpu"), channels_last=True)
    assert xl.is_contiguous(memory_format=torch.channels_last)
    assert fast.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast(xl), expected, rtol=1e-4, atol=1e-5)


def test_channels_last_flatten_gives_the_classifiers_own_gradient() -> None:
    # channels_last features are flattened in (H, W, C) order against permuted weight columns: the same function,
    # and the gradient still reaches classifier.weight in its own (C, H, W) layout
    torch.manual_seed(0)
    nchw = cnn.LightCNN((4, 8))
    last = cnn.to_device(copy.deepcopy(nchw), torch.device("cpu"), channels_last=True)
    x = torch.randn(6, 1, 28, 28)
    nchw(x).square().sum().backward()
    last(cnn.images_on(x, torch.device("cpu"), channels_last=True)).square().sum().backward()
    assert last.features(cnn.images_on(x, torch.device("cpu"), True)).is_contiguous(memory_format=torch.channels_last)
    for (name, a), b in zip(nchw.named_parameters(), last.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-5, msg=name)


def test_tune_malloc_never_passes_a_truncated_int() -> None:
    # 16 GiB does not fit mallopt's C int; truncated it would become 0 ("trim on every free"): it is clamped
    settings = cnn.mallopt_settings(trim_threshold=16 * 2**30)
    assert settings[cnn.M_TRIM_THRESHOLD] == cnn.INT_MAX == ctypes.c_int(cnn.INT_MAX).value
    assert settings[cnn.M_MMAP_THRESHOLD] == 1 << 30
    assert all(ctypes.c_int(v).value == v for v in settings.values()), "every value survives the C int"
    with pytest.raises(ValueError, match="negative"):
        cnn.mallopt_settings(trim_threshold=-1)


def test_tune_malloc_is_accepted_by_glibc() -> None:
    # mallopt answers 1 for each setting it took (0 for one it refused); the course runs on glibc
    assert cnn.tune_malloc() is True


def test_one_cycle_steps_with_every_optimizer_step_and_stops_at_the_end() -> None:
    w = nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=0.1)
    sched = cnn.one_cycle(opt, max_lr=1.0, total_steps=10)
    lrs = []
    for _ in range(12):  # two steps more than planned: the schedule stays at its end instead of raising
        opt.zero_grad()
        (w.sum() * 0).backward()
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert sched.last_epoch == 9  # steps 1..10 used the rates of schedule steps 0..9
    peak = lrs.index(max(lrs))
    assert 0 < peak < 9 and max(lrs) == pytest.approx(1.0, rel=0.05)
    assert lrs[-1] < 1e-3


def test_recipe_follows_fast_mode() -> None:
    assert cnn.recipe(fast=True) is cnn.FAST and cnn.recipe(fast=False) is cnn.FULL
    assert cnn.recipe() is (cnn.FAST if nnlab.FAST else cnn.FULL)
    assert cnn.FAST.subset and cnn.FAST.epochs == 1 and cnn.FULL.subset is None


def test_train_cnn_learns_on_a_small_subset() -> None:
    nnlab.set_seed(0)
    mnist = data.load_mnist(subset=1200)
    rec = cnn.Recipe(channels=(8, 16), epochs=1, batch_size=64, subset=1200)
    history = cnn.train_cnn(cnn.LightCNN(rec.channels), mnist, rec, device=torch.device("cpu"), progress=False)
    assert set(history) >= {"train_loss", "test_acc", "seconds"} and len(history["test_acc"]) == 1
    assert history["test_acc"][0] > 0.5  # chance is 0.1


def test_benchmark_fast_reports_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    result = cnn.benchmark(fast=True)
    for key in ("test_accuracy", "train_seconds", "epochs", "device", "seconds_per_epoch"):
        assert key in result, key
    assert result["epochs"] == len(result["seconds_per_epoch"]) == cnn.FAST.epochs
    assert 0.5 < result["test_accuracy"] <= 1.0 and result["mode"] == "fast"
    assert "epoch 1" in capsys.readouterr().out


def test_filter_and_feature_map_plots() -> None:
    fig = cnn.plot_filters(torch.randn(16, 1, 3, 3))
    assert sum(1 for ax in fig.axes if ax.images) == 16
    fig2 = cnn.plot_feature_maps(torch.rand(5, 7, 7), cols=4)
    assert sum(1 for ax in fig2.axes if ax.images) == 5
    plt.close("all")


def test_train_cnn_in_bfloat16_trains_the_float32_model_in_place() -> None:
    nnlab.set_seed(0)
    mnist = data.load_mnist(subset=1200)
    rec = cnn.Recipe(channels=(8, 16), epochs=1, batch_size=64, subset=1200, threads=1, precision="bfloat16")
    model = cnn.LightCNN(rec.channels)
    before = model.classifier.weight.detach().clone()
    history = cnn.train_cnn(model, mnist, rec, device=torch.device("cpu"), progress=False)
    assert history["precision"] == "bfloat16" and history["test_acc"][0] > 0.5
    assert all(p.dtype == torch.float32 for p in model.parameters())  # only the forward ran in bfloat16
    assert not torch.equal(model.classifier.weight, before)


def test_train_cnn_keeps_an_explicit_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cnn.cpu, "time_steps", lambda *a, **k: pytest.fail("an explicit choice measures nothing"))
    rec = cnn.Recipe(channels=(4, 8), epochs=1, batch_size=64, subset=300, threads=1, precision="float32")
    history = cnn.train_cnn(cnn.LightCNN(rec.channels), data.load_mnist(subset=300), rec, progress=False)
    assert history["precision"] == "float32"


def test_measure_settings_times_the_threads_again_on_the_bfloat16_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cnn.cpu, "probe_step", lambda model, x, y, precision="float32": precision)
    picked: list[str] = []
    monkeypatch.setattr(cnn.cpu, "pick_threads", lambda step: picked.append(step) or {})
    batches = cnn.batches(torch.zeros(8, 1, 28, 28), torch.zeros(8, dtype=torch.long), 4, shuffle=False, seed=0,
                          device=torch.device("cpu"), cl=True)  # fmt: skip
    for answer, threads, expected in (
        ("bfloat16", "auto", ["float32", "bfloat16"]),  # the step that will train is measured too
        ("float32", "auto", ["float32"]),
        ("bfloat16", 1, []),  # a fixed thread count is not measured
    ):
        picked.clear()
        monkeypatch.setattr(cnn.cpu, "pick_precision", lambda step_for, device, choice, a=answer: (a, {}))
        chosen = cnn.measure_settings(nn.Linear(1, 1), batches, threads=threads, precision="auto",
                                      device=torch.device("cpu"))  # fmt: skip
        assert chosen == answer and picked == expected
