"""Helpers every child task uses: load the kept definitions of the units, bound a student
call in time, and name a student error in one line. Runs INSIDE the sandbox child: standard
library, torch and grader.sandbox modules only."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class CallTimeout(BaseException):
    """Raised by the alarm inside a student call that does not return in time. A
    BaseException so that `except Exception` in student code does not swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt Python-level loops after `seconds`; the runner's wall clock stays the backstop
    (a C-level hang or swallowed alarm is caught there)."""
    if seconds <= 0 or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise CallTimeout

    signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def error_text(exc: BaseException) -> str:
    """One line naming the exception and the student's line where it happened."""
    line = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<student:"):
            line = f" ({frame.filename[9:-1]} line {frame.lineno})"
    return f"{type(exc).__name__}: {exc}"[:300] + line


def exec_units(
    units: list[dict[str, Any]], seconds: float
) -> tuple[list[dict[str, Any]], list[str]]:
    """Execute the kept definitions of each unit in load order. Each unit gets its own
    namespace that starts from the names of the units before it (so `from other_file import X`,
    dropped statically, still finds X). Returns (namespaces, errors)."""
    merged: dict[str, Any] = {}
    spaces: list[dict[str, Any]] = []
    errors: list[str] = []
    for unit in units:
        file = str(unit["file"])
        ns: dict[str, Any] = dict(merged)
        ns["__name__"] = "student_" + "".join(c if c.isalnum() else "_" for c in file)
        try:
            code = compile(str(unit["source"]), f"<student:{file}>", "exec")
            with time_limit(seconds):
                exec(code, ns)
        except CallTimeout:
            errors.append(f"{file}: the definitions did not finish loading within {seconds:g} s")
        except BaseException as exc:  # noqa: BLE001 - any student failure becomes a message
            errors.append(f"{file}: loading the definitions failed: {error_text(exc)}")
        spaces.append(ns)
        merged.update({k: v for k, v in ns.items() if not k.startswith("__")})
    return spaces, errors
