"""P7 from the student's code: the C3_layer implementation, measured in the sandbox child
(parameter count, output shape, which input maps each output map reads), compared here with
the reference table. A count that the module's own parameters() reports differently from the
module's actual tensors is flagged for review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.checks.common import Slot
from grader.checks.sandboxed import (
    RunFailure,
    TaskRunner,
    default_runner,
    read_outcome,
)
from grader.checks.sandboxed import units_request as _units
from grader.extraction.code import CodeSubmission
from grader.models import CheckResult, CountName, ProblemId, Status
from grader.reference import Item, P7Spec
from grader.sandbox.run_types import RunOutcome

NOT_SUBMITTED = "no C3_layer implementation submitted"
BATCH = 2  # images in the batch the child feeds C3_layer; the shape feedback names it


def run_p7(
    code: CodeSubmission, submission_dir: Path, spec: P7Spec, run: TaskRunner | None = None
) -> RunOutcome | None:
    """Measure the student's C3_layer in the child; None when no C3_layer is defined."""
    unit = code.unit_defining("C3_layer")
    if unit is None:
        return None
    lenet = code.unit_defining("LeNet")
    request = {
        "units": _units(code.units),
        "c3_unit": code.units.index(unit),
        "lenet_unit": None if lenet is None else code.units.index(lenet),
        "input_shape": list(spec.input_shape),
        "batch": BATCH,
        "seed": 0,
        "call_seconds": 10.0,
    }
    return (run or default_runner())("p7.inspect", request, submission_dir)


def _slot(spec: P7Spec, item: Item) -> Slot:
    return Slot(f"P7 {item.key}", ProblemId.P7, item.title, item.points, spec.visibility)


def code_slots(spec: P7Spec) -> tuple[Slot, Slot, Slot]:
    """The items judged from the code, in result order: parameters, shape, connections."""
    return _slot(spec, spec.parameters), _slot(spec, spec.shape), _slot(spec, spec.connection_item)


def _parameters(
    spec: P7Spec, measured: dict[str, Any], lenet: dict[str, Any] | None
) -> CheckResult:
    item = spec.parameters
    counts = measured["counts"]
    actual = int(counts["walked"])
    want = spec.count(CountName.C3_ORIGINAL).value
    details = []
    flags = []
    if int(counts["reported"]) != actual or int(counts["state"]) != actual:
        flags.append(
            f"Needs review: the module's own parameters() gives {counts['reported']}, its "
            f"parameter tensors hold {actual} and its state_dict {counts['state']}; the "
            "count of the actual tensors is used."
        )
    if lenet is not None and lenet.get("status") == "ok":
        total = int(lenet["counts"]["walked"])
        details.append(f"LeNet() has {total} parameters (Table I LeNet: "
                       f"{spec.count(CountName.LENET_ORIGINAL).value})")  # fmt: skip
    elif lenet is not None:
        details.append(f"LeNet() could not be built: {lenet.get('message')}")
    if actual == want:
        words = f"C3_layer() has {actual} parameters, as Table I gives."
    else:
        full = spec.count(CountName.C3_FULL).value
        hint = " (a full Conv2d(6,16,5))" if actual == full else ""
        words = f"C3_layer() has {actual} parameters{hint}; Table I gives {want}."
    credit = 1.0 if actual == want else 0.0
    return _slot(spec, item).scored(credit, " ".join([words, *flags]), details=tuple(details))


def _shape(spec: P7Spec, measured: dict[str, Any]) -> CheckResult:
    got = tuple(int(s) for s in measured["shape"])
    want = spec.output_shape
    n, c, h, w = BATCH, *spec.input_shape
    ok = got[1:] == want
    words = f"Input ({n},{c},{h},{w}) gives output {got}" + (
        ", as expected." if ok else f"; expected ({n},{','.join(map(str, want))})."
    )
    return _slot(spec, spec.shape).scored(1.0 if ok else 0.0, words)


def _connections(spec: P7Spec, measured: dict[str, Any]) -> CheckResult:
    reads = [list(r) for r in measured["reads"]]
    want = [list(r) for r in spec.connections]
    if len(reads) != len(want):
        return _slot(spec, spec.connection_item).scored(
            0.0,
            f"C3_layer() has {len(reads)} output maps; Table I has {len(want)}.",
        )
    wrong = [
        f"output map {j} reads {reads[j]} instead of {want[j]}"
        for j in range(len(want))
        if reads[j] != want[j]
    ]
    if not wrong:
        return _slot(spec, spec.connection_item).scored(
            1.0,
            "Every output map reads exactly the input maps of its column of Table I "
            "(measured by the gradient of each output map with respect to the input).",
        )
    right = len(want) - len(wrong)
    every_input = list(range(spec.input_shape[0]))
    if all(r == every_input for r in reads):
        words = (
            f"Every output map reads all {len(every_input)} input maps: this is a full "
            f"convolution, not the sparse connection table of Table I ({right} of {len(want)} "
            "output maps match it)."
        )
    else:
        words = f"{right} of {len(want)} output maps match Table I; " + "; ".join(wrong) + "."
    return _slot(spec, spec.connection_item).scored(right / len(want), words)


@dataclass(frozen=True)
class C3Judged:
    results: tuple[CheckResult, ...]  # parameters, shape, connections
    counts: Mapping[CountName, int]  # parameter counts of the modules the child could build


def _measured_counts(value: dict[str, Any]) -> dict[CountName, int]:
    counts: dict[CountName, int] = {}
    for key, name in (("c3", CountName.C3_ORIGINAL), ("lenet", CountName.LENET_ORIGINAL)):
        part = value.get(key)
        if isinstance(part, dict) and part.get("status") == "ok":
            counts[name] = int(part["counts"]["walked"])
    return counts


def judge_c3(spec: P7Spec, outcome: RunOutcome | None) -> C3Judged:
    """The results of check_c3, with the counts the child measured (for the cross-check of
    the counts the write-up states)."""
    slots = code_slots(spec)
    if outcome is None:
        return C3Judged(tuple(s.missing(f"Nothing to run: {NOT_SUBMITTED}.") for s in slots), {})
    value = read_outcome(outcome)
    if isinstance(value, RunFailure):
        words = value.words("C3_layer could not be measured: ")
        return C3Judged(tuple(s.unscored(value.status, words) for s in slots), {})
    counts = _measured_counts(value)
    measured = value.get("c3", {})
    if measured.get("status") != "ok":
        status = Status.TIMEOUT if measured.get("status") == "timeout" else Status.ERROR
        load = "; ".join(str(e) for e in value.get("load_errors", []))
        words = f"C3_layer() failed: {measured.get('message')}" + (f" ({load})" if load else "")
        return C3Judged(tuple(s.unscored(status, words) for s in slots), counts)
    results = (
        _parameters(spec, measured, value.get("lenet")),
        _shape(spec, measured),
        _connections(spec, measured),
    )
    return C3Judged(results, counts)


def check_c3(spec: P7Spec, outcome: RunOutcome | None) -> tuple[CheckResult, ...]:
    """Results for spec.parameters, spec.shape and spec.connection_item, in that order.
    outcome None means the submission defines no C3_layer."""
    return judge_c3(spec, outcome).results
