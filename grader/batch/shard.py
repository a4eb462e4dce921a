"""`--shard I/N`: a deterministic share of the class, so a CI matrix can split the work."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


class ShardError(ValueError):
    """A --shard value that is not I/N with 1 <= I <= N."""


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as written on the command line
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, student: str) -> bool:
        # sha256 rather than hash(): Python salts str hashes per process, and every CI job
        # must agree on who belongs where.
        value = int.from_bytes(hashlib.sha256(student.encode("utf-8")).digest()[:8], "big")
        return value % self.count == self.index - 1


def parse_shard(text: str) -> Shard:
    index_text, sep, count_text = text.strip().partition("/")
    if not sep or not index_text.strip().isdigit() or not count_text.strip().isdigit():
        raise ShardError(f"--shard must look like I/N (for example 2/4), not {text!r}")
    index, count = int(index_text), int(count_text)
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard {text}: need 1 <= I <= N (shards are numbered from 1)")
    return Shard(index, count)
