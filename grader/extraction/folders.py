"""Folders of a submission that hold copies, caches or installed packages, never the
student's own answers: both the write-up finder and the code finder skip them."""

from __future__ import annotations

SKIPPED_FOLDERS = frozenset(
    (
        "__pycache__",
        ".ipynb_checkpoints",
        ".git",
        "venv",
        ".venv",
        "site-packages",
        "node_modules",
    )
)
