"""The HTML report as a browser shows it: headless Chromium screenshot and DOM dump."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import CHROMIUM, chromium, png_colours

from grader.models import (
    CheckResult,
    ProblemId,
    ProblemResult,
    Source,
    Status,
    SubmissionResult,
)
from grader.reporting import render_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="headless Chromium not found at /usr/bin/chromium"
    ),
]
P = ProblemId
HOSTILE = "<script>document.title='pwned'</script>"

# Badge colours from report.html.j2: seeing them proves the CSS was applied.
FULL_GREEN = (0x1A, 0x7F, 0x37)
PARTIAL_AMBER = (0xBF, 0x87, 0x00)
MANUAL_PURPLE = (0x82, 0x50, 0xDF)


def _result() -> SubmissionResult:
    def c(
        test_id: str, status: Status, score: float | None, max_score: float, **kw: object
    ) -> CheckResult:
        problem = P(test_id[:2])
        return CheckResult(
            test_id,
            problem,
            f"title {test_id}",
            status,
            score,
            max_score,
            f"feedback {test_id}",
            **kw,
        )  # type: ignore[arg-type]

    return SubmissionResult(
        student="alice",
        problems=(
            ProblemResult(P.P1, "Finite difference", (c("P1", Status.PASSED, 10.0, 10.0),)),
            ProblemResult(
                P.P2,
                "Average pooling",
                (
                    c(
                        "P2",
                        Status.PARTIAL,
                        7.5,
                        10.0,
                        mistake="stride 1",
                        sources=(Source("answers.toml", 3, HOSTILE),),
                    ),
                ),
            ),
            ProblemResult(P.P3, "Greyscale", (c("P3", Status.PASSED, 5.0, 5.0),)),
            ProblemResult(
                P.P4,
                "Max pooling",
                (
                    c(
                        "P4",
                        Status.MANUAL_PENDING,
                        None,
                        10.0,
                        details=("Rubric: (4 points) one window",),
                    ),
                ),
            ),
            ProblemResult(P.P5, "Square loss", (c("P5 square", Status.PASSED, 20.0, 20.0),)),
            ProblemResult(
                P.P6,
                "Backprop",
                (
                    c("P6a dyL/dbL", Status.PASSED, 10.0, 10.0),
                    c("P6b dyL/dAL", Status.PASSED, 7.5, 7.5),
                    c("P6b dyL/dAl", Status.PARTIAL, 3.5, 7.5, mistake="missing transpose"),
                ),
            ),
            ProblemResult(P.P7, "LeNet C3", (c("P7 c3_original", Status.PASSED, 20.0, 20.0),)),
        ),
        notes=("writeup.md was read",),
        sandbox_layers=("rlimits", "bubblewrap"),
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "report.html"
    path.write_text(render_html(_result(), "Homework 4"), encoding="utf-8")
    return path


def test_screenshot_is_not_blank_and_shows_the_badges(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri())
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    width, height, colours = png_colours(shot.read_bytes())
    assert (width, height) == (1200, 2000)
    assert len(colours) > 200, f"only {len(colours)} distinct colours: the page looks blank"
    for name, rgb in (("full", FULL_GREEN), ("partial", PARTIAL_AMBER), ("manual", MANUAL_PURPLE)):
        assert bytes(rgb) in colours, f"no {name} badge colour {rgb} on the screenshot"


def test_dom_shows_scores_and_escaped_student_text(page: Path, tmp_path: Path) -> None:
    run = chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = run.stdout.decode("utf-8", errors="replace")
    assert '<span id="total">83.5 / 100</span>' in dom, run.stderr.decode(errors="replace")[-2000:]
    assert "pending / 10" in dom
    assert "3.5 / 7.5" in dom
    # The student's <script> stayed text: no script element, the title was not changed.
    assert "<script" not in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<title>alice: Homework 4</title>" in dom
