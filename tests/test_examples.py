"""End to end: the instructor's verdicts for the example submissions, problem by problem.

The three examples in ../shared/examples (write-ups and code in different styles) come with
`expected.toml`; the bundled alice and bob come with this repository.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import pytest

from grader.models import Outcome, ProblemId, Status, SubmissionResult
from grader.pipeline import grade_submission
from grader.reference import load_reference

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT.parent / "shared" / "examples"
NAMES = ("carol_tex", "dave_md_mistakes", "erin_md_sparse")

pytestmark = pytest.mark.slow


@cache
def graded(folder: Path) -> SubmissionResult:
    return grade_submission(folder, load_reference())


def example(name: str) -> Path:
    folder = EXAMPLES / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here (the examples live in ../shared, beside the repo)")
    return folder


@pytest.mark.parametrize("name", NAMES)
def test_examples_get_the_instructors_verdicts(name: str) -> None:
    folder = example(name)
    expected = tomllib.loads((folder / "expected.toml").read_text())
    result = graded(folder)
    got = {p.problem.value.lower(): p.outcome.value for p in result.problems}
    want = {key: table["verdict"] for key, table in expected.items()}
    assert got == want


def feedback_of(result: SubmissionResult, problem: ProblemId) -> str:
    return " ".join(
        f"{c.mistake or ''} {c.feedback} {' '.join(c.details)}"
        for p in result.problems
        if p.problem is problem
        for c in p.checks
    )


def test_dave_feedback_names_each_mistake() -> None:
    result = graded(example("dave_md_mistakes"))
    expected = tomllib.loads((example("dave_md_mistakes") / "expected.toml").read_text())
    for key in ("p1", "p2", "p3"):
        assert expected[key]["mistake"] in feedback_of(result, ProblemId(key.upper()))
    p6 = feedback_of(result, ProblemId.P6)
    for named in ("wrong order", "missing transpose", "sigma instead of sigma'"):
        assert named in p6
    p7 = feedback_of(result, ProblemId.P7)
    assert "biases" in p7 and "output map 9 reads [0, 2, 4, 5]" in p7
    assert "sigmoid(z) compared with y" in feedback_of(result, ProblemId.P5)


def test_erin_timeout_is_reported_as_such() -> None:
    result = graded(example("erin_md_sparse"))
    p5 = next(p for p in result.problems if p.problem is ProblemId.P5)
    loss = next(c for c in p5.checks if c.test_id == "P5 loss")
    assert loss.status is Status.TIMEOUT and "did not return" in loss.feedback
    assert p5.score == 0


def test_alice_gets_full_marks_on_every_auto_graded_problem() -> None:
    result = graded(ROOT / "submissions" / "alice")
    for problem in result.problems:
        if problem.problem is ProblemId.P4:
            assert problem.outcome is Outcome.MANUAL and problem.pending
        else:
            assert problem.outcome is Outcome.FULL, (problem.problem, problem.checks)
    assert result.input_errors == ()


def test_bob_gets_partial_credit_and_specific_feedback() -> None:
    result = graded(ROOT / "submissions" / "bob")
    outcome = {p.problem: p.outcome for p in result.problems}
    for problem in (ProblemId.P1, ProblemId.P2, ProblemId.P3, ProblemId.P6, ProblemId.P7):
        assert outcome[problem] is Outcome.PARTIAL, problem
    assert "channels swapped" in feedback_of(result, ProblemId.P1)
    assert "stride 1" in feedback_of(result, ProblemId.P2)
    assert "uniform weights" in feedback_of(result, ProblemId.P3)
    p5 = feedback_of(result, ProblemId.P5)
    assert "92.9" in p5  # 1850/1991 is 92.92%, not the 93.50% printed
    assert "missing square" in p5
    p6 = feedback_of(result, ProblemId.P6)
    assert "missing transpose" in p6 and "sigma instead of sigma'" in p6
    p7 = feedback_of(result, ProblemId.P7)
    assert "biases not counted" in p7
    assert "2416" in p7  # his C3_layer is a full Conv2d(6,16,5)
    assert 0 < result.score < 60


def test_a_class_goes_on_past_a_loss_that_never_returns(tmp_path: Path) -> None:
    import shutil

    from grader.api import grade_path

    klass = tmp_path / "class"
    for name in ("erin_md_sparse", "dave_md_mistakes"):
        shutil.copytree(example(name), klass / name, ignore=shutil.ignore_patterns("expected*"))
    batch = grade_path(klass, load_reference(), tmp_path / "out")
    assert [r.student for r in batch.reports] == ["dave_md_mistakes", "erin_md_sparse"]
    assert batch.failures == ()
    for report in batch.reports:
        assert (tmp_path / "out" / report.student / "report.html").is_file()
    erin = next(r.result for r in batch.reports if r.student == "erin_md_sparse")
    assert erin is not None
    loss = next(c for c in erin.checks() if c.test_id == "P5 loss")
    assert loss.status is Status.TIMEOUT
