"""The exec path: a fresh bubblewrap and interpreter per task, its output drained to the end.

Used when the fork server is off (GRADER_SANDBOX_FORKSERVER=0), impossible (no bubblewrap) or
failed; without bubblewrap the supervisor runs directly on the host, with the other layers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from grader.sandbox import layers
from grader.sandbox.bubblewrap import SANDBOX_PKG, SANDBOX_WORKDIR, bwrap_args
from grader.sandbox.child_request import Job, child_env, child_request
from grader.sandbox.draining import KILL_GRACE_SECONDS, drain
from grader.sandbox.package_view import package_view
from grader.sandbox.run_types import RawResult, envelope_cap


def execute(job: Job) -> RawResult:
    """Run one task in a fresh supervisor; its wall time counts from its launch."""
    bubblewrap = layers.usable(layers.Layer.BUBBLEWRAP)
    pkg = package_view()
    workdir = SANDBOX_WORKDIR if bubblewrap else str(job.scratch.workdir)
    tmpdir = "/tmp" if bubblewrap else str(job.scratch.tmpdir)
    pkg_path = SANDBOX_PKG if bubblewrap else str(pkg)
    request = child_request(job, workdir, tmpdir, pkg_path, bubblewrap)
    boot = (
        f"import sys; sys.path.insert(0, {pkg_path!r}); "
        "from grader.sandbox.child import main; main()"
    )
    request_r, request_w = os.pipe()
    result_r, result_w = os.pipe()
    python = [sys.executable, "-I", "-B", "-c", boot, str(request_r), str(result_w)]
    command = bwrap_command(job, pkg) + python if bubblewrap else python
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(request_r, result_w),
            env=child_env(),  # the worker sets HOME and TMPDIR from the request
            cwd=job.scratch.root,
            start_new_session=True,
        )
    except BaseException:
        os.close(result_r)
        os.close(request_w)
        raise
    finally:
        os.close(request_r)
        os.close(result_w)
    deadline = time.monotonic() + job.limits.wall_seconds
    writer = threading.Thread(
        target=_write_request, args=(request_w, json.dumps(request).encode()), daemon=True
    )
    writer.start()
    assert process.stdout is not None and process.stderr is not None
    try:
        drained = drain(
            process.stdout.fileno(),
            process.stderr.fileno(),
            result_r,
            deadline,
            envelope_cap(job.limits),
            _Exec(process),
        )
    finally:
        if process.poll() is None:
            _stop(process)
        process.stdout.close()
        process.stderr.close()
        os.close(result_r)
    writer.join(timeout=1)
    return RawResult(
        drained.timed_out,
        drained.envelope,
        process.returncode,
        drained.stdout,
        drained.stderr,
        drained.envelope_overflowed,
    )


def bwrap_command(job: Job, pkg: Path) -> list[str]:
    """bubblewrap for one task: its scratch copy at SANDBOX_WORKDIR and its tmp at /tmp."""
    writable = [(job.scratch.workdir, SANDBOX_WORKDIR), (job.scratch.tmpdir, "/tmp")]
    return bwrap_args(pkg, writable, job.readable_data)


def _write_request(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
    except OSError:
        pass  # the child died before reading: its outcome says why


class _Exec:
    """The exec supervisor: ended when its process exited; stopped by killing its group."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def ended(self, envelope_closed: bool) -> bool:
        return self.process.poll() is not None

    def stop(self) -> float:
        _stop(self.process)
        return 0.0


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM lets a supervisor without a PID namespace kill its tree; then SIGKILL the group.
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=KILL_GRACE_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
