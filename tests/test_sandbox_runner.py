"""run_task on well-behaved submissions: right and wrong answers come back as data."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import torch

from grader.sandbox import Limits, RunStatus, available_layers, run_task, wire
from grader.sandbox.draining import drain
from grader.sandbox.outcome import interpret
from grader.sandbox.run_types import RawResult
from grader.sandbox.tasks import UnknownTask, resolve

LIMITS = Limits(wall_seconds=30, memory_bytes=2 * 2**30)
SOURCE = """
import torch

def relu(x):
    return torch.clamp(x, min=0)

def wrong_relu(x):
    return torch.abs(x)

def ratio(a, b):
    return a / b
"""


def _call(tmp_path: Path, function: str, *args: object) -> object:
    request = {"source": SOURCE, "function": function, "args": [wire.encode_value(a) for a in args]}
    return run_task("generic.call", request, tmp_path, LIMITS)


def test_available_layers_are_reported_in_words() -> None:
    layers = available_layers()
    names = [name for name, _, _ in layers]
    assert names == ["rlimits", "uid", "bubblewrap", "landlock", "seccomp", "subreaper"]
    for _, usable, why in layers:
        assert usable == (why == "")


def test_right_and_wrong_answers_come_back_as_tensors(tmp_path: Path) -> None:
    x = torch.tensor([-1.0, 0.5, 2.0])
    right = _call(tmp_path, "relu", x)
    assert right.status is RunStatus.OK, right.message
    assert torch.equal(wire.decode_value(right.value["result"]), torch.tensor([0.0, 0.5, 2.0]))
    usable = {name for name, ok, _ in available_layers() if ok}
    assert set(right.layers) == usable
    wrong = _call(tmp_path, "wrong_relu", x)
    assert wrong.status is RunStatus.OK
    assert not torch.equal(wire.decode_value(wrong.value["result"]), torch.tensor([0.0, 0.5, 2.0]))


def test_an_exception_is_an_error_in_words(tmp_path: Path) -> None:
    outcome = _call(tmp_path, "ratio", 1, 0)
    assert outcome.status is RunStatus.ERROR
    assert outcome.message == "the code raised ZeroDivisionError: division by zero"
    missing = _call(tmp_path, "no_such_function")
    assert missing.status is RunStatus.ERROR
    assert "no function named 'no_such_function'" in missing.message


def test_files_of_the_submission_are_in_the_working_folder(tmp_path: Path) -> None:
    (tmp_path / "hw4.py").write_text("def size():\n    return len(open('data.txt').read())\n")
    (tmp_path / "data.txt").write_text("12345")
    request = {"file": "hw4.py", "function": "size", "args": []}
    outcome = run_task("generic.call", request, tmp_path, LIMITS)
    assert (outcome.status, outcome.value) == (RunStatus.OK, {"result": 5})


def test_bad_calls_are_refused_before_running(tmp_path: Path) -> None:
    unknown = run_task("os.system", {}, tmp_path, LIMITS)
    assert (unknown.status, unknown.message) == (
        RunStatus.ERROR,
        "unknown sandbox task 'os.system'",
    )
    gone = run_task("generic.call", {}, tmp_path / "absent", LIMITS)
    assert gone.status is RunStatus.ERROR and "not found" in gone.message
    with pytest.raises(UnknownTask, match="unknown sandbox task"):
        resolve("../../etc")


READER = """
import os

def walk():
    found = {}
    for folder, dirs, files in os.walk("."):
        for name in files:
            path = os.path.join(folder, name)[2:]
            try:
                with open(path) as stream:
                    found[path] = stream.read()
            except OSError as exc:
                found[path] = type(exc).__name__
    return found
"""


def _walk(submission: Path) -> tuple[RunStatus, object, tuple[str, ...]]:
    (submission / "hw4.py").write_text(READER)
    outcome = run_task(
        "generic.call", {"file": "hw4.py", "function": "walk", "args": []}, submission, LIMITS
    )
    assert outcome.status is RunStatus.OK, outcome.message
    assert outcome.value is not None
    return outcome.status, wire.decode_value(outcome.value["result"]), outcome.warnings


def test_links_inside_a_linked_folder_are_checked_one_by_one(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("hidden test labels")
    submission = tmp_path / "sub"
    (submission / "b").mkdir(parents=True)
    (submission / "b" / "notes.txt").write_text("mine")
    (submission / "b" / "leak").symlink_to("../../secret.txt")
    (submission / "a").symlink_to("b")
    _, found, warnings = _walk(submission)
    assert isinstance(found, dict)
    # The folder link is copied as a folder; its inner link leaving the submission is not.
    assert found["a/notes.txt"] == "mine" and found["b/notes.txt"] == "mine"
    assert "a/leak" not in found and "b/leak" not in found
    assert "hidden test labels" not in found.values()
    assert any("a/leak" in w and "outside the submission" in w for w in warnings)


def test_a_link_loop_is_copied_once_and_warned(tmp_path: Path) -> None:
    submission = tmp_path / "sub"
    (submission / "d").mkdir(parents=True)
    (submission / "d" / "data.txt").write_text("12345")
    (submission / "loop").symlink_to(".")
    (submission / "d" / "up").symlink_to("..")
    (submission / "d" / "again").symlink_to(".")
    (submission / "self").symlink_to("self")
    _, found, warnings = _walk(submission)
    assert found == {"hw4.py": READER, "d/data.txt": "12345", "d/again/data.txt": "12345"}
    assert any("loop -> ." in w and "may not loop" in w for w in warnings)
    assert any("d/up -> .." in w and "may not loop" in w for w in warnings)
    assert any("self -> self" in w for w in warnings)


class _FakeSupervisor:
    """A supervisor whose end is its envelope channel closing; counts the stops."""

    def __init__(self, window: float = 0.2) -> None:
        self.window = window
        self.stops = 0

    def ended(self, envelope_closed: bool) -> bool:
        return envelope_closed

    def stop(self) -> float:
        self.stops += 1
        return self.window


def _pipes() -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    return os.pipe(), os.pipe(), os.pipe()


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


def test_an_ended_supervisor_is_no_timeout_though_a_leftover_holds_stdout() -> None:
    (out_r, out_w), (err_r, err_w), (env_r, env_w) = _pipes()
    frame = wire.pack_frame({"exit_code": 0})
    os.write(env_w, frame)
    os.write(out_w, b"printed")
    _close(env_w, err_w)  # out_w stays open, as a leftover process would hold it
    supervisor = _FakeSupervisor()
    started = time.monotonic()
    drained = drain(out_r, err_r, env_r, started + 0.2, 2**20, supervisor)
    assert time.monotonic() - started < 2
    assert (drained.timed_out, drained.ended, drained.envelope) == (False, True, frame)
    assert drained.stdout == "printed" and supervisor.stops == 0
    _close(out_r, out_w, err_r, env_r)


def test_an_envelope_past_the_cap_is_read_to_the_end_and_dropped() -> None:
    (out_r, out_w), (err_r, err_w), (env_r, env_w) = _pipes()
    _close(out_w, err_w)
    cap = 100_000

    def flood() -> None:
        os.write(env_w, wire.HEADER.pack(3 * cap))  # a writer blocked on a full pipe would hang
        for _ in range(3):
            os.write(env_w, b"x" * cap)
        os.close(env_w)

    writer = threading.Thread(target=flood)
    writer.start()
    drained = drain(out_r, err_r, env_r, time.monotonic() + 10, cap, _FakeSupervisor())
    writer.join(timeout=5)
    assert not writer.is_alive()
    assert (drained.timed_out, drained.ended) == (False, True)
    assert (drained.envelope, drained.envelope_overflowed) == (b"", True)
    _close(out_r, err_r, env_r)


def test_a_supervisor_still_running_at_the_deadline_is_stopped_once() -> None:
    (out_r, out_w), (err_r, err_w), (env_r, env_w) = _pipes()
    supervisor = _FakeSupervisor(window=0.3)
    started = time.monotonic()
    drained = drain(out_r, err_r, env_r, started + 0.3, 2**20, supervisor)
    seconds = time.monotonic() - started
    assert (drained.timed_out, drained.ended, supervisor.stops) == (True, False, 1)
    assert 0.55 < seconds < 2  # the deadline, then the window stop() granted
    _close(out_r, out_w, err_r, err_w, env_r, env_w)


def test_an_overflowed_envelope_is_a_crash_in_words() -> None:
    raw = RawResult(False, b"", 0, "", "", envelope_overflowed=True)
    outcome = interpret(raw, Limits(result_bytes=2**20), False, [], time.monotonic())
    assert outcome.status is RunStatus.CRASHED
    assert outcome.message == "the sandbox's report was larger than the limit of 2.33333 MiB"
