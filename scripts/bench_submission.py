"""Time grading one whole submission, cold, and say where the time goes.

    python scripts/bench_submission.py [SUBMISSION]   (default: submissions/alice)

Prints one line per phase: interpreter start to here, import torch, reading the submission
(answers.toml, write-up, code extraction), each problem's checks (P5 and P7 run the student's
code in the sandbox), and writing the reports. Run it several times: the machine is shared.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def _process_age() -> float:
    """Seconds since this process started (Linux /proc), to count interpreter start-up."""
    ticks = os.sysconf("SC_CLK_TCK")
    started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
    return float(Path("/proc/uptime").read_text().split()[0]) - started


STARTED = time.perf_counter() - _process_age()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "submissions" / "alice"
    phases: list[tuple[str, float]] = []
    mark = time.perf_counter()
    phases.append(("interpreter start-up", mark - STARTED))

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases.append((name, now - mark))
        mark = now

    import torch  # noqa: F401  - timed on purpose

    lap("import torch")
    from grader.inputs import read_submission
    from grader.pipeline import _check
    from grader.reference import load_reference
    from grader.reporting import write_reports

    reference = load_reference()
    lap("grader modules, reference")
    inputs = read_submission(folder)
    lap("read submission (answers.toml, write-up, code)")
    from grader.models import ProblemId, ProblemResult, SubmissionResult

    problems = []
    for problem in ProblemId:
        checks = _check(problem, reference, inputs, {}, None)
        problems.append(ProblemResult(problem, reference.title_of(problem), checks))
        lap(f"{problem.value} checks")
    result = SubmissionResult(folder.name, tuple(problems))
    with tempfile.TemporaryDirectory() as out:
        write_reports(result, Path(out), reference.title, reference.content_hash)
    lap("write reports")
    total = sum(seconds for _, seconds in phases)
    for name, seconds in phases:
        print(f"{name:<50} {seconds:7.3f} s  {100 * seconds / total:5.1f}%")
    print(f"{'total':<50} {total:7.3f} s   score {result.score:g}/{result.max_score:g}")


if __name__ == "__main__":
    main()
