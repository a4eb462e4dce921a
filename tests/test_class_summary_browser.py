"""The class summary page rendered by headless Chromium: it draws, and not as a blank page."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import chromium, needs_chromium, png_rows
from test_batch import MAX, make_result, start_test_run

from grader.exports.class_summary import write_class_summary
from grader.gradebook import CacheKey, Gradebook


@pytest.mark.browser
@needs_chromium
def test_class_summary_renders_with_a_plot(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = start_test_run(gb)
        for i in range(30):
            scores = [m * ((i * 7 + p * 3) % 11) / 10 for p, m in enumerate(MAX.values())]
            spec = {"scores": scores, "mistakes": {"P1": "kernel flipped"} if i % 3 else {}}
            gb.record(
                run,
                f"student{i:02d}",
                CacheKey("c", "r", "m", "s"),
                make_result(f"student{i:02d}", spec),
                None,
                None,
            )
        gb.record(
            run, "broken", CacheKey("c", "r", "m", "s"), None, "the grading process died", None
        )
        html, _ = write_class_summary(tmp_path, gb.current(), "Homework 4")
    png = tmp_path / "summary.png"
    run = chromium(tmp_path, f"--screenshot={png}", "--window-size=1200,1600", html.as_uri())
    assert png.exists(), run.stderr.decode(errors="replace")[-2000:]
    width, height, bpp, rows = png_rows(png.read_bytes())
    assert (width, height) == (1200, 1600)
    pixels = {
        rows[y][x * bpp : x * bpp + 3] for y in range(0, height, 8) for x in range(0, width, 8)
    }
    assert len(pixels) > 20  # text, bars and panels, not one flat colour
    # The histogram's bars are drawn in the page's blue (#0969da).
    blue = sum(
        1
        for y in range(0, height, 4)
        for x in range(0, width, 4)
        if rows[y][x * bpp : x * bpp + 3] == bytes((0x09, 0x69, 0xDA))
    )
    assert blue > 200
