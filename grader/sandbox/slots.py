"""Concurrency slots: each run holds one (a lock file) and runs as that slot's own uid."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager

from grader.sandbox.host_folders import SANDBOX_ROOT, private_dir
from grader.sandbox.leftovers import kill_uid

SANDBOX_UID_BASE = 190_000  # uids SANDBOX_UID_BASE .. +SLOTS-1: unused by any account
SLOTS = 64


def is_sandbox_uid(uid: int) -> bool:
    return SANDBOX_UID_BASE <= uid < SANDBOX_UID_BASE + SLOTS


@contextmanager
def slot() -> Iterator[int]:
    """Hold an exclusive concurrency slot (a lock file) and yield its uid."""
    locks = private_dir(SANDBOX_ROOT / "slots")
    deadline = time.monotonic() + 600
    while True:
        for index in range(SLOTS):
            handle = open(locks / f"{index}.lock", "a+")  # noqa: SIM115 - held while running
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                uid = SANDBOX_UID_BASE + index
                kill_uid(uid)  # a previous run that crashed may have left processes
                yield uid
            finally:
                handle.close()
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"all {SLOTS} sandbox slots stayed busy for 10 minutes")
        time.sleep(0.05)
