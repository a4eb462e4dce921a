"""Interpreting a run's raw result: the supervisor's envelope into a RunOutcome with words."""

from __future__ import annotations

import base64
import binascii
import signal
import time
from typing import Any

from grader.sandbox import wire
from grader.sandbox.run_types import (
    Launcher,
    Limits,
    RawResult,
    RunOutcome,
    RunStatus,
    envelope_cap,
)


def interpret(
    raw: RawResult,
    limits: Limits,
    reject_nonfinite: bool,
    warnings: list[str],
    started: float,
    launcher: Launcher = Launcher.EXEC,
) -> RunOutcome:
    def done(status: RunStatus, message: str, value: dict[str, Any] | None = None) -> RunOutcome:
        return RunOutcome(
            status,
            value,
            message,
            applied,
            tuple(warnings),
            time.monotonic() - started,
            raw.stdout,
            raw.stderr,
            launcher,
        )

    applied: tuple[str, ...] = ()
    envelope = _parse_envelope(raw.envelope, limits)
    if envelope is not None:
        applied = tuple(str(layer) for layer in envelope.get("layers", []))
        warnings += [str(w) for w in envelope.get("warnings", [])]
    if raw.timed_out:
        return done(RunStatus.TIMEOUT, f"timed out after {limits.wall_seconds:g} s")
    if envelope is None and raw.envelope_overflowed:
        return done(
            RunStatus.CRASHED,
            "the sandbox's report was larger than the limit of "
            f"{_size(envelope_cap(limits))}{_last(raw.stderr)}",
        )
    if envelope is None:
        status = "" if raw.returncode is None else f" (status {raw.returncode})"
        return done(
            RunStatus.CRASHED,
            f"the sandbox failed before reporting{status}{_last(raw.stderr)}",
        )
    if envelope.get("setup_error"):
        return done(RunStatus.ERROR, f"the sandbox could not start: {envelope['setup_error']}")
    if envelope.get("oversize"):
        return done(
            RunStatus.INVALID_OUTPUT,
            f"returned a result larger than the limit of {_size(limits.result_bytes)}",
        )
    signum, exit_code = envelope.get("signal"), envelope.get("exit_code")
    result = _decode_b64(envelope.get("result"))
    if signum is not None:
        return done(*_signal_outcome(int(signum), limits, raw.stderr))
    if not result:
        return done(
            RunStatus.CRASHED,
            f"exited with status {exit_code} before returning a result{_last(raw.stderr)}",
        )
    try:
        frame = wire.unpack_single_frame(result, limits.result_bytes)
    except wire.WireError as exc:
        return done(RunStatus.INVALID_OUTPUT, f"sent a malformed result: {exc}")
    if exit_code != 0:
        return done(RunStatus.CRASHED, f"exited with status {exit_code} after its result")
    return done(*_frame_outcome(frame, limits, reject_nonfinite))


def _parse_envelope(data: bytes, limits: Limits) -> dict[str, Any] | None:
    if not data:
        return None
    try:
        envelope = wire.unpack_single_frame(data, envelope_cap(limits))
    except wire.WireError:
        return None
    return envelope if isinstance(envelope, dict) else None


def _decode_b64(text: Any) -> bytes:
    if not isinstance(text, str):
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _signal_outcome(signum: int, limits: Limits, stderr: str) -> tuple[RunStatus, str]:
    name = _signal_name(signum)
    if signum == signal.SIGXCPU:
        return RunStatus.TIMEOUT, f"used more than {limits.cpu_seconds} s of CPU time ({name})"
    if signum == signal.SIGXFSZ:
        return (
            RunStatus.CRASHED,
            f"wrote a file larger than the limit of {_size(limits.file_bytes)} ({name})",
        )
    return RunStatus.CRASHED, f"killed by signal {signum} ({name}){_last(stderr)}"


def _frame_outcome(
    frame: Any, limits: Limits, reject_nonfinite: bool
) -> tuple[RunStatus, str, dict[str, Any] | None]:
    if not isinstance(frame, dict):
        return RunStatus.INVALID_OUTPUT, "sent a result that is not an object", None
    kind = frame.get("kind")
    if kind == "ok" and isinstance(frame.get("value"), dict):
        value: dict[str, Any] = frame["value"]
        policy = wire.DecodePolicy(allow_nonfinite=not reject_nonfinite)
        try:
            for item in value.values():
                wire.validate(item, policy)
        except wire.WireError as exc:
            return RunStatus.INVALID_OUTPUT, f"returned an unusable value: {exc}", None
        return RunStatus.OK, "returned a result", value
    if kind == "unsendable":
        return (
            RunStatus.INVALID_OUTPUT,
            f"returned a value that cannot be sent back: {frame.get('message')}",
            None,
        )
    if kind == "error":
        return (*_error_outcome(frame, limits), None)
    return RunStatus.INVALID_OUTPUT, f"sent a result of unknown kind {kind!r}", None


def _error_outcome(frame: dict[str, Any], limits: Limits) -> tuple[RunStatus, str]:
    kind = str(frame.get("type", "an exception"))[:100]
    text = str(frame.get("message", ""))[:500]
    memory = f"ran out of memory ({_size(limits.memory_bytes)})"
    if kind == "MemoryError" or (
        kind == "RuntimeError"
        and ("can't allocate memory" in text or "DefaultCPUAllocator" in text)
    ):
        return RunStatus.OUT_OF_MEMORY, memory
    if kind == "SystemExit":
        return RunStatus.ERROR, f"the code called sys.exit({frame.get('exit_code')})"
    if kind == "KeyboardInterrupt":
        return RunStatus.ERROR, "the code raised KeyboardInterrupt"
    return RunStatus.ERROR, f"the code raised {kind}: {text}" if text else f"the code raised {kind}"


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:g} GiB"
    if n >= 2**20:
        return f"{n / 2**20:g} MiB"
    return f"{n} bytes"


def _last(stderr: str, lines: int = 3) -> str:
    tail = [line for line in stderr.strip().splitlines() if line.strip()][-lines:]
    return "; last output: " + " | ".join(tail)[-400:] if tail else ""


def not_started(status: RunStatus, message: str, started: float) -> RunOutcome:
    """The outcome of a run refused before any sandbox started."""
    return RunOutcome(status, None, message, (), (), time.monotonic() - started)
