"""Where the grader keeps what it may recompute at any time (reference training runs,
which references passed their own checks): the user's cache folder, never the repository."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader-hw4"
