"""P7 counts: the parameter counts a student states, and the reference's counts re-derived.

A count is right or wrong by value; known mistakes (e.g. biases left out) are recognised by
the value their example gives. When the student showed working such as
"25*3*6 + 6 + 25*4*9 + 9 + 25*6 + 1 = 1516" or "(5\\cdot 5)\\cdot 3\\cdot 6+6 = 456", a small
safe reader (integers, + - * ^ and parentheses, no eval) names a step that does not hold.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from grader.checks.common import (
    ReferenceCheck,
    Slot,
    full_credit_check,
    judge_answer,
    reference_answer,
)
from grader.checks.conv_maps import single_thread
from grader.models import (
    Answer,
    CheckResult,
    CountAnswer,
    CountName,
    ProblemId,
    Status,
    Visibility,
)
from grader.reference import CountSpec, P7Spec

# --- worked arithmetic -------------------------------------------------------------------

# Values beyond this are no parameter count; stopping there keeps 9^9^9 from running away.
_LIMIT = 10**15

_SPACING = re.compile(r"\\left|\\right|\\[,;:! ]|\\quad|\\qquad|\$|~")
_TIMES = re.compile(r"\\cdot|\\times|\\ast|[×·⋅∙]|(?<=[\d)])\s*[xX]\s*(?=[\d(])")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TOKEN = re.compile(r"\s*(?:(\d+)|([-+*^()=])|(\S))")


@dataclass(frozen=True)
class Side:
    """One side of a chain of equalities, as written and as computed."""

    text: str
    value: int


@dataclass(frozen=True)
class Working:
    """A chain a = b = c of arithmetic sides; the stated result is the last side."""

    sides: tuple[Side, ...]

    @property
    def result(self) -> int:
        return self.sides[-1].value

    def slips(self) -> tuple[tuple[Side, Side], ...]:
        """Neighbouring sides that are not equal: the step that does not hold."""
        return tuple((a, b) for a, b in itertools.pairwise(self.sides) if a.value != b.value)


def _normalise(text: str) -> str:
    text = _SPACING.sub(" ", text)
    text = _TIMES.sub("*", text)
    text = _THOUSANDS.sub("", text)
    return text.translate(str.maketrans("{[]}", "(())"))


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "op" or "other"
    text: str


def _tokens(text: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(text):
        if m.group(1):
            out.append(_Tok("num", m.group(1)))
        elif m.group(2):
            out.append(_Tok("op", m.group(2)))
        elif m.group(3):
            out.append(_Tok("other", m.group(3)))
    return out


class _Fail(Exception):
    """Not arithmetic this reader understands; the working is then left unjudged."""


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _Fail("unexpected end")
        self.i += 1
        return tok

    def whole(self) -> int:
        value = self.expr()
        if self.peek() is not None:
            raise _Fail("trailing input")
        return value

    def expr(self) -> int:
        value = self.term()
        while (tok := self.peek()) is not None and tok.text in "+-" and tok.kind == "op":
            self.take()
            right = self.term()
            value = value + right if tok.text == "+" else value - right
            _bound(value)
        return value

    def term(self) -> int:
        value = self.unary()
        while (tok := self.peek()) is not None:
            if tok.kind == "op" and tok.text == "*":
                self.take()
            elif not (tok.kind == "op" and tok.text == "("):
                break  # only "6(" or ")(" is an implicit product; "25 3" is not
            value *= self.unary()
            _bound(value)
        return value

    def unary(self) -> int:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text in "+-":
            self.take()
            value = self.unary()
            return -value if tok.text == "-" else value
        return self.power()

    def power(self) -> int:
        base = self.atom()
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "^":
            self.take()
            exponent = self.unary()
            if not 0 <= exponent <= 64:
                raise _Fail("exponent out of range")
            return _bound(base**exponent)
        return base

    def atom(self) -> int:
        tok = self.take()
        if tok.kind == "num":
            return _bound(int(tok.text))
        if tok.text == "(":
            value = self.expr()
            close = self.take()
            if close.text != ")":
                raise _Fail("unclosed parenthesis")
            return value
        raise _Fail(f"unexpected {tok.text!r}")


def _bound(value: int) -> int:
    if abs(value) > _LIMIT:
        raise _Fail("too large")
    return value


def _side(toks: list[_Tok]) -> Side | None:
    if not toks:
        return None
    try:
        value = _Parser(toks).whole()
    except _Fail:
        return None
    return Side(" ".join(t.text for t in toks).replace("( ", "(").replace(" )", ")"), value)


def read_working(text: str) -> Working | None:
    """The chain of equalities in `text`, or None when it holds no checkable arithmetic.

    Prose around the chain is cut off: the first side is the arithmetic just before the
    first "=", the last side the arithmetic just after the last "=".
    """
    toks = _tokens(_normalise(text))
    groups: list[list[_Tok]] = [[]]
    for tok in toks:
        if tok.kind == "op" and tok.text == "=":
            groups.append([])
        else:
            groups[-1].append(tok)
    if len(groups) < 2:
        return None
    first, last = groups[0], groups[-1]
    cut = max((i for i, t in enumerate(first) if t.kind == "other"), default=-1)
    groups[0] = first[cut + 1 :]
    end = next((i for i, t in enumerate(last) if t.kind == "other"), len(last))
    groups[-1] = last[:end]
    sides = [_side(g) for g in groups]
    if any(s is None for s in sides):
        return None
    return Working(tuple(s for s in sides if s is not None))


# --- the count check ---------------------------------------------------------------------


def test_id_of(name: CountName) -> str:
    return f"P7 {name.value}"


def _working_notes(value: CountAnswer) -> list[str]:
    """Sentences about the student's own arithmetic (never about the expected count)."""
    if not value.stated_work:
        return []
    working = read_working(value.stated_work)
    if working is None:
        return []
    notes = []
    for a, b in working.slips():
        other = "" if b.text == str(b.value) else f", while {b.text} is {b.value}"
        notes.append(
            f"In your working, {a.text} = {b.text} does not hold: {a.text} is {a.value}{other}."
        )
    if working.result != value.value:
        notes.append(
            f"Your working ends in {working.result}, but the answer given is {value.value}."
        )
    return notes


def _slot(spec: P7Spec, count: CountSpec) -> Slot:
    return Slot(test_id_of(count.name), ProblemId.P7, count.title, count.points, spec.visibility)


def _judge_count(spec: P7Spec, count: CountSpec, answer: Answer, value: CountAnswer) -> CheckResult:
    def result(credit: float, feedback: str, mistake: str | None = None) -> CheckResult:
        text = " ".join([feedback, *notes])
        return _slot(spec, count).scored(credit, text, answer=answer, mistake=mistake)

    notes = _working_notes(value)
    if value.value == count.value:
        return result(1.0, f"{value.value}: right.")
    for mistake in spec.mistakes:
        if dict(mistake.values).get(count.name) == value.value:
            return result(mistake.credit, mistake.feedback, mistake.name)
    if spec.visibility is Visibility.VISIBLE:
        return result(0.0, f"You gave {value.value}; the count is {count.value}.")
    return result(0.0, f"{value.value} is not the right count.")


def check_p7_counts(
    spec: P7Spec, answers: Mapping[CountName, Answer | None]
) -> tuple[CheckResult, ...]:
    """One result per count the reference asks for, in the reference's order."""
    return tuple(_check_count(spec, count, answers.get(count.name)) for count in spec.counts)


def _check_count(spec: P7Spec, count: CountSpec, answer: Answer | None) -> CheckResult:
    def judge(a: Answer, value: CountAnswer) -> CheckResult:
        return _judge_count(spec, count, a, value)

    return judge_answer(_slot(spec, count), answer, CountAnswer, "a whole number", judge)


# --- verification for `grade check-reference` --------------------------------------------


class _TableC3(nn.Module):
    """C3 as the connection table says: one small Conv2d per output map, reading its inputs."""

    def __init__(self, connections: tuple[tuple[int, ...], ...], kernel_size: int) -> None:
        super().__init__()
        self.connections = connections
        self.convs = nn.ModuleList(nn.Conv2d(len(ins), 1, kernel_size) for ins in connections)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [conv(x[:, list(ins)]) for conv, ins in zip(self.convs, self.connections, strict=True)],
            dim=1,
        )


def _lenet(c3: nn.Module) -> nn.Sequential:
    """The LeNet of the sheet's lenet_original.py, with the given C3."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Tanh(),
        c3,
        nn.AvgPool2d(2),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, 10),
    )


def _parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _table_problems(spec: P7Spec) -> list[str]:
    n_in, n_out = spec.input_shape[0], spec.output_shape[0]
    problems = []
    if len(spec.connections) != n_out:
        problems.append(f"{len(spec.connections)} columns for {n_out} output maps")
    for j, ins in enumerate(spec.connections):
        if not ins or len(set(ins)) != len(ins) or not all(0 <= i < n_in for i in ins):
            problems.append(f"column {j} {list(ins)} is not a set of input maps 0-{n_in - 1}")
    return problems


def _measured(spec: P7Spec) -> tuple[dict[CountName, int], list[ReferenceCheck]]:
    """The five counts from torch modules, with checks that the modules have the right shapes."""
    p = ProblemId.P7
    checks = []
    c3 = _TableC3(spec.connections, spec.kernel_size).double()
    full = nn.Conv2d(spec.input_shape[0], spec.output_shape[0], spec.kernel_size).double()
    x = torch.zeros((2, *spec.input_shape), dtype=torch.float64)
    with torch.no_grad():
        for label, layer in (("Table I", c3), ("full", full)):
            shape = tuple(layer(x).shape[1:])
            checks.append(
                ReferenceCheck(
                    p,
                    f"{label} C3 maps {spec.input_shape} to {spec.output_shape}",
                    shape == spec.output_shape,
                    f"gives {shape}",
                )
            )
        images = torch.zeros((2, 1, 28, 28), dtype=torch.float64)
        lenets = (_lenet(c3).double(), _lenet(full).double())
        for label, net in zip(("Table I", "full"), lenets, strict=True):
            shape = tuple(net(images).shape)
            checks.append(
                ReferenceCheck(
                    p,
                    f"LeNet with {label} C3 runs on 28x28 images",
                    shape == (2, 10),
                    f"gives {shape}",
                )
            )
    counts = {
        CountName.C3_ORIGINAL: _parameters(c3),
        CountName.C3_FULL: _parameters(full),
        CountName.LENET_ORIGINAL: _parameters(lenets[0]),
        CountName.LENET_FULL: _parameters(lenets[1]),
    }
    counts[CountName.REDUCTION] = counts[CountName.LENET_FULL] - counts[CountName.LENET_ORIGINAL]
    return counts, checks


def _reference_answer(name: CountName, value: int, what: str) -> Answer:
    return reference_answer(ProblemId.P7, name.value, CountAnswer(value), what)


def verify_p7_reference(spec: P7Spec) -> list[ReferenceCheck]:
    p = ProblemId.P7
    problems = _table_problems(spec)
    checks = [
        ReferenceCheck(
            p,
            "connection table is well formed",
            not problems,
            "; ".join(problems) or f"{len(spec.connections)} columns",
        )
    ]
    if problems:
        return checks  # modules cannot be built from a broken table
    with single_thread():
        counts, shape_checks = _measured(spec)
    checks += shape_checks
    c3_diff = counts[CountName.C3_FULL] - counts[CountName.C3_ORIGINAL]
    checks.append(
        ReferenceCheck(
            p,
            "reduction is the same for C3 and for the whole LeNet",
            c3_diff == counts[CountName.REDUCTION],
            f"C3 {c3_diff}, LeNet {counts[CountName.REDUCTION]}",
        )
    )
    for count in spec.counts:
        measured = counts[count.name]
        checks.append(
            ReferenceCheck(
                p,
                f"{count.name.value} = {count.value}",
                measured == count.value,
                f"torch counts {measured}",
            )
        )
    right = {c.name: _reference_answer(c.name, c.value, "expected") for c in spec.counts}
    for r in check_p7_counts(spec, right):
        checks.append(full_credit_check(p, f"{r.test_id} expected value", r))
    asked = {c.name for c in spec.counts}
    for m in spec.mistakes:
        for name, value in m.values:
            if name not in asked:
                checks.append(
                    ReferenceCheck(
                        p,
                        f"mistake '{m.name}' {name.value}",
                        False,
                        "the reference asks for no such count",
                    )
                )
                continue
            results = check_p7_counts(spec, {name: _reference_answer(name, value, m.name)})
            judged = next(x for x in results if x.test_id == test_id_of(name))
            ok = judged.status is not Status.PASSED and judged.mistake == m.name
            checks.append(
                ReferenceCheck(
                    p,
                    f"mistake '{m.name}' {name.value} = {value} recognised",
                    ok,
                    f"judged {judged.status.value}, recognised as '{judged.mistake}'",
                )
            )
    return checks
