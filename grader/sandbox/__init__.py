"""Run untrusted student code in an isolated child and get back data only.

Public API: run_task, available_layers, Limits, RunStatus, RunOutcome (see runner.py).
"""

from grader.sandbox.runner import (
    Launcher,
    Limits,
    RunOutcome,
    RunStatus,
    available_layers,
    run_task,
    sandbox_processes,
)

__all__ = [
    "Launcher",
    "Limits",
    "RunOutcome",
    "RunStatus",
    "available_layers",
    "run_task",
    "sandbox_processes",
]
