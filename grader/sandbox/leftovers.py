"""Finding and killing processes: whatever a run leaves behind dies by its uid.

Standard library only: the supervisor (child.py) imports it inside the sandbox too.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    uids: tuple[int, ...]  # real, effective, saved, filesystem

    @property
    def real_uid(self) -> int:
        return self.uids[0]


def processes() -> list[Process]:
    """Every live process (zombies are already dead)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as stream:
                fields = dict(line.split(":", 1) for line in stream if ":" in line)
        except (OSError, ValueError):
            continue  # gone meanwhile
        if fields.get("State", "").strip().startswith("Z"):
            continue
        uids = tuple(int(u) for u in fields.get("Uid", "").split())
        if uids:
            found.append(Process(int(entry), int(fields.get("PPid", "0")), uids))
    return found


def kill_matching(
    match: Callable[[Process], bool],
    seconds: float,
    after_round: Callable[[], None] = lambda: None,
) -> int:
    """SIGKILL every matching process, again until none is left or `seconds` pass.

    `after_round` runs after each round of kills (a parent reaps its children there).
    Returns how many processes were signalled.
    """
    killed: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        targets = [p.pid for p in processes() if match(p)]
        for pid in targets:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except (ProcessLookupError, PermissionError):
                pass
        after_round()
        if not targets:
            break
        time.sleep(0.01)
    return len(killed)


def kill_uid(uid: int) -> None:
    """Kill every process whose real uid is `uid`."""
    kill_matching(lambda p: p.real_uid == uid, seconds=5.0)
