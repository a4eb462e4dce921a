"""Child entry point: a root supervisor that forks one sandboxed worker per task.

    python -I -B -c <boot> REQUEST_FD RESULT_FD

The supervisor (trusted, never runs student code) reads the runner's request, becomes a
subreaper and forks the worker. The worker applies rlimits, imports the task module, drops
to the sandbox uid, applies Landlock and seccomp, reports on a "ready" pipe which layers it
applied, closes that pipe and only then runs the task with student code. The worker's
result frame goes to the supervisor, which never parses it: it kills every leftover
process, then writes one envelope frame (exit status, layers, raw result bytes in base64) to
RESULT_FD, a pipe the worker never holds. Student code can therefore neither forge the exit
status nor the layer report; what it can write is only a result frame, which the runner
validates as data and which carries nothing a student could not have returned anyway.

The fork server (forkserver.py) runs the same `supervise` in a process it forks per task,
with the task modules already imported; the envelope then goes back on the task's connection.

Imports: the standard library, the wire, layers and leftovers modules, then the task module
(torch).
"""

from __future__ import annotations

import base64
import json
import os
import select
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from grader.sandbox import layers, leftovers, wire

# Written before student code runs, so later monkeypatching cannot change them.
_write = os.write
_exit = os._exit
_pack = wire.pack_frame
_format_exception = traceback.format_exception

CLEANUP_SECONDS = 2.0


# ---------------------------------------------------------------- supervisor


def main() -> None:
    request_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    with os.fdopen(request_fd, "rb") as stream:
        request = json.loads(stream.read().decode("utf-8"))
    envelope = supervise(request)
    try:
        write_all(result_fd, _pack(envelope))
    finally:
        _exit(0)


def supervise(request: dict[str, Any], abort_fd: int | None = None) -> dict[str, Any]:
    """Fork the worker, collect its ready report and result, kill what it left behind.

    `abort_fd` (fork server): when it becomes readable (the runner shut its side down at the
    deadline, or died), the worker is killed at once; the envelope is still written.
    """
    subreaper = True
    try:
        layers.set_subreaper()
        layers.forbid_ptrace_of_self()
        layers.set_parent_death_signal(signal.SIGKILL)
    except OSError:
        subreaper = False
    uid = request.get("uid")
    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(result_r)
        if abort_fd is not None:
            os.close(abort_fd)  # the runner's channel stays with the supervisor only
        _worker(request, ready_w, result_w)  # never returns
    os.close(ready_w)
    os.close(result_w)
    signal.signal(signal.SIGTERM, lambda *_: _terminate(pid, uid))
    limit = int(request["result_bytes"])
    ready, result, oversize = _collect(pid, ready_r, result_r, limit, abort_fd)
    _, status = os.waitpid(pid, 0)
    _kill_leftovers(uid)
    report: dict[str, Any] = {}
    if ready:
        try:
            report = json.loads(ready.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            report = {"setup_error": "the worker's layer report was unreadable"}
    return {
        "setup_error": report.get("setup_error"),
        "layers": report.get("layers", []) + (["subreaper"] if subreaper else []),
        "warnings": report.get("warnings", []),
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "oversize": oversize,
        "result": base64.b64encode(result).decode("ascii"),
    }


def _collect(
    pid: int, ready_r: int, result_r: int, limit: int, abort_fd: int | None = None
) -> tuple[bytes, bytes, bool]:
    # Read both pipes until the worker exits; a daemon child still holding the result pipe
    # must not keep us waiting, so the worker's pidfd ends the loop.
    pidfd = os.pidfd_open(pid)
    chunks: dict[int, list[bytes]] = {ready_r: [], result_r: []}
    sizes = {ready_r: 0, result_r: 0}
    open_fds = {ready_r, result_r}
    watched = [pidfd] if abort_fd is None else [pidfd, abort_fd]
    oversize = False
    worker_done = False
    while not worker_done:  # even with both pipes closed by the student, the abort counts
        readable, _, _ = select.select([*open_fds, *watched], [], [])
        if abort_fd is not None and abort_fd in readable:
            watched.remove(abort_fd)  # seen once: the kill below ends the worker
            readable.remove(abort_fd)
            _kill_quietly(pid)
        if pidfd in readable:
            worker_done = True
            for fd in open_fds:
                os.set_blocking(fd, False)
            readable = list(open_fds)
        for fd in readable:
            if fd == pidfd:
                continue
            while True:
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                if not data:
                    open_fds.discard(fd)
                    break
                sizes[fd] += len(data)
                if sizes[fd] > limit + wire.HEADER.size:
                    oversize = True
                    os.kill(pid, signal.SIGKILL)
                    open_fds.discard(fd)
                    break
                chunks[fd].append(data)
                if not worker_done:
                    break
    os.close(pidfd)
    return b"".join(chunks[ready_r]), b"".join(chunks[result_r]), oversize


def _terminate(pid: int, uid: int | None) -> None:
    _kill_quietly(pid)
    _kill_leftovers(uid)
    _exit(1)


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_leftovers(uid: int | None) -> None:
    """SIGKILL every process of the sandbox uid and every adopted orphan; reap them all."""
    me = os.getpid()
    leftovers.kill_matching(
        lambda p: p.pid != me and (p.ppid == me or uid in p.uids),
        CLEANUP_SECONDS,
        after_round=reap_exited,
    )


def reap_exited() -> None:
    """Collect every child that has exited, without waiting for the others."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_write(fd, view) :]


# ---------------------------------------------------------------- worker


def _worker(request: dict[str, Any], ready_w: int, result_w: int) -> None:
    try:
        os.setsid()
        applied, warnings, task = _enter_sandbox(request, ready_w, result_w)
    except BaseException as exc:  # noqa: BLE001 - reported to the runner, never swallowed
        _report_ready(ready_w, {"setup_error": f"{type(exc).__name__}: {exc}"})
        _exit(70)
    _report_ready(ready_w, {"layers": applied, "warnings": warnings})
    main_pid = os.getpid()
    frame = _run_task(task, request, main_pid)
    _flush_output()
    if os.getpid() != main_pid:
        _exit(0)  # a fork made by student code came back here: it must not report
    try:
        write_all(result_w, frame)
    except OSError:
        _exit(71)
    _exit(0)


def _enter_sandbox(
    request: dict[str, Any], ready_w: int, result_w: int
) -> tuple[list[str], list[str], Any]:
    from grader.sandbox import tasks

    applied: list[str] = []
    warnings: list[str] = []
    uid = request.get("uid")
    limits = layers.RlimitValues(**request["rlimits"])
    layers.apply_rlimits(limits, with_nproc=uid is not None)
    applied.append("rlimits")
    _fresh_process_state(request.get("environ") or {})
    task = tasks.resolve(request["task"])  # imports torch while the files are still reachable
    if request.get("seccomp"):
        layers.preload_seccomp()  # find_library runs helpers that the sandbox later forbids
    _pin_threads()
    if uid is not None:
        layers.drop_uid(int(uid))
        layers.set_parent_death_signal(signal.SIGKILL)  # cleared by the uid change
        applied.append("uid")
    os.chdir(request["workdir"])  # after the drop: the scratch folder is private to the uid
    if request.get("bubblewrap"):
        applied.append("bubblewrap")
    landlock = request.get("landlock")
    if landlock is not None:
        try:
            layers.apply_landlock(landlock["read"], landlock["write"])
            applied.append("landlock")
        except OSError as exc:
            warnings.append(f"landlock could not be applied: {exc}")
    if request.get("seccomp"):
        try:
            layers.apply_seccomp()
            applied.append("seccomp")
        except Exception as exc:  # noqa: BLE001 - libseccomp errors have no common type
            warnings.append(f"seccomp could not be applied: {exc}")
    close_other_fds(keep=(0, 1, 2, ready_w, result_w))
    return applied, warnings, task


def _fresh_process_state(environ: dict[str, str]) -> None:
    """Per-task HOME/TMPDIR and random seeds: a worker forked from the fork server would
    otherwise share them with every other task of that server."""
    os.environ.update({str(k): str(v) for k, v in environ.items()})
    tempfile: Any = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile.tempdir = None  # re-read TMPDIR on next use
    random: Any = sys.modules.get("random")
    if random is not None:
        random.seed()


def _pin_threads() -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def close_other_fds(keep: tuple[int, ...]) -> None:
    last = 2
    for fd in sorted(k for k in keep if k > 2):
        os.closerange(last + 1, fd)
        last = fd
    os.closerange(last + 1, 1 << 16)


def _flush_output() -> None:
    # Student prints sit in Python's buffers; os._exit would drop them.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a replaced or closed stream must not hide the result
            pass


def _report_ready(ready_w: int, report: dict[str, Any]) -> None:
    try:
        write_all(ready_w, json.dumps(report).encode("utf-8"))
    finally:
        os.close(ready_w)


def _run_task(task: Any, request: dict[str, Any], main_pid: int) -> bytes:
    workdir = Path(request["workdir"])
    try:
        value = task(request["request"], workdir)
        if not isinstance(value, dict):
            raise wire.WireError(f"the task returned {type(value).__name__}, not a dict")
        return _pack({"kind": "ok", "value": value})
    except wire.WireError as exc:
        return _pack({"kind": "unsendable", "message": str(exc)})
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        if os.getpid() != main_pid:
            _exit(0)
        return _error_frame(exc)


def _error_frame(exc: BaseException) -> bytes:
    try:
        lines = _format_exception(type(exc), exc, exc.__traceback__)
        trace = "".join(lines)[-4000:]
    except Exception:  # noqa: BLE001 - a broken traceback must not hide the error itself
        trace = ""
    code = exc.code if isinstance(exc, SystemExit) else None
    try:
        text = str(exc)[:2000]
    except Exception:  # noqa: BLE001 - str() of a student exception may raise
        text = "<the exception message could not be shown>"
    return _pack(
        {
            "kind": "error",
            "type": type(exc).__name__,
            "message": text,
            "exit_code": code if isinstance(code, int | None) else str(code)[:200],
            "traceback": trace,
        }
    )


if __name__ == "__main__":
    main()
