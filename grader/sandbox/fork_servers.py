"""Which fork server a task may use: this process's pool, and how each server is launched.

The pool is created on first use, so importing the sandbox starts nothing. A server is used
only when every layer that keeps its tasks apart is there; otherwise the exec path runs, and
the reason becomes a warning.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from grader.sandbox import forkserver, layers
from grader.sandbox.bubblewrap import SANDBOX_PKG, SANDBOX_RUNS, bwrap_args
from grader.sandbox.child_request import child_env
from grader.sandbox.host_folders import remove_stale, sandbox_root
from grader.sandbox.package_view import package_view

FORKSERVER_ENV = "GRADER_SANDBOX_FORKSERVER"  # "0" forces the exec path
LANDLOCK_SCOPED_ABI = 6

_POOL: list[forkserver.ServerPool] = []
_POOL_LOCK = threading.Lock()


def forkserver_enabled() -> bool:
    return os.environ.get(FORKSERVER_ENV, "1").strip() != "0"


def forkserver_pool() -> forkserver.ServerPool:
    """This process's fork servers, created on first use (so importing starts nothing)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(forkserver.ServerPool(server_launch))
        return _POOL[0]


def fork_server(readable_data: tuple[Path, ...]) -> tuple[forkserver.ForkServer | None, str]:
    """The server for this data set, or None and why not (empty when the user chose exec)."""
    if not forkserver_enabled():
        return None, ""
    if not layers.usable(layers.Layer.BUBBLEWRAP):
        return None, "fork server not used: it runs only inside bubblewrap"
    if not layers.usable(layers.Layer.SECCOMP):
        return None, "fork server not used: without seccomp its tasks would share SysV IPC"
    if layers.landlock_abi() < LANDLOCK_SCOPED_ABI:
        # Its tasks share one network namespace: only Landlock's scoping keeps their
        # abstract unix sockets and signals apart.
        return None, "fork server not used: it needs Landlock ABI 6 (scoped sockets, signals)"
    key = tuple(str(p.resolve()) for p in readable_data)
    try:
        return forkserver_pool().get(key), ""
    except forkserver.ForkServerError as exc:
        return None, f"the fork server could not start ({exc}); the task ran in a fresh sandbox"


def server_launch(key: tuple[str, ...]) -> forkserver.Launch:
    pkg = package_view()
    root = sandbox_root()
    remove_stale("fs")
    home = Path(tempfile.mkdtemp(prefix=f"fs-{os.getpid()}-", dir=root))
    os.chmod(home, 0o700)  # the log stays root's; the sandbox uids reach runs/ through the bind
    runs = home / "runs"
    runs.mkdir()
    os.chmod(runs, 0o711)  # a task may pass through to its own folder, never list the others
    boot = (
        f"import sys; sys.path.insert(0, {SANDBOX_PKG!r}); "
        "from grader.sandbox.forkserver import serve; serve(int(sys.argv[1]))"
    )
    readable = tuple(Path(k) for k in key)
    command = bwrap_args(pkg, [(runs, SANDBOX_RUNS)], readable)
    command += [sys.executable, "-I", "-B", "-c", boot]
    # Each worker sets its own HOME and TMPDIR from its request; the server writes nowhere.
    env = {**child_env(), "HOME": "/", "TMPDIR": SANDBOX_RUNS}
    return forkserver.Launch(tuple(command), env, home, runs, SANDBOX_RUNS, home / "server.log")
