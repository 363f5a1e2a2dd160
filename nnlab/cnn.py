"""Lesson 07 helpers: the lesson's fast CNN, its training recipe, CPU tuning, filter plots and the benchmark.

    python -m nnlab.bench cnn          # full mode: all of MNIST to >= 99 % test accuracy; seconds per epoch
    python -m nnlab.bench cnn --fast   # fast mode (as CI and grading run it): a subset, one epoch

Where the seconds go on a small CPU, and what this module does about each:

* ``channels_last`` memory format: oneDNN's convolutions want (N, H, W, C); in PyTorch's default (N, C, H, W)
  every convolution reorders its input and output.
* glibc ``malloc`` hands blocks over 128 KiB (adaptively a few MiB) back to the OS on ``free`` and maps them
  again on the next batch: page faults on every step. :func:`tune_malloc` raises the thresholds with
  ``mallopt``, like the environment variables ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``.
* Mini-batches sliced from tensors in memory (:class:`nnlab.train.Batches`), fused Adam, a one-cycle learning
  rate that converges in three epochs, and a network that pools early so the second convolution sees 14x14.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import matplotlib.pyplot as plt
import torch
from torch import nn

import nnlab
import nnlab.plot  # noqa: F401 - the course style
from nnlab import cpu, data, train
from nnlab.bench import training_result

#: glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: mallopt takes a C int: a larger value would be truncated (16 GiB becomes 0, "trim on every free").
INT_MAX = 2**31 - 1


#: batch size and peak learning rate of the recipe (see Recipe); larger batches keep both cores busy
BATCH_SIZE, MAX_LR = 128, 0.01


@dataclass(frozen=True)
class Recipe:
    """How the lesson trains its CNN: architecture width, data, optimiser and CPU settings."""

    channels: tuple[int, int] = (16, 32)
    epochs: int = 3
    batch_size: int = BATCH_SIZE
    max_lr: float = MAX_LR
    #: training images (validation and test images: a sixth of it); None for all 55 000 / 5 000 / 10 000
    subset: int | None = None
    channels_last: bool = True
    #: intra-op CPU threads: "auto" times a few training steps with 1 thread and with every core and keeps the
    #: faster (the second thread helps a quiet machine and hurts a busy one); an int fixes it; None: PyTorch's
    threads: int | str | None = "auto"
    #: the forward's arithmetic: "auto" times a few training steps in float32 and under bfloat16 autocast (at the
    #: chosen threads) and keeps bfloat16 only when clearly faster (CPUs with bf16 instructions; float32 on CUDA);
    #: "float32" or "bfloat16" fixes it (nnlab.cpu.pick_precision)
    precision: str = "auto"
    seed: int = 0


FULL = Recipe()
#: fast mode: seconds, for CI and grading; accuracy about 0.9 on the subset's test images, not 0.99
FAST = replace(FULL, epochs=1, subset=2000)


def recipe(fast: bool | None = None) -> Recipe:
    """The recipe of the current mode (``nnlab.FAST`` unless ``fast`` is given)."""
    return FAST if (nnlab.FAST if fast is None else fast) else FULL


class LightCNN(nn.Module):
    """conv 3x3 -> max-pool 2 -> ReLU, twice, then one linear layer; returns logits (pair with cross-entropy).

    Max-pooling before the ReLU gives the same result as after it (both are monotone) on a 4x smaller tensor.
    In channels_last memory format the features are stored (N, H, W, C): flattening them in PyTorch's (C, H, W)
    order would copy them at every step, so they are flattened in their own order and the linear layer's weight
    columns (a few thousand numbers) are permuted to match: the same function, without the copy.
    """

    def __init__(self, channels: tuple[int, int] = (16, 32), num_classes: int = 10) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(c2 * 7 * 7, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        if h.is_contiguous() or not h.is_contiguous(memory_format=torch.channels_last):
            return self.classifier(h.flatten(1))
        n, c, height, width = h.shape
        weight = self.classifier.weight.unflatten(1, (c, height, width)).permute(0, 2, 3, 1).flatten(1)
        return nn.functional.linear(h.permute(0, 2, 3, 1).flatten(1), weight, self.classifier.bias)


# ---------------------------------------------------------------- CPU tuning


def mallopt_settings(mmap_threshold: int = 1 << 30, trim_threshold: int = INT_MAX) -> dict[int, int]:
    """The ``mallopt`` parameters :func:`tune_malloc` sets, each clamped to the C int that mallopt takes."""
    if min(mmap_threshold, trim_threshold) < 0:
        raise ValueError("malloc thresholds are sizes in bytes: they cannot be negative")
    return {M_MMAP_THRESHOLD: min(mmap_threshold, INT_MAX), M_TRIM_THRESHOLD: min(trim_threshold, INT_MAX)}


def tune_malloc(mmap_threshold: int = 1 << 30, trim_threshold: int = INT_MAX) -> bool:
    """Keep freed large blocks in the process (glibc ``mallopt``); False where there is no glibc.

    Must run before the allocations it should affect; harmless to call twice.
    """
    settings = mallopt_settings(mmap_threshold, trim_threshold)
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in settings.items())


def tune_cpu(threads: int | str | None = None) -> dict[str, object]:
    """Apply the CPU settings of the recipe: malloc thresholds and (for an int) the thread count.

    ``OMP_NUM_THREADS`` in the environment, when set, wins over ``threads``; "auto" is measured by
    :func:`train_cnn` on the model it trains.
    """
    if isinstance(threads, int) and not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(threads)
    return {"mallopt": tune_malloc(), "threads": torch.get_num_threads()}


def to_device(model: nn.Module, device: torch.device, *, channels_last: bool = True) -> nn.Module:
    """Move ``model`` to ``device``, in channels_last memory format if asked."""
    model = model.to(device)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def images_on(x: torch.Tensor, device: torch.device, channels_last: bool = True) -> torch.Tensor:
    """Images (N, C, H, W) on ``device``, stored channels_last when asked (what the model's layers expect)."""
    x = x.to(device)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int, *, shuffle: bool, seed: int, device: torch.device, cl: bool
) -> train.Batches:
    """In-memory mini-batches on ``device``; images stored channels_last when ``cl``."""
    return train.Batches(images_on(x, device, cl), y, batch_size, shuffle=shuffle, seed=seed, device=device)


def one_cycle(optimizer: torch.optim.Optimizer, max_lr: float, total_steps: int) -> torch.optim.lr_scheduler.OneCycleLR:
    """A one-cycle learning rate (warm up, then anneal to ~0) that steps after every ``optimizer.step()``.

    The step is a hook on the optimiser, so :func:`nnlab.train.fit` needs no change to use it.
    """
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps)

    def step(*_: object) -> None:
        if scheduler.last_epoch < total_steps - 1:  # the last of total_steps updates uses the final rate
            scheduler.step()

    optimizer.register_step_post_hook(step)
    return scheduler


def adam(model: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam, fused into one kernel per step where this PyTorch supports it."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # an old PyTorch, or a device without fused Adam
        return torch.optim.Adam(model.parameters(), lr=lr)


def measure_settings(
    model: nn.Module, train_b: train.Batches, *, threads: int | str | None, precision: str, device: torch.device
) -> str:
    """Set the thread count and return the precision to train in, each measured where the recipe says "auto".

    Both are timed on a throwaway copy of ``model`` on the first training batch: threads first (on a CPU), then
    float32 against bfloat16 autocast at that count (:func:`nnlab.cpu.pick_precision`); when bfloat16 wins, the
    threads are measured again on its step, the one that will train (a second sample, of the right step).
    """
    x0, y0 = next(iter(train_b))  # probes use cross-entropy: a loss_fn may record what it sees

    def step_for(p: str) -> Callable[[], None]:
        return cpu.probe_step(model, x0, y0, precision=p)

    auto_threads = threads == "auto" and device.type == "cpu"
    if auto_threads:
        cpu.pick_threads(step_for("float32"))
    chosen = cpu.pick_precision(step_for, device, precision)[0]
    if auto_threads and chosen != "float32":
        cpu.pick_threads(step_for(chosen))
    return chosen


def train_cnn(
    model: nn.Module,
    mnist: data.MNIST,
    rec: Recipe,
    *,
    loss_fn: object = nn.functional.cross_entropy,
    device: torch.device | None = None,
    progress: bool = True,
) -> dict[str, list[float] | str]:
    """Train ``model`` on ``mnist`` with the recipe (fused Adam, one-cycle LR) through :func:`nnlab.train.fit`.

    ``model`` itself is trained (in float32; with bfloat16 only its forward is computed under autocast).

    ``loss_fn`` must suit the model's output: cross-entropy for logits, NLL for log-probabilities.
    Each epoch is evaluated on the validation part when ``mnist`` has one (``load_mnist(validation=...)``; history
    keys ``val_loss``/``val_acc``), else on the test part (``test_loss``/``test_acc``). Returns fit's history (per
    epoch: losses, accuracies, training seconds) and ``precision``, the one it trained in.
    """
    device = device or nnlab.device()
    cl = rec.channels_last
    model = to_device(model, device, channels_last=cl)
    train_b = batches(mnist.x_train, mnist.y_train, rec.batch_size, shuffle=True, seed=rec.seed, device=device, cl=cl)
    held_out = "test" if mnist.x_val is None else "val"
    x_eval, y_eval = (mnist.x_test, mnist.y_test) if mnist.x_val is None else (mnist.x_val, mnist.y_val)
    test_b = batches(x_eval, y_eval, 1000, shuffle=False, seed=rec.seed, device=device, cl=cl)
    precision = measure_settings(model, train_b, threads=rec.threads, precision=rec.precision, device=device)
    optimizer = adam(model, rec.max_lr)
    one_cycle(optimizer, rec.max_lr, rec.epochs * len(train_b))
    history = train.fit(
        model, train_b, test_b, epochs=rec.epochs, optimizer=optimizer, loss_fn=loss_fn, progress=progress,
        held_out=held_out, train_epoch=functools.partial(train.train_epoch, precision=precision),
    )  # fmt: skip
    return history | {"precision": precision}


def plain_setup(fast: bool = False) -> tuple[nn.Module, data.MNIST]:
    """The lesson's CNN, freshly initialised, and the data the benchmark trains on (the training part)."""
    rec = recipe(fast)
    nnlab.set_seed(rec.seed)
    return LightCNN(rec.channels), data.load_mnist(subset=rec.subset, validation=data.VALIDATION_SIZE)


def benchmark(fast: bool = False) -> dict:
    """Train the lesson's CNN with the recipe of the mode on the training part; validation each epoch, test once."""
    rec = recipe(fast)
    settings = tune_cpu(rec.threads)
    device = nnlab.device()
    model, mnist = plain_setup(fast)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"LightCNN{rec.channels}: {n_params} parameters, {len(mnist.x_train)} training images, on {device}")
    print("recipe:", json.dumps(asdict(rec)), "| cpu:", json.dumps(settings), flush=True)
    start = time.perf_counter()
    history = train_cnn(model, mnist, rec, device=device, progress=True)
    total = time.perf_counter() - start
    print(f"threads: {torch.get_num_threads()}, precision: {history['precision']}", flush=True)
    for epoch, (sec, acc) in enumerate(zip(history["seconds"], history["val_acc"], strict=True), 1):
        print(f"epoch {epoch}: {sec:6.2f} s training, validation accuracy {acc:.4f}", flush=True)
    test = batches(mnist.x_test, mnist.y_test, 1000, shuffle=False, seed=0, device=device, cl=rec.channels_last)
    _, test_accuracy = train.evaluate(to_device(model, device, channels_last=rec.channels_last), test,
                                      nn.functional.cross_entropy)  # fmt: skip
    print(f"test accuracy {test_accuracy:.4f}, measured once", flush=True)
    return training_result(
        history, test_accuracy=test_accuracy, epochs=rec.epochs, device=device, fast=fast,
        wall_seconds_with_evaluation=round(total, 2), parameters=n_params, batch_size=rec.batch_size,
        threads_used=torch.get_num_threads(), precision=history["precision"],
    )  # fmt: skip


# ---------------------------------------------------------------- what a CNN learned


def _grid(images: torch.Tensor, cols: int, title: str, cmap: str, symmetric: bool) -> plt.Figure:
    imgs = images.detach().float().cpu()
    rows = (len(imgs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.95, rows * 0.95 + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(imgs):
            img = imgs[k]
            lim = float(img.abs().max()) or 1.0
            kw = {"vmin": -lim, "vmax": lim} if symmetric else {}
            ax.imshow(img.numpy(), cmap=cmap, **kw)
            ax.set_title(str(k), fontsize=7)
    fig.suptitle(title)
    return fig


def plot_filters(weight: torch.Tensor, *, cols: int = 8, title: str = "first-layer filters") -> plt.Figure:
    """The 2-D kernels of a convolution weight (C_out, 1, kH, kW); red positive, blue negative, each scaled."""
    return _grid(weight[:, 0], cols, title, "RdBu_r", symmetric=True)


def plot_feature_maps(maps: torch.Tensor, *, cols: int = 8, title: str = "feature maps") -> plt.Figure:
    """The channels of one image's activations (C, H, W), one panel each."""
    return _grid(maps, cols, title, "viridis", symmetric=False)
