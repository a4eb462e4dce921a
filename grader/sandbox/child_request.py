"""What a supervisor is given: its request (task, limits, layers) and its environment."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.sandbox import layers
from grader.sandbox.host_paths import DEVICE_PATHS, system_read_paths
from grader.sandbox.run_types import Limits
from grader.sandbox.scratch import Scratch


@dataclass(frozen=True)
class Job:
    task: str
    request: dict[str, Any]
    limits: Limits
    readable_data: tuple[Path, ...]
    scratch: Scratch
    uid: int | None


def child_request(
    job: Job, workdir: str, tmpdir: str, pkg_path: str, bubblewrap: bool
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
            f.name: getattr(job.limits, f.name) for f in dataclasses.fields(layers.RlimitValues)
        },
        "landlock": (
            {
                "read": [*system_read_paths(), pkg_path, *data],
                "write": [workdir, tmpdir, *DEVICE_PATHS],
            }
            if layers.usable(layers.Layer.LANDLOCK)
            else None
        ),
        "seccomp": layers.usable(layers.Layer.SECCOMP),
    }


def child_env() -> dict[str, str]:
    """The environment a supervisor starts with; HOME and TMPDIR are per task, in the request.

    No inherited variables: nothing secret reaches the child, and torch stays single-threaded
    so RLIMIT_AS holds (each extra thread arena would reserve address space).
    """
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }
