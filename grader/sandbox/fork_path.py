"""The fork path: one task run by a fork server's forked supervisor (client side).

The task's scratch folder lives in the server's private runs folder, owned by the task's uid.
When the server is gone before anything was decided, the caller runs the exec path instead.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from grader.sandbox import child, forkserver
from grader.sandbox.bubblewrap import SANDBOX_PKG
from grader.sandbox.child_request import Job, child_request
from grader.sandbox.draining import drain
from grader.sandbox.fork_servers import forkserver_pool
from grader.sandbox.leftovers import kill_uid
from grader.sandbox.run_types import Limits, RawResult, envelope_cap
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
    # Sent whole before draining: the supervisor reads the request before anything else, and
    # the connection also carries the envelope, which the drain loop reads non-blocking.
    _send_request(channels.conn, forkserver.request_frame(forked_request), limits.wall_seconds)
    # The wall clock starts at submission: the server's start-up is not the task's time.
    deadline = time.monotonic() + limits.wall_seconds
    try:
        drained = drain(
            channels.stdout,
            channels.stderr,
            channels.conn.fileno(),
            deadline,
            envelope_cap(limits),
            _Forked(channels.conn),
        )
    finally:
        channels.conn.close()
        os.close(channels.stdout)
        os.close(channels.stderr)
    if not drained.ended:
        forkserver_pool().forget(server)  # a supervisor that would not stop: take all down
    elif not drained.envelope and not drained.timed_out and not server.alive(settle_seconds=0.5):
        forkserver_pool().forget(server)
        return None
    return RawResult(
        drained.timed_out,
        drained.envelope,
        None,
        drained.stdout,
        drained.stderr,
        drained.envelope_overflowed,
    )


def _send_request(conn: socket.socket, frame: bytes, seconds: float) -> None:
    try:
        conn.settimeout(seconds)  # a supervisor that never reads cannot block us forever
        conn.sendall(frame)
    except OSError:
        pass  # the supervisor is gone or stuck: its outcome (or the server's death) says why
    finally:
        conn.settimeout(None)


class _Forked:
    """A forked supervisor: ended when it closed the connection (it exits right after).

    At the deadline the connection's sending side is shut down, which makes the supervisor
    kill the task; it still reports (layers included) and exits within ABORT_SECONDS.
    """

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn

    def ended(self, envelope_closed: bool) -> bool:
        return envelope_closed

    def stop(self) -> float:
        try:
            self.conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return ABORT_SECONDS
