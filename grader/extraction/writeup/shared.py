"""What every per-problem reader shares: a found answer value with its source offsets."""

from __future__ import annotations

from dataclasses import dataclass

from grader.extraction.writeup.math_spans import Span, SpanKind
from grader.extraction.writeup.sections import Section
from grader.models import AnswerValue, Source


@dataclass(frozen=True)
class Found:
    """One answer read from a section, before it becomes a models.Answer."""

    key: str
    value: AnswerValue
    source: Source


def math_spans(section: Section) -> list[Span]:
    return [s for s in section.spans if s.kind is not SpanKind.CODE]


def has_content(sections: list[Section]) -> bool:
    return any(s.text.strip() for s in sections)


def whole_source(section: Section) -> Source:
    return section.source(0, len(section.text))
