"""Data for the lessons: MNIST and Fashion-MNIST from ``data/*.npz`` (never downloaded) and small 2-D toy sets."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MNIST_PATH = DATA_DIR / "mnist.npz"
#: sha256 of each array's raw bytes (uint8, C order); see data/README.md.
MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

FASHION_MNIST_PATH = DATA_DIR / "fashion_mnist.npz"
#: sha256 of each array's raw bytes (uint8, C order); see data/README.md.
FASHION_MNIST_SHA256 = {
    "x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
    "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
}
FASHION_MNIST_MEAN, FASHION_MNIST_STD = 0.2860, 0.3530
#: Fashion-MNIST's label names, in label order (Zalando's README)
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class DataError(RuntimeError):
    """The course data is missing or corrupt."""


@dataclass
class MNIST:
    """MNIST (or Fashion-MNIST) as tensors: images float32 (N, 1, 28, 28), labels int64 (N,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    #: held-out part of the training images (``load_mnist(validation=...)``); empty unless asked for
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None


#: the course's validation split: 5,000 of the 60,000 training images, drawn once with this seed
VALIDATION_SIZE, VALIDATION_SEED = 5000, 0


def split_validation(
    x: torch.Tensor, y: torch.Tensor, size: int = VALIDATION_SIZE, seed: int = VALIDATION_SEED
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hold out ``size`` examples, chosen by a seeded permutation: ``(x_train, y_train, x_val, y_val)``.

    Choices (epochs, schedules, widths) are made on the validation part; the test set is touched once, at the end.
    The permutation uses its own generator, so the global RNG is left as found.
    """
    if not 0 < size < len(x):
        raise ValueError(f"validation size must be between 1 and {len(x) - 1}, not {size}")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    val, train = order[:size].sort().values, order[size:].sort().values
    return x[train], y[train], x[val], y[val]


def _read_mnist_arrays(
    path: Path, verify: bool, checksums: dict[str, str] = MNIST_SHA256, name: str = "MNIST"
) -> dict[str, np.ndarray]:
    """Read the four uint8 arrays of an MNIST-like .npz and check them against ``checksums``."""
    restore = f"`git checkout -- data/{path.name}`"
    if not path.exists():
        raise DataError(
            f"{name} is missing: {path} does not exist. It ships with the course repository "
            f"(data/{path.name}); restore it with {restore}. It is never downloaded."
        )
    try:
        with np.load(path) as npz:
            arrays = {key: npz[key] for key in checksums}
    except Exception as exc:  # zip or npy damage, missing key
        raise DataError(f"{name} file {path} is unreadable ({exc}); restore it with {restore}.") from exc
    if verify:
        for key, digest in checksums.items():
            actual = hashlib.sha256(np.ascontiguousarray(arrays[key]).tobytes()).hexdigest()
            if actual != digest:
                raise DataError(
                    f"{name} array {key} in {path} is corrupt (sha256 {actual[:16]}…, expected {digest[:16]}…); "
                    f"restore the file with {restore}."
                )
    return arrays


def _as_dataset(
    arrays: dict[str, np.ndarray],
    mean_std: tuple[float, float] | None,
    subset: int | None,
    device: torch.device | str,
    validation: int,
) -> MNIST:
    """Split and cut the uint8 arrays first, then convert only the images kept (a quarter of the bytes to move)."""

    def images(a: torch.Tensor) -> torch.Tensor:
        x = a.to(torch.float32).div_(255.0).unsqueeze(1)
        return x if mean_std is None else x.sub_(mean_std[0]).div_(mean_std[1])

    raw = MNIST(*(torch.from_numpy(arrays[k]) for k in ("x_train", "y_train", "x_test", "y_test")))
    if validation:
        x_train, y_train, x_val, y_val = split_validation(raw.x_train, raw.y_train, validation)
        raw = MNIST(x_train, y_train, raw.x_test, raw.y_test, x_val, y_val)
    if subset is not None:
        few = max(1, subset // 6)
        raw = MNIST(
            raw.x_train[:subset],
            raw.y_train[:subset],
            raw.x_test[:few],
            raw.y_test[:few],
            None if raw.x_val is None else raw.x_val[:few],
            None if raw.y_val is None else raw.y_val[:few],
        )
    data = MNIST(
        images(raw.x_train),
        raw.y_train.long(),
        images(raw.x_test),
        raw.y_test.long(),
        None if raw.x_val is None else images(raw.x_val),
        None if raw.y_val is None else raw.y_val.long(),
    )
    fields = (data.x_train, data.y_train, data.x_test, data.y_test, data.x_val, data.y_val)
    return MNIST(*(None if t is None else t.to(device) for t in fields))


def load_mnist(
    path: Path | str = MNIST_PATH,
    *,
    normalize: bool = True,
    subset: int | None = None,
    device: torch.device | str = "cpu",
    verify: bool = True,
    validation: int = 0,
) -> MNIST:
    """Load MNIST from the course's .npz, check its sha256, and return tensors.

    ``normalize`` scales pixels to [0, 1] then standardises with MNIST's mean/std;
    ``validation`` (e.g. ``VALIDATION_SIZE``) moves that many training images to ``x_val``/``y_val``
    (see :func:`split_validation`); ``subset`` then keeps the first ``subset`` training and ``subset // 6``
    validation and test images.
    """
    arrays = _read_mnist_arrays(Path(path), verify)
    return _as_dataset(arrays, (MNIST_MEAN, MNIST_STD) if normalize else None, subset, device, validation)


def load_fashion_mnist(
    path: Path | str = FASHION_MNIST_PATH,
    *,
    normalize: bool = True,
    subset: int | None = None,
    device: torch.device | str = "cpu",
    verify: bool = True,
    validation: int = 0,
) -> MNIST:
    """Load Fashion-MNIST (Zalando) from the course's .npz, check its sha256, and return tensors.

    Same options as :func:`load_mnist`; ``normalize`` standardises with Fashion-MNIST's own mean/std.
    Label names are in ``FASHION_MNIST_CLASSES``.
    """
    arrays = _read_mnist_arrays(Path(path), verify, FASHION_MNIST_SHA256, "Fashion-MNIST")
    mean_std = (FASHION_MNIST_MEAN, FASHION_MNIST_STD) if normalize else None
    return _as_dataset(arrays, mean_std, subset, device, validation)


# ---------------------------------------------------------------- 2-D toy sets (numpy, seeded)


def _as_tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64))


def logic_gate(kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The four corners of the unit square labelled by AND, OR or XOR."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    ops = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}
    if kind not in ops:
        raise ValueError(f"kind must be one of {sorted(ops)}, not {kind!r}")
    return _as_tensors(x, ops[kind](x[:, 0], x[:, 1]))


def moons(n: int = 400, noise: float = 0.15, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, math.pi, n)
    y = rng.integers(0, 2, n)
    x = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return _as_tensors(x + rng.normal(0, noise, x.shape), y)


def circles(n: int = 400, noise: float = 0.08, factor: float = 0.5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A small circle inside a large one."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * math.pi, n)
    y = rng.integers(0, 2, n)
    r = np.where(y == 1, factor, 1.0)
    x = np.c_[r * np.cos(t), r * np.sin(t)]
    return _as_tensors(x + rng.normal(0, noise, x.shape), y)


def spiral(n: int = 450, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``classes`` interleaved spiral arms (the CS231n toy set)."""
    rng = np.random.default_rng(seed)
    per = n // classes
    xs, ys = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, per)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, per) + rng.normal(0, noise, per)
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(per, k))
    return _as_tensors(np.concatenate(xs), np.concatenate(ys))
