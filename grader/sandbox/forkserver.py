"""Fork server: one bubblewrap sandbox with torch imported once, forking a supervisor per task.

Server side, inside bubblewrap, as root, never running student code:

    python -I -B -c <boot> CONTROL_FD

It imports every task module (so torch) and pyseccomp, without running any torch operation
(no thread pool exists when it forks), reports ready, then waits for task messages on the
control socket. Each message carries three descriptors: the server end of a per-task
connection and the write ends of the task's stdout and stderr pipes. For each, the server
forks a supervisor that reads the request frame from the connection and runs
`child.supervise` exactly as the exec path does (subreaper, worker with rlimits, uid drop,
Landlock, seccomp), then writes the envelope frame back on the connection and exits. The
connection's end-of-file therefore tells the runner that the supervisor is gone; the runner
shutting down its sending side (deadline) or dying makes the supervisor kill the worker and
every leftover at once.

Parent side: `ForkServer` starts a server from a `Launch`, submits tasks and shuts it down;
`ServerPool` keeps one lazily started server per key (a set of readable data) for this process.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from grader.sandbox import child, layers, wire

TASK_MESSAGE = b"task"
START_SECONDS = 120.0  # a busy 2-core machine can take several seconds to import torch
SEND_SECONDS = 30.0
SHUTDOWN_SECONDS = 5.0
MAX_REQUEST_BYTES = 256 * 2**20
MAX_STARTS = 3  # per key and process: a server that keeps dying is not worth restarting


class ForkServerError(RuntimeError):
    """The server could not start, or is gone: the caller falls back to the exec path."""


# ---------------------------------------------------------------- server side


def serve(control_fd: int) -> None:
    """The server's main loop; returns when the runner closes the control socket."""
    layers.set_parent_death_signal(signal.SIGKILL)
    layers.forbid_ptrace_of_self()
    control = socket.socket(fileno=control_fd)
    _preload()
    control.send(json.dumps({"pid": os.getpid(), "threads": thread_count()}).encode())
    while True:
        readable, _, _ = select.select([control], [], [], 1.0)
        child.reap_exited()
        if not readable:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, 64, 3)
        except OSError:
            return
        if not message:
            return  # the runner closed its end: shut down (supervisors die with us)
        if message != TASK_MESSAGE or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            continue
        try:
            if os.fork() == 0:
                _supervisor(*fds)
        except OSError:
            pass  # no process left: closing the connection tells the runner
        for fd in fds:
            os.close(fd)


def _preload() -> None:
    """Import what every worker needs, so a fork pays nothing; run no torch operation."""
    from grader.sandbox import tasks

    for name in tasks.TASKS:
        tasks.resolve(name)
    try:
        layers.preload_seccomp()
    except ImportError:
        pass  # the runner then asks for no seccomp (its detection found none)
    torch: Any = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)  # OMP_NUM_THREADS=1 is set too; this starts no thread


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def _supervisor(conn_fd: int, stdout_fd: int, stderr_fd: int) -> NoReturn:
    """One task, in a process forked from the server: the exec path's supervisor."""
    try:
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        child.close_other_fds(keep=(0, 1, 2, conn_fd))
        request = _read_request(conn_fd)
        if request is not None:
            envelope = child.supervise(request, abort_fd=conn_fd)
            child.write_all(conn_fd, wire.pack_frame(envelope))
    finally:
        os._exit(0)


def _read_request(fd: int) -> dict[str, Any] | None:
    header = _read_exactly(fd, wire.HEADER.size)
    if header is None:
        return None
    (length,) = wire.HEADER.unpack(header)
    if length > MAX_REQUEST_BYTES:
        return None
    body = _read_exactly(fd, length)
    if body is None:
        return None
    request = json.loads(body.decode("utf-8"))
    return request if isinstance(request, dict) else None


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def request_frame(request: dict[str, Any]) -> bytes:
    """The runner's request as one length-prefixed JSON frame (NaN allowed, as in exec)."""
    body = json.dumps(request).encode("utf-8")
    return wire.HEADER.pack(len(body)) + body


# ---------------------------------------------------------------- parent side


@dataclass(frozen=True)
class Launch:
    """How to start one server; `runs` is bound read-write at `inner_runs` inside it."""

    command: tuple[str, ...]  # ends with the interpreter and boot code; the fd number follows
    env: dict[str, str]
    home: Path  # private folder of this server (removed at shutdown)
    runs: Path
    inner_runs: str
    log: Path


@dataclass(frozen=True)
class TaskChannels:
    """The parent's ends for one task: the connection, and stdout and stderr read ends."""

    conn: socket.socket
    stdout: int
    stderr: int


class ForkServer:
    def __init__(self, launch: Launch, process: subprocess.Popen[bytes], control: socket.socket):
        self.launch = launch
        self.process = process
        self._control = control
        self._send_lock = threading.Lock()
        self.server_threads = 0

    @classmethod
    def start(cls, launch: Launch, spawner: Spawner) -> ForkServer:
        """Start the server and wait until it has imported torch; raises ForkServerError."""
        parent_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

        def popen() -> subprocess.Popen[bytes]:
            with open(launch.log, "wb") as log:
                return subprocess.Popen(
                    [*launch.command, str(server_end.fileno())],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    pass_fds=(server_end.fileno(),),
                    env=launch.env,
                    cwd=launch.home,
                    start_new_session=True,
                )

        try:
            process = spawner.run(popen)
        except OSError as exc:
            parent_end.close()
            raise ForkServerError(f"could not start bubblewrap: {exc}") from exc
        finally:
            server_end.close()
        server = cls(launch, process, parent_end)
        try:
            server._wait_ready()
        except ForkServerError:
            server.kill()
            raise
        parent_end.settimeout(SEND_SECONDS)
        return server

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self._control], [], [], 0.2)
            if readable:
                data = self._control.recv(4096)
                try:
                    ready = json.loads(data.decode("utf-8")) if data else None
                except (UnicodeDecodeError, json.JSONDecodeError):
                    ready = None
                if isinstance(ready, dict):
                    self.server_threads = int(ready.get("threads", 0))
                    return
                break
            if self.process.poll() is not None:
                break
        else:
            raise ForkServerError(f"it did not get ready within {START_SECONDS:g} s")
        raise ForkServerError(f"it exited during start-up{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            lines = self.launch.log.read_text("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return ": " + " | ".join(lines[-3:])[-400:] if lines else ""

    def alive(self, settle_seconds: float = 0.0) -> bool:
        """Whether the server runs; `settle_seconds` lets a dying bubblewrap finish exiting."""
        if not settle_seconds:
            return self.process.poll() is None
        try:
            self.process.wait(timeout=settle_seconds)
        except subprocess.TimeoutExpired:
            return True
        return False

    def submit(self) -> TaskChannels:
        """Ask the server to fork a supervisor for a new task; raises ForkServerError."""
        conn, conn_server = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            with self._send_lock:
                socket.send_fds(self._control, [TASK_MESSAGE], [conn_server.fileno(), out_w, err_w])
        except OSError as exc:
            conn.close()
            os.close(out_r)
            os.close(err_r)
            raise ForkServerError(f"the fork server does not answer: {exc}") from exc
        finally:
            conn_server.close()
            os.close(out_w)
            os.close(err_w)
        return TaskChannels(conn, out_r, err_r)

    def kill(self) -> None:
        """Kill the whole server tree (bubblewrap takes its PID namespace down with it)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._control.close()

    def shutdown(self) -> None:
        """Close the control socket (the server exits), then make sure the tree is gone."""
        self._control.close()
        try:
            self.process.wait(timeout=SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


class Spawner:
    """Starts server processes from one thread that lives as long as this process.

    The kernel's parent-death signal follows the *thread* that forked: bubblewrap's
    --die-with-parent would kill a server started from a short-lived worker thread (a
    ThreadPoolExecutor's, say) as soon as that thread ends.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[], subprocess.Popen[bytes]], Future[subprocess.Popen[bytes]]]
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="forkserver-spawner", daemon=True)
        self._thread.start()

    def run(self, popen: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((popen, future))
        return future.result()

    def _loop(self) -> None:
        while True:
            popen, future = self._jobs.get()
            try:
                future.set_result(popen())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                future.set_exception(exc)


class _Entry:
    """Mutable state of one key: its server, how often it was started, why it failed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server: ForkServer | None = None
        self.starts = 0
        self.failure = ""


class ServerPool:
    """One fork server per key (readable data set), started on first use, for this process.

    A process forked or spawned from this one never touches the servers it did not start.
    """

    def __init__(self, make_launch: Callable[[tuple[str, ...]], Launch]) -> None:
        self._make_launch = make_launch
        self._entries: dict[tuple[str, ...], _Entry] = {}
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._spawner = Spawner()
        atexit.register(self.shutdown)

    def get(self, key: tuple[str, ...]) -> ForkServer:
        """A running server for `key`, started if needed; raises ForkServerError."""
        with self._lock:
            if os.getpid() != self._owner:  # inherited across fork: start our own
                self._entries, self._owner, self._spawner = {}, os.getpid(), Spawner()
            entry = self._entries.setdefault(key, _Entry())
        with entry.lock:
            if entry.server is not None and entry.server.alive():
                return entry.server
            if entry.server is not None:
                _discard(entry.server)
                entry.server = None
            if entry.starts >= MAX_STARTS:
                raise ForkServerError(
                    f"it failed {entry.starts} times in this process ({entry.failure})"
                )
            entry.starts += 1
            launch = self._make_launch(key)
            try:
                entry.server = ForkServer.start(launch, self._spawner)
            except ForkServerError as exc:
                entry.failure = str(exc)
                _remove(launch.home)
                raise
            return entry.server

    def forget(self, server: ForkServer) -> None:
        """Kill a server that misbehaved; the next `get` starts a new one."""
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            with entry.lock:
                if entry.server is server:
                    entry.server = None
        _discard(server)

    def running(self) -> tuple[ForkServer, ...]:
        with self._lock:
            return tuple(e.server for e in self._entries.values() if e.server is not None)

    def shutdown(self) -> None:
        """Stop every server of this process (registered with atexit)."""
        if os.getpid() != self._owner:
            return
        with self._lock:
            entries = list(self._entries.values())
            self._entries = {}
        for entry in entries:
            with entry.lock:
                if entry.server is not None:
                    entry.server.shutdown()
                    _remove(entry.server.launch.home)
                    entry.server = None


def _discard(server: ForkServer) -> None:
    server.kill()
    _remove(server.launch.home)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
