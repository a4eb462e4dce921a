"""The sandbox as far as the checks need it: run a task, read its outcome as data, and
record the isolation it ran under. Shared by the P5 (loss) and P7 (C3 layer) checks."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from grader.extraction.code import CodeUnit
from grader.models import Status
from grader.sandbox import wire


class ChildOutcome(Protocol):
    """What grader.sandbox.runner.RunOutcome offers (read-only view used by the checks)."""

    @property
    def status(self) -> Enum: ...
    @property
    def value(self) -> dict[str, Any] | None: ...
    @property
    def message(self) -> str: ...
    @property
    def seconds(self) -> float: ...


class TaskRunner(Protocol):
    def __call__(
        self,
        task: str,
        request: dict[str, Any],
        submission_dir: Path,
        *,
        readable_data: tuple[Path, ...] = (),
    ) -> ChildOutcome: ...


def default_runner() -> TaskRunner:
    from grader.sandbox.runner import run_task  # the sandbox layer, imported when used

    def run(
        task: str,
        request: dict[str, Any],
        submission_dir: Path,
        *,
        readable_data: tuple[Path, ...] = (),
    ) -> ChildOutcome:
        outcome: ChildOutcome = run_task(task, request, submission_dir, readable_data=readable_data)
        return outcome

    return run


# RunStatus names -> result statuses, for a child that did not finish.
_FAILED_RUN = {
    "TIMEOUT": Status.TIMEOUT,
    "OUT_OF_MEMORY": Status.CRASHED,
    "CRASHED": Status.CRASHED,
    "ERROR": Status.ERROR,
    "INVALID_OUTPUT": Status.INVALID_OUTPUT,
}


class Isolation:
    """The isolation layers the sandbox reports it applied (and warnings for those it
    could not) over the runs of one item, so each result can say how it was run."""

    def __init__(self) -> None:
        self.layers: list[str] = []
        self.warnings: list[str] = []

    def record(self, outcome: ChildOutcome) -> None:
        for layer in getattr(outcome, "layers", ()):
            if layer not in self.layers:
                self.layers.append(str(layer))
        for warning in getattr(outcome, "warnings", ()):
            if warning not in self.warnings:
                self.warnings.append(str(warning))

    def details(self) -> tuple[str, ...]:
        if not self.layers and not self.warnings:
            return ()
        applied = ", ".join(self.layers) or "none"
        return (f"Student code ran isolated ({applied})", *self.warnings)


def failed_run_status(outcome: ChildOutcome) -> Status | None:
    """None when the child finished and returned a value, else the status to report."""
    if outcome.status.name == "OK" and outcome.value is not None:
        return None
    return _FAILED_RUN.get(outcome.status.name, Status.ERROR)


def child_result(outcome: ChildOutcome) -> tuple[dict[str, Any] | None, str]:
    """The task's {"result": wire data} decoded; (None, why) when it is not a usable object."""
    try:
        value = wire.decode_value((outcome.value or {}).get("result"))
    except wire.WireError as exc:
        return None, f"the sandbox returned an unusable result ({exc})"
    if not isinstance(value, dict):
        return None, "the sandbox returned no result object"
    return value, ""


def units_request(units: tuple[CodeUnit, ...]) -> list[dict[str, Any]]:
    return [{"file": u.file, "source": u.source} for u in units]
