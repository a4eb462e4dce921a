"""Time read_writeup on example submissions: `python scripts/bench_writeup.py [examples_dir]`."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from grader.extraction.writeup import read_writeup

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "examples"
REPEAT = 20


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else DEFAULT
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not folders:
        print(f"no submission folders under {root}", file=sys.stderr)
        return 1
    read_writeup(folders[0])  # warm-up: imports and regex compilation
    for folder in folders:
        times = []
        for _ in range(REPEAT):
            t = time.perf_counter()
            reading = read_writeup(folder)
            times.append(time.perf_counter() - t)
        print(
            f"{folder.name:24s} median {statistics.median(times) * 1000:7.2f} ms  "
            f"max {max(times) * 1000:7.2f} ms  answers {len(reading.answers.answers):2d}  "
            f"notes {len(reading.notes)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
