"""Draining a child's stdout and stderr: only their last bytes are kept, however much comes."""

from __future__ import annotations

OUTPUT_TAIL_BYTES = 16 * 1024
# How long output is still drained once the child ended, and how long a signalled child may take.
KILL_GRACE_SECONDS = 0.5


class OutputTail:
    """Keeps the total size and the last bytes of a stream."""

    def __init__(self) -> None:
        self.total = 0
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk
        if len(self.data) > 2 * OUTPUT_TAIL_BYTES:
            del self.data[:-OUTPUT_TAIL_BYTES]

    def text(self) -> str:
        tail = bytes(self.data[-OUTPUT_TAIL_BYTES:]).decode("utf-8", "replace")
        if self.total > OUTPUT_TAIL_BYTES:
            return f"[{self.total - OUTPUT_TAIL_BYTES} earlier bytes dropped]\n{tail}"
        return tail
