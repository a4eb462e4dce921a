"""The progress line: done/total, failures, reused results and time left."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class ProgressState:
    total: int
    done: int = 0
    failed: int = 0
    cached: int = 0
    elapsed_s: float = 0.0

    @property
    def seconds_left(self) -> float | None:
        """Elapsed time per student actually graded, times those left (workers run in
        parallel, so wall time per student already includes the parallelism)."""
        graded = self.done - self.cached
        if graded <= 0:
            return None
        return self.elapsed_s / graded * (self.total - self.done)


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def render(state: ProgressState, width: int = 28) -> str:
    filled = width * state.done // state.total if state.total else width
    bar = "#" * filled + "-" * (width - filled)
    left = state.seconds_left
    eta = "--:--" if left is None else _clock(left)
    parts = [f"[{bar}] {state.done}/{state.total}"]
    if state.failed:
        parts.append(f"{state.failed} failed")
    if state.cached:
        parts.append(f"{state.cached} reused")
    parts.append(f"{_clock(state.elapsed_s)} elapsed, {eta} left")
    return ", ".join(parts)


class ProgressBar:
    """Redraws one line on a terminal; elsewhere (CI logs) prints a line every tenth."""

    def __init__(self, stream: TextIO, total: int, live: bool) -> None:
        self._stream = stream
        self._live = live
        self._start = time.monotonic()
        self.state = ProgressState(total)
        self._last_logged = -1

    def advance(self, *, failed: bool, cached: bool) -> None:
        s = self.state
        self.state = ProgressState(
            total=s.total,
            done=s.done + 1,
            failed=s.failed + int(failed),
            cached=s.cached + int(cached),
            elapsed_s=time.monotonic() - self._start,
        )
        self._draw()

    def _draw(self) -> None:
        line = render(self.state)
        if self._live:
            self._stream.write("\r" + line)
            self._stream.flush()
            return
        step = max(1, self.state.total // 10)
        tenth = self.state.done // step
        if tenth != self._last_logged or self.state.done == self.state.total:
            self._last_logged = tenth
            self._stream.write(line + "\n")
            self._stream.flush()

    def finish(self) -> None:
        if self._live:
            self._stream.write("\n")
            self._stream.flush()
