"""The grading process's folders for the sandbox on the host, under SANDBOX_ROOT."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

SANDBOX_ROOT = Path(tempfile.gettempdir()) / "grader-sandbox"


def sandbox_root() -> Path:
    """SANDBOX_ROOT, created: the sandbox uids may pass through it, not list it."""
    SANDBOX_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(SANDBOX_ROOT, 0o711)
    return SANDBOX_ROOT


def private_dir(path: Path) -> Path:
    sandbox_root()
    path.mkdir(exist_ok=True)
    os.chmod(path, 0o700)
    return path


def remove_stale(prefix: str) -> None:
    """Folders `<prefix>-<pid>-*` of grading processes that were killed (no atexit ran)."""
    for folder in SANDBOX_ROOT.glob(f"{prefix}-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
