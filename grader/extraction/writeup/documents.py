"""Find and decode a submission's write-up files (*.md, *.tex) with size and count caps.

LaTeX comments and the preamble are blanked (line breaks kept) so that line numbers still
match the student's file while `% Problem 9` or `\\title{...}` never look like answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from grader.extraction.folders import SKIPPED_FOLDERS

MAX_FILE_BYTES = 512_000  # a long write-up is ~50 KB; beyond this only the start is read
MAX_FILES = 12
MAX_DEPTH = 3


class DocKind(Enum):
    MARKDOWN = "markdown"
    LATEX = "latex"


_SUFFIXES = {".md": DocKind.MARKDOWN, ".markdown": DocKind.MARKDOWN, ".tex": DocKind.LATEX}


@dataclass(frozen=True)
class Document:
    name: str  # path relative to the submission folder, as shown in sources
    text: str  # decoded, "\n" line ends, LaTeX comments/preamble blanked


@dataclass(frozen=True)
class DocumentSet:
    documents: tuple[Document, ...]
    notes: tuple[str, ...]


def _priority(rel: str) -> tuple[int, str]:
    """Write-up-like names first; a README is usually the course's, not an answer."""
    low = rel.lower()
    if "readme" in low:
        return (2, low)
    if any(w in low for w in ("writeup", "write-up", "hw", "homework", "solution", "answer")):
        return (0, low)
    return (1, low)


def _candidates(root: Path) -> list[Path]:
    found: list[Path] = []
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack and len(found) < 10 * MAX_FILES:
        folder, depth = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink() or entry.name.startswith("."):
                continue  # a link could point outside the submission
            if entry.is_dir():
                if depth < MAX_DEPTH and entry.name not in SKIPPED_FOLDERS:
                    stack.append((entry, depth + 1))
            elif entry.suffix.lower() in _SUFFIXES and entry.is_file():
                found.append(entry)
    return found


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) // 20


def _blank(text: str) -> str:
    """Same lines, no content: keeps line numbers of what follows."""
    return "\n" * text.count("\n")


def _strip_latex(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        i = 0
        while True:
            i = line.find("%", i)
            if i < 0:
                break
            backslashes = 0
            j = i - 1
            while j >= 0 and line[j] == "\\":
                backslashes += 1
                j -= 1
            if backslashes % 2 == 0:
                line = line[:i]
                break
            i += 1
        lines.append(line)
    out = "\n".join(lines)
    begin = out.find("\\begin{document}")
    if begin >= 0:
        cut = begin + len("\\begin{document}")
        out = _blank(out[:cut]) + out[cut:]
    end = out.find("\\end{document}")
    if end >= 0:
        out = out[:end] + _blank(out[end:])
    return out


def decode(name: str, data: bytes, kind: DocKind) -> tuple[Document | None, list[str]]:
    notes: list[str] = []
    if _looks_binary(data):
        return None, [f"{name}: looks like a binary file, not text; not read"]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        notes.append(f"{name}: not valid UTF-8 ({bad} undecodable bytes replaced)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if kind is DocKind.LATEX:
        text = _strip_latex(text)
    return Document(name, text), notes


def find_documents(root: Path) -> DocumentSet:
    notes: list[str] = []
    paths = sorted(_candidates(root), key=lambda p: _priority(str(p.relative_to(root))))
    if len(paths) > MAX_FILES:
        notes.append(f"{len(paths)} write-up files found; only the first {MAX_FILES} were read")
        paths = paths[:MAX_FILES]
    docs: list[Document] = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            notes.append(f"{rel}: could not be opened ({exc.strerror or exc})")
            continue
        if len(data) > MAX_FILE_BYTES:
            data = data[:MAX_FILE_BYTES]
            notes.append(f"{rel}: larger than {MAX_FILE_BYTES // 1000} KB; only the start was read")
        doc, doc_notes = decode(rel, data, _SUFFIXES[path.suffix.lower()])
        notes.extend(doc_notes)
        if doc is not None:
            docs.append(doc)
    return DocumentSet(tuple(docs), tuple(notes))
