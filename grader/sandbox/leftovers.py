"""Finding and killing the processes of a uid: whatever a run leaves behind dies by its uid."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator


def uid_processes() -> Iterator[tuple[int, int]]:
    """(pid, real uid) of every live process (zombies are already dead)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as stream:
                text = stream.read()
        except OSError:
            continue
        state = uid = None
        for line in text.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid = int(line.split()[1])
        if uid is not None and state != "Z":
            yield int(entry), uid


def kill_uid(uid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = [pid for pid, owner in uid_processes() if owner == uid]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
