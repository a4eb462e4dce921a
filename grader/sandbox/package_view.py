"""The child's read-only view of the grader: a copy of grader/sandbox alone, made once."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

from grader.sandbox.host_folders import remove_stale, sandbox_root

PACKAGE_DIR = Path(__file__).resolve().parent

_PACKAGE_VIEW: list[Path] = []
_PACKAGE_LOCK = threading.Lock()


def package_view() -> Path:
    """A read-only copy of grader/sandbox alone: the child sees no other grader module.

    Without grader/__init__.py, `grader` is a namespace package there, so nothing else of the
    grader (checks, reference loader) can be imported or read by the child.
    """
    with _PACKAGE_LOCK:
        if _PACKAGE_VIEW and _PACKAGE_VIEW[0].is_dir():
            return _PACKAGE_VIEW[0]
        root_dir = sandbox_root()
        remove_stale("pkg")
        root = Path(tempfile.mkdtemp(prefix=f"pkg-{os.getpid()}-", dir=root_dir))
        target = root / "grader" / "sandbox"
        shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
        for folder, _, files in os.walk(root):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        _PACKAGE_VIEW[:] = [root]
        atexit.register(shutil.rmtree, root, True)
        return root
