"""The class summary page (HTML, Markdown): score distribution, per-problem means and the
most common named mistakes. The distribution plot is an SVG drawn here, no plot library."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader.exports.csv_export import problem_maxima
from grader.gradebook import StoredGrading
from grader.models import ProblemId
from grader.reporting.atomic import write_atomic
from grader.reporting.templating import html_environment, markdown_environment
from grader.reporting.version import grader_version

BINS = 10
TOP_MISTAKES = 10


@dataclass(frozen=True)
class ProblemStat:
    problem: ProblemId
    max_score: float
    mean: float | None  # over students with a score for it (pending ones left out)
    scored: int
    full: int  # students with full marks


@dataclass(frozen=True)
class MistakeCount:
    problem: ProblemId
    mistake: str
    count: int


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int

    @property
    def label(self) -> str:
        return f"{self.low:g}–{self.high:g}"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    bin: Bin


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Plot:
    """Geometry of the histogram, in SVG user units; the template only draws it."""

    width: int
    height: int
    left: int
    bottom: float
    right: float
    top: int
    bars: tuple[Bar, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class Failure:
    student: str
    error: str


@dataclass(frozen=True)
class ClassSummary:
    title: str
    generated_at: str
    students: int
    graded: int
    pending_manual: int  # graded students with an item still waiting for a person
    max_score: float
    mean: float | None
    median: float | None
    lowest: float | None
    highest: float | None
    problems: tuple[ProblemStat, ...]
    mistakes: tuple[MistakeCount, ...]
    bins: tuple[Bin, ...]
    failures: tuple[Failure, ...]

    @property
    def biggest_bin(self) -> int:
        return max((b.count for b in self.bins), default=0)


def _bins(totals: Sequence[float], max_score: float) -> tuple[Bin, ...]:
    if max_score <= 0:
        return ()
    width = max_score / BINS
    counts = [0] * BINS
    for t in totals:
        # The top edge belongs to the last bin, so full marks are counted.
        counts[min(BINS - 1, max(0, int(t / width)))] += 1
    return tuple(
        Bin(round(i * width, 4), round((i + 1) * width, 4), c) for i, c in enumerate(counts)
    )


def summarize(gradings: Sequence[StoredGrading], title: str) -> ClassSummary:
    graded = [g for g in gradings if g.error is None]
    totals = [g.score or 0.0 for g in graded]
    maxima = problem_maxima(graded)
    max_score = sum(maxima.values())
    problems = []
    for problem in ProblemId:
        if problem not in maxima:
            continue
        scores = [s for g in graded if (s := g.problem_score(problem)) is not None]
        # Full marks however they were given: a person's 10/10 on P4 counts.
        mine = [[c for c in g.checks if c.problem is problem] for g in graded]
        full = sum(1 for checks in mine if checks and all(c.full_marks for c in checks))
        problems.append(
            ProblemStat(
                problem,
                maxima[problem],
                statistics.fmean(scores) if scores else None,
                len(scores),
                full,
            )
        )
    # Students, not checks: a mistake repeated over several items of one student counts once.
    counter = Counter(
        key for g in graded for key in {(c.problem, c.mistake) for c in g.checks if c.mistake}
    )
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0][0].value, kv[0][1] or ""))
    mistakes = tuple(MistakeCount(p, m or "", n) for (p, m), n in ranked[:TOP_MISTAKES])
    return ClassSummary(
        title=title,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        students=len(gradings),
        graded=len(graded),
        pending_manual=sum(any(c.score is None for c in g.checks) for g in graded),
        max_score=max_score,
        mean=statistics.fmean(totals) if totals else None,
        median=statistics.median(totals) if totals else None,
        lowest=min(totals, default=None),
        highest=max(totals, default=None),
        problems=tuple(problems),
        mistakes=mistakes,
        bins=_bins(totals, max_score),
        failures=tuple(Failure(g.student, g.error or "") for g in gradings if g.error is not None),
    )


def plot(summary: ClassSummary, width: int = 640, height: int = 280) -> Plot:
    left, top, right_pad, bottom_pad = 44, 16, 12, 44
    right, bottom = float(width - right_pad), float(height - bottom_pad)
    tallest = max(1, summary.biggest_bin)
    step = (right - left) / max(1, len(summary.bins))
    scale = (bottom - top) / tallest
    bars = tuple(
        Bar(left + i * step + 2, bottom - b.count * scale, step - 4, b.count * scale, b)
        for i, b in enumerate(summary.bins)
    )
    x_ticks = tuple(Tick(left + i * step, f"{b.low:g}") for i, b in enumerate(summary.bins))
    if summary.bins:
        x_ticks += (Tick(right, f"{summary.bins[-1].high:g}"),)
    every = max(1, -(-tallest // 5))  # at most about five labels on the count axis
    y_ticks = tuple(Tick(bottom - n * scale, str(n)) for n in range(0, tallest + 1, every))
    return Plot(width, height, left, bottom, right, top, bars, x_ticks, y_ticks)


def render_html(summary: ClassSummary) -> str:
    template = html_environment().get_template("class_summary.html.j2")
    return template.render(s=summary, plot=plot(summary), grader_version=grader_version())


def text_bar(count: int, biggest: int, width: int = 30) -> str:
    if biggest <= 0 or count <= 0:
        return ""
    return "█" * max(1, round(width * count / biggest))


def render_markdown(summary: ClassSummary) -> str:
    # GitHub strips inline SVG from Markdown (and job summaries): the plot is drawn in text.
    template = markdown_environment().get_template("class_summary.md.j2")
    bars = [(b, text_bar(b.count, summary.biggest_bin)) for b in summary.bins]
    return template.render(s=summary, bars=bars, grader_version=grader_version())


def write_class_summary(
    out_dir: Path, gradings: Sequence[StoredGrading], title: str
) -> tuple[Path, Path]:
    summary = summarize(gradings, title)
    out_dir.mkdir(parents=True, exist_ok=True)
    html, md = out_dir / "class_summary.html", out_dir / "class_summary.md"
    write_atomic(html, render_html(summary))
    write_atomic(md, render_markdown(summary))
    return html, md
