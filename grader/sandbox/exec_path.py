"""The exec path: a fresh bubblewrap and interpreter per task, its output drained to the end.

Used when the fork server is off (GRADER_SANDBOX_FORKSERVER=0), impossible (no bubblewrap) or
failed; without bubblewrap the supervisor runs directly on the host, with the other layers.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from grader.sandbox import layers
from grader.sandbox.bubblewrap import SANDBOX_PKG, SANDBOX_WORKDIR, bwrap_args
from grader.sandbox.child_request import Job, child_env, child_request
from grader.sandbox.draining import KILL_GRACE_SECONDS, OutputTail
from grader.sandbox.package_view import package_view
from grader.sandbox.run_types import RawResult


def execute(job: Job, started: float) -> RawResult:
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
    env = child_env(workdir, tmpdir)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(request_r, result_w),
            env=env,
            cwd=job.scratch.root,
            start_new_session=True,
        )
    finally:
        os.close(request_r)
        os.close(result_w)
    writer = threading.Thread(
        target=_write_request, args=(request_w, json.dumps(request).encode()), daemon=True
    )
    writer.start()
    deadline = started + job.limits.wall_seconds
    envelope_cap = job.limits.result_bytes * 4 // 3 + 2**20
    timed_out, envelope, out, err = _pump(process, result_r, deadline, envelope_cap)
    writer.join(timeout=1)
    return RawResult(timed_out, envelope, process.returncode, out, err)


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


def _pump(
    process: subprocess.Popen[bytes], result_r: int, deadline: float, cap: int
) -> tuple[bool, bytes, str, str]:
    """Drain stdout, stderr and the result pipe until the child ends or the deadline passes."""
    assert process.stdout is not None and process.stderr is not None
    selector = selectors.DefaultSelector()
    streams: dict[int, OutputTail] = {}
    result = bytearray()
    result_file = os.fdopen(result_r, "rb", buffering=0)
    for stream in (process.stdout, process.stderr):
        os.set_blocking(stream.fileno(), False)
        streams[stream.fileno()] = OutputTail()
        selector.register(stream, selectors.EVENT_READ)
    os.set_blocking(result_r, False)
    selector.register(result_file, selectors.EVENT_READ)
    timed_out = False
    exited_at: float | None = None
    while selector.get_map():
        now = time.monotonic()
        if now >= deadline:
            timed_out = process.poll() is None or bool(selector.get_map())
            break
        if exited_at is None and process.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > KILL_GRACE_SECONDS:
            break  # the child is gone; a leftover holding a pipe open is killed by uid
        for key, _ in selector.select(timeout=min(0.1, deadline - now)):
            fileobj: IO[bytes] = key.fileobj  # type: ignore[assignment]
            try:
                chunk = os.read(fileobj.fileno(), 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                selector.unregister(fileobj)
            elif fileobj is result_file:
                result += chunk
                if len(result) > cap:
                    selector.unregister(fileobj)
            else:
                streams[fileobj.fileno()].add(chunk)
    selector.close()
    if timed_out or process.poll() is None:
        _stop(process)
    else:
        process.wait()
    out = streams[process.stdout.fileno()].text()
    err = streams[process.stderr.fileno()].text()
    for handle in (process.stdout, process.stderr, result_file):
        handle.close()
    return timed_out, bytes(result), out, err


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
