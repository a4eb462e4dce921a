"""Draining a supervisor's output and envelope until it ends, the same for both launch paths.

stdout and stderr keep only their last bytes, however much comes; the envelope is kept up to
a cap, and past it read and dropped (a writer must never block on us). The run timed out when
the supervisor had not ended at the deadline; what "ended" and "stop it" mean is the
launcher's (a process that exited and is killed by group, or a connection that closed and is
shut down).
"""

from __future__ import annotations

import os
import selectors
import time
from dataclasses import dataclass
from typing import Protocol

from grader.sandbox import wire

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


class Supervisor(Protocol):
    """The launcher's side of a drain: how to tell the supervisor ended, how to stop it."""

    def ended(self, envelope_closed: bool) -> bool:
        """Whether the supervisor is gone (`envelope_closed`: its envelope channel hit EOF)."""

    def stop(self) -> float:
        """Called once, at the deadline: make it stop; returns how long it may take to end."""


@dataclass(frozen=True)
class Drained:
    timed_out: bool  # the supervisor had not ended at the deadline
    ended: bool  # it ended, in time or within the window `stop` gave it
    envelope: bytes  # empty when it overflowed
    envelope_overflowed: bool
    stdout: str
    stderr: str


def drain(
    stdout: int, stderr: int, envelope_fd: int, deadline: float, cap: int, supervisor: Supervisor
) -> Drained:
    """Read the three descriptors (left open) until the supervisor ended and they went quiet.

    `cap` is the largest envelope body (wire.unpack_single_frame's limit).
    """
    selector = selectors.DefaultSelector()
    tails = {stdout: OutputTail(), stderr: OutputTail()}
    for fd in (stdout, stderr, envelope_fd):
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    envelope = bytearray()
    limit = cap + wire.HEADER.size
    overflowed = timed_out = ended = closed = False
    ended_at = 0.0
    stop_by: float | None = None
    try:
        while selector.get_map():
            now = time.monotonic()
            if not ended and supervisor.ended(closed):
                ended, ended_at = True, now
            if ended:
                if now - ended_at > KILL_GRACE_SECONDS:
                    break  # output still held open now is a leftover's, killed by uid
                wake = ended_at + KILL_GRACE_SECONDS
            elif stop_by is None:
                if now >= deadline:
                    timed_out = True
                    stop_by = time.monotonic() + supervisor.stop()
                    continue  # it may have ended by now
                wake = deadline
            elif now >= stop_by:
                break  # it would not stop: the launcher takes it down
            else:
                wake = stop_by
            for key, _ in selector.select(timeout=max(0.0, min(0.1, wake - now))):
                fd = int(key.fd)
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(fd)
                    closed = closed or fd == envelope_fd
                elif fd != envelope_fd:
                    tails[fd].add(chunk)
                elif overflowed or len(envelope) + len(chunk) > limit:
                    overflowed = True  # read to the end, and dropped
                    envelope.clear()
                else:
                    envelope += chunk
    finally:
        selector.close()
    if not ended:
        ended = supervisor.ended(closed)
    return Drained(
        timed_out,
        ended,
        bytes(envelope),
        overflowed,
        tails[stdout].text(),
        tails[stderr].text(),
    )
