"""The fork server: tasks forked from one sandbox with torch imported once, same isolation.

Checks that the server is reused and makes the second task much faster, survives a task's
timeout, is replaced by the exec path (with a warning) when it dies or cannot start, keeps
concurrent tasks out of each other's scratch folders, dies with its grading process and is
gone after shutdown; and runs a representative set of hostile submissions through both paths.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox import (
    Limits,
    RunOutcome,
    RunStatus,
    available_layers,
    fork_servers,
    forkserver,
    run_task,
    runner,
    wire,
)
from grader.sandbox.runner import FORKSERVER_ENV, Launcher, forkserver_pool, sandbox_processes

HOSTILE = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parents[1]
LAYERS = {name: (ok, why) for name, ok, why in available_layers()}
MISSING = [f"{n}: {why}" for n, (ok, why) in LAYERS.items() if not ok]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason="the fork server needs every layer: " + "; ".join(MISSING)
)
ROOMY = Limits(wall_seconds=30, cpu_seconds=20, memory_bytes=2 * 2**30, result_bytes=2**20)
SHORT = Limits(wall_seconds=2, cpu_seconds=10, memory_bytes=2 * 2**30, result_bytes=2**20)


def _ours() -> tuple[int, ...]:
    """Sandbox-uid processes started by this test process, or orphaned out of any tree.

    Other engineers' graders may run sandboxes on this machine at the same time: theirs
    descend from their own process, not from this one.
    """
    mine = _descendants(os.getpid())
    return tuple(pid for pid in sandbox_processes() if pid in mine or _parent(pid) == 1)


@pytest.fixture(autouse=True)
def no_leftovers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(FORKSERVER_ENV, "1")  # even when the caller exported 0
    yield
    assert _ours() == ()


def _submission(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "solution.py").write_text(textwrap.dedent(source))
    return folder


def _run(folder: Path, *args: Any, limits: Limits = ROOMY, **kw: Any) -> RunOutcome:
    request = {
        "file": "solution.py",
        "function": "run",
        "args": [wire.encode_value(a) for a in args],
    }
    return run_task("generic.call", request, folder, limits, **kw)


def _value(outcome: RunOutcome) -> Any:
    assert outcome.status is RunStatus.OK, outcome.message
    assert outcome.value is not None
    return wire.decode_value(outcome.value["result"])


def _server() -> forkserver.ForkServer:
    """The running server for tasks without readable data (started if there is none)."""
    return forkserver_pool().get(())


def _task_running(server: forkserver.ForkServer) -> bool:
    """Whether a worker of this server has dropped to a sandbox uid (so runs student code)."""
    return bool(_descendants(server.process.pid) & set(sandbox_processes()))


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stream:
            return int(stream.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


QUICK = """
import os, tempfile
def run(x):
    return [x * 2, os.getcwd() == os.environ["HOME"], tempfile.gettempdir() != os.getcwd()]
"""


def test_the_server_is_reused_and_the_second_task_is_much_faster(tmp_path: Path) -> None:
    forkserver_pool().shutdown()  # start from no server, so the first task pays for one
    folder = _submission(tmp_path / "s", QUICK)
    first = _run(folder, 21)
    server = _server()
    second = _run(folder, 4)
    assert _server() is server and server.alive()
    assert (first.launcher, second.launcher) == (Launcher.FORK_SERVER, Launcher.FORK_SERVER)
    assert (_value(first), _value(second)) == ([42, True, True], [8, True, True])
    assert second.seconds < first.seconds / 3, (first.seconds, second.seconds)
    assert set(second.layers) == set(LAYERS)  # every layer, forked or not
    assert server.server_threads == 1  # no torch thread pool existed when it forked


def test_a_timeout_kills_the_task_but_not_the_server(tmp_path: Path) -> None:
    loop = _submission(tmp_path / "loop", "def run():\n    while True:\n        pass\n")
    _run(_submission(tmp_path / "warm", QUICK), 1)
    server = _server()
    started = time.monotonic()
    outcome = _run(loop, limits=SHORT)
    assert outcome.status is RunStatus.TIMEOUT and outcome.message == "timed out after 2 s"
    assert time.monotonic() - started < 2 + 4
    assert outcome.launcher is Launcher.FORK_SERVER
    assert "seccomp" in outcome.layers  # the supervisor still reported the layers
    assert _ours() == ()
    after = _run(_submission(tmp_path / "after", QUICK), 5)
    assert _value(after)[0] == 10 and after.launcher is Launcher.FORK_SERVER
    assert _server() is server and server.alive()


def test_a_server_dying_mid_task_falls_back_to_exec_with_a_warning(tmp_path: Path) -> None:
    slow = _submission(
        tmp_path / "slow", "import time\ndef run(x):\n    time.sleep(1.5)\n    return x + 1\n"
    )
    _run(_submission(tmp_path / "warm", QUICK), 1)
    server = _server()
    box: list[RunOutcome] = []
    worker = threading.Thread(target=lambda: box.append(_run(slow, 41)))
    worker.start()
    deadline = time.monotonic() + 10
    while not _task_running(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _task_running(server)  # killed mid-task, not before it
    os.killpg(server.process.pid, signal.SIGKILL)
    worker.join(timeout=60)
    (outcome,) = box
    assert _value(outcome) == 42
    assert outcome.launcher is Launcher.EXEC
    assert any("fork server died" in w for w in outcome.warnings), outcome.warnings
    again = _run(_submission(tmp_path / "again", QUICK), 1)  # a new server replaces it
    assert _value(again)[0] == 2 and again.launcher is Launcher.FORK_SERVER
    assert _server() is not server


def test_a_server_that_cannot_start_falls_back_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(key: tuple[str, ...]) -> forkserver.Launch:
        launch = fork_servers.server_launch(key)
        command = (sys.executable, "-I", "-c", "import sys; print('no torch here'); sys.exit(3)")
        return forkserver.Launch(
            command, launch.env, launch.home, launch.runs, launch.inner_runs, launch.log
        )

    pool = forkserver.ServerPool(broken)
    monkeypatch.setattr(fork_servers, "_POOL", [pool])
    outcome = _run(_submission(tmp_path / "s", QUICK), 3)
    assert _value(outcome)[0] == 6 and outcome.launcher is Launcher.EXEC
    (warning,) = [w for w in outcome.warnings if "fork server" in w]
    assert "could not start" in warning and "no torch here" in warning
    assert pool.running() == ()


HOLDER = """
import ctypes, socket, time

def run(name):
    with open("secret.txt", "w") as stream:
        stream.write("answers of student A")
    found = {"shm": _shmget()}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("\\0" + name)  # an abstract socket: no file, only a namespace
        server.listen()
        time.sleep(2.5)
    found["secret"] = open("secret.txt").read()
    return found

def _shmget():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.shmget(0x6772, 4096, 0o1666) < 0:  # IPC_CREAT, readable by every uid
        return ctypes.get_errno()
    return "created"
"""

SNOOP = """
import ctypes, os, socket

def run(paths, name):
    found = {}
    for path in paths:
        try:
            found[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()
        except OSError as exc:
            found[path] = type(exc).__name__
    try:
        open(paths[1] + "/planted.txt", "w").write("x")
        found["write"] = "written"
    except OSError as exc:
        found["write"] = type(exc).__name__
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect("\\0" + name)
        found["socket"] = "connected"
    except OSError as exc:
        found["socket"] = type(exc).__name__
    libc = ctypes.CDLL(None, use_errno=True)
    found["shm"] = "attached" if libc.shmget(0x6772, 0, 0) >= 0 else ctypes.get_errno()
    return found
"""


def test_concurrent_tasks_cannot_reach_each_other(tmp_path: Path) -> None:
    holder = _submission(tmp_path / "holder", HOLDER)
    snoop = _submission(tmp_path / "snoop", SNOOP)
    name = f"grader-test-{os.getpid()}-{time.monotonic_ns()}"
    _run(_submission(tmp_path / "warm", QUICK), 1)
    runs = _server().launch.runs
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(_run, holder, name)
        deadline = time.monotonic() + 10
        while not list(runs.glob("*/work/secret.txt")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (secret,) = runs.glob("*/work/secret.txt")
        inner = f"{runner.SANDBOX_RUNS}/{secret.parent.parent.name}"
        paths = [f"{inner}/work/secret.txt", f"{inner}/work", f"{inner}/tmp", runner.SANDBOX_RUNS]
        spied = _run(snoop, paths, name)
        held = first.result()
    assert _value(held) == {"secret": "answers of student A", "shm": errno.EPERM}
    found = _value(spied)
    assert (held.launcher, spied.launcher) == (Launcher.FORK_SERVER, Launcher.FORK_SERVER)
    assert all(found[p] == "PermissionError" for p in paths), found
    assert found["write"] == "PermissionError"
    assert not (secret.parent / "planted.txt").exists()
    assert found["socket"] == "PermissionError"  # Landlock scopes abstract sockets per task
    assert found["shm"] == errno.EPERM


def test_the_server_is_gone_after_shutdown(tmp_path: Path) -> None:
    _run(_submission(tmp_path / "s", QUICK), 1)
    server = _server()
    tree = _descendants(server.process.pid)
    assert len(tree) >= 2  # bubblewrap's init and the server itself
    forkserver_pool().shutdown()
    assert server.process.poll() is not None
    assert not [pid for pid in tree if _alive(pid)]
    assert not server.launch.home.exists()
    assert forkserver_pool().running() == ()


def test_the_server_dies_with_its_grading_process(tmp_path: Path) -> None:
    folder = _submission(tmp_path / "s", QUICK)
    script = f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(REPO)!r})
        from grader.sandbox import run_task
        from grader.sandbox.runner import forkserver_pool
        run_task("generic.call", {{"file": "solution.py", "function": "run", "args": [1]}},
                 Path({str(folder)!r}))
        (server,) = forkserver_pool().running()
        print(server.process.pid, flush=True)
        time.sleep(60)
    """
    grading = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert grading.stdout is not None
        server_pid = int(grading.stdout.readline())
        tree = _descendants(server_pid) | {server_pid}
        assert all(_alive(pid) for pid in tree)
    finally:
        grading.kill()
        grading.wait()
    deadline = time.monotonic() + 5
    while [pid for pid in tree if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in tree if _alive(pid)]


# ---------------------------------------------------------------- hostile cases, both paths

HOSTILE_CASES = (
    "double_fork_daemon",
    "kill_parent",
    "kill_process_group",
    "escalate_privileges",
    "network_udp",
    "sigterm_ignored",
    "forge_every_fd",
    "read_outside",
    "write_outside",
)


def _hostile(name: str, base: Path, outside: Path, allowed: Path) -> RunOutcome:
    folder = base / name
    folder.mkdir(parents=True)
    (folder / "solution.py").write_bytes((HOSTILE / name / "solution.py").read_bytes())
    arguments: dict[str, list[Any]] = {
        "double_fork_daemon": [str(outside / "daemon.txt")],
        "network_udp": ["127.0.0.1", 9],
        "read_outside": [[str(REPO / "reference" / "hw4.toml"), str(allowed)]],
        "write_outside": [[str(outside / "written.txt"), str(allowed.parent / "new.txt")]],
    }
    limits = SHORT if name == "sigterm_ignored" else ROOMY
    readable = (allowed.parent,) if name == "read_outside" else ()
    return _run(folder, *arguments.get(name, []), limits=limits, readable_data=readable)


@pytest.mark.parametrize("path", [Launcher.FORK_SERVER, Launcher.EXEC])
def test_hostile_submissions_are_contained_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Launcher
) -> None:
    monkeypatch.setenv(FORKSERVER_ENV, "1" if path is Launcher.FORK_SERVER else "0")
    outside = tmp_path / "outside"
    outside.mkdir()
    allowed = tmp_path / "train" / "train.bin"
    allowed.parent.mkdir()
    allowed.write_bytes(b"training images")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            n: pool.submit(_hostile, n, tmp_path / "s", outside, allowed) for n in HOSTILE_CASES
        }
        runs = {name: future.result() for name, future in futures.items()}
    time.sleep(1.2)  # the daemon would have written by now
    assert {o.launcher for o in runs.values()} == {path}
    assert _value(runs["double_fork_daemon"]) == "detached"
    assert not (outside / "daemon.txt").exists()
    assert runs["kill_parent"].message.startswith("the code raised PermissionError")
    assert runs["kill_process_group"].message.startswith("killed by signal 9 (SIGKILL)")
    assert set(_value(runs["escalate_privileges"]).values()) <= {"PermissionError", "OSError"}
    assert _value(runs["network_udp"]).startswith("PermissionError")
    assert runs["sigterm_ignored"].status is RunStatus.TIMEOUT
    forged = runs["forge_every_fd"]
    assert forged.status is RunStatus.INVALID_OUTPUT and "more than one frame" in forged.message
    read = _value(runs["read_outside"])
    assert read[str(REPO / "reference" / "hw4.toml")] in ("FileNotFoundError", "PermissionError")
    assert read[str(allowed)] == len(b"training images")
    written = _value(runs["write_outside"])
    assert "written" not in written.values()
    assert not (outside / "written.txt").exists() and not (allowed.parent / "new.txt").exists()
    for outcome in runs.values():
        if outcome.status is not RunStatus.TIMEOUT or path is Launcher.FORK_SERVER:
            assert set(outcome.layers) == set(LAYERS), (outcome.message, outcome.layers)


def test_a_request_larger_than_a_socket_buffer_arrives_whole(tmp_path: Path) -> None:
    # Student sources travel in the request: a notebook's kept code can be megabytes.
    padding = "#" + "x" * 4_000_000 + "\n"
    request = {
        "source": padding + "def run(x):\n    return x + 1\n",
        "function": "run",
        "args": [wire.encode_value(41)],
    }
    outcome = run_task("generic.call", request, tmp_path, ROOMY)
    assert outcome.launcher is Launcher.FORK_SERVER
    assert _value(outcome) == 42
