"""Small linear-time text helpers shared by the per-problem readers."""

from __future__ import annotations

import re

_SPACING = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])|\\[,;:! ]|~|\\q?quad\b")
_WRAPPERS = re.compile(
    r"\\(?:text|mathrm|textrm|mathbf|boldsymbol|bm|operatorname|mathit|textit|textbf|emph)\s*"
)


def plain(text: str) -> str:
    """Math and prose as one lowercase-free flat string: spacing commands and $ removed."""
    out = _SPACING.sub(" ", text)
    out = _WRAPPERS.sub("", out)
    out = out.replace("$", " ").replace("\\displaystyle", " ").replace("{", "").replace("}", "")
    return re.sub(r"[ \t]+", " ", out)


def squeeze(text: str) -> str:
    """No whitespace at all, no sizing/spacing commands: for matching formula shapes."""
    out = _SPACING.sub("", text).replace("\\displaystyle", "")
    return re.sub(r"\s+", "", out)


_OPEN = {"{": "}", "(": ")", "[": "]"}


def depths(text: str) -> list[int]:
    """Nesting depth before each character ({}, (), [], \\begin..\\end)."""
    out: list[int] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and text.startswith("\\begin{", i):
            out.append(depth)
            depth += 1
            i += 1
            continue
        if ch == "\\" and text.startswith("\\end{", i):
            depth = max(0, depth - 1)
            out.append(depth)
            i += 1
            continue
        if ch == "\\" and i + 1 < n and text[i + 1] in "{}[]()":
            out.extend((depth, depth))  # \{ \} \left\{ are not grouping for us
            i += 2
            continue
        if ch in _OPEN:
            out.append(depth)
            depth += 1
        elif ch in "})]":
            depth = max(0, depth - 1)
            out.append(depth)
        else:
            out.append(depth)
        i += 1
    return out


def split_top(text: str, seps: tuple[str, ...]) -> list[tuple[int, str]]:
    """Split at separators at nesting depth 0; returns (offset, piece) pairs."""
    d = depths(text)
    firsts = {s[0] for s in seps}
    pieces: list[tuple[int, str]] = []
    start = 0
    i, n = 0, len(text)
    while i < n:
        if d[i] == 0 and text[i] in firsts:
            hit = next((s for s in seps if text.startswith(s, i)), None)
            if hit is not None and not (hit[0].isalpha() and i > 0 and text[i - 1] == "\\"):
                if hit.startswith("\\") and i + len(hit) < n and text[i + len(hit)].isalpha():
                    i += 1  # \quad is not \quadrant
                    continue
                pieces.append((start, text[start:i]))
                i += len(hit)
                start = i
                continue
        i += 1
    pieces.append((start, text[start:]))
    return pieces


_INT = re.compile(r"(?<![\d.])(\d{1,3}(?:(?:,|\{,\}|\\,)\d{3})+|\d+)(?![\d]|\.\d)")


def integers(text: str) -> list[tuple[int, int, int]]:
    """Whole numbers with their (start, end); 60,806 and 61\\,706 and 2{,}416 are one number."""
    out: list[tuple[int, int, int]] = []
    for m in _INT.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) <= 12:
            out.append((int(digits), m.start(), m.end()))
    return out
