"""Training helpers shared by the lessons."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn

from nnlab import cpu


def fit_full_batch(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 500,
    lr: float = 0.05,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """Train ``model`` on the whole of (x, y) with Adam for ``epochs`` steps; return the loss per step.

    The default loss is cross-entropy on class indices. The lessons' full-batch problems are tiny, so on a CPU the
    steps run with one thread (:func:`nnlab.cpu.one_thread`): a second one only makes them wait on a busy machine.
    """
    loss_fn = loss_fn or nn.functional.cross_entropy
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    model.train()
    with cpu.one_thread() if x.device.type == "cpu" else contextlib.nullcontext():
        for _ in range(epochs):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            history.append(loss.item())
    return history


@torch.no_grad()
def accuracy_of(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of samples whose highest score is the label (one score column means class 1 if > 0)."""
    model.eval()
    scores = model(x)
    pred = scores.argmax(1) if scores.dim() == 2 and scores.shape[1] > 1 else (scores.flatten() > 0).long()
    return (pred == y).float().mean().item()


# ---------------------------------------------------------------- mini-batch training on tensors in memory


class Batches:
    """Mini-batches as slices of tensors held in memory, reshuffled each epoch when ``shuffle``.

    Faster than a DataLoader on a small CPU: no per-sample indexing, no collation, no worker processes.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int = 128,
        *,
        shuffle: bool = False,
        seed: int = 0,
        device: torch.device | str | None = None,
    ) -> None:
        self.x = x.to(device) if device is not None else x
        self.y = y.to(self.x.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def __iter__(self):  # noqa: ANN204
        x, y = self.x, self.y
        if self.shuffle:
            perm = torch.randperm(len(x), generator=self.generator).to(x.device)
            x, y = x[perm], y[perm]
        for start in range(0, len(x), self.batch_size):
            yield x[start : start + self.batch_size], y[start : start + self.batch_size]


def _progress(iterable, total: int, desc: str, enabled: bool):  # noqa: ANN001, ANN202
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, mininterval=0.5)


def train_epoch(
    model: nn.Module,
    batches: Batches,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    *,
    progress: bool = False,
    desc: str = "train",
    precision: str = "float32",
) -> tuple[float, float]:
    """One pass over ``batches`` in train mode; returns (mean loss per sample, accuracy).

    ``precision="bfloat16"`` runs each forward under autocast and the loss on its float32 output
    (:func:`nnlab.cpu.forward`); the weights, gradients and optimiser state stay float32.
    """
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in _progress(batches, len(batches), desc, progress):
        optimizer.zero_grad(set_to_none=True)
        out = model(x) if precision == "float32" else cpu.forward(model, x, precision)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(y)
        correct += int((out.argmax(1) == y).sum())
        seen += len(y)
    return total_loss / seen, correct / seen


@torch.no_grad()
def evaluate(
    model: nn.Module, batches: Batches, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
) -> tuple[float, float]:
    """Mean loss per sample and accuracy over ``batches``, in eval mode, without gradients."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in batches:
        out = model(x)
        total_loss += loss_fn(out, y).item() * len(y)
        correct += int((out.argmax(1) == y).sum())
        seen += len(y)
    return total_loss / seen, correct / seen


def fit(
    model: nn.Module,
    train: Batches,
    test: Batches,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.cross_entropy,
    progress: bool = True,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    train_epoch: Callable[..., tuple[float, float]] | None = None,
    evaluate: Callable[..., tuple[float, float]] | None = None,
    held_out: str = "test",
) -> dict[str, list[float]]:
    """Train for ``epochs`` and evaluate after each; returns the history of losses, accuracies and seconds.

    ``test`` is the held-out set evaluated after every epoch; ``held_out`` names it in the history
    (``"val"``: keys ``val_loss``/``val_acc``). Lessons pass the validation split and ``held_out="val"``, so that
    curves and choices never see the test set; a benchmark that only reports passes the test set.

    ``scheduler`` (if any) steps once after each epoch. ``train_epoch(model, batches, loss_fn, optimizer)`` and
    ``evaluate(model, batches, loss_fn)`` replace this module's own loops (a lesson trains with the student's);
    with ``progress``, such a ``train_epoch`` sees the batches wrapped in a tqdm bar.
    """
    import time

    keys = ("train_loss", "train_acc", f"{held_out}_loss", f"{held_out}_acc", "seconds")
    history: dict[str, list[float]] = {k: [] for k in keys}
    run_eval = evaluate or _evaluate
    epochs_iter = range(1, epochs + 1)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="epochs")
    for epoch in epochs_iter:
        start = time.perf_counter()
        if train_epoch is None:
            train_loss, train_acc = _train_epoch(
                model, train, loss_fn, optimizer, progress=progress, desc=f"epoch {epoch}"
            )
        else:
            train_loss, train_acc = train_epoch(
                model, _progress(train, len(train), f"epoch {epoch}", progress), loss_fn, optimizer
            )
        seconds = time.perf_counter() - start
        test_loss, test_acc = run_eval(model, test, loss_fn)
        if scheduler is not None:
            scheduler.step()
        for key, value in zip(history, (train_loss, train_acc, test_loss, test_acc, seconds), strict=True):
            history[key].append(value)
        if progress:
            epochs_iter.set_postfix({"train_loss": f"{train_loss:.3f}", f"{held_out}_acc": f"{test_acc:.4f}"})
    return history


# fit's keyword arguments shadow these names inside it
_train_epoch, _evaluate = train_epoch, evaluate


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """The model's outputs for ``x``, in eval mode, computed in chunks."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """counts[i, j] = number of samples of true class i predicted as class j."""
    idx = target.long().cpu() * num_classes + pred.long().cpu()
    return torch.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
