"""A per-document time budget, so a hostile write-up cannot stall a batch."""

from __future__ import annotations

import time


class BudgetExceeded(Exception):
    """The document used up its reading time; the reader stops and notes it."""


class Budget:
    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self.seconds = seconds

    def check(self) -> None:
        if time.monotonic() > self._deadline:
            raise BudgetExceeded(f"reading took longer than {self.seconds:g} s")
