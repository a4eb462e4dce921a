"""The class summary page rendered by headless Chromium: it draws, and not as a blank page."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from test_batch import MAX, make_result

from grader.exports.class_summary import write_class_summary
from grader.gradebook import CacheKey, Gradebook

CHROMIUM = Path("/usr/bin/chromium")


def _decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered RGB(A) rows of an 8-bit PNG (enough to judge a page)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6)
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_class_summary_renders_with_a_plot(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run(
            reference_hash="r",
            reference_version="1",
            reference_title="Homework 4",
            grader_version="g",
            settings="s",
        )
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
    subprocess.run(
        [
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
            f"--screenshot={png}",
            "--window-size=1200,1600",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    width, height, rows = _decode_png(png.read_bytes())
    assert (width, height) == (1200, 1600)
    bpp = len(rows[0]) // width
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
