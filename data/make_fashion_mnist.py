"""Rebuild data/fashion_mnist.npz from the IDX files of Debian's package dataset-fashion-mnist.

Run once by a maintainer, never at course run time (the .deb is extracted, not installed):

    apt-get download dataset-fashion-mnist          # 0.0~git20200523.55506a9-1
    dpkg -x dataset-fashion-mnist_*.deb deb
    python data/make_fashion_mnist.py deb/usr/share/datasets/fashion-mnist data/fashion_mnist.npz

The arrays' sha256 (of their raw bytes, not of the .npz, whose zlib output varies)
are pinned in nnlab/data.py and listed in data/README.md.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
#: the canonical facts of Zalando's README: sizes, the first five labels, 10 classes
FIRST_LABELS = {"y_train": [9, 0, 0, 3, 0], "y_test": [9, 2, 1, 1, 6]}


def read_idx(path: Path) -> np.ndarray:
    """Parse a gzipped IDX file (big-endian header, uint8 payload)."""
    raw = gzip.decompress(path.read_bytes())
    magic = int.from_bytes(raw[:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte
        raise ValueError(f"{path}: not a uint8 IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def main(src: str, dst: str) -> None:
    arrays = {key: read_idx(Path(src) / name) for key, name in FILES.items()}
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    for key, first in FIRST_LABELS.items():
        assert arrays[key][:5].tolist() == first, (key, arrays[key][:5])
        assert sorted(set(arrays[key].tolist())) == list(range(10))
    np.savez_compressed(dst, **arrays)
    for key, arr in arrays.items():
        print(key, arr.shape, arr.dtype, hashlib.sha256(arr.tobytes()).hexdigest())


if __name__ == "__main__":
    main(*sys.argv[1:3])
