"""The sandbox as far as the checks need it: run a task, read its outcome as data, and
record the isolation it ran under. Shared by the P5 (loss) and P7 (C3 layer) checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from grader.extraction.code import CodeUnit
from grader.models import Status
from grader.sandbox import wire
from grader.sandbox.run_types import RunOutcome, RunStatus


class TaskRunner(Protocol):
    def __call__(
        self,
        task: str,
        request: dict[str, Any],
        submission_dir: Path,
        *,
        readable_data: tuple[Path, ...] = (),
    ) -> RunOutcome: ...


def default_runner() -> TaskRunner:
    from grader.sandbox.runner import run_task  # the sandbox layer, imported when used

    def run(
        task: str,
        request: dict[str, Any],
        submission_dir: Path,
        *,
        readable_data: tuple[Path, ...] = (),
    ) -> RunOutcome:
        return run_task(task, request, submission_dir, readable_data=readable_data)

    return run


# How a child that did not finish is reported.
_FAILED_RUN = {
    RunStatus.TIMEOUT: Status.TIMEOUT,
    RunStatus.OUT_OF_MEMORY: Status.CRASHED,
    RunStatus.CRASHED: Status.CRASHED,
    RunStatus.ERROR: Status.ERROR,
    RunStatus.INVALID_OUTPUT: Status.INVALID_OUTPUT,
}


class Isolation:
    """The isolation layers the sandbox reports it applied (and warnings for those it
    could not) over the runs of one item, so each result can say how it was run."""

    def __init__(self) -> None:
        self.layers: list[str] = []
        self.warnings: list[str] = []

    def record(self, outcome: RunOutcome) -> None:
        for layer in outcome.layers:
            if layer not in self.layers:
                self.layers.append(layer)
        for warning in outcome.warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)

    def details(self) -> tuple[str, ...]:
        if not self.layers and not self.warnings:
            return ()
        applied = ", ".join(self.layers) or "none"
        return (f"Student code ran isolated ({applied})", *self.warnings)


@dataclass(frozen=True)
class RunFailure:
    """A child run that gave no usable result: the status to report and why."""

    status: Status
    message: str
    finished: bool  # the child finished, but its result could not be used

    def words(self, unfinished: str) -> str:
        """The reason; for a child that did not finish, after the caller's `unfinished`."""
        return self.message if self.finished else f"{unfinished}{self.message}"


def read_outcome(outcome: RunOutcome) -> dict[str, Any] | RunFailure:
    """The task's {"result": wire data} decoded, or why there is no usable result."""
    if outcome.status is not RunStatus.OK or outcome.value is None:
        status = _FAILED_RUN.get(outcome.status, Status.ERROR)
        return RunFailure(status, outcome.message, finished=False)
    try:
        value = wire.decode_value(outcome.value.get("result"))
    except wire.WireError as exc:
        why = f"the sandbox returned an unusable result ({exc})"
        return RunFailure(Status.INVALID_OUTPUT, why, finished=True)
    if not isinstance(value, dict):
        return RunFailure(Status.INVALID_OUTPUT, "the sandbox returned no result object", True)
    return value


def units_request(units: tuple[CodeUnit, ...]) -> list[dict[str, Any]]:
    return [{"file": u.file, "source": u.source} for u in units]
