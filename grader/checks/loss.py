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
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import torch

from grader.checks.common import missing, scored
from grader.data.mnist49 import load_split, split_file
from grader.extraction.code import CodeSubmission, CodeUnit, FunctionSig
from grader.models import AccuracyClaim, CheckResult, LossKind, ProblemId, Status
from grader.reference import P5Spec
from grader.sandbox import wire

P5_LOSS_ID = "P5 loss"
P5_TRAINING_ID = "P5 training"

# --- the sandbox, as far as the checks need it ----------------------------------------------


class ChildOutcome(Protocol):
    """What grader.sandbox.runner.RunOutcome offers (read-only view used by the checks)."""

    @property
    def status(self) -> Enum: ...
    @property
    def value(self) -> dict[str, Any] | None: ...
    @property
    def message(self) -> str: ...
    @property
    def seconds(self) -> float: ...


class TaskRunner(Protocol):
    def __call__(
        self,
        task: str,
        request: dict[str, Any],
        submission_dir: Path,
        *,
        readable_data: tuple[Path, ...] = (),
    ) -> ChildOutcome: ...


def default_runner() -> TaskRunner:
    from grader.sandbox.runner import run_task  # the sandbox layer, imported when used

    def run(
        task: str,
        request: dict[str, Any],
        submission_dir: Path,
        *,
        readable_data: tuple[Path, ...] = (),
    ) -> ChildOutcome:
        outcome: ChildOutcome = run_task(task, request, submission_dir, readable_data=readable_data)
        return outcome

    return run


# RunStatus names -> result statuses, for a child that did not finish.
_FAILED_RUN = {
    "TIMEOUT": Status.TIMEOUT,
    "OUT_OF_MEMORY": Status.CRASHED,
    "CRASHED": Status.CRASHED,
    "ERROR": Status.ERROR,
    "INVALID_OUTPUT": Status.INVALID_OUTPUT,
}


class Isolation:
    """The isolation layers the sandbox reports it applied (and warnings for those it
    could not) over the runs of one item, so each result can say how it was run."""

    def __init__(self) -> None:
        self.layers: list[str] = []
        self.warnings: list[str] = []

    def record(self, outcome: ChildOutcome) -> None:
        for layer in getattr(outcome, "layers", ()):
            if layer not in self.layers:
                self.layers.append(str(layer))
        for warning in getattr(outcome, "warnings", ()):
            if warning not in self.warnings:
                self.warnings.append(str(warning))

    def details(self) -> tuple[str, ...]:
        if not self.layers and not self.warnings:
            return ()
        applied = ", ".join(self.layers) or "none"
        return (f"Student code ran isolated ({applied})", *self.warnings)


def failed_run_status(outcome: ChildOutcome) -> Status | None:
    """None when the child finished and returned a value, else the status to report."""
    if outcome.status.name == "OK" and outcome.value is not None:
        return None
    return _FAILED_RUN.get(outcome.status.name, Status.ERROR)


def child_result(outcome: ChildOutcome) -> tuple[dict[str, Any] | None, str]:
    """The task's {"result": wire data} decoded; (None, why) when it is not a usable object."""
    try:
        value = wire.decode_value((outcome.value or {}).get("result"))
    except wire.WireError as exc:
        return None, f"the sandbox returned an unusable result ({exc})"
    if not isinstance(value, dict):
        return None, "the sandbox returned no result object"
    return value, ""


def units_request(units: tuple[CodeUnit, ...]) -> list[dict[str, Any]]:
    return [{"file": u.file, "source": u.source} for u in units]


# --- loss formulas ---------------------------------------------------------------------------

Formula = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (z, y) -> per-sample loss


@dataclass(frozen=True)
class LossFormula:
    name: str
    formula: Formula
    text: str
    feedback: str


SQUARE = LossFormula(
    "sum-of-squares loss",
    lambda z, y: 2 * torch.sigmoid(-y * z) ** 2,
    "2*sigmoid(-y z)^2",
    "The loss equals the sum of squares between the one-hot label and "
    "[sigmoid(-z), sigmoid(z)], i.e. 2*sigmoid(-y z)^2.",
)
LOGISTIC = LossFormula(
    "logistic loss",
    lambda z, y: -torch.nn.functional.logsigmoid(y * z),
    "-log sigmoid(y z)",
    "This is the logistic (cross-entropy) baseline, not the sum-of-squares loss.",
)
# ASSIGNMENT.md, P5 mistakes, each as the formula a student who made it computes.
MISTAKES = (
    LossFormula(
        "labels treated as 0/1",
        lambda z, y: y * (1 - torch.sigmoid(z)) ** 2 + (1 - y) * torch.sigmoid(z) ** 2,
        "y*(1-sigmoid(z))^2 + (1-y)*sigmoid(z)^2",
        "The loss is written for labels 0/1 (y*(1-p)^2 + (1-y)*p^2 with p = sigmoid(z)), but "
        "the labels here are -1/+1: for y = -1 the first term turns negative.",
    ),
    LossFormula(
        "sigmoid(z) compared with y",
        lambda z, y: (torch.sigmoid(z) - y) ** 2,
        "(sigmoid(z) - y)^2",
        "The loss compares sigmoid(z), which lies in (0, 1), with the label y in {-1, +1}: "
        "the target -1 is never reached. Compare [sigmoid(-z), sigmoid(z)] with the one-hot "
        "label instead, which gives 2*sigmoid(-y z)^2.",
    ),
    LossFormula(
        "missing square",
        lambda z, y: 2 * torch.sigmoid(-y * z),
        "2*sigmoid(-y z)",
        "The differences are not squared: this is 2*sigmoid(-y z) (a sum of absolute "
        "differences), not the sum of squares 2*sigmoid(-y z)^2.",
    ),
    LossFormula(
        "MSE against the raw label",
        lambda z, y: (z - y) ** 2,
        "(z - y)^2",
        "The loss is the squared error between the raw score z and the label; the problem "
        "asks for the squared error between the probabilities [sigmoid(-z), sigmoid(z)] "
        "and the one-hot label.",
    ),
)
KNOWN = (SQUARE, LOGISTIC, *MISTAKES)
# Trusted source of the reference losses, trained through the same child path as students'.
REFERENCE_SOURCE = """import torch


def square_reference(z, y):
    return torch.mean(2 * torch.sigmoid(-y * z) ** 2)


def logistic_reference(z, y):
    return torch.mean(-torch.nn.functional.logsigmoid(y * z))
"""
REFERENCE_FUNCTIONS = {SQUARE.name: "square_reference", LOGISTIC.name: "logistic_reference"}


class Reduction(Enum):
    MEAN = "mean over the batch"
    SUM = "sum over the batch"
    NONE = "one value per sample"


@dataclass(frozen=True)
class Probe:
    z: tuple[float, ...]
    y: tuple[float, ...]
    column: bool  # shapes (N, 1) instead of (N,)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return (
            torch.tensor(self.z, dtype=torch.float64),
            torch.tensor(self.y, dtype=torch.float64),
        )

    def request(self) -> dict[str, Any]:
        return {"z": list(self.z), "y": list(self.y), "column": self.column}


def make_probes(seed: int = 0) -> tuple[Probe, ...]:
    """Different batch sizes (so a sum and a mean differ) in both shapes; scores up to +-8
    so saturated and unsaturated sigmoids are both seen."""
    gen = torch.Generator().manual_seed(seed)
    probes = []
    for n in (7, 12, 5):
        z = torch.randn(n, generator=gen, dtype=torch.float64) * 3
        y = torch.randint(0, 2, (n,), generator=gen).to(torch.float64) * 2 - 1
        y[0], y[1] = -1.0, 1.0  # both classes in every probe
        for column in (False, True):
            probes.append(Probe(tuple(z.tolist()), tuple(y.tolist()), column))
    return tuple(probes)


@dataclass(frozen=True)
class FormulaMatch:
    loss: LossFormula
    factor: float
    reduction: Reduction
    swapped: bool  # called as f(label, score)
    column: bool  # the shape to train with
    gradient_ok: bool | None  # None when the function returned no gradient

    @property
    def same_as_reference(self) -> bool:
        """Trains exactly like the reference (the child means a per-sample vector)."""
        return (
            self.loss is SQUARE
            and self.reduction is not Reduction.SUM
            and abs(self.factor - 1.0) < 1e-9
            and self.gradient_ok is True
        )

    def describe(self) -> str:
        words = [f"computes {self.loss.text}"]
        if abs(self.factor - 1.0) > 1e-6:
            words.append(f"times {self.factor:.6g}")
        words.append(f"({self.reduction.value})")
        if self.swapped:
            words.append("with the arguments in the order (label, score)")
        return " ".join(words)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-5, atol=1e-8))


def match_formula(
    formula: LossFormula, probes: tuple[Probe, ...], calls: list[dict[str, Any]], swapped: bool
) -> FormulaMatch | None:
    """Whether the returned values are factor * reduce(formula) with one factor > 0 for all
    probes that ran; at least two batch sizes are needed to tell a sum from a mean."""
    done = [
        (p, c)
        for p, c in zip(probes, calls, strict=False)
        if c.get("status") == "ok" and None not in c.get("value", [None])
    ]
    if len({len(p.z) for p, _ in done}) < 2:
        return None
    for reduction in Reduction:
        factor: float | None = None
        grads_ok: list[bool] = []
        for probe, call in done:
            z, y = probe.tensors()
            z.requires_grad_(True)
            per = formula.formula(z, y)
            want = per.mean() if reduction is Reduction.MEAN else per.sum()
            if reduction is Reduction.NONE:
                want = per
            got = torch.tensor(call["value"], dtype=torch.float64)
            if got.numel() != want.numel():
                factor = None
                break
            got = got.reshape(want.shape)
            w = want.detach()
            if factor is None:
                denom = float((w * w).sum())
                factor = float((got * w).sum()) / denom if denom > 0 else math.nan
            if not (factor > 0 and _close(got, factor * w)):
                factor = None
                break
            if call.get("grad") is not None and None not in call["grad"]:
                (g,) = torch.autograd.grad(want.sum(), z)
                grads_ok.append(_close(torch.tensor(call["grad"], dtype=torch.float64), factor * g))
        if factor is not None:
            column = not any(not p.column for p, _ in done)
            return FormulaMatch(
                formula, factor, reduction, swapped, column, all(grads_ok) if grads_ok else None
            )
    return None


@dataclass(frozen=True)
class ProbedFunction:
    unit: int
    file: str
    sig: FunctionSig
    match: FormulaMatch | None
    failure: str | None  # why no values came back (first error or timeout)
    timed_out: bool

    @property
    def label(self) -> str:
        return f"`{self.sig.name}` ({self.file} line {self.sig.line})"


def _judge_calls(
    index: int, unit: CodeUnit, sig: FunctionSig, entry: dict[str, Any], probes: tuple[Probe, ...]
) -> ProbedFunction:
    if entry.get("missing"):
        return ProbedFunction(
            index, unit.file, sig, None, "was not defined once the definitions were loaded", False
        )
    calls: dict[str, list[dict[str, Any]]] = entry.get("calls", {})
    everything = [c for order in calls.values() for c in order]
    timed_out = any(c.get("status") == "timeout" for c in everything)
    failure = next((str(c.get("message")) for c in everything if c.get("status") != "ok"), None)
    for swapped, key in ((False, "plain"), (True, "swapped")):
        for formula in KNOWN:
            m = match_formula(formula, probes, calls.get(key, []), swapped)
            if m is not None:
                return ProbedFunction(index, unit.file, sig, m, None, False)
    return ProbedFunction(index, unit.file, sig, None, failure, timed_out)


# --- training and the cache -------------------------------------------------------------------


@dataclass(frozen=True)
class Protocol_:
    learning_rate: float
    batch_size: int
    epochs: int
    seed: int

    def request(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "seed": self.seed,
        }


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
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader-hw4" / "p5"


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
    child_seconds: list[float] = field(default_factory=list)


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

    def _train(
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
        self.timing.child_seconds.append(outcome.seconds)
        self.isolation.record(outcome)
        bad = failed_run_status(outcome)
        if bad is not None:
            return None, f"training did not finish: {outcome.message}", bad
        value, why = child_result(outcome)
        if value is None:
            return None, why, Status.INVALID_OUTPUT
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
            trained, message, _ = self._train(units, function, Path(empty))
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
        self.timing.child_seconds.append(outcome.seconds)
        self.isolation.record(outcome)
        bad = failed_run_status(outcome)
        if bad is not None:
            return (), [], bad, outcome.message
        value, why = child_result(outcome)
        if value is None:
            return (), [], Status.INVALID_OUTPUT, why
        entries = value.get("functions", [])
        probed = []
        for (unit, sig), entry in zip(candidates, entries, strict=False):
            index = code.units.index(unit)
            probed.append(_judge_calls(index, unit, sig, entry, self.probes))
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


def _result(
    spec: P5Spec, item_key: str, status: Status, feedback: str, details: tuple[str, ...] = ()
) -> CheckResult:
    item = spec.loss if item_key == "loss" else spec.training
    test_id = P5_LOSS_ID if item_key == "loss" else P5_TRAINING_ID
    return CheckResult(
        test_id,
        ProblemId.P5,
        item.title,
        status,
        0.0,
        item.points,
        feedback,
        visibility=spec.visibility,
        details=details,
    )


def _results(
    session: P5Session, code: CodeSubmission, submission_dir: Path
) -> tuple[CheckResult, CheckResult]:
    spec = session.spec
    loss_item, train_item = spec.loss, spec.training

    def both_missing(what: str) -> tuple[CheckResult, CheckResult]:
        return (
            missing(
                P5_LOSS_ID, ProblemId.P5, loss_item.title, loss_item.points, spec.visibility, what
            ),
            missing(
                P5_TRAINING_ID,
                ProblemId.P5,
                train_item.title,
                train_item.points,
                spec.visibility,
                what,
            ),
        )

    if not code.units:
        return both_missing("No Python code or notebook was submitted for P5.")
    if not code.functions_taking(2):
        return both_missing(
            "No function taking two arguments (score, label) was found in the code."
        )
    probed, load_errors, bad, message = session.probe(code, submission_dir)
    if bad is not None:
        words = f"The student's code could not be probed: {message}"
        return _result(spec, "loss", bad, words), _result(spec, "training", bad, words)
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
            training = _result(spec, "training", status, f"Not trained: {words}")
            return _result(spec, "loss", status, words, details), training
    loss_result = _loss_result(spec, chosen, baseline, details)
    training_result = _training_result(session, code, chosen, submission_dir)
    return loss_result, training_result


def _loss_result(
    spec: P5Spec,
    chosen: ProbedFunction,
    baseline: ProbedFunction | None,
    details: tuple[str, ...],
) -> CheckResult:
    item = spec.loss
    extra = () if baseline is None else (f"logistic baseline: {baseline.label}",)
    m = chosen.match
    if m is None:
        return scored(
            P5_LOSS_ID, ProblemId.P5, item.title, item.points, spec.visibility, 0.0,
            f"{chosen.label} does not compute the sum-of-squares loss 2*sigmoid(-y z)^2 "
            "(nor any positive multiple of it) on the probe inputs, nor a known mistake.",
            details=(*details, *extra),
        )  # fmt: skip
    if m.loss is not SQUARE:
        return scored(
            P5_LOSS_ID, ProblemId.P5, item.title, item.points, spec.visibility, 0.0,
            f"{chosen.label} {m.describe()}. {m.loss.feedback}",
            mistake=m.loss.name, details=(*details, *extra),
        )  # fmt: skip
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
        return scored(
            P5_LOSS_ID, ProblemId.P5, item.title, item.points, spec.visibility, 0.5,
            f"{chosen.label} has the right values, but its gradient is not the gradient of "
            "that loss (a detach() or a non-differentiable step?), so it does not train as "
            "the sum-of-squares loss.",
            details=(*details, *extra),
        )  # fmt: skip
    return scored(
        P5_LOSS_ID, ProblemId.P5, item.title, item.points, spec.visibility, 1.0,
        " ".join([f"{chosen.label} is the sum-of-squares loss 2*sigmoid(-y z)^2.", *notes]),
        details=(*details, *extra),
    )  # fmt: skip


def _training_result(
    session: P5Session, code: CodeSubmission, chosen: ProbedFunction, submission_dir: Path
) -> CheckResult:
    spec = session.spec
    item = spec.training
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
        trained, message, status = session._train(
            units_request(code.units), function, submission_dir
        )
        how = "trained in the sandbox"
        if trained is not None:
            session.timing.training[chosen.sig.name] = trained.seconds
    if trained is None:
        if status is Status.GRADER_ERROR:
            message = f"the reference run failed: {message}"
        return _result(spec, "training", status, f"{chosen.label}: {message}", (beside, protocol))
    session.measured[LossKind.SQUARE] = trained.percent
    ok = trained.percent >= spec.min_accuracy_percent
    words = (
        f"Training with {chosen.label} ({how}) reached {trained.describe()} on the "
        f"{trained.total} test images; at least {spec.min_accuracy_percent:g}% is expected."
    )
    if message:
        words += f" {message[0].upper()}{message[1:]}."
    return scored(
        P5_TRAINING_ID, ProblemId.P5, item.title, item.points, spec.visibility,
        1.0 if ok else 0.0, words, details=(beside, protocol),
    )  # fmt: skip


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
