"""Plain data shared by every layer: problem ids, provenance, answers and results.

No I/O and no heavy imports here: every other module imports this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ProblemId(Enum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"
    P6 = "P6"
    P7 = "P7"


class Visibility(Enum):
    """As in Gradescope: hidden tests are scored but not shown to the student."""

    VISIBLE = "visible"
    HIDDEN = "hidden"


class Status(Enum):
    """What happened to one check. Scores are derived from status plus credit."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    MISSING = "missing"  # no answer found for this item
    NEEDS_REVIEW = "needs review"  # an answer was found but could not be read
    MANUAL_PENDING = "needs manual grading"
    MANUAL_GRADED = "graded by hand"
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # the student's process died (signal, memory, exit)
    INVALID_OUTPUT = "invalid output"
    GRADER_ERROR = "grader error"  # a bug on our side, kept as a result so a report exists
    SKIPPED = "skipped"


class Outcome(Enum):
    """The coarse outcome other tools read (results.json `extra_data.outcome`)."""

    FULL = "full"
    PARTIAL = "partial"
    ZERO = "zero"
    MANUAL = "manual"
    MISSING = "missing"
    ERROR = "error"
    TIMEOUT = "timeout"


_OUTCOME_OF_STATUS: dict[Status, Outcome] = {
    Status.PASSED: Outcome.FULL,
    Status.PARTIAL: Outcome.PARTIAL,
    Status.FAILED: Outcome.ZERO,
    Status.MISSING: Outcome.MISSING,
    Status.NEEDS_REVIEW: Outcome.MANUAL,
    Status.MANUAL_PENDING: Outcome.MANUAL,
    Status.MANUAL_GRADED: Outcome.MANUAL,
    Status.ERROR: Outcome.ERROR,
    Status.TIMEOUT: Outcome.TIMEOUT,
    Status.CRASHED: Outcome.ERROR,
    Status.INVALID_OUTPUT: Outcome.ERROR,
    Status.GRADER_ERROR: Outcome.ERROR,
    Status.SKIPPED: Outcome.MISSING,
}


def outcome_of(status: Status) -> Outcome:
    return _OUTCOME_OF_STATUS[status]


@dataclass(frozen=True)
class Source:
    """Where an answer was read: shown beside the verdict so a person can check the reading."""

    file: str
    line: int | None
    text: str

    def describe(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return where


@dataclass(frozen=True)
class Array:
    """A real tensor as plain data: row-major values and a shape (no torch in this layer)."""

    shape: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        size = 1
        for d in self.shape:
            size *= d
        if size != len(self.values):
            raise ValueError(f"shape {self.shape} needs {size} values, got {len(self.values)}")

    @property
    def shape_text(self) -> str:
        return " x ".join(str(d) for d in self.shape) if self.shape else "scalar"


class PoolingForm(Enum):
    """P2: the two right ways to write average pooling as a convolution."""

    DEPTHWISE = "depthwise"  # weight (C,1,k,k), groups=C
    FULL = "full"  # weight (C,C,k,k), zero off the diagonal


@dataclass(frozen=True)
class Unreadable:
    """An answer that was found but could not be read: shown raw, graded by a person."""

    reason: str


# --- answers, one type per kind of answer ------------------------------------------------


@dataclass(frozen=True)
class FilterAnswer:
    """P1, P3: a filter written out as numbers."""

    weight: Array


@dataclass(frozen=True)
class PoolingAnswer:
    """P2: a filter family in k. Values are formulas in k (LaTeX or plain, e.g. "1/k^2")."""

    form: PoolingForm
    value: str  # the weight on a channel's own k x k block
    off_diagonal: str  # full form only: the weight between different channels
    stride: str
    padding: str


@dataclass(frozen=True)
class AccuracyClaim:
    """P5: an accuracy as the student printed it, e.g. "1897/1991 (95.28%)"."""

    correct: int | None
    total: int | None
    percent: float | None
    percent_text: str | None  # as printed, to know how many digits were shown


class LossKind(Enum):
    SQUARE = "square"  # the sum-of-squares loss asked for
    LOGISTIC = "logistic"  # the cross-entropy baseline


@dataclass(frozen=True)
class AccuracyAnswer:
    claims: tuple[tuple[LossKind, AccuracyClaim], ...]


class Derivative(Enum):
    """P6: the six Jacobians asked for, in the order of the sheet."""

    DYL_DBL = "dyL/dbL"
    DYL_DYLM1 = "dyL/dyL-1"
    DYl_DBl = "dyl/dbl"
    DYl_DYlm1 = "dyl/dyl-1"
    DYL_DAL = "dyL/dAL"
    DYL_DAl = "dyL/dAl"

    @property
    def title(self) -> str:
        """As the LaTeX reader names its Jacobian node, e.g. dy_L/db_L."""
        return _DERIVATIVE_TITLES[self]


_DERIVATIVE_TITLES = {
    Derivative.DYL_DBL: "dy_L/db_L",
    Derivative.DYL_DYLM1: "dy_L/dy_{L-1}",
    Derivative.DYl_DBl: "dy_l/db_l",
    Derivative.DYl_DYlm1: "dy_l/dy_{l-1}",
    Derivative.DYL_DAL: "dy_L/dA_L",
    Derivative.DYL_DAl: "dy_L/dA_l",
}


@dataclass(frozen=True)
class FormulaAnswer:
    """P6: one formula as LaTeX; parsing happens in the check so errors become results."""

    latex: str


class CountName(Enum):
    """P7: the parameter counts asked for."""

    C3_ORIGINAL = "c3_original"
    C3_FULL = "c3_full"
    LENET_ORIGINAL = "lenet_original"
    LENET_FULL = "lenet_full"
    REDUCTION = "reduction"


@dataclass(frozen=True)
class CountAnswer:
    value: int
    stated_work: str | None = None  # "25*3*6 + 6 + ... = 1516" when the student showed it


AnswerValue = (
    FilterAnswer | PoolingAnswer | AccuracyAnswer | FormulaAnswer | CountAnswer | Unreadable
)


# The key of the one answer of a problem that has a single answer (Answer.key); P6 answers
# are keyed by Derivative values, P7 answers by CountName values, P4 has none (a proof).
SINGLE_ANSWER_KEY = {
    ProblemId.P1: "filter",
    ProblemId.P2: "filter",
    ProblemId.P3: "filter",
    ProblemId.P5: "accuracy",
}


@dataclass(frozen=True)
class Answer:
    """One extracted answer with where it came from. `key` names the item within a problem:
    SINGLE_ANSWER_KEY, a Derivative value for P6, a CountName value for P7."""

    problem: ProblemId
    key: str
    value: AnswerValue
    source: Source


@dataclass(frozen=True)
class AnswerSet:
    """Everything read from one submission's answers (answers.toml or a write-up)."""

    answers: tuple[Answer, ...]
    notes: tuple[str, ...] = ()  # reading notes: what was skipped, which file won

    def find(self, problem: ProblemId, key: str) -> Answer | None:
        for a in self.answers:
            if a.problem is problem and a.key == key:
                return a
        return None

    def for_problem(self, problem: ProblemId) -> tuple[Answer, ...]:
        return tuple(a for a in self.answers if a.problem is problem)


# --- results --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One scored item. `test_id` starts with the problem id (results.json contract)."""

    test_id: str  # e.g. "P1", "P6a dyL/dbL", "P7 c3_original"
    problem: ProblemId
    title: str
    status: Status
    score: float | None  # None while a person has not scored it
    max_score: float
    feedback: str
    mistake: str | None = None  # the named known mistake, when one was recognised
    sources: tuple[Source, ...] = ()
    visibility: Visibility = Visibility.VISIBLE
    details: tuple[str, ...] = ()  # extra lines for the report (what was measured)

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.status)

    @property
    def full_marks(self) -> bool:
        """Scored and every point awarded, whoever scored it (a person's 10/10 on P4 counts).
        The one rule every export uses; the 1e-9 absorbs float sums such as 0.1 + 0.2."""
        return self.score is not None and self.score >= self.max_score - 1e-9


@dataclass(frozen=True)
class ProblemResult:
    problem: ProblemId
    title: str
    checks: tuple[CheckResult, ...]

    @property
    def score(self) -> float:
        return sum(c.score or 0.0 for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def pending(self) -> bool:
        return any(c.score is None for c in self.checks)

    @property
    def outcome(self) -> Outcome:
        """Problem-level outcome, for summaries. A problem whose checks all share one
        unscored outcome (missing, timeout, ...) has that outcome; otherwise the score
        decides, and each check keeps its own outcome in the details."""
        outcomes = {c.outcome for c in self.checks}
        if len(outcomes) == 1 and not outcomes & {Outcome.FULL, Outcome.PARTIAL}:
            return outcomes.pop()
        if self.pending:
            return Outcome.MANUAL
        if self.max_score and self.score >= self.max_score - 1e-9:
            return Outcome.FULL
        if self.score > 0:
            return Outcome.PARTIAL
        return Outcome.ZERO


@dataclass(frozen=True)
class SubmissionResult:
    student: str
    problems: tuple[ProblemResult, ...]
    notes: tuple[str, ...] = ()  # reading notes and warnings shown at the top of the report
    input_errors: tuple[str, ...] = ()  # bad input the instructor should fix or know about
    sandbox_layers: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return sum(p.score for p in self.problems)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for p in self.problems)

    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for p in self.problems for c in p.checks)


@dataclass(frozen=True)
class ManualScore:
    """A score a person entered (P4), read from manual_scores.toml."""

    test_id: str
    score: float
    comment: str = ""
    grader: str = ""
