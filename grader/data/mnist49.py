"""The bundled MNIST 4-vs-9 splits (built by scripts/build_mnist49.py), read and verified.

File format (one file per split, so the sandboxed child can be given the training file only):
gzip of  b"MNIST49\\n" + one JSON header line {"count", "rows", "cols", ...} + count*rows*cols
uint8 pixels (row-major images) + count int8 labels (4 -> -1, 9 -> +1).
The sha256 of each file is stored in mnist49.json next to it and checked on every load.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

DATA_DIR = Path(__file__).resolve().parent
MANIFEST = DATA_DIR / "mnist49.json"
MAGIC = b"MNIST49\n"

SplitName = Literal["train", "test"]


class DataError(Exception):
    """A bundled data file is missing, altered or malformed; the message names the file."""


@dataclass(frozen=True)
class SplitFile:
    name: SplitName
    path: Path
    sha256: str
    count: int


def split_file(name: SplitName) -> SplitFile:
    """Where a split lives and the checksum it must have (read from mnist49.json)."""
    try:
        manifest = json.loads(MANIFEST.read_text())
        entry = manifest["splits"][name]
        return SplitFile(name, DATA_DIR / entry["file"], str(entry["sha256"]), int(entry["count"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{MANIFEST}: no usable entry for split {name!r} ({exc})") from None


def decode(blob: bytes, where: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Bytes of one split file -> (images float32 (N, 784) in [0, 1], labels float32 (N,))."""
    try:
        raw = gzip.decompress(blob)
    except (OSError, EOFError) as exc:
        raise DataError(f"{where}: not a gzip file ({exc})") from None
    if not raw.startswith(MAGIC):
        raise DataError(f"{where}: not an MNIST49 file")
    end = raw.index(b"\n", len(MAGIC))
    try:
        header = json.loads(raw[len(MAGIC) : end])
        n, size = int(header["count"]), int(header["rows"]) * int(header["cols"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{where}: bad header ({exc})") from None
    body = raw[end + 1 :]
    if len(body) != n * size + n:
        raise DataError(f"{where}: {len(body)} data bytes, expected {n * size + n}")
    pixels = torch.frombuffer(bytearray(body[: n * size]), dtype=torch.uint8)
    labels = torch.frombuffer(bytearray(body[n * size :]), dtype=torch.int8)
    # ToTensor scaling: uint8 / 255, no other normalisation (as in the assignment).
    return pixels.reshape(n, size).to(torch.float32) / 255.0, labels.to(torch.float32)


def read_verified(split: SplitFile) -> bytes:
    try:
        blob = split.path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {split.path}: {exc.strerror}") from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != split.sha256:
        raise DataError(
            f"{split.path} has sha256 {digest}, expected {split.sha256}: the file was altered; "
            "rebuild it with scripts/build_mnist49.py"
        )
    return blob


def load_split(name: SplitName) -> tuple[torch.Tensor, torch.Tensor]:
    """The verified split: images (N, 784) float32 in [0, 1], labels (N,) float32 in {-1, +1}."""
    split = split_file(name)
    x, y = decode(read_verified(split), str(split.path))
    if x.shape[0] != split.count:
        raise DataError(f"{split.path}: {x.shape[0]} images, manifest says {split.count}")
    return x, y
