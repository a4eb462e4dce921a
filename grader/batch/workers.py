"""A pool of long-lived grading processes that survives any one student.

Each worker imports the heavy modules (torch) once and then grades student after student.
A worker that dies (segfault, out of memory) or overruns the per-student time limit is
killed and replaced; only the student it was grading gets an error result. concurrent.futures
cannot do this: one dead worker breaks its whole pool and fails every pending student.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from grader.api import StudentReport
from grader.pipeline import GradeOptions
from grader.reference import Reference
from grader.sandbox.layers import set_parent_death_signal

GradeFn = Callable[[Path, Reference, Path, GradeOptions], StudentReport]

READY = "ready"  # a worker's first message: started and preloaded, the clock may run
WORKER_START_SECONDS = 120.0  # a worker not ready by then gets its student anyway


@dataclass(frozen=True)
class WorkerJob:
    """What every worker needs, sent once when it starts."""

    grade_fn: GradeFn  # must be a module-level function: it is pickled by name
    reference: Reference
    out_dir: Path
    options: GradeOptions
    preload: tuple[str, ...]  # modules imported once per worker, e.g. ("torch",)


@dataclass(frozen=True)
class Task:
    index: int
    folder: Path


@dataclass(frozen=True)
class Done:
    index: int
    report: StudentReport
    seconds: float


def _die_with_parent() -> None:
    # If the grader is SIGKILLed its workers must not finish a student nobody will record.
    with contextlib.suppress(OSError):
        set_parent_death_signal(signal.SIGKILL)


def _worker_main(conn: Connection, job: WorkerJob) -> None:
    _die_with_parent()
    for name in job.preload:
        # A missing module is the grading function's problem to report, per student.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    conn.send(READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        start = time.monotonic()
        try:
            report = job.grade_fn(task.folder, job.reference, job.out_dir, job.options)
        except BaseException as exc:  # noqa: BLE001 - reported for this student only
            report = _failed(task.folder, f"{type(exc).__name__}: {exc}")
        try:
            conn.send(Done(task.index, report, time.monotonic() - start))
        except (TypeError, AttributeError, ValueError) as exc:  # an unpicklable result
            conn.send(Done(task.index, _failed(task.folder, f"bad result: {exc}"), 0.0))


def _failed(folder: Path, message: str) -> StudentReport:
    return StudentReport(folder.name, folder, None, None, message)


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"the grading process was killed by {name}{hint}"
    return f"the grading process exited unexpectedly (exit code {exitcode})"


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    task: Task | None = None
    started: float = 0.0
    ready: bool = False


def _wait_ready(slot: _Slot) -> None:
    """A student's time limit starts when its worker is up (spawning and importing torch
    take seconds), not when the worker was asked to start."""
    if slot.ready:
        return
    with contextlib.suppress(EOFError, OSError):
        if slot.conn.poll(WORKER_START_SECONDS) and slot.conn.recv() == READY:
            slot.ready = True
    # Not ready (it died or hangs): the student is sent anyway; _collect reports the death
    # or the overrun for that student alone.


class WorkerPool:
    def __init__(self, job: WorkerJob, size: int, timeout_s: float) -> None:
        self._job = job
        self._size = max(1, size)
        self._timeout_s = timeout_s
        # spawn: a fresh interpreter per worker (no copy of the parent's threads or open
        # database, unlike fork), and the grader is the workers' parent, so they die with it.
        # forkserver would make the server their parent and keep them alive after a kill.
        self._ctx = multiprocessing.get_context("spawn")
        self._slots: list[_Slot] = []

    def _start(self) -> _Slot:
        parent_end, child_end = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main, args=(child_end, self._job), name="grader-worker", daemon=True
        )
        process.start()
        child_end.close()
        return _Slot(process, parent_end)

    def run(self, tasks: Sequence[Task]) -> Iterator[Done]:
        """Grade every task; yields each result as soon as it is ready (any order)."""
        pending = deque(tasks)
        try:
            self._slots = [self._start() for _ in range(min(self._size, len(tasks)))]
            while pending or any(s.task is not None for s in self._slots):
                for slot in self._slots:
                    if slot.task is None and pending:
                        _wait_ready(slot)
                        slot.task = pending.popleft()
                        slot.started = time.monotonic()
                        # A worker that already died: _collect reports it for this student.
                        with contextlib.suppress(OSError):
                            slot.conn.send(slot.task)
                yield from self._collect()
        finally:
            self._shutdown()

    def _collect(self) -> Iterator[Done]:
        busy = [s for s in self._slots if s.task is not None]
        now = time.monotonic()
        wait_s = max(0.0, min(s.started + self._timeout_s for s in busy) - now)
        wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=wait_s)
        for position, slot in enumerate(self._slots):
            task = slot.task
            if task is None:
                continue
            done = self._result(slot, task)
            if done is None:
                continue
            yield done
            if slot.process.is_alive():
                slot.task = None
            else:
                self._slots[position] = self._start()

    def _result(self, slot: _Slot, task: Task) -> Done | None:
        """The slot's result if it has one, an error result if it died or overran."""
        elapsed = time.monotonic() - slot.started
        with contextlib.suppress(EOFError, OSError):
            if slot.conn.poll():
                done: Done = slot.conn.recv()
                return done
        if not slot.process.is_alive():
            slot.process.join()
            message = _death_message(slot.process.exitcode)
            return Done(task.index, _failed(task.folder, message), elapsed)
        if elapsed >= self._timeout_s:
            slot.process.kill()
            slot.process.join()
            message = f"grading took longer than {self._timeout_s:g} s and was stopped"
            return Done(task.index, _failed(task.folder, message), elapsed)
        return None

    def _shutdown(self) -> None:
        for slot in self._slots:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(None)
        deadline = time.monotonic() + 5.0
        for slot in self._slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
        self._slots = []
