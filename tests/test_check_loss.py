"""P5 from code: the square loss recognised by its values in any equivalent spelling, known
mistakes named, training measured by the parent on the test split, failures reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.checks.loss import P5Session, check_p5_code, compare_claims_with_measured
from grader.checks.loss_formulas import (
    KNOWN,
    LOGISTIC,
    MISTAKES,
    SQUARE,
    Reduction,
    make_probes,
    match_formula,
)
from grader.extraction.code import read_submission_code
from grader.models import AccuracyClaim, Status
from grader.reference import load_reference
from grader.sandbox.run_types import RunOutcome, RunStatus
from grader.sandbox.tasks import p5, p7

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"  # beside the repo
SPEC = load_reference().p5
PROBES = make_probes(0)


def in_process(
    task: str,
    request: dict[str, Any],
    submission_dir: Path,
    *,
    readable_data: tuple[Path, ...] = (),
) -> RunOutcome:
    """The child tasks called directly: fast, for tests of the parent's judgement."""
    tasks = {"p5.probe_losses": p5.probe_losses, "p5.train": p5.train, "p7.inspect": p7.inspect}
    start = time.perf_counter()
    value = tasks[task](request, submission_dir)
    seconds = time.perf_counter() - start
    return RunOutcome(RunStatus.OK, value, "returned a result", (), (), seconds)


def probe_calls(fn: Callable[..., Any]) -> dict[str, list[dict[str, Any]]]:
    calls: dict[str, list[dict[str, Any]]] = {"plain": [], "swapped": []}
    for order in calls:
        for probe in PROBES:
            calls[order].append(p5.call_probe(fn, probe.request(), order == "swapped", 1.0))
    return calls


def identify(fn: Callable[..., Any]) -> Any:
    calls = probe_calls(fn)
    for swapped, key in ((False, "plain"), (True, "swapped")):
        for formula in KNOWN:
            m = match_formula(formula, PROBES, calls[key], swapped)
            if m is not None:
                return m
    return None


s = torch.sigmoid
MEAN = Reduction.MEAN


@pytest.mark.parametrize(
    ("fn", "factor", "reduction", "swapped"),
    [
        (lambda z, y: torch.mean(2 * s(-y * z) ** 2), 1.0, Reduction.MEAN, False),
        # the hint's form
        (
            lambda z, y: torch.mean(
                0.5 * (1 - y) * ((1 - s(-z)) ** 2 + s(z) ** 2)
                + 0.5 * (1 + y) * (s(-z) ** 2 + (1 - s(z)) ** 2)
            ),
            1.0, Reduction.MEAN, False,
        ),
        (lambda z, y: ((1 - y) * s(z) ** 2 + (1 + y) * s(-z) ** 2).mean(), 1.0, MEAN, False),
        (lambda z, y: (s(-y * z) ** 2).mean(), 0.5, Reduction.MEAN, False),
        (lambda z, y: torch.sum(2 * s(-y * z) ** 2), 1.0, Reduction.SUM, False),
        (lambda z, y: 2 * s(-y * z) ** 2, 1.0, Reduction.NONE, False),
        # label first: the (1-y)/(1+y) form is not symmetric in its arguments
        (lambda y, z: ((1 - y) * s(z) ** 2 + (1 + y) * s(-z) ** 2).mean(), 1.0, MEAN, True),
        # one-hot built with torch ops, float32 inside
        (
            lambda z, y: ((torch.stack([(1 - y) / 2, (1 + y) / 2], -1).float()
                           - torch.stack([s(-z), s(z)], -1).float()) ** 2).sum(-1).mean(),
            1.0, Reduction.MEAN, False,
        ),
    ],
)  # fmt: skip
def test_equivalent_square_losses_are_recognised(
    fn: Any, factor: float, reduction: Reduction, swapped: bool
) -> None:
    m = identify(fn)
    assert m is not None and m.loss is SQUARE
    assert m.factor == pytest.approx(factor, rel=1e-4)
    assert m.reduction is reduction and m.swapped is swapped
    assert m.gradient_ok is True


def test_only_the_exact_reference_reuses_the_cached_run() -> None:
    assert identify(lambda z, y: torch.mean(2 * s(-y * z) ** 2)).same_as_reference
    assert identify(lambda z, y: 2 * s(-y * z) ** 2).same_as_reference  # the child means it
    assert not identify(lambda z, y: (s(-y * z) ** 2).mean()).same_as_reference
    assert not identify(lambda z, y: torch.sum(2 * s(-y * z) ** 2)).same_as_reference


def test_detached_gradient_is_caught() -> None:
    m = identify(lambda z, y: torch.mean(2 * s(-y * z.detach()) ** 2) + 0 * z.sum())
    assert m is not None and m.loss is SQUARE and m.gradient_ok is False
    assert not m.same_as_reference


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (lambda z, y: torch.mean((s(z) - y) ** 2), "sigmoid(z) compared with y"),
        (lambda z, y: torch.mean(2 * s(-y * z)), "missing square"),
        (lambda z, y: torch.mean((z - y) ** 2), "MSE against the raw label"),
        (
            lambda z, y: torch.mean(y * (1 - s(z)) ** 2 + (1 - y) * s(z) ** 2),
            "labels treated as 0/1",
        ),
    ],
)
def test_known_mistakes_are_named(fn: Any, name: str) -> None:
    m = identify(fn)
    assert m is not None and m.loss.name == name and m.loss in MISTAKES


def test_logistic_and_unrelated_functions() -> None:
    m = identify(lambda z, y: torch.nn.functional.softplus(-y * z).mean())
    assert m is not None and m.loss is LOGISTIC
    assert identify(lambda z, y: torch.mean(torch.exp(-y * z))) is None
    assert identify(lambda z, y: torch.mean(s(-y * z) ** 3)) is None


def test_examples_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.checks.loss

    # An empty in-process cache, so the reference runs happen (and reach the disk cache) here.
    monkeypatch.setattr(grader.checks.loss, "_MEMORY_CACHE", {})
    session = P5Session(SPEC, in_process, tmp_path)
    carol = session.check(read_submission_code(EXAMPLES / "carol_tex"), EXAMPLES / "carol_tex")
    assert [r.status for r in carol] == [Status.PASSED, Status.PASSED]
    assert "`squares`" in carol[0].feedback and "cross_entropy" in " ".join(carol[0].details)
    assert "reference run" in carol[1].feedback and "logistic baseline" in carol[1].details[0]
    assert list(tmp_path.glob("*.json"))  # reference runs cached on disk
    dave = session.check(
        read_submission_code(EXAMPLES / "dave_md_mistakes"), EXAMPLES / "dave_md_mistakes"
    )
    assert dave[0].status is Status.FAILED and dave[0].mistake == "sigmoid(z) compared with y"
    assert "trained in the sandbox" in dave[1].feedback
    # a fresh session reads the disk cache instead of training the reference again
    again = P5Session(SPEC, in_process, tmp_path)
    again.check(read_submission_code(EXAMPLES / "carol_tex"), EXAMPLES / "carol_tex")
    assert not again.timing.training and set(again.timing.cached) >= {"logistic loss"}


def test_no_code_and_no_two_argument_function(tmp_path: Path) -> None:
    results = check_p5_code(SPEC, read_submission_code(tmp_path), tmp_path, run=in_process)
    assert [r.status for r in results] == [Status.MISSING, Status.MISSING]
    (tmp_path / "a.py").write_text("def f(x):\n    return x\n")
    results = check_p5_code(SPEC, read_submission_code(tmp_path), tmp_path, run=in_process)
    assert "No function taking two arguments" in results[0].feedback


def test_loss_that_raises_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def square_loss(z, y):\n    return z.nonexistent()\n")
    loss, training = check_p5_code(SPEC, read_submission_code(tmp_path), tmp_path, run=in_process)
    assert loss.status is Status.ERROR and "AttributeError" in loss.feedback
    assert "a.py line 2" in loss.feedback and training.status is Status.ERROR


def test_compare_claims_with_measured() -> None:
    claim = AccuracyClaim(1901, 1991, 95.48, "95.48")
    assert compare_claims_with_measured(claim, 95.33) == (
        "claimed 95.48%, measured 95.33%: plausible"
    )
    high = compare_claims_with_measured(AccuracyClaim(None, None, 99.9, "99.9"), 95.18)
    assert high.endswith("higher than measured: check")
    assert "no claimed accuracy" in compare_claims_with_measured(
        AccuracyClaim(None, None, None, None), 95.0
    )


@pytest.mark.slow
def test_examples_through_the_sandbox(tmp_path: Path) -> None:
    """The real path: run_task children, erin's endless loop reported as a timeout."""
    session = P5Session(SPEC, None, tmp_path)
    erin = session.check(
        read_submission_code(EXAMPLES / "erin_md_sparse"), EXAMPLES / "erin_md_sparse"
    )
    assert [r.status for r in erin] == [Status.TIMEOUT, Status.TIMEOUT]
    assert "my_square_loss" in erin[0].feedback and "did not return" in erin[0].feedback
    dave = session.check(
        read_submission_code(EXAMPLES / "dave_md_mistakes"), EXAMPLES / "dave_md_mistakes"
    )
    assert dave[0].mistake == "sigmoid(z) compared with y"
    assert dave[1].status in (Status.PASSED, Status.FAILED) and "/1991" in dave[1].feedback
