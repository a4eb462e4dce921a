"""The HTML report as a browser shows it: headless Chromium screenshot and DOM dump."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from grader.models import (
    CheckResult,
    ProblemId,
    ProblemResult,
    Source,
    Status,
    SubmissionResult,
)
from grader.reporting import render_html

CHROMIUM = Path("/usr/bin/chromium")
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


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


def _colours(png: bytes) -> tuple[int, int, set[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG with the standard library: (width, height, RGB colours)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat = 8, []
    width = height = colour_type = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0) and colour_type in (2, 6), (depth, colour_type)
        elif kind == b"IDAT":
            idat.append(body)
    raw = zlib.decompress(b"".join(idat))
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    # Up (most rows) adds the row above bytewise: done on whole rows as big integers, with
    # the high bit of each byte handled apart so no carry crosses a byte.
    low = int.from_bytes(b"\x7f" * stride, "big")
    high = int.from_bytes(b"\x80" * stride, "big")
    prev, colours = bytes(stride), set()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], raw[start + 1 : start + 1 + stride]
        if kind == 0:
            cur = bytes(line)
        elif kind == 2:
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            cur = (((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(stride, "big")
        else:
            out = bytearray(line)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                up = prev[i]
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + up) >> 1
                else:  # Paeth
                    up_left = prev[i - bpp] if i >= bpp else 0
                    p = left + up - up_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                out[i] = (out[i] + pred) & 0xFF
            cur = bytes(out)
        colours.update(cur[i : i + 3] for i in range(0, stride, bpp))
        prev = cur
    return width, height, colours


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "report.html"
    path.write_text(render_html(_result(), "Homework 4"), encoding="utf-8")
    return path


def test_screenshot_is_not_blank_and_shows_the_badges(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri())
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    width, height, colours = _colours(shot.read_bytes())
    assert (width, height) == (1200, 2000)
    assert len(colours) > 200, f"only {len(colours)} distinct colours: the page looks blank"
    for name, rgb in (("full", FULL_GREEN), ("partial", PARTIAL_AMBER), ("manual", MANUAL_PURPLE)):
        assert bytes(rgb) in colours, f"no {name} badge colour {rgb} on the screenshot"


def test_dom_shows_scores_and_escaped_student_text(page: Path, tmp_path: Path) -> None:
    run = _chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = run.stdout.decode("utf-8", errors="replace")
    assert '<span id="total">83.5 / 100</span>' in dom, run.stderr.decode(errors="replace")[-2000:]
    assert "pending / 10" in dom
    assert "3.5 / 7.5" in dom
    # The student's <script> stayed text: no script element, the title was not changed.
    assert "<script" not in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<title>alice: Homework 4</title>" in dom
