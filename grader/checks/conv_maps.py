"""Torch helpers shared by the filter checks (P1, P2, P3): seeded images, the maps the sheet
defines computed directly (never by a convolution, so a check cannot agree with itself), and
comparisons of outputs that report shape differences in words.

Everything is float64 on small tensors with fixed seeds: a check takes milliseconds and gives
the same verdict on every run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from grader.models import Array

DTYPE = torch.float64


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread, then restore the setting. On these tiny tensors a second
    thread only adds synchronisation: measured on the shared 2-core machine under load, a
    P1 check took 0.5 ms on one thread and 75 ms on two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tensor_of(array: Array) -> torch.Tensor:
    return torch.tensor(array.values, dtype=DTYPE).reshape(array.shape)


def is_finite(array: Array) -> bool:
    return bool(torch.isfinite(tensor_of(array)).all()) if array.values else True


def random_images(
    shapes: Sequence[tuple[int, int]], channels: int, seed: int
) -> tuple[torch.Tensor, ...]:
    """One (1, channels, m, n) standard-normal image per shape, the same on every call."""
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.randn((1, channels, m, n), generator=gen, dtype=DTYPE) for m, n in shapes)


def finite_differences(x: torch.Tensor) -> torch.Tensor:
    """P1's Y for x of shape (N, 1, m, n): Y1[i,j] = X[i+1,j] - X[i,j], Y2[i,j] = X[i,j+1] -
    X[i,j], with X = 0 outside the image. Written with slices, not a convolution."""
    img = x[:, 0]
    below = torch.zeros_like(img)
    below[:, :-1, :] = img[:, 1:, :]
    right = torch.zeros_like(img)
    right[:, :, :-1] = img[:, :, 1:]
    return torch.stack((below - img, right - img), dim=1)


def channel_mix(x: torch.Tensor, weights: Sequence[float]) -> torch.Tensor:
    """sum_c weights[c] * x[:, c], kept as one channel: P3's greyscale map, written directly."""
    out = torch.zeros_like(x[:, :1])
    for c, w in enumerate(weights):
        out = out + w * x[:, c : c + 1]
    return out


def size_text(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def close(a: torch.Tensor, b: torch.Tensor, tolerance: float) -> bool:
    """Same shape and equal within tolerance (absolute, and relative for large values)."""
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=tolerance, atol=tolerance))


def max_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max()) if a.numel() else 0.0


def constant_ratio(got: torch.Tensor, want: torch.Tensor, tolerance: float) -> float | None:
    """r when got == r * want (r != 1), e.g. sum pooling is k^2 times the average; else None."""
    if got.shape != want.shape:
        return None
    norm = float((want * want).sum())
    if norm <= tolerance:
        return None
    r = float((got * want).sum()) / norm
    if abs(r - 1.0) <= tolerance or not close(got, r * want, tolerance):
        return None
    return r


@dataclass(frozen=True)
class Outputs:
    """What a filter computed on each test image; `problem` says in words why it could not
    run (a shape that conv2d refuses), in which case `maps` is empty."""

    maps: tuple[torch.Tensor, ...]
    problem: str | None = None

    def same_as(self, other: Outputs, tolerance: float) -> bool:
        return (
            self.problem is None
            and other.problem is None
            and len(self.maps) == len(other.maps)
            and all(close(a, b, tolerance) for a, b in zip(self.maps, other.maps, strict=True))
        )


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """The length conv2d gives along one axis (<= 0 means conv2d refuses the input)."""
    return (size + 2 * padding - kernel) // stride + 1
