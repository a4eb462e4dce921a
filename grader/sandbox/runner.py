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
"""

from __future__ import annotations

import atexit
import base64
import binascii
import fcntl
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

from grader.sandbox import child, forkserver, layers, tasks, wire

SANDBOX_ROOT = Path(tempfile.gettempdir()) / "grader-sandbox"
SANDBOX_UID_BASE = 190_000  # uids SANDBOX_UID_BASE .. +SLOTS-1: unused by any account
SLOTS = 64
OUTPUT_TAIL_BYTES = 16 * 1024
KILL_GRACE_SECONDS = 0.5
SANDBOX_WORKDIR = "/sandbox/work"
SANDBOX_PKG = "/sandbox/pkg"
SANDBOX_RUNS = "/sandbox/runs"  # the fork server's runs folder, one subfolder per task
FORKSERVER_ENV = "GRADER_SANDBOX_FORKSERVER"  # "0" forces the exec path
LANDLOCK_SCOPED_ABI = 6
ABORT_SECONDS = child.CLEANUP_SECONDS + 3.0  # a supervisor told to stop must be gone by then
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 20.0
    cpu_seconds: int = 60
    memory_bytes: int = 3 * 2**30  # RLIMIT_AS; import torch alone needs ~520 MiB of address space
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    result_bytes: int = 64 * 2**20
    processes: int = 128  # RLIMIT_NPROC for the sandbox uid; torch threads count too


class Launcher(Enum):
    """How the task's sandbox was started (both apply the same layers)."""

    EXEC = "exec"
    FORK_SERVER = "fork server"


class RunStatus(Enum):
    OK = "ok"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out of memory"
    CRASHED = "crashed"
    ERROR = "error"
    INVALID_OUTPUT = "invalid output"


@dataclass(frozen=True)
class RunOutcome:
    status: RunStatus
    value: dict[str, Any] | None  # the task's JSON result (wire data), only when status is OK
    message: str
    layers: tuple[str, ...]
    warnings: tuple[str, ...]
    seconds: float
    stdout_tail: str = ""
    stderr_tail: str = ""
    launcher: Launcher = Launcher.EXEC


def available_layers() -> tuple[tuple[str, bool, str], ...]:
    """(layer, usable, why not) for every isolation layer, detected once per process."""
    return tuple((s.layer.value, s.usable, s.why_not) for s in layers.detect())


def sandbox_processes() -> tuple[int, ...]:
    """Pids of live processes running under any sandbox uid (tests use it to find leftovers)."""
    return tuple(pid for pid, uid in _uid_processes() if _is_sandbox_uid(uid))


def run_task(
    task: str,
    request: dict[str, Any],
    submission_dir: Path,
    limits: Limits = Limits(),
    readable_data: tuple[Path, ...] = (),
    reject_nonfinite: bool = False,
) -> RunOutcome:
    """Run `task` on a scratch copy of `submission_dir`; never raises for student behaviour."""
    started = time.monotonic()
    if not tasks.is_registered(task):
        return _outcome(RunStatus.ERROR, f"unknown sandbox task {task!r}", started)
    if not submission_dir.is_dir():
        return _outcome(RunStatus.ERROR, f"submission folder {submission_dir} not found", started)
    detected = {s.layer: s for s in layers.detect()}
    warnings = [
        f"{s.layer.value} not applied: {s.why_not}" for s in detected.values() if not s.usable
    ]
    with _slot() as uid:
        owner = uid if detected[layers.Layer.UID].usable else None
        raw: _Raw | None = None
        launcher = Launcher.EXEC
        server, why_not = _fork_server(readable_data)
        if server is not None:
            raw, why_not, copy_warnings = _run_forked(
                server, task, request, limits, readable_data, submission_dir, owner, uid
            )
            if raw is not None:
                launcher = Launcher.FORK_SERVER
                warnings += copy_warnings
        if why_not:
            warnings.append(why_not)
        if raw is None:
            # A retry after a dead server gets the full wall time again.
            begun = started if server is None else time.monotonic()
            with _scratch(submission_dir, owner) as scratch:
                warnings += scratch.warnings
                job = _Job(task, request, limits, readable_data, scratch, owner)
                raw = _execute(job, begun)
                _kill_uid(uid)
    return _interpret(raw, limits, reject_nonfinite, warnings, started, launcher)


# ---------------------------------------------------------------- slots and scratch


@contextmanager
def _slot() -> Iterator[int]:
    """Hold an exclusive concurrency slot (a lock file) and yield its uid."""
    locks = _private_dir(SANDBOX_ROOT / "slots")
    deadline = time.monotonic() + 600
    while True:
        for index in range(SLOTS):
            handle = open(locks / f"{index}.lock", "a+")  # noqa: SIM115 - held while running
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                uid = SANDBOX_UID_BASE + index
                _kill_uid(uid)  # a previous run that crashed may have left processes
                yield uid
            finally:
                handle.close()
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"all {SLOTS} sandbox slots stayed busy for 10 minutes")
        time.sleep(0.05)


def _private_dir(path: Path) -> Path:
    SANDBOX_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(SANDBOX_ROOT, 0o711)
    path.mkdir(exist_ok=True)
    os.chmod(path, 0o700)
    return path


@dataclass(frozen=True)
class _Scratch:
    root: Path
    workdir: Path
    tmpdir: Path
    warnings: tuple[str, ...]


@contextmanager
def _scratch(
    submission_dir: Path, uid: int | None, parent: Path | None = None
) -> Iterator[_Scratch]:
    """A private copy under `parent` (default SANDBOX_ROOT; a fork server's runs folder)."""
    if parent is None:
        SANDBOX_ROOT.mkdir(parents=True, exist_ok=True)
        os.chmod(SANDBOX_ROOT, 0o711)
        parent = SANDBOX_ROOT
    root = Path(tempfile.mkdtemp(prefix="run-", dir=parent))
    try:
        os.chmod(root, 0o711)  # the sandbox uid may pass through, not list
        workdir, tmpdir = root / "work", root / "tmp"
        warnings = _copy_submission(submission_dir.resolve(), workdir)
        tmpdir.mkdir()
        for path in (workdir, tmpdir):
            _hand_over(path, uid)
        yield _Scratch(root, workdir, tmpdir, tuple(warnings))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _copy_submission(source: Path, target: Path) -> list[str]:
    """Copy regular files and folders; follow only symlinks that stay inside the submission."""
    warnings: list[str] = []
    target.mkdir()
    for entry in sorted(source.rglob("*")):
        relative = entry.relative_to(source)
        if any(part.is_symlink() for part in _between(source, entry)):
            continue  # inside a symlinked folder: handled (or refused) at the link itself
        destination = target / relative
        if entry.is_symlink():
            resolved = entry.resolve()
            if not resolved.is_relative_to(source) or not resolved.exists():
                warnings.append(
                    f"symlink {relative} -> {os.readlink(entry)} was not copied: "
                    "it points outside the submission"
                )
                continue
            if resolved.is_dir():
                shutil.copytree(resolved, destination, symlinks=False, dirs_exist_ok=True)
            else:
                shutil.copyfile(resolved, destination)
        elif entry.is_dir():
            destination.mkdir(exist_ok=True)
        elif entry.is_file():
            shutil.copyfile(entry, destination)
        else:
            warnings.append(f"{relative} was not copied: it is not a regular file or folder")
    return warnings


def _between(source: Path, entry: Path) -> list[Path]:
    parents = [p for p in entry.parents if p.is_relative_to(source) and p != source]
    return parents


def _hand_over(path: Path, uid: int | None) -> None:
    """Make the scratch folder the sandbox uid's own, private to it."""
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            item = os.path.join(folder, name)
            if uid is not None:
                os.lchown(item, uid, uid)
            os.chmod(item, 0o700 if name in dirs else 0o600)
    if uid is not None:
        os.chown(path, uid, uid)
    os.chmod(path, 0o700)


_PACKAGE_VIEW: list[Path] = []
_PACKAGE_LOCK = threading.Lock()


def _package_view() -> Path:
    """A read-only copy of grader/sandbox alone: the child sees no other grader module.

    Without grader/__init__.py, `grader` is a namespace package there, so nothing else of the
    grader (checks, reference loader) can be imported or read by the child.
    """
    with _PACKAGE_LOCK:
        if _PACKAGE_VIEW and _PACKAGE_VIEW[0].is_dir():
            return _PACKAGE_VIEW[0]
        SANDBOX_ROOT.mkdir(parents=True, exist_ok=True)
        os.chmod(SANDBOX_ROOT, 0o711)
        _remove_stale("pkg")
        root = Path(tempfile.mkdtemp(prefix=f"pkg-{os.getpid()}-", dir=SANDBOX_ROOT))
        target = root / "grader" / "sandbox"
        shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
        for folder, _, files in os.walk(root):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        _PACKAGE_VIEW[:] = [root]
        atexit.register(shutil.rmtree, root, True)
        return root


# ---------------------------------------------------------------- running the child


@dataclass(frozen=True)
class _Job:
    task: str
    request: dict[str, Any]
    limits: Limits
    readable_data: tuple[Path, ...]
    scratch: _Scratch
    uid: int | None


@dataclass(frozen=True)
class _Raw:
    timed_out: bool
    envelope: bytes
    returncode: int | None
    stdout: str
    stderr: str


def _child_request(
    job: _Job, workdir: str, tmpdir: str, pkg_path: str, bubblewrap: bool
) -> dict[str, Any]:
    """What the supervisor needs, as the sandbox sees the paths."""
    data = [str(p.resolve()) for p in job.readable_data]
    return {
        "task": job.task,
        "request": job.request,
        "workdir": workdir,
        "environ": {"HOME": workdir, "TMPDIR": tmpdir},
        "uid": job.uid,
        "bubblewrap": bubblewrap,
        "result_bytes": job.limits.result_bytes,
        "rlimits": {
            "memory_bytes": job.limits.memory_bytes,
            "cpu_seconds": job.limits.cpu_seconds,
            "file_bytes": job.limits.file_bytes,
            "open_files": job.limits.open_files,
            "processes": job.limits.processes,
        },
        "landlock": (
            {
                "read": [*_system_read_paths(), pkg_path, *data],
                "write": [workdir, tmpdir, *_DEVICE_PATHS],
            }
            if layers.usable(layers.Layer.LANDLOCK)
            else None
        ),
        "seccomp": layers.usable(layers.Layer.SECCOMP),
    }


def _execute(job: _Job, started: float) -> _Raw:
    bubblewrap = layers.usable(layers.Layer.BUBBLEWRAP)
    pkg = _package_view()
    workdir = SANDBOX_WORKDIR if bubblewrap else str(job.scratch.workdir)
    tmpdir = "/tmp" if bubblewrap else str(job.scratch.tmpdir)
    pkg_path = SANDBOX_PKG if bubblewrap else str(pkg)
    child_request = _child_request(job, workdir, tmpdir, pkg_path, bubblewrap)
    boot = (
        f"import sys; sys.path.insert(0, {pkg_path!r}); "
        "from grader.sandbox.child import main; main()"
    )
    request_r, request_w = os.pipe()
    result_r, result_w = os.pipe()
    python = [sys.executable, "-I", "-B", "-c", boot, str(request_r), str(result_w)]
    command = _bwrap_command(job, pkg) + python if bubblewrap else python
    env = _child_env(workdir, tmpdir)
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
        target=_write_request, args=(request_w, json.dumps(child_request).encode()), daemon=True
    )
    writer.start()
    deadline = started + job.limits.wall_seconds
    envelope_cap = job.limits.result_bytes * 4 // 3 + 2**20
    timed_out, envelope, out, err = _pump(process, result_r, deadline, envelope_cap)
    writer.join(timeout=1)
    return _Raw(timed_out, envelope, process.returncode, out, err)


def _write_request(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
    except OSError:
        pass  # the child died before reading: its outcome says why


class _Tail:
    """Keeps the total size and the last bytes of a stream."""

    def __init__(self) -> None:
        self.total = 0
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk
        if len(self.data) > 2 * OUTPUT_TAIL_BYTES:
            del self.data[:-OUTPUT_TAIL_BYTES]

    def text(self) -> str:
        tail = bytes(self.data[-OUTPUT_TAIL_BYTES:]).decode("utf-8", "replace")
        if self.total > OUTPUT_TAIL_BYTES:
            return f"[{self.total - OUTPUT_TAIL_BYTES} earlier bytes dropped]\n{tail}"
        return tail


def _pump(
    process: subprocess.Popen[bytes], result_r: int, deadline: float, cap: int
) -> tuple[bool, bytes, str, str]:
    """Drain stdout, stderr and the result pipe until the child ends or the deadline passes."""
    assert process.stdout is not None and process.stderr is not None
    selector = selectors.DefaultSelector()
    streams: dict[int, _Tail] = {}
    result = bytearray()
    result_file = os.fdopen(result_r, "rb", buffering=0)
    for stream in (process.stdout, process.stderr):
        os.set_blocking(stream.fileno(), False)
        streams[stream.fileno()] = _Tail()
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


def _child_env(workdir: str, tmpdir: str) -> dict[str, str]:
    # No inherited variables: nothing secret reaches the child, and torch stays single-threaded
    # so RLIMIT_AS holds (each extra thread arena would reserve address space).
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": tmpdir,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }


_DEVICE_PATHS = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/shm")


def _python_paths() -> list[str]:
    paths = {str(Path(sys.base_prefix).resolve()), str(Path(sys.prefix).resolve())}
    paths.add(str(Path(sys.executable).resolve().parent))
    for entry in sys.path:
        resolved = Path(entry or ".").resolve()
        if resolved.is_dir() and "site-packages" in resolved.parts + ("",):
            paths.add(str(resolved))
        elif resolved.is_dir() and resolved.is_relative_to(Path(sys.base_prefix).resolve()):
            paths.add(str(resolved))
    return sorted(p for p in paths if not any(p.startswith(s + "/") for s in paths if s != p))


def _system_read_paths() -> list[str]:
    system = ["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev"]
    return [p for p in system if os.path.exists(p)] + _python_paths()


_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf")


def _bwrap_command(job: _Job, pkg: Path) -> list[str]:
    """bubblewrap for one task: its scratch copy at SANDBOX_WORKDIR and its tmp at /tmp."""
    writable = [(job.scratch.workdir, SANDBOX_WORKDIR), (job.scratch.tmpdir, "/tmp")]
    return _bwrap_args(pkg, writable, job.readable_data)


def _bwrap_args(
    pkg: Path, writable: list[tuple[Path, str]], readable_data: tuple[Path, ...]
) -> list[str]:
    """bubblewrap as real root, no user namespace, keeping only the caps the drop needs."""
    args = ["bwrap", "--die-with-parent", "--new-session"]
    args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--hostname", "sandbox"]
    args += ["--cap-drop", "ALL"]
    for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL"):
        args += ["--cap-add", cap]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in _ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    if os.path.isdir("/sys/devices/system/cpu"):
        args += ["--ro-bind", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    made: set[str] = {"/", "/usr", "/etc", "/proc", "/dev", "/sys"}
    for path in _python_paths():
        args += _dirs_to(path, made) + ["--ro-bind", path, path]
    args += _dirs_to(SANDBOX_PKG, made) + ["--ro-bind", str(pkg), SANDBOX_PKG]
    for host, inside in writable:
        args += _dirs_to(inside, made) + ["--bind", str(host), inside]
    for data in readable_data:
        resolved = str(data.resolve())
        args += _dirs_to(resolved, made) + ["--ro-bind", resolved, resolved]
    args += ["--chdir", "/", "--"]
    return args


def _dirs_to(path: str, made: set[str]) -> list[str]:
    """--dir for each missing ancestor, world-searchable (bwrap would copy /root's 0700)."""
    args: list[str] = []
    for parent in reversed(Path(path).parents):
        name = str(parent)
        if name not in made and not name.startswith("/usr/"):
            made.add(name)
            args += ["--perms", "0755", "--dir", name]
    return args


# ---------------------------------------------------------------- the fork server path

_POOL: list[forkserver.ServerPool] = []
_POOL_LOCK = threading.Lock()


def forkserver_enabled() -> bool:
    return os.environ.get(FORKSERVER_ENV, "1").strip() != "0"


def forkserver_pool() -> forkserver.ServerPool:
    """This process's fork servers, created on first use (so importing starts nothing)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(forkserver.ServerPool(_server_launch))
        return _POOL[0]


def _fork_server(readable_data: tuple[Path, ...]) -> tuple[forkserver.ForkServer | None, str]:
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


def _server_launch(key: tuple[str, ...]) -> forkserver.Launch:
    pkg = _package_view()
    SANDBOX_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(SANDBOX_ROOT, 0o711)
    _remove_stale("fs")
    home = Path(tempfile.mkdtemp(prefix=f"fs-{os.getpid()}-", dir=SANDBOX_ROOT))
    os.chmod(home, 0o700)  # the log stays root's; the sandbox uids reach runs/ through the bind
    runs = home / "runs"
    runs.mkdir()
    os.chmod(runs, 0o711)  # a task may pass through to its own folder, never list the others
    boot = (
        f"import sys; sys.path.insert(0, {SANDBOX_PKG!r}); "
        "from grader.sandbox.forkserver import serve; serve(int(sys.argv[1]))"
    )
    readable = tuple(Path(k) for k in key)
    command = _bwrap_args(pkg, [(runs, SANDBOX_RUNS)], readable)
    command += [sys.executable, "-I", "-B", "-c", boot]
    # Each worker sets its own HOME and TMPDIR; the server itself writes nowhere.
    env = _child_env("/", SANDBOX_RUNS)
    return forkserver.Launch(tuple(command), env, home, runs, SANDBOX_RUNS, home / "server.log")


def _remove_stale(prefix: str) -> None:
    """Folders `<prefix>-<pid>-*` of grading processes that were killed (no atexit ran)."""
    for folder in SANDBOX_ROOT.glob(f"{prefix}-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _run_forked(
    server: forkserver.ForkServer,
    task: str,
    request: dict[str, Any],
    limits: Limits,
    readable_data: tuple[Path, ...],
    submission_dir: Path,
    owner: int | None,
    uid: int,
) -> tuple[_Raw | None, str, tuple[str, ...]]:
    """(raw result, why the exec path must run instead, copy warnings) for the fork path."""
    with ExitStack() as stack:
        try:
            scratch = stack.enter_context(_scratch(submission_dir, owner, server.launch.runs))
        except OSError as exc:
            reason = f"the fork server's runs folder is unusable ({exc})"
            return None, f"{reason}; the task ran in a fresh sandbox", ()
        inside = f"{server.launch.inner_runs}/{scratch.root.name}"
        job = _Job(task, request, limits, readable_data, scratch, owner)
        child_request = _child_request(job, f"{inside}/work", f"{inside}/tmp", SANDBOX_PKG, True)
        raw = _execute_forked(server, child_request, limits)
        _kill_uid(uid)
    if raw is None:
        why = "the fork server died during the task; it ran again in a fresh sandbox"
        return None, why, ()
    return raw, "", scratch.warnings


def _execute_forked(
    server: forkserver.ForkServer, child_request: dict[str, Any], limits: Limits
) -> _Raw | None:
    """Run one task through the server; None when the server is gone (nothing was decided)."""
    try:
        channels = server.submit()
    except forkserver.ForkServerError:
        forkserver_pool().forget(server)
        return None
    writer = threading.Thread(
        target=_send_request,
        args=(channels.conn, forkserver.request_frame(child_request)),
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
    return _Raw(timed_out, envelope, None, out, err)


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
    tails = {channels.stdout: _Tail(), channels.stderr: _Tail()}
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


# ---------------------------------------------------------------- killing leftovers


def _uid_processes() -> Iterator[tuple[int, int]]:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as stream:
                text = stream.read()
        except OSError:
            continue
        state = uid = None
        for line in text.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid = int(line.split()[1])
        if uid is not None and state != "Z":
            yield int(entry), uid


def _is_sandbox_uid(uid: int) -> bool:
    return SANDBOX_UID_BASE <= uid < SANDBOX_UID_BASE + SLOTS


def _kill_uid(uid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = [pid for pid, owner in _uid_processes() if owner == uid]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


# ---------------------------------------------------------------- interpreting the result


def _interpret(
    raw: _Raw,
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
        envelope = wire.unpack_single_frame(data, limits.result_bytes * 4 // 3 + 2**20)
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


def _outcome(status: RunStatus, message: str, started: float) -> RunOutcome:
    return RunOutcome(status, None, message, (), (), time.monotonic() - started)
