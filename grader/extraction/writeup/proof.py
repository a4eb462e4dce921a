"""P4: the proof is graded by a person; keep its text and where it starts, nothing more."""

from __future__ import annotations

from grader.extraction.writeup.sections import Section
from grader.models import Source

MAX_PROOF_CHARS = 20_000


def proof_text(sections: list[Section]) -> Source | None:
    """The P4 sections' text joined, or None when the student wrote nothing there."""
    parts = [s.text.strip() for s in sections if s.text.strip()]
    if not parts:
        return None
    first = next(s for s in sections if s.text.strip())
    text = "\n\n".join(parts)
    if len(text) > MAX_PROOF_CHARS:
        text = text[:MAX_PROOF_CHARS] + "\n[... cut: the proof is longer than 20000 characters]"
    lead = len(first.text) - len(first.text.lstrip())
    return Source(first.file, first.line_at(lead), text)
