"""Benchmark grading a class: cold (nothing stored) and cached (everything unchanged).

Generates classes with scripts/make_class.py and grades them with the real grader
(grade_one in parallel workers), printing wall time, submissions per second and peak
memory, for each class size, so the growth from 10 to 100 submissions shows.

    python scripts/bench_class.py [--sizes 10,100] [--jobs N] [--no-code] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_class import make_class  # noqa: E402

from grader.batch import BatchSettings, grade_class  # noqa: E402
from grader.gradebook import Gradebook  # noqa: E402
from grader.pipeline import GradeOptions  # noqa: E402
from grader.reference import load_reference  # noqa: E402


def peak_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest waited-for child (workers
    and the sandboxes under them), in MiB; Linux reports ru_maxrss in KiB."""
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kib / 1024, children_kib / 1024


def one_size(work: Path, n: int, settings: BatchSettings, options: GradeOptions) -> None:
    class_dir, out = work / f"class{n}", work / f"reports{n}"
    make_class(class_dir, n)
    reference = load_reference()
    for label in ("cold", "cached"):
        start = time.perf_counter()
        with Gradebook(out / "gradebook.sqlite") as gb:
            run = grade_class(class_dir, reference, out, gb, options, settings)
        wall = time.perf_counter() - start
        self_mib, child_mib = peak_mib()
        graded = len(run.outcomes) - run.reused
        print(
            f"{n:4d} submissions {label:6s}: {wall:7.2f} s wall, {n / wall:7.2f} submissions/s, "
            f"{graded} graded, {run.reused} reused, {len(run.failures)} not graded; "
            f"peak RSS {self_mib:.0f} MiB (grader), {child_mib:.0f} MiB (largest worker)"
        )
        if run.failures:
            for failure in run.failures[:5]:
                print(f"      not graded: {failure}")
        if label == "cached":
            print(f"      torch imported by the grader process: {'torch' in sys.modules}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100", help="class sizes, comma separated")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: one per core)")
    parser.add_argument("--no-code", action="store_true", help="skip running student code")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be numbers separated by commas, not {args.sizes!r}")
    settings = BatchSettings(jobs=args.jobs)
    options = GradeOptions(run_code=not args.no_code)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_class_"))
    print(f"{settings.workers} workers, run_code={options.run_code}, files in {work}")
    try:
        for n in sizes:
            one_size(work, n, settings, options)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
