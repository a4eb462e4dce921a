"""The bundled MNIST 4-vs-9 splits: sizes, labels, scaling, checksum, and the child's reader."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch

from grader.data.mnist49 import DataError, SplitFile, decode, load_split, read_verified, split_file
from grader.sandbox.tasks.p5 import read_train_split


@pytest.mark.parametrize(("name", "fours", "nines"), [("train", 5842, 5949), ("test", 982, 1009)])
def test_split_sizes_labels_and_scaling(name: str, fours: int, nines: int) -> None:
    x, y = load_split(name)  # type: ignore[arg-type]
    assert x.shape == (fours + nines, 784) and x.dtype == torch.float32
    assert int((y == -1).sum()) == fours and int((y == 1).sum()) == nines
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    # ToTensor scaling: every value is k/255 for an integer k
    k = x[:50] * 255
    assert torch.allclose(k, k.round(), atol=1e-4)


def test_files_are_small_and_separate() -> None:
    train, test = split_file("train"), split_file("test")
    assert train.path != test.path
    assert train.path.stat().st_size + test.path.stat().st_size < 4_000_000


def test_altered_file_is_refused(tmp_path: Path) -> None:
    good = split_file("test")
    blob = bytearray(good.path.read_bytes())
    blob[-10] ^= 0xFF
    bad = tmp_path / "mnist49_test.gz"
    bad.write_bytes(bytes(blob))
    with pytest.raises(DataError, match="altered"):
        read_verified(SplitFile("test", bad, good.sha256, good.count))


def test_malformed_content_is_named() -> None:
    with pytest.raises(DataError, match="where.gz: not an MNIST49 file"):
        decode(gzip.compress(b"something else\n"), "where.gz")
    with pytest.raises(DataError, match="not a gzip"):
        decode(b"plain bytes", "where.gz")


def test_child_reader_agrees_with_loader() -> None:
    train = split_file("train")
    x_child, y_child = read_train_split(train.path, train.sha256)
    x, y = load_split("train")
    assert torch.equal(x_child, x) and torch.equal(y_child, y)
    with pytest.raises(ValueError, match="checksum"):
        read_train_split(train.path, "0" * 64)
