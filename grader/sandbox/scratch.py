"""A run's private scratch copy of the submission, owned by the run's sandbox uid."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.host_folders import sandbox_root


@dataclass(frozen=True)
class Scratch:
    root: Path
    workdir: Path
    tmpdir: Path
    warnings: tuple[str, ...]


@contextmanager
def scratch(submission_dir: Path, uid: int | None, parent: Path | None = None) -> Iterator[Scratch]:
    """A private copy under `parent` (default SANDBOX_ROOT; a fork server's runs folder)."""
    if parent is None:
        parent = sandbox_root()
    root = Path(tempfile.mkdtemp(prefix="run-", dir=parent))
    try:
        os.chmod(root, 0o711)  # the sandbox uid may pass through, not list
        workdir, tmpdir = root / "work", root / "tmp"
        warnings = _copy_submission(submission_dir.resolve(), workdir)
        tmpdir.mkdir()
        for path in (workdir, tmpdir):
            _hand_over(path, uid)
        yield Scratch(root, workdir, tmpdir, tuple(warnings))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _copy_submission(source: Path, target: Path) -> list[str]:
    """Copy regular files and folders; follow only symlinks that stay inside the submission."""
    warnings: list[str] = []
    target.mkdir()
    for entry in sorted(source.rglob("*")):
        relative = entry.relative_to(source)
        if any(part.is_symlink() for part in _between(source, entry)):
            continue  # inside a symlinked folder: handled (or refused) at the link itself
        destination = target / relative
        if entry.is_symlink():
            resolved = entry.resolve()
            if not resolved.is_relative_to(source) or not resolved.exists():
                warnings.append(
                    f"symlink {relative} -> {os.readlink(entry)} was not copied: "
                    "it points outside the submission"
                )
                continue
            if resolved.is_dir():
                shutil.copytree(resolved, destination, symlinks=False, dirs_exist_ok=True)
            else:
                shutil.copyfile(resolved, destination)
        elif entry.is_dir():
            destination.mkdir(exist_ok=True)
        elif entry.is_file():
            shutil.copyfile(entry, destination)
        else:
            warnings.append(f"{relative} was not copied: it is not a regular file or folder")
    return warnings


def _between(source: Path, entry: Path) -> list[Path]:
    parents = [p for p in entry.parents if p.is_relative_to(source) and p != source]
    return parents


def _hand_over(path: Path, uid: int | None) -> None:
    """Make the scratch folder the sandbox uid's own, private to it."""
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            item = os.path.join(folder, name)
            if uid is not None:
                os.lchown(item, uid, uid)
            os.chmod(item, 0o700 if name in dirs else 0o600)
    if uid is not None:
        os.chown(path, uid, uid)
    os.chmod(path, 0o700)
