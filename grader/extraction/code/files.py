"""Find a submission's Python files and notebooks and read them as Python source text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from grader.extraction.folders import SKIPPED_FOLDERS

MAX_BYTES = 2_000_000  # a bigger "code" file is data or output, not something to grade


class FileKind(Enum):
    PYTHON = "python"
    NOTEBOOK = "notebook"


@dataclass(frozen=True)
class CodeFile:
    """One file as Python text. For a notebook, the code cells joined with magics blanked;
    `cells` holds each cell's (first, last) line in that text so lines can be named."""

    path: str  # relative to the submission folder, with forward slashes
    kind: FileKind
    source: str | None  # None when the file could not be read (see notes)
    cells: tuple[tuple[int, int], ...] = ()
    notes: tuple[str, ...] = ()

    def where(self, line: int) -> str:
        """'file.py line 7' or 'nb.ipynb cell 3 line 2' for the report."""
        for i, (first, last) in enumerate(self.cells):
            if first <= line <= last:
                return f"{self.path} cell {i + 1} line {line - first + 1}"
        return f"{self.path} line {line}"


def find_code_files(folder: Path) -> tuple[Path, ...]:
    """Every *.py and *.ipynb under folder (any depth, names with spaces), sorted, skipping
    caches, checkpoints and hidden folders."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(p in SKIPPED_FOLDERS or p.startswith(".") for p in rel.parts[:-1]):
            continue
        if path.suffix in (".py", ".ipynb") and path.is_file() and not path.is_symlink():
            found.append(path)
    return tuple(sorted(found, key=lambda p: p.relative_to(folder).as_posix()))


def _is_magic(line: str) -> bool:
    s = line.lstrip()
    return s.startswith(("%", "!")) or (s.rstrip().endswith("?") and not s.startswith("#"))


def notebook_source(text: str, where: str) -> tuple[str, tuple[tuple[int, int], ...], list[str]]:
    """Code cells of a notebook joined into one text; shell and magic lines become blank lines
    (so line numbers stay right) and %% cell magics drop the whole cell."""
    notes: list[str] = []
    try:
        nb = json.loads(text)
        cells = nb["cells"]
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{where} is not a readable notebook ({exc})") from None
    lines: list[str] = []
    ranges: list[tuple[int, int]] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        body = "".join(src) if isinstance(src, list) else str(src)
        cell_lines = body.splitlines()
        if cell_lines and cell_lines[0].lstrip().startswith("%%"):
            notes.append(f"{where} cell {number}: cell magic {cell_lines[0].strip()!r} skipped")
            cell_lines = ["" for _ in cell_lines]
        kept = []
        for line in cell_lines:
            if _is_magic(line):
                kept.append("")
            else:
                kept.append(line)
        first = len(lines) + 1
        lines.extend(kept or [""])
        ranges.append((first, len(lines)))
        lines.append("")  # a blank line between cells
    return "\n".join(lines) + "\n", tuple(ranges), notes


def read_code_file(path: Path, folder: Path) -> CodeFile:
    """Read one file; unreadable input becomes a note naming the file, never an exception."""
    rel = path.relative_to(folder).as_posix()
    kind = FileKind.NOTEBOOK if path.suffix == ".ipynb" else FileKind.PYTHON
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return CodeFile(rel, kind, None, notes=(f"{rel}: {size} bytes, too big to be code",))
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return CodeFile(rel, kind, None, notes=(f"{rel}: cannot be read ({exc.strerror})",))
    except UnicodeDecodeError as exc:
        return CodeFile(
            rel, kind, None, notes=(f"{rel}: not UTF-8 text (byte {exc.start}); not read",)
        )
    if kind is FileKind.PYTHON:
        return CodeFile(rel, kind, text)
    try:
        source, cells, notes = notebook_source(text, rel)
    except ValueError as exc:
        return CodeFile(rel, kind, None, notes=(str(exc),))
    return CodeFile(rel, kind, source, cells, tuple(notes))
