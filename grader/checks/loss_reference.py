"""check-reference for P5: the loss, its known mistakes and the accuracy threshold."""

from __future__ import annotations

import torch

from grader.checks.common import ReferenceCheck
from grader.checks.loss import P5Session, default_cache_dir
from grader.checks.loss_formulas import LOGISTIC, MISTAKES, SQUARE, make_probes, match_formula
from grader.models import ProblemId
from grader.reference import P5Spec


def _by_definition(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The sum of squares between the one-hot label and [sigmoid(-z), sigmoid(z)], written
    out from the problem statement (one-hot [1,0] for y = -1, [0,1] for y = +1)."""
    first = torch.where(y < 0, 1.0, 0.0)
    return (first - torch.sigmoid(-z)) ** 2 + ((1 - first) - torch.sigmoid(z)) ** 2


def verify_p5_reference(spec: P5Spec) -> list[ReferenceCheck]:
    checks: list[ReferenceCheck] = []

    def add(name: str, passed: bool, detail: str) -> None:
        checks.append(ReferenceCheck(ProblemId.P5, name, passed, detail))

    low, high = spec.plausible_percent
    add(
        "plausible band and threshold are sensible",
        0 <= low < high <= 100 and low <= spec.min_accuracy_percent <= high,
        f"band {low:g}-{high:g}%, threshold {spec.min_accuracy_percent:g}%",
    )
    add(
        "training protocol is usable",
        spec.learning_rate > 0 and spec.batch_size > 0 and spec.epochs > 0,
        f"SGD lr {spec.learning_rate}, batch {spec.batch_size}, {spec.epochs} epochs",
    )
    gen = torch.Generator().manual_seed(spec.seed)
    z = torch.randn(1000, generator=gen, dtype=torch.float64) * 4
    y = torch.randint(0, 2, (1000,), generator=gen).to(torch.float64) * 2 - 1
    worst = float((SQUARE.formula(z, y) - _by_definition(z, y)).abs().max())
    add(
        f"{SQUARE.text} is the sum of squares by definition",
        worst < 1e-12,
        f"largest difference {worst:.1e} on 1000 random (z, y)",
    )
    in_code = {m.name for m in MISTAKES}
    in_reference = {m.name for m in spec.mistakes}
    add(
        "every known wrong loss has credit and feedback in the reference",
        in_code == in_reference,
        "names match"
        if in_code == in_reference
        else "the grader knows "
        + ", ".join(sorted(in_code - in_reference) or ["no others"])
        + "; the reference names unknown "
        + ", ".join(sorted(in_reference - in_code) or ["none"]),
    )
    probes = make_probes(spec.seed)
    for mistake in MISTAKES:
        calls = []
        for probe in probes:
            pz, py = probe.tensors()
            calls.append({"status": "ok", "value": mistake.formula(pz, py).tolist()})
        taken_for_right = match_formula(SQUARE, probes, calls, swapped=False) is not None
        add(
            f"mistake '{mistake.name}' is judged wrong",
            not taken_for_right,
            "differs from the square loss on the probes"
            if not taken_for_right
            else "computes the square loss: it would pass",
        )
    # The same cache grading uses: its key holds the protocol, the data and the loss source.
    session = P5Session(spec, cache_dir=default_cache_dir())
    for loss in (SQUARE, LOGISTIC):
        trained, why = session.reference(loss)
        if trained is None:
            add(f"{loss.name} trained with the protocol", False, why)
            continue
        add(
            f"{loss.name} trained with the protocol reaches {spec.min_accuracy_percent:g}%",
            trained.percent >= spec.min_accuracy_percent,
            trained.describe(),
        )
    return checks
