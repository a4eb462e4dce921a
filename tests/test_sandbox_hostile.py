"""Hostile submissions (tests/hostile/<name>/solution.py) run through the real sandbox.

Every submission is run once, all of them concurrently (the sandbox gives each run its own
slot and uid), in a module fixture; each test then checks one attack: the status, a message
in words, bounded time, nothing written outside, no sandbox process left. Each test names
the layer it depends on and is skipped, with the reason, only when that layer is missing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.sandbox import Limits, RunOutcome, RunStatus, available_layers, run_task, wire
from grader.sandbox.runner import sandbox_processes

HOSTILE = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parents[1]
LAYERS = {name: (ok, why) for name, ok, why in available_layers()}
SHORT = Limits(wall_seconds=3, cpu_seconds=10, memory_bytes=2 * 2**30, result_bytes=2**20)
# Runs that should finish get room for a slow, busy machine; only the attacks that must be
# cut off by the clock use the short wall time.
ROOMY = Limits(wall_seconds=30, cpu_seconds=20, memory_bytes=2 * 2**30, result_bytes=2**20)


def needs(*names: str) -> pytest.MarkDecorator:
    missing = [f"{n}: {LAYERS[n][1]}" for n in names if not LAYERS[n][0]]
    return pytest.mark.skipif(bool(missing), reason="; ".join(missing) or "all layers present")


@dataclass
class Case:
    name: str
    args: list[Any] = field(default_factory=list)
    limits: Limits = ROOMY
    readable: tuple[Path, ...] = ()
    reject_nonfinite: bool = False
    prepare: Callable[[Path], None] | None = None
    source: str = ""  # folder under tests/hostile when it differs from the name


@dataclass
class Ran:
    outcome: RunOutcome
    seconds: float


@dataclass
class World:
    outside: Path
    secret: Path
    allowed: Path
    server_hits: list[bytes]
    udp_port: int
    tcp_port: int
    runs: dict[str, Ran]

    def __getitem__(self, name: str) -> Ran:
        return self.runs[name]


def _tcp_server() -> tuple[socket.socket, list[bytes]]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    hits: list[bytes] = []

    def accept() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                if server.fileno() < 0:
                    return
                continue
            hits.append(conn.recv(100) or b"<connected>")
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return server, hits


def _link_outside(workdir: Path) -> None:
    (workdir / "passwd_link").symlink_to("/etc/passwd")
    (workdir / "reference_link").symlink_to(REPO / "reference" / "hw4.toml")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("hostile")
    outside = base / "outside"
    outside.mkdir()
    secret = outside / "t10k-images-idx3-ubyte"  # a fake hidden test split
    secret.write_bytes(b"hidden test images")
    allowed_dir = base / "train"
    allowed_dir.mkdir()
    allowed = allowed_dir / "train-images-idx3-ubyte"
    allowed.write_bytes(b"training images")
    server, hits = _tcp_server()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    tcp_port, udp_port = server.getsockname()[1], udp.getsockname()[1]
    cases = [
        Case("infinite_loop", limits=SHORT),
        Case("long_sleep", limits=SHORT),
        Case("memory_bomb", limits=Limits(wall_seconds=30, memory_bytes=2**30)),
        Case("fork_bomb", limits=Limits(wall_seconds=3, processes=24)),
        Case("double_fork_daemon", args=[str(outside / "daemon.txt")]),
        Case("kill_parent"),
        Case("kill_process_group"),
        Case("sys_exit"),
        Case("os_exit"),
        Case("keyboard_interrupt"),
        Case("stdout_flood", limits=Limits(wall_seconds=8)),
        Case("forge_every_fd"),
        Case(
            "read_outside",
            args=[[str(REPO / "reference" / "hw4.toml"), str(secret), str(allowed)]],
            readable=(allowed_dir,),
        ),
        Case(
            "write_outside",
            args=[[str(outside / "written.txt"), str(REPO / "reports" / "pwned.txt")]],
        ),
        Case("network", args=["127.0.0.1", tcp_port]),
        Case("network_public", args=["1.1.1.1", 80], source="network"),
        Case("network_udp", args=["127.0.0.1", udp_port]),
        Case("patch_torch"),
        Case("return_nan", reject_nonfinite=True),
        Case("huge_tensor"),
        Case("sigterm_ignored", limits=SHORT),
        Case("symlink_outside", prepare=_link_outside),
        Case("syntax_error"),
        Case("non_utf8"),
        Case("escalate_privileges"),
        Case("forge_traceback"),
    ]

    def run(case: Case) -> Ran:
        submission = base / "submissions" / case.name
        submission.mkdir(parents=True)
        for item in (HOSTILE / (case.source or case.name)).iterdir():
            # Broken sources are stored as .py.txt so linters skip them; students send .py.
            (submission / item.name.removesuffix(".txt")).write_bytes(item.read_bytes())
        if case.prepare is not None:
            case.prepare(submission)
        request = {
            "file": "solution.py",
            "function": "run",
            "args": [wire.encode_value(a) for a in case.args],
        }
        started = time.monotonic()
        outcome = run_task(
            "generic.call",
            request,
            submission,
            case.limits,
            readable_data=case.readable,
            reject_nonfinite=case.reject_nonfinite,
        )
        return Ran(outcome, time.monotonic() - started)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {c.name: pool.submit(run, c) for c in cases}
        runs = {name: f.result() for name, f in futures.items()}
    time.sleep(1.2)  # the daemon would have written by now
    yield World(outside, secret, allowed, hits, udp_port, tcp_port, runs)
    server.close()
    udp.close()


def _value(ran: Ran) -> Any:
    assert ran.outcome.status is RunStatus.OK, ran.outcome.message
    assert ran.outcome.value is not None
    return wire.decode_value(ran.outcome.value["result"])


def _no_leftovers() -> None:
    assert sandbox_processes() == ()


@needs("rlimits")
@pytest.mark.parametrize("name", ["infinite_loop", "long_sleep", "sigterm_ignored"])
def test_runaway_code_times_out_and_is_killed(world: World, name: str) -> None:
    ran = world[name]
    assert ran.outcome.status is RunStatus.TIMEOUT
    assert ran.outcome.message == "timed out after 3 s"
    assert ran.seconds < 3 + 4
    _no_leftovers()


@needs("rlimits")
def test_memory_bomb_runs_out_of_memory(world: World) -> None:
    ran = world["memory_bomb"]
    assert ran.outcome.status is RunStatus.OUT_OF_MEMORY
    assert ran.outcome.message == "ran out of memory (1 GiB)"


@needs("uid", "rlimits")
def test_fork_bomb_is_contained(world: World) -> None:
    ran = world["fork_bomb"]
    assert ran.outcome.status is RunStatus.TIMEOUT
    assert ran.seconds < 3 + 4
    _no_leftovers()


@needs("subreaper", "uid")
def test_double_forked_daemon_dies_with_the_run(world: World) -> None:
    ran = world["double_fork_daemon"]
    assert _value(ran) == "detached"
    _no_leftovers()
    assert not (world.outside / "daemon.txt").exists()
    assert not Path("/tmp/daemon-was-here").exists()


@needs("uid")
def test_killing_the_parent_is_refused(world: World) -> None:
    outcome = world["kill_parent"].outcome
    assert outcome.status is RunStatus.ERROR
    assert outcome.message.startswith("the code raised PermissionError")


@needs("uid")
def test_killing_the_process_group_only_kills_the_student(world: World) -> None:
    outcome = world["kill_process_group"].outcome
    assert outcome.status is RunStatus.CRASHED
    assert outcome.message.startswith("killed by signal 9 (SIGKILL)")
    assert "subreaper" in outcome.layers  # the supervisor survived to report


@needs("rlimits")
def test_sys_exit_is_an_error(world: World) -> None:
    outcome = world["sys_exit"].outcome
    assert (outcome.status, outcome.message) == (RunStatus.ERROR, "the code called sys.exit(3)")


@needs("rlimits")
def test_os_exit_is_a_crash(world: World) -> None:
    outcome = world["os_exit"].outcome
    assert outcome.status is RunStatus.CRASHED
    assert outcome.message.startswith("exited with status 3 before returning a result")


@needs("rlimits")
def test_keyboard_interrupt_is_an_error(world: World) -> None:
    outcome = world["keyboard_interrupt"].outcome
    assert (outcome.status, outcome.message) == (
        RunStatus.ERROR,
        "the code raised KeyboardInterrupt",
    )


@needs("rlimits")
def test_stdout_flood_is_capped(world: World) -> None:
    ran = world["stdout_flood"]
    assert ran.outcome.status in (RunStatus.TIMEOUT, RunStatus.OK)
    assert ran.seconds < 8 + 4
    assert len(ran.outcome.stdout_tail) < 20_000
    assert "earlier bytes dropped" in ran.outcome.stdout_tail


@needs("rlimits")
def test_forged_frames_on_every_fd_are_rejected(world: World) -> None:
    outcome = world["forge_every_fd"].outcome
    assert outcome.status is RunStatus.INVALID_OUTPUT
    assert outcome.value is None
    assert "more than one frame" in outcome.message
    assert "rlimits" in outcome.layers  # the layer report came through untouched


@needs("bubblewrap", "landlock")
def test_files_outside_are_unreadable_except_the_granted_data(world: World) -> None:
    found = _value(world["read_outside"])
    assert found[str(REPO / "reference" / "hw4.toml")] in ("FileNotFoundError", "PermissionError")
    assert found[str(world.secret)] in ("FileNotFoundError", "PermissionError")
    assert found[str(world.allowed)] == len(b"training images")


@needs("bubblewrap", "landlock", "uid")
def test_writes_outside_do_not_land(world: World) -> None:
    done = _value(world["write_outside"])
    assert "written" not in done.values()
    assert not (world.outside / "written.txt").exists()
    assert not (REPO / "reports" / "pwned.txt").exists()


@needs("seccomp")
@pytest.mark.parametrize("name", ["network", "network_public"])
def test_tcp_is_blocked_quickly(world: World, name: str) -> None:
    result = _value(world[name])
    assert result["outcome"].startswith("PermissionError")
    assert result["seconds"] < 1
    assert world.server_hits == []


@needs("seccomp")
def test_udp_is_blocked(world: World) -> None:
    assert _value(world["network_udp"]).startswith("PermissionError")


def test_patched_torch_in_the_child_does_not_reach_the_parent(world: World) -> None:
    returned = _value(world["patch_torch"])
    assert torch.equal(returned, torch.zeros(3))
    assert not torch.allclose(returned, torch.ones(3))  # the parent's torch is untouched


def test_nan_is_rejected_when_asked(world: World) -> None:
    outcome = world["return_nan"].outcome
    assert outcome.status is RunStatus.INVALID_OUTPUT
    assert "nan" in outcome.message.lower()


def test_huge_tensor_is_refused(world: World) -> None:
    outcome = world["huge_tensor"].outcome
    assert outcome.status is RunStatus.INVALID_OUTPUT
    assert "larger than the limit" in outcome.message


def test_symlinks_leaving_the_submission_are_not_copied(world: World) -> None:
    ran = world["symlink_outside"]
    found = _value(ran)
    assert found["passwd_link"] == "FileNotFoundError"
    assert found["reference_link"] == "FileNotFoundError"
    assert found["listing"] == ["solution.py"]
    assert any("passwd_link" in w and "outside the submission" in w for w in ran.outcome.warnings)


def test_syntax_error_is_reported(world: World) -> None:
    outcome = world["syntax_error"].outcome
    assert outcome.status is RunStatus.ERROR
    assert outcome.message.startswith("the code raised SyntaxError")


def test_non_utf8_source_is_reported(world: World) -> None:
    outcome = world["non_utf8"].outcome
    assert outcome.status is RunStatus.ERROR
    assert "solution.py is not UTF-8 text" in outcome.message


@needs("uid", "seccomp", "bubblewrap")
def test_privilege_escalation_fails(world: World) -> None:
    attempts = _value(world["escalate_privileges"])
    assert set(attempts) == {"setuid0", "unshare_user", "ptrace_parent", "read_parent_environ"}
    assert "succeeded" not in attempts.values()


def test_silenced_tracebacks_do_not_hide_the_failure(world: World) -> None:
    outcome = world["forge_traceback"].outcome
    assert outcome.status is RunStatus.ERROR
    assert outcome.message == "the code raised AssertionError: wrong answer"


def test_every_layer_is_applied_or_warned(world: World) -> None:
    for ran in world.runs.values():
        applied = set(ran.outcome.layers)
        for name, (usable, _) in LAYERS.items():
            if ran.outcome.status is RunStatus.TIMEOUT:
                continue  # the report may be cut off with the run
            assert name in applied or not usable or any(name in w for w in ran.outcome.warnings)
