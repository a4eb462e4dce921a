"""run_task on well-behaved submissions: right and wrong answers come back as data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from grader.sandbox import Limits, RunStatus, available_layers, run_task, wire
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
