"""The sandbox's data types: what a run may use, how it ended, and its raw result.

Every parent-side module imports these; they import nothing of the sandbox, so no cycle forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 20.0
    cpu_seconds: int = 60
    memory_bytes: int = 3 * 2**30  # RLIMIT_AS; import torch alone needs ~520 MiB of address space
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    result_bytes: int = 64 * 2**20
    processes: int = 128  # RLIMIT_NPROC for the sandbox uid; torch threads count too


def envelope_cap(limits: Limits) -> int:
    """The largest envelope body a supervisor may send: the result in base64, plus the rest."""
    return limits.result_bytes * 4 // 3 + 2**20


class Launcher(Enum):
    """How the task's sandbox was started (both apply the same layers)."""

    EXEC = "exec"
    FORK_SERVER = "fork server"


class RunStatus(Enum):
    OK = "ok"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out of memory"
    CRASHED = "crashed"
    ERROR = "error"
    INVALID_OUTPUT = "invalid output"


@dataclass(frozen=True)
class RunOutcome:
    status: RunStatus
    value: dict[str, Any] | None  # the task's JSON result (wire data), only when status is OK
    message: str
    layers: tuple[str, ...]
    warnings: tuple[str, ...]
    seconds: float
    stdout_tail: str = ""
    stderr_tail: str = ""
    launcher: Launcher = Launcher.EXEC


@dataclass(frozen=True)
class RawResult:
    """What either launch path brings back, before it is put into words (outcome.py)."""

    timed_out: bool
    envelope: bytes
    returncode: int | None
    stdout: str
    stderr: str
    envelope_overflowed: bool = False  # more than envelope_cap came: it was dropped
