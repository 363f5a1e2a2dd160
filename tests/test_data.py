"""MNIST ships in data/, matches the canonical facts, and a damaged copy gets a clear message."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from nnlab import data


@pytest.fixture(scope="module")
def mnist() -> data.MNIST:
    return data.load_mnist(normalize=False)


def test_shapes_and_dtypes(mnist: data.MNIST) -> None:
    assert mnist.x_train.shape == (60000, 1, 28, 28) and mnist.x_test.shape == (10000, 1, 28, 28)
    assert mnist.y_train.shape == (60000,) and mnist.y_test.shape == (10000,)
    assert mnist.x_train.dtype == torch.float32 and mnist.y_train.dtype == torch.int64


def test_canonical_facts(mnist: data.MNIST) -> None:
    assert int(mnist.y_train[0]) == 5 and int(mnist.y_test[0]) == 7
    assert set(mnist.y_train.unique().tolist()) == set(range(10))
    assert float(mnist.x_train.mean()) == pytest.approx(0.1307, abs=1e-4)
    assert float(mnist.x_train.std()) == pytest.approx(0.3081, abs=1e-4)


def test_normalised_training_images_are_standardised() -> None:
    x = data.load_mnist(subset=6000).x_train
    assert abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 1) < 0.05


def test_subset_is_a_prefix() -> None:
    small = data.load_mnist(subset=600)
    assert small.x_train.shape[0] == 600 and small.x_test.shape[0] == 100 and int(small.y_train[0]) == 5


def test_missing_file_says_how_to_restore(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="never downloaded"):
        data.load_mnist(tmp_path / "mnist.npz")


def test_corrupt_file_is_detected(tmp_path: Path) -> None:
    broken = tmp_path / "mnist.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(data.DataError, match="unreadable"):
        data.load_mnist(broken)


def test_altered_array_fails_the_checksum(tmp_path: Path) -> None:
    with np.load(data.MNIST_PATH) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    arrays["y_test"][0] = 3
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(data.DataError, match="corrupt"):
        data.load_mnist(tmp_path / "mnist.npz")


def test_data_readme_lists_the_checksums() -> None:
    readme = (data.DATA_DIR / "README.md").read_text()
    for digest in data.MNIST_SHA256.values():
        assert digest in readme


@pytest.mark.parametrize("make", [data.moons, data.circles, data.spiral])
def test_toy_sets_are_seeded(make) -> None:
    (x1, y1), (x2, y2) = make(seed=3), make(seed=3)
    assert torch.equal(x1, x2) and torch.equal(y1, y2) and x1.dtype == torch.float32 and y1.dtype == torch.int64


def test_logic_gates() -> None:
    assert data.logic_gate("xor")[1].tolist() == [0, 1, 1, 0]
    with pytest.raises(ValueError, match="kind"):
        data.logic_gate("nand")


def test_copy_of_repo_data_loads(tmp_path: Path) -> None:
    shutil.copy(data.MNIST_PATH, tmp_path / "m.npz")
    assert data.load_mnist(tmp_path / "m.npz", subset=60).x_train.shape[0] == 60


def test_validation_split_is_disjoint_seeded_and_leaves_the_rng_alone() -> None:
    x = torch.arange(100).float().unsqueeze(1)
    y = torch.arange(100)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = data.split_validation(x, y, 10)
    assert torch.equal(torch.get_rng_state(), before)
    b = data.split_validation(x, y, 10)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    train, val = set(a[1].tolist()), set(a[3].tolist())
    assert len(train) == 90 and len(val) == 10 and not train & val
    assert torch.equal(a[0].squeeze(1).long(), a[1])  # images stay with their labels
    assert val != set(range(10)), "the validation part is drawn at random, not the first images"
    with pytest.raises(ValueError, match="validation size"):
        data.split_validation(x, y, 100)


def test_load_mnist_with_validation_holds_out_5000_training_images(mnist) -> None:
    split = data.load_mnist(normalize=False, validation=data.VALIDATION_SIZE)
    assert len(split.x_train) == 55_000 and len(split.x_val) == 5_000 and len(split.x_test) == 10_000
    assert torch.equal(split.x_test, mnist.x_test)
    small = data.load_mnist(subset=600, validation=data.VALIDATION_SIZE)
    assert (len(small.x_train), len(small.x_val), len(small.x_test)) == (600, 100, 100)


def test_a_subset_is_the_same_images_as_cutting_the_whole_load() -> None:
    """The loader cuts before converting: the subset's tensors equal the whole load's, cut, bit for bit."""
    whole = data.load_mnist(validation=data.VALIDATION_SIZE)
    part = data.load_mnist(subset=600, validation=data.VALIDATION_SIZE)
    for name, n in [("x_train", 600), ("y_train", 600), ("x_val", 100), ("y_val", 100), ("x_test", 100)]:
        got, want = getattr(part, name), getattr(whole, name)[:n]
        assert torch.equal(got, want) and got.dtype == want.dtype and got.is_contiguous(), name


# ---------------------------------------------------------------- Fashion-MNIST


@pytest.fixture(scope="module")
def fashion() -> data.MNIST:
    return data.load_fashion_mnist(normalize=False)


def test_fashion_mnist_canonical_facts(fashion: data.MNIST) -> None:
    assert fashion.x_train.shape == (60000, 1, 28, 28) and fashion.x_test.shape == (10000, 1, 28, 28)
    assert fashion.y_train[:5].tolist() == [9, 0, 0, 3, 0] and fashion.y_test[:5].tolist() == [9, 2, 1, 1, 6]
    assert set(fashion.y_train.unique().tolist()) == set(range(10)) == set(fashion.y_test.unique().tolist())
    assert data.FASHION_MNIST_CLASSES[9] == "Ankle boot" and len(data.FASHION_MNIST_CLASSES) == 10
    assert float(fashion.x_train.mean()) == pytest.approx(data.FASHION_MNIST_MEAN, abs=1e-4)
    assert float(fashion.x_train.std()) == pytest.approx(data.FASHION_MNIST_STD, abs=1e-4)
    assert not torch.equal(fashion.x_test[:10], data.load_mnist(normalize=False, subset=60).x_test[:10])


def test_fashion_mnist_normalised_and_split() -> None:
    split = data.load_fashion_mnist(validation=data.VALIDATION_SIZE)
    assert (len(split.x_train), len(split.x_val), len(split.x_test)) == (55_000, 5_000, 10_000)
    assert abs(float(split.x_train.mean())) < 0.01 and abs(float(split.x_train.std()) - 1) < 0.01
    small = data.load_fashion_mnist(subset=600, validation=data.VALIDATION_SIZE)
    assert (len(small.x_train), len(small.x_val), len(small.x_test)) == (600, 100, 100)


def test_fashion_mnist_missing_corrupt_and_altered_files_get_clear_messages(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="Fashion-MNIST is missing.*never downloaded"):
        data.load_fashion_mnist(tmp_path / "fashion_mnist.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(data.DataError, match="Fashion-MNIST file .* unreadable"):
        data.load_fashion_mnist(broken)
    with np.load(data.FASHION_MNIST_PATH) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    arrays["y_train"][0] = 0
    np.savez_compressed(tmp_path / "altered.npz", **arrays)
    with pytest.raises(data.DataError, match="Fashion-MNIST array y_train .* corrupt"):
        data.load_fashion_mnist(tmp_path / "altered.npz")
    with pytest.raises(data.DataError, match="corrupt"):  # MNIST's file is not Fashion-MNIST's
        data.load_fashion_mnist(data.MNIST_PATH)


def test_data_readme_lists_the_fashion_mnist_checksums() -> None:
    readme = (data.DATA_DIR / "README.md").read_text()
    assert "Fashion-MNIST" in readme
    for digest in data.FASHION_MNIST_SHA256.values():
        assert digest in readme
