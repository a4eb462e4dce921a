"""The host paths a child needs: the Python installation, system folders, devices."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

DEVICE_PATHS = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/shm")
# Top-level system folders, bound read-only by bubblewrap (a symlink is re-created instead).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf")


@functools.cache
def python_paths() -> tuple[str, ...]:
    """The interpreter's folders and its site-packages, without nested duplicates."""
    paths = {str(Path(sys.base_prefix).resolve()), str(Path(sys.prefix).resolve())}
    paths.add(str(Path(sys.executable).resolve().parent))
    for entry in sys.path:
        resolved = Path(entry or ".").resolve()
        if resolved.is_dir() and "site-packages" in resolved.parts:
            paths.add(str(resolved))
        elif resolved.is_dir() and resolved.is_relative_to(Path(sys.base_prefix).resolve()):
            paths.add(str(resolved))
    return tuple(
        sorted(p for p in paths if not any(p.startswith(s + "/") for s in paths if s != p))
    )


def system_read_paths() -> list[str]:
    """What Landlock lets a worker read outside its own folders."""
    system = (*SYSTEM_DIRS, "/etc", "/proc", "/sys", "/dev")
    return [p for p in system if os.path.exists(p)] + list(python_paths())
