"""Measure sandbox start-up: per-task time, cold exec vs fork server, and each layer's cost.

    python scripts/bench_sandbox.py [--runs 5]

Prints median milliseconds. The exec path pays a fresh bubblewrap, interpreter and
`import torch` per task; the fork server pays them once (its start-up is shown apart) and
then only a fork, the layers and the task per task.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sandbox import Limits, available_layers, layers, run_task  # noqa: E402
from grader.sandbox.child_request import Job  # noqa: E402
from grader.sandbox.exec_path import bwrap_command  # noqa: E402
from grader.sandbox.package_view import package_view  # noqa: E402
from grader.sandbox.runner import (  # noqa: E402
    FORKSERVER_ENV,
    SANDBOX_UID_BASE,
    Launcher,
    forkserver_pool,
)
from grader.sandbox.scratch import Scratch  # noqa: E402


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_forked_child(action: Callable[[], object]) -> float:
    """Seconds `action` takes in a forked child (layers cannot be undone in this process)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        started = time.perf_counter()
        try:
            action()
            os.write(write_end, f"{time.perf_counter() - started}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    data = os.read(read_end, 100)
    os.waitpid(pid, 0)
    os.close(read_end)
    return float(data or "nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(
        "layers:",
        ", ".join(
            f"{n}={'yes' if ok else 'NO (' + why + ')'}" for n, ok, why in available_layers()
        ),
    )
    py = [sys.executable, "-I", "-c"]
    rows = [
        ("python -I start", median_seconds(lambda: subprocess.run([*py, "pass"]), runs)),
        (
            "python -I + import torch",
            median_seconds(lambda: subprocess.run([*py, "import torch"]), runs),
        ),
    ]
    with tempfile.TemporaryDirectory() as folder:
        submission = Path(folder)
        (submission / "s.py").write_text("def f():\n    return 1\n")
        request = {"file": "s.py", "function": "f", "args": []}
        limits = Limits(wall_seconds=60)

        def task() -> None:
            run_task("generic.call", request, submission, limits)

        os.environ[FORKSERVER_ENV] = "0"
        outcome = run_task("generic.call", request, submission, limits)
        print(
            "applied:",
            ", ".join(outcome.layers),
            "| warnings:",
            "; ".join(outcome.warnings) or "none",
        )
        rows.append(("cold task, exec path (run_task, all layers)", median_seconds(task, runs)))
        if layers.usable(layers.Layer.BUBBLEWRAP):
            os.environ[FORKSERVER_ENV] = "1"
            forkserver_pool().shutdown()
            started = time.perf_counter()
            first = run_task("generic.call", request, submission, limits)
            rows.append(("fork server start + first task", time.perf_counter() - started))
            assert first.launcher is Launcher.FORK_SERVER, first.warnings
            rows.append(("task through the fork server (warm)", median_seconds(task, runs)))
            forkserver_pool().shutdown()
        if layers.usable(layers.Layer.BUBBLEWRAP):
            scratch = Scratch(submission, submission, submission, ())
            job = Job("generic.call", request, limits, (), scratch, None)
            command = bwrap_command(job, package_view())
            bare = median_seconds(lambda: subprocess.run(["/bin/true"]), runs)
            wrapped = median_seconds(lambda: subprocess.run([*command, "/bin/true"]), runs)
            rows.append(("bubblewrap start-up (minus /bin/true)", wrapped - bare))
    if layers.usable(layers.Layer.LANDLOCK):
        rows.append(
            ("landlock apply", in_forked_child(lambda: layers.apply_landlock(["/usr"], ["/tmp"])))
        )
    if layers.usable(layers.Layer.SECCOMP):
        layers.preload_seccomp()
        rows.append(("seccomp apply (pyseccomp loaded)", in_forked_child(layers.apply_seccomp)))
    if layers.usable(layers.Layer.UID):
        rows.append(("uid drop", in_forked_child(lambda: layers.drop_uid(SANDBOX_UID_BASE + 63))))
    limits_values = layers.RlimitValues(2**31, 60, 2**26, 256, 128)
    rows.append(
        ("rlimits apply", in_forked_child(lambda: layers.apply_rlimits(limits_values, True)))
    )
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
