"""Where the time of P5 grading goes, per example submission.

    python scripts/bench_p5.py [SUBMISSION_DIR ...]

Defaults to the three examples in ../shared/examples. Prints the fixed costs (interpreter
start-up, import torch, one empty sandbox run), then per submission the probe run and each
training run (through the real sandbox), then the same submissions again from a warm
reference cache (the cached path).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.checks.loss import P5Session
from grader.extraction.code import read_submission_code
from grader.reference import load_reference
from grader.sandbox.runner import run_task

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "examples"


def _seconds(*argv: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    folders = [Path(a) for a in sys.argv[1:]] or sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    startup = _seconds("-c", "pass")
    torch_import = _seconds("-c", "import torch") - startup
    with tempfile.TemporaryDirectory() as empty:
        start = time.perf_counter()
        outcome = run_task(
            "generic.call", {"function": "f", "source": "def f():\n    return 1\n"}, Path(empty)
        )
        empty_run = time.perf_counter() - start
    print(f"interpreter start-up      {startup:6.2f} s")
    print(f"import torch              {torch_import:6.2f} s")
    print(f"empty sandbox run         {empty_run:6.2f} s ({outcome.status.name})")
    spec = load_reference().p5
    with tempfile.TemporaryDirectory() as cache:
        for label, cache_dir in (("cold", Path(cache)), ("cached", Path(cache))):
            print(f"\n--- {label} reference cache")
            for folder in folders:
                session = P5Session(spec, None, cache_dir)
                start = time.perf_counter()
                code = read_submission_code(folder)
                read = time.perf_counter() - start
                loss, training = session.check(code, folder)
                total = time.perf_counter() - start
                t = session.timing
                print(f"{folder.name}: total {total:.2f} s ({loss.status.value}, "
                      f"{training.status.value})")  # fmt: skip
                print(f"  static reading          {read:6.3f} s")
                print(f"  probe run               {t.probe:6.2f} s")
                for name, secs in t.training.items():
                    print(f"  training {name:<15} {secs:6.2f} s")
                for name, secs in t.cached.items():
                    print(f"  cached {name:<17} {secs * 1000:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
