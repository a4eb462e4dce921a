"""P5 from the student's code: which function is the sum-of-squares loss (found by probing
every two-argument function in the sandbox child and matching the values it returns against
known formulas), and what accuracy training with it reaches on the test split.

The child only calls functions and trains on the training split; the parent holds the
formulas, the test split and the thresholds. Reference losses run through the same child
path and are cached (in-process and on disk) by protocol and data checksum.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from grader.cache import cache_root
from grader.checks.common import Slot
from grader.checks.loss_formulas import (
    LOGISTIC,
    MISTAKES,
    REFERENCE_FUNCTIONS,
    REFERENCE_SOURCE,
    SQUARE,
    LossFormula,
    ProbedFunction,
    Reduction,
    judge_calls,
    make_probes,
)
from grader.checks.sandboxed import (
    Isolation,
    RunFailure,
    TaskRunner,
    default_runner,
    read_outcome,
    units_request,
)
from grader.data.mnist49 import load_split, split_file
from grader.extraction.code import CodeSubmission
from grader.models import AccuracyClaim, CheckResult, LossKind, ProblemId, Status
from grader.reference import P5Spec

P5_LOSS_ID = "P5 loss"
P5_TRAINING_ID = "P5 training"

# --- training and the cache -------------------------------------------------------------------


@dataclass(frozen=True)
class Protocol_:
    learning_rate: float
    batch_size: int
    epochs: int
    seed: int

    def request(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Trained:
    correct: int
    total: int
    seconds: float
    cached: bool

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.total

    def describe(self) -> str:
        return f"{self.correct}/{self.total} ({self.percent:.2f}%)"


def test_accuracy(weights: torch.Tensor, bias: float) -> tuple[int, int]:
    """The parent's own measurement: output*label >= 0 counts as correct."""
    x, y = load_split("test")
    z = x @ weights.reshape(-1).to(torch.float32) + bias
    return int(((z * y) >= 0).sum()), int(y.numel())


_MEMORY_CACHE: dict[str, tuple[int, int]] = {}


def default_cache_dir() -> Path:
    return cache_root() / "p5"


def _cache_key(protocol: Protocol_, loss: LossFormula) -> str:
    data = split_file("train").sha256
    text = json.dumps([protocol.request(), data, loss.name, REFERENCE_SOURCE], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class P5Timing:
    """Where the time of one submission went (seconds), for scripts/bench_p5.py."""

    probe: float = 0.0
    training: dict[str, float] = field(default_factory=dict)
    cached: dict[str, float] = field(default_factory=dict)


class P5Session:
    """One grading run: the runner, the protocol and the reference runs it has cached."""

    def __init__(
        self, spec: P5Spec, run: TaskRunner | None = None, cache_dir: Path | None = None
    ) -> None:
        self.spec = spec
        self.run = run or default_runner()
        self.cache_dir = cache_dir
        self.protocol = Protocol_(spec.learning_rate, spec.batch_size, spec.epochs, spec.seed)
        self.probes = make_probes(spec.seed)
        self.timing = P5Timing()
        # Accuracies measured in this run (percent), for the cross-check with the write-up.
        self.measured: dict[LossKind, float] = {}
        self.isolation = Isolation()

    def train(
        self, units: list[dict[str, Any]], function: dict[str, Any], submission_dir: Path
    ) -> tuple[Trained | None, str, Status]:
        data = split_file("train")
        request = {
            "units": units,
            "function": function,
            "protocol": self.protocol.request(),
            "data": {"path": str(data.path), "sha256": data.sha256},
        }
        start = time.perf_counter()
        outcome = self.run("p5.train", request, submission_dir, readable_data=(data.path,))
        self.isolation.record(outcome)
        value = read_outcome(outcome)
        if isinstance(value, RunFailure):
            return None, value.words("training did not finish: "), value.status
        if value.get("status") != "ok":
            return None, str(value.get("message", "training failed")), Status.ERROR
        raw = value.get("weights")
        ok = isinstance(raw, list) and len(raw) == 784 and value.get("finite") is True
        if not ok or not isinstance(value.get("bias"), float | int) or None in (raw or []):
            return (
                Trained(0, self.spec.test_total, time.perf_counter() - start, False),
                ("training diverged (the weights are not finite numbers)"),
                Status.FAILED,
            )
        weights = torch.tensor(raw, dtype=torch.float32)
        correct, total = test_accuracy(weights, float(value["bias"]))
        return Trained(correct, total, time.perf_counter() - start, False), "", Status.PASSED

    def reference(self, loss: LossFormula) -> tuple[Trained | None, str]:
        """Train a reference loss once per protocol and data; later calls read the cache."""
        start = time.perf_counter()
        key = _cache_key(self.protocol, loss)
        path = (self.cache_dir / f"{key}.json") if self.cache_dir else None
        if key not in _MEMORY_CACHE and path is not None and path.is_file():
            try:
                stored = json.loads(path.read_text())
                _MEMORY_CACHE[key] = (int(stored["correct"]), int(stored["total"]))
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged cache file is simply recomputed
        if key in _MEMORY_CACHE:
            correct, total = _MEMORY_CACHE[key]
            self.timing.cached[loss.name] = time.perf_counter() - start
            return Trained(correct, total, time.perf_counter() - start, True), ""
        units = [{"file": "reference_losses.py", "source": REFERENCE_SOURCE}]
        function = {
            "unit": 0,
            "name": REFERENCE_FUNCTIONS[loss.name],
            "swapped": False,
            "column": False,
            "reduce_mean": False,
        }
        with tempfile.TemporaryDirectory(prefix="grader-ref-") as empty:
            trained, message, _ = self.train(units, function, Path(empty))
        if trained is None:
            return None, message
        _MEMORY_CACHE[key] = (trained.correct, trained.total)
        self.timing.training[f"reference {loss.name}"] = trained.seconds
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"correct": trained.correct, "total": trained.total}))
            except OSError:
                pass  # the cache is an optimisation only
        return trained, ""

    # --- probing ---------------------------------------------------------------------------

    def probe(
        self, code: CodeSubmission, submission_dir: Path
    ) -> tuple[tuple[ProbedFunction, ...], list[str], Status | None, str]:
        candidates = code.functions_taking(2)
        request = {
            "units": units_request(code.units),
            "functions": [{"unit": code.units.index(u), "name": f.name} for u, f in candidates],
            "probes": [p.request() for p in self.probes],
            "call_seconds": 2.0,
        }
        start = time.perf_counter()
        outcome = self.run("p5.probe_losses", request, submission_dir)
        self.timing.probe = time.perf_counter() - start
        self.isolation.record(outcome)
        value = read_outcome(outcome)
        if isinstance(value, RunFailure):
            return (), [], value.status, value.message
        entries = value.get("functions", [])
        probed = []
        for (unit, sig), entry in zip(candidates, entries, strict=False):
            index = code.units.index(unit)
            probed.append(judge_calls(index, unit, sig, entry, self.probes))
        return tuple(probed), [str(e) for e in value.get("load_errors", [])], None, ""

    def check(self, code: CodeSubmission, submission_dir: Path) -> tuple[CheckResult, CheckResult]:
        return _results(self, code, submission_dir)


# --- results ------------------------------------------------------------------------------------

_SQUARE_NAMES = ("square", "sq", "mse", "l2", "quad")


def _pick_square(probed: tuple[ProbedFunction, ...]) -> ProbedFunction | None:
    """The student's attempt at the square loss: a match first, then a known mistake, then a
    function named like it, then anything that is not the logistic baseline."""
    for wanted in (SQUARE, *MISTAKES):
        for p in probed:
            if p.match is not None and p.match.loss is wanted:
                return p
    others = [p for p in probed if p.match is None or p.match.loss is not LOGISTIC]
    named = [p for p in others if any(s in p.sig.name.lower() for s in _SQUARE_NAMES)]
    pool = named or others
    return pool[0] if pool else None


def loss_slot(spec: P5Spec) -> Slot:
    return Slot(P5_LOSS_ID, ProblemId.P5, spec.loss.title, spec.loss.points, spec.visibility)


def training_slot(spec: P5Spec) -> Slot:
    return Slot(
        P5_TRAINING_ID, ProblemId.P5, spec.training.title, spec.training.points, spec.visibility
    )


def _results(
    session: P5Session, code: CodeSubmission, submission_dir: Path
) -> tuple[CheckResult, CheckResult]:
    spec = session.spec
    loss, training = loss_slot(spec), training_slot(spec)

    def both_missing(what: str) -> tuple[CheckResult, CheckResult]:
        return loss.missing(what), training.missing(what)

    if not code.units:
        return both_missing("No Python code or notebook was submitted for P5.")
    if not code.functions_taking(2):
        return both_missing(
            "No function taking two arguments (score, label) was found in the code."
        )
    probed, load_errors, bad, message = session.probe(code, submission_dir)
    if bad is not None:
        words = f"The student's code could not be probed: {message}"
        return loss.unscored(bad, words), training.unscored(bad, words)
    found = tuple(f"{p.label}: {p.match.describe()}" for p in probed if p.match is not None)
    details = (*found, *load_errors)
    baseline = next((p for p in probed if p.match and p.match.loss is LOGISTIC), None)
    chosen = _pick_square(probed)
    if chosen is None:
        return both_missing("Only the logistic baseline was found; no sum-of-squares loss.")
    if chosen.match is None:
        status = Status.TIMEOUT if chosen.timed_out else Status.ERROR if chosen.failure else None
        if status is not None:
            words = (
                f"{chosen.label} {chosen.failure}."
                if chosen.timed_out
                else (f"{chosen.label} raised an error on the probe inputs: {chosen.failure}")
            )
            not_trained = training.unscored(status, f"Not trained: {words}")
            return loss.unscored(status, words, details), not_trained
    loss_result = _loss_result(spec, chosen, baseline, details)
    training_result = _training_result(session, code, chosen, submission_dir)
    return loss_result, training_result


def _loss_result(
    spec: P5Spec,
    chosen: ProbedFunction,
    baseline: ProbedFunction | None,
    details: tuple[str, ...],
) -> CheckResult:
    slot = loss_slot(spec)
    extra = () if baseline is None else (f"logistic baseline: {baseline.label}",)
    m = chosen.match
    if m is None:
        return slot.scored(
            0.0,
            f"{chosen.label} does not compute the sum-of-squares loss 2*sigmoid(-y z)^2 "
            "(nor any positive multiple of it) on the probe inputs, nor a known mistake.",
            details=(*details, *extra),
        )
    if m.loss is not SQUARE:
        known = spec.mistake(m.loss.name)
        return slot.scored(
            known.credit if known else 0.0,
            f"{chosen.label} {m.describe()}. {known.feedback if known else m.loss.feedback}",
            mistake=m.loss.name,
            details=(*details, *extra),
        )
    notes = []
    if abs(m.factor - 1.0) > 1e-6:
        notes.append(
            f"It is {m.factor / 2:.6g} * sigmoid(-y z)^2 rather than 2 * sigmoid(-y z)^2: a "
            "positive multiple, same minimiser."
        )
    if m.reduction is not Reduction.MEAN:
        notes.append(f"It returns the {m.reduction.value} instead of the mean; accepted.")
    if m.swapped:
        notes.append("It takes the label first and the score second.")
    if m.gradient_ok is False:
        return slot.scored(
            0.5,
            f"{chosen.label} has the right values, but its gradient is not the gradient of "
            "that loss (a detach() or a non-differentiable step?), so it does not train as "
            "the sum-of-squares loss.",
            details=(*details, *extra),
        )
    return slot.scored(
        1.0,
        " ".join([f"{chosen.label} is the sum-of-squares loss 2*sigmoid(-y z)^2.", *notes]),
        details=(*details, *extra),
    )


def _training_result(
    session: P5Session, code: CodeSubmission, chosen: ProbedFunction, submission_dir: Path
) -> CheckResult:
    spec = session.spec
    baseline, why = session.reference(LOGISTIC)
    if baseline is not None:
        session.measured[LossKind.LOGISTIC] = baseline.percent
    beside = (
        f"logistic baseline trained the same way: {baseline.describe()}"
        if baseline
        else f"logistic baseline could not be trained: {why}"
    )
    protocol = (
        f"protocol: SGD lr {spec.learning_rate}, batch {spec.batch_size}, "
        f"{spec.epochs} epochs, seed {spec.seed}, model z = a^T x + b"
    )
    m = chosen.match
    if m is not None and m.same_as_reference:
        trained, message = session.reference(SQUARE)
        how = (
            "equal to the reference loss in value and gradient, so its result is the "
            "reference run's (cached)"
        )
        status = Status.PASSED if trained else Status.GRADER_ERROR
    else:
        function = {
            "unit": chosen.unit,
            "name": chosen.sig.name,
            "swapped": bool(m and m.swapped),
            "column": bool(m and m.column),
            "reduce_mean": bool(m and m.reduction is Reduction.NONE),
        }
        trained, message, status = session.train(
            units_request(code.units), function, submission_dir
        )
        how = "trained in the sandbox"
        if trained is not None:
            session.timing.training[chosen.sig.name] = trained.seconds
    if trained is None:
        if status is Status.GRADER_ERROR:
            message = f"the reference run failed: {message}"
        words = f"{chosen.label}: {message}"
        return training_slot(spec).unscored(status, words, (beside, protocol))
    session.measured[LossKind.SQUARE] = trained.percent
    ok = trained.percent >= spec.min_accuracy_percent
    words = (
        f"Training with {chosen.label} ({how}) reached {trained.describe()} on the "
        f"{trained.total} test images; at least {spec.min_accuracy_percent:g}% is expected."
    )
    if message:
        words += f" {message[0].upper()}{message[1:]}."
    return training_slot(spec).scored(1.0 if ok else 0.0, words, details=(beside, protocol))


def check_p5_code(
    spec: P5Spec,
    code: CodeSubmission,
    submission_dir: Path,
    *,
    run: TaskRunner | None = None,
    cache_dir: Path | None = None,
) -> tuple[CheckResult, CheckResult]:
    """Results for spec.loss ("P5 loss") and spec.training ("P5 training")."""
    return P5Session(spec, run, cache_dir).check(code, submission_dir)


def compare_claims_with_measured(
    claim: AccuracyClaim, measured_percent: float, tolerance_points: float = 1.5
) -> str:
    """Words for the write-up cross-check: a claimed accuracy beside the measured one.
    Different seeds and protocols move accuracy by about a point on this split."""
    if claim.percent is not None:
        claimed = claim.percent
    elif claim.correct is not None and claim.total:
        claimed = 100.0 * claim.correct / claim.total
    else:
        return f"no claimed accuracy to compare; measured {measured_percent:.2f}%"
    gap = claimed - measured_percent
    verdict = (
        "plausible"
        if abs(gap) <= tolerance_points
        else "higher than measured: check"
        if gap > 0
        else "lower than measured: check"
    )
    return f"claimed {claimed:.2f}%, measured {measured_percent:.2f}%: {verdict}"
