"""Content hashes that decide whether a stored result can be reused.

A stored result is reused only when the submission's files, the reference, the manual
scores and the grading settings are all unchanged: the cache key hashes all four.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from grader.manual_scores import ManualScoresError, read_manual_scores

# Derived files Python writes when a submission's code is imported: they change without the
# student changing anything, so they must not invalidate the cache.
_IGNORED_DIRS = frozenset({"__pycache__"})
_IGNORED_SUFFIXES = (".pyc",)


def _length_prefixed(data: bytes) -> bytes:
    # A length prefix keeps ("ab", "c") and ("a", "bc") from hashing alike.
    return len(data).to_bytes(8, "big") + data


def submission_hash(folder: Path) -> str:
    """sha256 over every file's relative path and bytes, in sorted path order."""
    files: list[tuple[str, Path]] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if d not in _IGNORED_DIRS]
        for name in names:
            if name.endswith(_IGNORED_SUFFIXES):
                continue
            path = Path(root) / name
            files.append((path.relative_to(folder).as_posix(), path))
    digest = hashlib.sha256()
    for rel, path in sorted(files):
        digest.update(_length_prefixed(rel.encode("utf-8", "surrogateescape")))
        if path.is_symlink():
            # A link is hashed as what it says, never followed out of the submission.
            digest.update(b"L" + _length_prefixed(os.readlink(path).encode("utf-8", "replace")))
            continue
        digest.update(b"F")
        file_digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                file_digest.update(block)
        digest.update(file_digest.digest())
    return digest.hexdigest()


def manual_scores_hash(path: Path) -> str:
    """Hash of the scores a person entered, not of the file's bytes: the blank template the
    grader writes after the first run, or an edited comment, must not force a regrade."""
    try:
        scores = read_manual_scores(path)
    except ManualScoresError:
        # Unreadable: never matches a stored key, so grade_one runs and reports the fault.
        raw = path.read_bytes() if path.is_file() else b""
        return "unreadable:" + hashlib.sha256(raw).hexdigest()
    text = repr(sorted((s.test_id, s.score, s.comment, s.grader) for s in scores))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheKey:
    content_hash: str
    reference_hash: str
    manual_hash: str
    settings: str  # grader version and grading options: another grader may score differently

    @property
    def digest(self) -> str:
        parts = (self.content_hash, self.reference_hash, self.manual_hash, self.settings)
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
