"""Build the bundled MNIST 4-vs-9 files in grader/data/ from the four MNIST IDX gzip files.

Run by a developer, never by the grader:

    python scripts/build_mnist49.py [MNIST_DIR]

MNIST_DIR defaults to ../shared/data/mnist (relative to the repository). The uncompressed
IDX files are checked against the canonical MD5 sums before anything is written.

Output, one file per split so the sandboxed child can be given the training file only:
    grader/data/mnist49_train.gz, grader/data/mnist49_test.gz   (format in grader/data/mnist49.py)
    grader/data/mnist49.json                                    (sha256 of each file, counts)
gzip is written with mtime 0, so a rebuild from the same inputs gives identical bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "grader" / "data"
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "mnist"

# Canonical MD5 of the uncompressed IDX files (from the MNIST distribution).
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
SPLITS = {"train": ("train", 11791), "test": ("t10k", 1991)}
MAGIC = b"MNIST49\n"
NEGATIVE, POSITIVE = 4, 9  # label 4 -> -1, 9 -> +1


class BuildError(Exception):
    pass


def read_idx(path: Path, magic: int) -> tuple[tuple[int, ...], bytes]:
    """Decompress one IDX gzip file, check its MD5 and header; return (dims, data)."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except OSError as exc:
        raise BuildError(f"cannot read {path}: {exc}") from None
    name = path.name.removesuffix(".gz")
    digest = hashlib.md5(raw).hexdigest()
    if digest != MD5[name]:
        raise BuildError(f"{path}: MD5 {digest} does not match the canonical {MD5[name]}")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise BuildError(f"{path}: magic {found:#010x}, expected {magic:#010x}")
    ndim = magic & 0xFF
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return dims, raw[4 + 4 * ndim :]


def build_split(source: Path, prefix: str, expected: int) -> tuple[bytes, dict[str, int]]:
    (n, rows, cols), pixels = read_idx(source / f"{prefix}-images-idx3-ubyte.gz", 0x803)
    (n_labels,), labels = read_idx(source / f"{prefix}-labels-idx1-ubyte.gz", 0x801)
    if n != n_labels or rows * cols != 784:
        raise BuildError(f"{prefix}: {n} images of {rows}x{cols} but {n_labels} labels")
    size = rows * cols
    keep = [i for i, d in enumerate(labels) if d in (NEGATIVE, POSITIVE)]
    if len(keep) != expected:
        raise BuildError(f"{prefix}: {len(keep)} images of 4 and 9, expected {expected}")
    image_bytes = b"".join(pixels[i * size : (i + 1) * size] for i in keep)
    label_bytes = bytes(0xFF if labels[i] == NEGATIVE else 0x01 for i in keep)  # int8 -1 / +1
    header = {"count": len(keep), "rows": rows, "cols": cols, "pixels": "uint8", "labels": "int8"}
    payload = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    payload += image_bytes + label_bytes
    counts = {
        "count": len(keep),
        "fours": sum(1 for i in keep if labels[i] == NEGATIVE),
        "nines": sum(1 for i in keep if labels[i] == POSITIVE),
    }
    return gzip.compress(payload, compresslevel=9, mtime=0), counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args(argv)
    manifest: dict[str, object] = {
        "format": "gzip of b'MNIST49\\n' + JSON header line + uint8 pixels + int8 labels",
        "source_md5": MD5,
        "splits": {},
    }
    splits: dict[str, object] = {}
    try:
        for split, (prefix, expected) in SPLITS.items():
            blob, counts = build_split(args.source, prefix, expected)
            name = f"mnist49_{split}.gz"
            (DATA_DIR / name).write_bytes(blob)
            splits[split] = {"file": name, "sha256": hashlib.sha256(blob).hexdigest(), **counts}
            print(f"{name}: {counts['count']} images, {len(blob) / 1e6:.2f} MB")
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    manifest["splits"] = splits
    (DATA_DIR / "mnist49.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
