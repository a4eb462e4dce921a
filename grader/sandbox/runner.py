"""Parent side: run one registered task on a submission inside the sandbox.

    outcome = run_task("generic.call", {"file": "hw4.py", "function": "f", "args": []},
                       Path("submissions/alice"), Limits(wall_seconds=5))

Each run gets a concurrency slot (its own uid), a scratch copy of the submission owned by
that uid, and a supervisor (see child.py) under bubblewrap when the machine allows. The
result comes back only as one data frame on a private channel; student stdout and stderr are
drained separately, size-capped, and only their last lines kept. Whatever happens, every
process of the slot's uid is killed before run_task returns.

Two ways to start the supervisor, same layers and same outcome:
- fork server (default with bubblewrap): one sandbox per set of readable data, started on
  first use, with torch imported once; it forks a supervisor per task (forkserver.py). The
  task's scratch folder lives in that sandbox's private runs folder, owned by the task's uid.
- exec (GRADER_SANDBOX_FORKSERVER=0, no bubblewrap, or the server cannot start or died): a
  fresh bubblewrap and interpreter per task. Every fallback is stated in the warnings.

Modules: run_types (the data types), slots (a uid per run), scratch (the submission's copy),
host_folders (where those live), package_view (the grader code the child sees), child_request,
host_paths and bubblewrap (what the child is told and sees), exec_path, and fork_servers with
fork_path (the two launchers), draining (output tails), leftovers (killing by uid), outcome
(the result in words).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from grader.sandbox import layers, tasks
from grader.sandbox.bubblewrap import SANDBOX_RUNS
from grader.sandbox.child_request import Job
from grader.sandbox.exec_path import execute
from grader.sandbox.fork_path import run_forked
from grader.sandbox.fork_servers import FORKSERVER_ENV, fork_server, forkserver_pool
from grader.sandbox.leftovers import kill_uid, processes
from grader.sandbox.outcome import interpret, not_started
from grader.sandbox.run_types import Launcher, Limits, RawResult, RunOutcome, RunStatus
from grader.sandbox.scratch import scratch
from grader.sandbox.slots import SANDBOX_UID_BASE, is_sandbox_uid, slot

# Names callers use through this module; the other constants live in their owning modules
# (draining, fork_path, fork_servers, host_folders, package_view, bubblewrap, slots).
__all__ = [
    "FORKSERVER_ENV",
    "SANDBOX_RUNS",
    "SANDBOX_UID_BASE",
    "Launcher",
    "Limits",
    "RunOutcome",
    "RunStatus",
    "available_layers",
    "forkserver_pool",
    "run_task",
    "sandbox_processes",
]


def available_layers() -> tuple[tuple[str, bool, str], ...]:
    """(layer, usable, why not) for every isolation layer, detected once per process."""
    return tuple((s.layer.value, s.usable, s.why_not) for s in layers.detect())


def sandbox_processes() -> tuple[int, ...]:
    """Pids of live processes running under any sandbox uid (tests use it to find leftovers)."""
    return tuple(p.pid for p in processes() if is_sandbox_uid(p.real_uid))


def run_task(
    task: str,
    request: dict[str, Any],
    submission_dir: Path,
    limits: Limits = Limits(),  # noqa: B008 - a frozen dataclass, safe to share
    readable_data: tuple[Path, ...] = (),
    reject_nonfinite: bool = False,
) -> RunOutcome:
    """Run `task` on a scratch copy of `submission_dir`; never raises for student behaviour."""
    started = time.monotonic()
    if not tasks.is_registered(task):
        return not_started(RunStatus.ERROR, f"unknown sandbox task {task!r}", started)
    if not submission_dir.is_dir():
        return not_started(
            RunStatus.ERROR, f"submission folder {submission_dir} not found", started
        )
    detected = {s.layer: s for s in layers.detect()}
    warnings = [
        f"{s.layer.value} not applied: {s.why_not}" for s in detected.values() if not s.usable
    ]
    with slot() as uid:
        owner = uid if detected[layers.Layer.UID].usable else None
        raw: RawResult | None = None
        launcher = Launcher.EXEC
        server, why_not = fork_server(readable_data)
        if server is not None:
            raw, why_not, copy_warnings = run_forked(
                server, task, request, limits, readable_data, submission_dir, owner, uid
            )
            if raw is not None:
                launcher = Launcher.FORK_SERVER
                warnings += copy_warnings
        if why_not:
            warnings.append(why_not)
        if raw is None:
            # The wall time counts from the supervisor's launch (a retry after a dead server
            # gets all of it again); `started` only measures RunOutcome.seconds.
            with scratch(submission_dir, owner) as copy:
                warnings += copy.warnings
                job = Job(task, request, limits, readable_data, copy, owner)
                raw = execute(job)
                kill_uid(uid)
    return interpret(raw, limits, reject_nonfinite, warnings, started, launcher)
