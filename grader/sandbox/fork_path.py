"""The fork path: one task run by a fork server's forked supervisor (client side).

The task's scratch folder lives in the server's private runs folder, owned by the task's uid.
When the server is gone before anything was decided, the caller runs the exec path instead.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from grader.sandbox import child, forkserver
from grader.sandbox.bubblewrap import SANDBOX_PKG
from grader.sandbox.child_request import Job, child_request
from grader.sandbox.draining import KILL_GRACE_SECONDS, OutputTail
from grader.sandbox.fork_servers import forkserver_pool
from grader.sandbox.leftovers import kill_uid
from grader.sandbox.run_types import Limits, RawResult
from grader.sandbox.scratch import scratch

ABORT_SECONDS = child.CLEANUP_SECONDS + 3.0  # a supervisor told to stop must be gone by then


def run_forked(
    server: forkserver.ForkServer,
    task: str,
    request: dict[str, Any],
    limits: Limits,
    readable_data: tuple[Path, ...],
    submission_dir: Path,
    owner: int | None,
    uid: int,
) -> tuple[RawResult | None, str, tuple[str, ...]]:
    """(raw result, why the exec path must run instead, copy warnings) for the fork path."""
    with ExitStack() as stack:
        try:
            copy = stack.enter_context(scratch(submission_dir, owner, server.launch.runs))
        except OSError as exc:
            reason = f"the fork server's runs folder is unusable ({exc})"
            return None, f"{reason}; the task ran in a fresh sandbox", ()
        inside = f"{server.launch.inner_runs}/{copy.root.name}"
        job = Job(task, request, limits, readable_data, copy, owner)
        forked_request = child_request(job, f"{inside}/work", f"{inside}/tmp", SANDBOX_PKG, True)
        raw = _execute_forked(server, forked_request, limits)
        kill_uid(uid)
    if raw is None:
        why = "the fork server died during the task; it ran again in a fresh sandbox"
        return None, why, ()
    return raw, "", copy.warnings


def _execute_forked(
    server: forkserver.ForkServer, forked_request: dict[str, Any], limits: Limits
) -> RawResult | None:
    """Run one task through the server; None when the server is gone (nothing was decided)."""
    try:
        channels = server.submit()
    except forkserver.ForkServerError:
        forkserver_pool().forget(server)
        return None
    writer = threading.Thread(
        target=_send_request,
        args=(channels.conn, forkserver.request_frame(forked_request)),
        daemon=True,
    )
    writer.start()
    # The wall clock starts at submission: the server's start-up is not the task's time.
    deadline = time.monotonic() + limits.wall_seconds
    cap = limits.result_bytes * 4 // 3 + 2**20
    timed_out, envelope, out, err, ended = _pump_forked(channels, deadline, cap)
    writer.join(timeout=1)
    if not ended:
        forkserver_pool().forget(server)  # a supervisor that would not stop: take all down
    elif not envelope and not timed_out and not server.alive(settle_seconds=0.5):
        forkserver_pool().forget(server)
        return None
    return RawResult(timed_out, envelope, None, out, err)


def _send_request(conn: socket.socket, frame: bytes) -> None:
    try:
        conn.sendall(frame)
    except OSError:
        pass  # the supervisor is gone: its outcome (or the server's death) says why


def _pump_forked(
    channels: forkserver.TaskChannels, deadline: float, cap: int
) -> tuple[bool, bytes, str, str, bool]:
    """Drain stdout, stderr and the connection until the supervisor ends it.

    At the deadline the connection's sending side is shut down, which makes the supervisor
    kill the task; it still reports (layers included) and exits. Returns (timed out,
    envelope, stdout tail, stderr tail, whether the supervisor ended within the grace).
    """
    selector = selectors.DefaultSelector()
    tails = {channels.stdout: OutputTail(), channels.stderr: OutputTail()}
    conn_fd = channels.conn.fileno()
    for fd in (channels.stdout, channels.stderr, conn_fd):
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    envelope = bytearray()
    timed_out = ended = False
    stop_by: float | None = None
    ended_at = 0.0
    while selector.get_map():
        now = time.monotonic()
        if ended and now - ended_at > KILL_GRACE_SECONDS:
            break  # supervisor gone; output still held open would be a killed leftover's
        if not ended and not timed_out and now >= deadline:
            timed_out, stop_by = True, now + ABORT_SECONDS
            try:
                channels.conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        if stop_by is not None and not ended and now >= stop_by:
            break
        wake = deadline if stop_by is None else stop_by
        for key, _ in selector.select(timeout=max(0.0, min(0.1, wake - now))):
            fd = int(key.fd)
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                selector.unregister(fd)
                if fd == conn_fd:
                    ended, ended_at = True, time.monotonic()
            elif fd == conn_fd:
                if len(envelope) <= cap:
                    envelope += chunk  # past the cap it is dropped, and read to the end
            else:
                tails[fd].add(chunk)
    selector.close()
    out, err = tails[channels.stdout].text(), tails[channels.stderr].text()
    channels.conn.close()
    os.close(channels.stdout)
    os.close(channels.stderr)
    return timed_out, bytes(envelope), out, err, ended
