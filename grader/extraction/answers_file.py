"""Read a submission's structured answer file, answers.toml, into an AnswerSet.

The file is the student's (untrusted) input: every value is validated here and a bad one
becomes an Unreadable answer or an AnswersFileError whose message names the key and line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.models import (
    SINGLE_ANSWER_KEY,
    AccuracyAnswer,
    AccuracyClaim,
    Answer,
    AnswerSet,
    AnswerValue,
    CountAnswer,
    CountName,
    Derivative,
    FilterAnswer,
    FormulaAnswer,
    LossKind,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
    Source,
    Unreadable,
)
from grader.reference import array_from_nested

ANSWERS_FILE = "answers.toml"
MAX_BYTES = 1_000_000  # an answers file is a few KB; refuse anything absurd before parsing

ClaimParser = Callable[[str], AccuracyClaim | None]


class AnswersFileError(Exception):
    """answers.toml cannot be read at all (not TOML, not UTF-8, too large)."""


@dataclass(frozen=True)
class _Located:
    """Finds the line of `key =` inside `[section]`: tomllib does not report positions."""

    lines: tuple[str, ...]

    def line_of(self, section: str, key: str) -> int | None:
        current = ""
        key_re = re.compile(r'^\s*["\']?' + re.escape(key) + r'["\']?\s*=')
        for number, line in enumerate(self.lines, start=1):
            header = re.match(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$", line)
            if header:
                current = header.group(1).strip().strip("\"'")
                continue
            if current == section and key_re.match(line):
                return number
        return None

    def value_text(self, line: int) -> str:
        """The lines of the entry starting at `line`: a multi-line array is shown whole."""
        taken: list[str] = []
        depth = 0
        for text in self.lines[line - 1 : line - 1 + 40]:
            taken.append(text.rstrip())
            code = text.split("#", 1)[0]
            depth += code.count("[") - code.count("]")
            if depth <= 0:
                break
        return "\n".join(taken)


def read_answers_file(
    folder: Path, parse_claim: ClaimParser, file_name: str = ANSWERS_FILE
) -> AnswerSet | None:
    """AnswerSet from folder/answers.toml, or None when there is no such file."""
    path = folder / file_name
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_BYTES:
        raise AnswersFileError(f"{file_name} is larger than {MAX_BYTES // 1000} KB")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AnswersFileError(f"{file_name} is not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AnswersFileError(f"{file_name} is not valid TOML: {exc}") from None
    return _answers_from(data, _Located(tuple(text.splitlines())), file_name, parse_claim)


def _answers_from(
    data: dict[str, Any], located: _Located, file_name: str, parse_claim: ClaimParser
) -> AnswerSet:
    answers: list[Answer] = []
    notes: list[str] = []

    def add(problem: ProblemId, key: str, toml_key: str, raw: Any, value: AnswerValue) -> None:
        section = problem.value.lower()
        line = located.line_of(section, toml_key)
        text = f"[{section}] {toml_key} = {raw!r}" if line is None else located.value_text(line)
        answers.append(Answer(problem, key, value, Source(file_name, line, text.strip())))

    known = {p.value.lower() for p in ProblemId} | {"student"}
    for key in data:
        if key not in known:
            notes.append(f"{file_name}: ignored unknown section or key '{key}'")

    for problem in (ProblemId.P1, ProblemId.P3):
        section = _section(data, problem, notes, file_name)
        if section is not None and "filter" in section:
            raw = section["filter"]
            add(problem, SINGLE_ANSWER_KEY[problem], "filter", raw, _filter(raw))

    p2 = _section(data, ProblemId.P2, notes, file_name)
    if p2:
        add(ProblemId.P2, SINGLE_ANSWER_KEY[ProblemId.P2], "value", p2.get("value"), _pooling(p2))

    p5 = _section(data, ProblemId.P5, notes, file_name)
    if p5:
        claims: list[tuple[LossKind, AccuracyClaim]] = []
        bad: list[str] = []
        for kind in LossKind:
            raw = p5.get(kind.value)
            if raw is None:
                continue
            claim = parse_claim(str(raw)) if isinstance(raw, str) else None
            if claim is None:
                bad.append(f"{kind.value} = {raw!r}")
            else:
                claims.append((kind, claim))
        key = "square" if "square" in p5 else "logistic"
        if bad:
            reason = "accuracy not in the form 'c/1991 (p%)': " + "; ".join(bad)
            add(ProblemId.P5, SINGLE_ANSWER_KEY[ProblemId.P5], key, p5, Unreadable(reason))
        elif claims:
            claimed = AccuracyAnswer(tuple(claims))
            add(ProblemId.P5, SINGLE_ANSWER_KEY[ProblemId.P5], key, p5, claimed)

    p6 = _section(data, ProblemId.P6, notes, file_name)
    if p6:
        for d in Derivative:
            raw = p6.get(d.value)
            if raw is None:
                continue
            value: AnswerValue = (
                FormulaAnswer(raw.strip())
                if isinstance(raw, str) and raw.strip()
                else Unreadable("a formula must be a non-empty LaTeX string")
            )
            add(ProblemId.P6, d.value, d.value, raw, value)
        for extra in set(p6) - {d.value for d in Derivative}:
            names = ", ".join(d.value for d in Derivative)
            notes.append(f"{file_name}: [p6] key '{extra}' is not one of {names}; ignored")

    p7 = _section(data, ProblemId.P7, notes, file_name)
    if p7:
        for c in CountName:
            if c.value in p7:
                add(ProblemId.P7, c.value, c.value, p7[c.value], _count(p7[c.value]))
        for extra in set(p7) - {c.value for c in CountName}:
            names = ", ".join(c.value for c in CountName)
            notes.append(f"{file_name}: [p7] key '{extra}' is not one of {names}; ignored")

    return AnswerSet(tuple(answers), tuple(notes))


def _section(
    data: dict[str, Any], problem: ProblemId, notes: list[str], file_name: str
) -> dict[str, Any] | None:
    raw = data.get(problem.value.lower())
    if raw is None:
        return None
    if not isinstance(raw, dict):
        notes.append(f"{file_name}: '{problem.value.lower()}' must be a [section]; ignored")
        return None
    return raw


def _filter(raw: Any) -> AnswerValue:
    try:
        return FilterAnswer(array_from_nested(raw))
    except ValueError as exc:
        return Unreadable(f"the filter is not a list of numbers: {exc}")


def _pooling(section: dict[str, Any]) -> AnswerValue:
    form_text = section.get("form", "depthwise")
    try:
        form = PoolingForm(form_text)
    except ValueError:
        return Unreadable(f"form must be 'depthwise' or 'full', not {form_text!r}")
    fields: dict[str, str] = {}
    for key, default in (
        ("value", None),
        ("off_diagonal", "0"),
        ("stride", None),
        ("padding", "0"),
    ):
        raw = section.get(key, default)
        if raw is None:
            return Unreadable(f"'{key}' is missing")
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            return Unreadable(f"'{key}' must be a formula in k such as \"1/k^2\", not {raw!r}")
        fields[key] = str(raw)
    return PoolingAnswer(
        form, fields["value"], fields["off_diagonal"], fields["stride"], fields["padding"]
    )


_RESULT = re.compile(r"=\s*([0-9][0-9,\s]*)\s*$")


def _count(raw: Any) -> AnswerValue:
    """An integer, or worked arithmetic "... = 1516" whose last side is the answer."""
    if isinstance(raw, bool):
        return Unreadable("a count must be a whole number")
    if isinstance(raw, int):
        return CountAnswer(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if text.isdigit():
            return CountAnswer(int(text))
        match = _RESULT.search(text)
        if match:
            digits = re.sub(r"[,\s]", "", match.group(1))
            return CountAnswer(int(digits), stated_work=text)
    return Unreadable(f"a count must be a whole number or worked arithmetic '... = N', not {raw!r}")


TEMPLATE = """\
# Homework 4 answers. Fill in what you answered; leave out (or comment out) the rest.
# Formulas are LaTeX strings: use single quotes so backslashes stay as typed.

[p1]
# The 3x3 filter w for conv2d(X, w, padding=1), as two kernels:
# w[0] gives Y1[i,j] = X[i+1,j] - X[i,j], w[1] gives Y2[i,j] = X[i,j+1] - X[i,j].
# filter = [[[0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]]

[p2]
# Average pooling with kernel k as a convolution.
# form = "depthwise"      # "depthwise": weight (C,1,k,k), groups=C; "full": weight (C,C,k,k)
# value = '1/k^2'         # weight on a channel's own k x k block, a formula in k
# off_diagonal = '0'      # full form only: weight between different channels
# stride = 'k'
# padding = '0'

[p3]
# The 1x1 greyscale filter: the weights of R, G, B (PyTorch weight shape (1,3,1,1)).
# filter = [0.0, 0.0, 0.0]

[p5]
# Test accuracies as your program printed them, e.g. "1897/1991 (95.28%)".
# square = ""             # trained with the sum-of-squares loss
# logistic = ""           # trained with the logistic (cross-entropy) loss

[p6]
# The six Jacobians as LaTeX, for example
#   '\\operatorname{diag}(\\sigma^\\prime(A_\\ell y_{\\ell-1} + b_\\ell))'
# "dyL/dbL" = ''
# "dyL/dyL-1" = ''
# "dyl/dbl" = ''
# "dyl/dyl-1" = ''
# "dyL/dAL" = ''
# "dyL/dAl" = ''

[p7]
# Parameter counts: a number, or your arithmetic ending in '= N'.
# c3_original = 0         # C3 with the connection table of Table I
# c3_full = 0             # C3 as a full Conv2d(6, 16, 5)
# lenet_original = 0      # the whole LeNet with the original C3
# lenet_full = 0          # the whole LeNet with the full C3
# reduction = 0
"""
