"""The bubblewrap command line: which host paths a sandbox sees, and where inside."""

from __future__ import annotations

import os
from pathlib import Path

from grader.sandbox.host_paths import ETC_FILES, SYSTEM_DIRS, python_paths

SANDBOX_WORKDIR = "/sandbox/work"
SANDBOX_PKG = "/sandbox/pkg"
SANDBOX_RUNS = "/sandbox/runs"  # the fork server's runs folder, one subfolder per task


def bwrap_args(
    pkg: Path, writable: list[tuple[Path, str]], readable_data: tuple[Path, ...]
) -> list[str]:
    """bubblewrap as real root, no user namespace, keeping only the caps the drop needs."""
    args = ["bwrap", "--die-with-parent", "--new-session"]
    args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--hostname", "sandbox"]
    args += ["--cap-drop", "ALL"]
    for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL"):
        args += ["--cap-add", cap]
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    if os.path.isdir("/sys/devices/system/cpu"):
        args += ["--ro-bind", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    made: set[str] = {"/", "/usr", "/etc", "/proc", "/dev", "/sys"}
    for path in python_paths():
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
