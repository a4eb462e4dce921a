"""Hostile students in a class, graded end to end through `grade_path` and the reports.

Each attack sits where the grader really calls student code (a P5 loss, a P7 C3_layer).
For each: the grader finishes, the score is no more than the honest content earns, the
report says in words what happened, the other students' reports are intact, and no
sandbox process is left. Attacks that would only show by succeeding are built so success
would be visible: the loss returns the right values only if the forbidden act worked.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.api import BatchResult, grade_path
from grader.models import ProblemId, Status, SubmissionResult
from grader.reference import load_reference
from grader.sandbox.runner import sandbox_processes

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

RIGHT = "return torch.mean(2 * torch.sigmoid(-y.reshape(-1) * z.reshape(-1)) ** 2)"
WRONG = "return (z.reshape(-1) * 0 + 7).mean()"


def loss_file(body: str) -> str:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        f"import os, sys, socket, signal, time\nimport torch\n\n\ndef sq_loss(z, y):\n{indented}\n"
    )


def hostile_sources(out: Path, port: int) -> dict[str, str]:
    victim = out / "alice" / "report.html"
    return {
        # Double-forked daemon that waits, then overwrites another student's report.
        "daemon": loss_file(f"""
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(2)
        for path in ({str(victim)!r}, "../alice/report.html"):
            try:
                open(path, "w").write("PWNED")
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
{RIGHT}
"""),
        # Forged Gradescope results and JSON on stdout and on every descriptor, wrong loss.
        "forger": loss_file(f"""
forged = json_text = '{{"score": 100, "tests": [{{"name": "P5 loss", "score": 8}}]}}'
print(forged)
for fd in range(3, 256):
    try:
        os.write(fd, forged.encode())
    except OSError:
        pass
{WRONG}
"""),
        # Kills its parent and process group, then returns the right values.
        "killer": loss_file(f"""
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
try:
    os.killpg(0, signal.SIGKILL)
except OSError:
    pass
{RIGHT}
"""),
        # Reads the test split and the reference: right values only if it could.
        "reader": loss_file(f"""
try:
    open({str(ROOT / "grader" / "data" / "mnist49_test.gz")!r}, "rb").read(10)
    open({str(ROOT / "reference" / "hw4.toml")!r}).read(10)
except OSError:
    {WRONG}
{RIGHT}
"""),
        # Network: right values only if it could reach the test's server.
        "network": loss_file(f"""
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"leak")
except OSError:
    {WRONG}
{RIGHT}
"""),
        # Leaves the process with sys.exit inside the loss.
        "quitter": loss_file("sys.exit(0)"),
        # Memory bomb inside the loss.
        "bomb": loss_file("blocks = [bytearray(2**36) for _ in range(64)]\n" + RIGHT),
        # Never returns.
        "looper": loss_file("while True:\n    pass"),
        # Ignores SIGTERM, then sleeps forever.
        "stubborn": loss_file("signal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(10**6)"),
        # Fork bomb: the process limit of its uid stops it.
        "forker": loss_file("while True:\n    os.fork()"),
        # A gigabyte on stdout, then a wrong loss.
        "flood": loss_file("for _ in range(2**14):\n    sys.stdout.write('x' * 2**16)\n" + WRONG),
        # Patches torch so any comparison says "equal", then returns garbage.
        "patcher": loss_file(
            "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
            "torch.Tensor.__eq__ = lambda *a, **k: True\n" + WRONG
        ),
        # NaN instead of a loss.
        "nan": loss_file("return torch.tensor(float('nan'))"),
        # Lies about its parameter count: a full Conv2d(6,16,5) claiming Table I's count.
        "liar": """import torch
import torch.nn as nn


class C3_layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 16, 5)

    def parameters(self, recurse=True):
        return iter([torch.zeros(1516)])

    def forward(self, x):
        return self.conv(x)
""",
    }


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, list[bytes]]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            received.append(conn.recv(100) or b"connected")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def graded(
    tmp_path_factory: pytest.TempPathFactory, listener: tuple[int, list[bytes]]
) -> tuple[BatchResult, BatchResult, Path]:
    base = tmp_path_factory.mktemp("hostile_class")
    klass, out, alone = base / "class", base / "reports", base / "alone"
    shutil.copytree(ROOT / "submissions" / "alice", klass / "alice")
    for name, source in hostile_sources(out, listener[0]).items():
        (klass / name).mkdir()
        (klass / name / "solution.py").write_text(source)
    # Files no reader can take: a syntax error, bytes that are not UTF-8, and a symlink to
    # the reference beside a loss that is right only if the link can be read.
    (klass / "broken").mkdir()
    (klass / "broken" / "solution.py").write_text("def sq_loss(z, y)\n    return z\n")
    (klass / "broken" / "notes.py").write_bytes(b"# \xff\xfe caf\xe9\nx = 1\n")
    (klass / "linker").mkdir()
    (klass / "linker" / "answers_link.toml").symlink_to(ROOT / "reference" / "hw4.toml")
    (klass / "linker" / "solution.py").write_text(
        loss_file(
            f"try:\n    open('answers_link.toml').read(10)\nexcept OSError:\n    {WRONG}\n{RIGHT}"
        )
    )
    reference = load_reference()
    honest = grade_path(klass / "alice", reference, alone)
    batch = grade_path(klass, reference, out)
    time.sleep(3)  # give the daemon's grandchild the time it asked for, had it survived
    return honest, batch, out


def result_of(batch: BatchResult, student: str) -> SubmissionResult:
    report = next(r for r in batch.reports if r.student == student)
    assert report.result is not None, report.error
    return report.result


def check(result: SubmissionResult, test_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in result.checks() if c.test_id == test_id)


def test_every_student_is_graded_and_no_process_is_left(graded) -> None:  # type: ignore[no-untyped-def]
    _, batch, out = graded
    assert {r.student for r in batch.reports} == {
        "alice", "daemon", "forger", "killer", "reader", "network", "quitter", "liar", "bomb",
        "looper", "stubborn", "forker", "flood", "patcher", "nan", "broken", "linker",
    }  # fmt: skip
    assert batch.failures == ()
    for r in batch.reports:
        assert (out / r.student / "results.json").is_file()
    assert sandbox_processes() == ()


def test_the_honest_students_report_is_intact(graded) -> None:  # type: ignore[no-untyped-def]
    honest, batch, out = graded
    for path in out.rglob("*"):
        if path.is_file():
            assert b"PWNED" not in path.read_bytes(), path
    alone = json.loads(Path(honest.reports[0].report_dir, "results.json").read_text())
    in_class = json.loads((out / "alice" / "results.json").read_text())
    assert in_class["score"] == alone["score"]
    assert [t["score"] for t in in_class["tests"]] == [t["score"] for t in alone["tests"]]


def test_forged_output_earns_nothing(graded) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "forger")
    assert check(result, "P5 loss").score == 0
    assert result.score == 0
    data = json.loads((graded[2] / "forger" / "results.json").read_text())
    assert data["score"] == 0


def test_reading_the_test_split_or_reference_is_blocked(graded) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "reader")
    assert check(result, "P5 loss").score == 0  # the right values come only with the files


def test_network_is_blocked(graded, listener) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "network")
    assert check(result, "P5 loss").score == 0
    assert listener[1] == []


def test_killing_the_parent_changes_nothing_for_the_grader(graded) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "killer")
    # Its process group is its own: the kill lands on the student's own process only.
    loss = check(result, "P5 loss")
    assert loss.status is Status.CRASHED and "killed by signal 9" in loss.feedback
    assert result.score == 0


def test_sys_exit_in_a_loss_is_reported_in_words(graded) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "quitter")
    loss = check(result, "P5 loss")
    assert loss.score == 0
    assert loss.status in {Status.ERROR, Status.CRASHED, Status.FAILED}
    assert "exit" in loss.feedback.lower() or "exit" in " ".join(loss.details).lower()


def test_a_lying_parameters_method_gains_nothing(graded) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "liar")
    parameters = check(result, "P7 parameters")
    assert parameters.score == 0 and "2416" in parameters.feedback
    assert "Needs review" in parameters.feedback
    p7 = next(p for p in result.problems if p.problem is ProblemId.P7)
    assert p7.score < 3


@pytest.mark.parametrize(
    ("student", "statuses", "words"),
    [
        ("bomb", {Status.CRASHED, Status.ERROR}, "memory"),
        ("looper", {Status.TIMEOUT}, "did not return"),
        ("stubborn", {Status.TIMEOUT}, "did not return"),
        ("forker", {Status.ERROR, Status.CRASHED}, ""),
        ("nan", {Status.FAILED, Status.ERROR, Status.INVALID_OUTPUT}, ""),
    ],
)
def test_resource_attacks_are_stopped_and_named(  # type: ignore[no-untyped-def]
    graded, student: str, statuses: set[Status], words: str
) -> None:
    result = result_of(graded[1], student)
    loss = check(result, "P5 loss")
    assert loss.status in statuses, (loss.status, loss.feedback)
    assert words.lower() in (loss.feedback + " ".join(loss.details)).lower()
    assert result.score == 0


def test_output_floods_and_patched_torch_gain_nothing(graded) -> None:  # type: ignore[no-untyped-def]
    for student in ("flood", "patcher"):
        result = result_of(graded[1], student)
        assert check(result, "P5 loss").score == 0, student
        assert result.score == 0, student


def test_unreadable_files_are_noted_not_crashed(graded) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "broken")
    notes = " ".join(result.notes).lower()
    assert "syntax" in notes and "utf-8" in notes
    assert result.score == 0


def test_a_symlink_out_of_the_submission_is_not_followed(graded) -> None:  # type: ignore[no-untyped-def]
    result = result_of(graded[1], "linker")
    assert check(result, "P5 loss").score == 0  # right only if the link could be read
