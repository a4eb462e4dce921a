"""A run's private scratch copy of the submission, owned by the run's sandbox uid."""

from __future__ import annotations

import os
import shutil
import stat
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
    """Copy regular files and folders; follow only symlinks that stay inside the submission.

    Every entry is checked on its own, also inside a folder reached through a link (the copy
    runs as root: nothing may be followed blindly). A folder is entered through a link at most
    once and the submission itself never, so links can neither loop nor multiply the copy.
    """
    warnings: list[str] = []
    target.mkdir()
    linked = {source}
    # (real folder to read, where its copy goes, its path as the student named it)
    pending = [(source, target, Path())]
    while pending:
        folder, destination, shown = pending.pop()
        try:
            destination.mkdir(exist_ok=True)
            names = sorted(os.listdir(folder))
        except OSError as exc:
            warnings.append(f"{shown} was not copied: {_why(exc)}")
            continue
        folders = []
        for name in names:
            entry, relative = folder / name, shown / name
            try:
                real = _followed(entry, source, linked, relative, warnings)
                if real is None:
                    continue
                mode = os.lstat(real).st_mode
                if stat.S_ISDIR(mode):
                    folders.append((real, destination / name, relative))
                elif stat.S_ISREG(mode):
                    shutil.copyfile(real, destination / name)
                else:
                    warnings.append(
                        f"{relative} was not copied: it is not a regular file or folder"
                    )
            except OSError as exc:
                warnings.append(f"{relative} was not copied: {_why(exc)}")
        pending += reversed(folders)  # depth first, in name order; no recursion limit to hit
    return warnings


def _followed(
    entry: Path, source: Path, linked: set[Path], relative: Path, warnings: list[str]
) -> Path | None:
    """The real path to copy `entry` from, or None (with a warning) when it must not be."""
    if not entry.is_symlink():
        return entry  # a plain entry of a real folder inside the submission
    shown = f"symlink {relative} -> {os.readlink(entry)} was not copied"
    real = Path(os.path.realpath(entry))  # never raises, loops included (then it is absent)
    if not real.is_relative_to(source) or not os.path.exists(real):
        warnings.append(f"{shown}: it points outside the submission")
        return None
    if real.is_dir():
        if real in linked:
            warnings.append(f"{shown}: its folder is copied already (links may not loop or repeat)")
            return None
        linked.add(real)
    return real


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


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
