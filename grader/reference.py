"""The instructor's reference (reference/hw4.toml) as typed, validated specs.

Trusted side only. Imports models; no torch or sympy here so loading stays cheap.
A malformed reference raises ReferenceFormatError naming the key at fault.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.models import (
    Array,
    CountName,
    Derivative,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
    Visibility,
)

DEFAULT_REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "hw4.toml"


class ReferenceFormatError(Exception):
    """The reference file cannot be used; the message names the key."""


@dataclass(frozen=True)
class Mistake:
    """A known mistake: its name, the credit it keeps, feedback, and an example answer."""

    name: str
    credit: float
    feedback: str


@dataclass(frozen=True)
class FilterMistake(Mistake):
    answer: Array


@dataclass(frozen=True)
class P1Spec:
    title: str
    points: float
    visibility: Visibility
    padding: int
    image_shapes: tuple[tuple[int, int], ...]
    tolerance: float
    expected: Array  # shape (2, 1, 3, 3)
    credit_per_channel: float
    mistakes: tuple[FilterMistake, ...]


@dataclass(frozen=True)
class PoolingMistake(Mistake):
    answer: PoolingAnswer


@dataclass(frozen=True)
class P2Spec:
    title: str
    points: float
    visibility: Visibility
    cases: tuple[tuple[int, int, int, int], ...]  # (C, k, m, n)
    tolerance: float
    expected: tuple[PoolingAnswer, ...]  # one per right form
    mistakes: tuple[PoolingMistake, ...]


@dataclass(frozen=True)
class P3Spec:
    title: str
    points: float
    visibility: Visibility
    expected: Array  # shape (1, 3, 1, 1)
    image_shapes: tuple[tuple[int, int], ...]
    tolerance: float
    mistake_tolerance: float  # students round (0.3333 for 1/3): mistakes are matched within this
    mistakes: tuple[FilterMistake, ...]


@dataclass(frozen=True)
class P4Spec:
    title: str
    points: float
    visibility: Visibility
    rubric: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    """A separately scored part of a problem."""

    key: str
    title: str
    points: float


@dataclass(frozen=True)
class P5Spec:
    title: str
    visibility: Visibility
    test_total: int
    plausible_percent: tuple[float, float]
    learning_rate: float
    batch_size: int
    epochs: int
    seed: int
    min_accuracy_percent: float
    claims: Item
    loss: Item
    training: Item
    mistakes: tuple[Mistake, ...]  # wrong losses, recognised by name (formulas in the grader)

    @property
    def points(self) -> float:
        return self.claims.points + self.loss.points + self.training.points

    def mistake(self, name: str) -> Mistake | None:
        return next((m for m in self.mistakes if m.name == name), None)


@dataclass(frozen=True)
class FormulaSpec:
    derivative: Derivative
    part: str  # "a" or "b"
    points: float
    lhs: str  # LaTeX of the left-hand side, used to match write-up answers
    answer: str  # LaTeX of the reference formula


@dataclass(frozen=True)
class FormulaMistake(Mistake):
    answers: tuple[tuple[Derivative, str], ...]  # example LaTeX per derivative it applies to

    def example_for(self, d: Derivative) -> str | None:
        for key, latex in self.answers:
            if key is d:
                return latex
        return None


@dataclass(frozen=True)
class P6Spec:
    title: str
    visibility: Visibility
    draws: int
    depths: tuple[int, ...]
    width_range: tuple[int, int]
    activations: tuple[str, ...]
    tolerance: float
    seed: int  # fixed: the same submission always meets the same random networks
    items: tuple[FormulaSpec, ...]
    mistakes: tuple[FormulaMistake, ...]

    @property
    def points(self) -> float:
        return sum(i.points for i in self.items)

    def item(self, d: Derivative) -> FormulaSpec:
        for i in self.items:
            if i.derivative is d:
                return i
        raise KeyError(d)


@dataclass(frozen=True)
class CountSpec:
    name: CountName
    value: int
    points: float
    title: str


@dataclass(frozen=True)
class CountMistake(Mistake):
    values: tuple[tuple[CountName, int], ...]


@dataclass(frozen=True)
class P7Spec:
    title: str
    visibility: Visibility
    connections: tuple[tuple[int, ...], ...]
    kernel_size: int
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    counts: tuple[CountSpec, ...]
    parameters: Item
    shape: Item
    connection_item: Item
    mistakes: tuple[CountMistake, ...]

    @property
    def points(self) -> float:
        return (
            sum(c.points for c in self.counts)
            + self.parameters.points
            + self.shape.points
            + self.connection_item.points
        )

    def count(self, name: CountName) -> CountSpec:
        for c in self.counts:
            if c.name is name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    content_hash: str  # sha256 of the file: results record which reference scored them
    path: Path
    p1: P1Spec
    p2: P2Spec
    p3: P3Spec
    p4: P4Spec
    p5: P5Spec
    p6: P6Spec
    p7: P7Spec

    @property
    def total_points(self) -> float:
        return sum(
            p.points for p in (self.p1, self.p2, self.p3, self.p4, self.p5, self.p6, self.p7)
        )

    def title_of(self, problem: ProblemId) -> str:
        spec: Any = getattr(self, problem.value.lower())
        return str(spec.title)


# --- reading -----------------------------------------------------------------------------


class _Table:
    """A TOML table that knows its own dotted path, so every error names the key."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> Any:
        if key not in self.data:
            raise ReferenceFormatError(f"missing key '{self._where(key)}'")
        return self.data[key]

    def get_raw(self, key: str, default: Any) -> Any:
        return self.data.get(key, default)

    def table(self, key: str) -> _Table:
        value = self.raw(key)
        if not isinstance(value, dict):
            raise ReferenceFormatError(f"'{self._where(key)}' must be a table")
        return _Table(value, self._where(key))

    def tables(self, key: str) -> list[_Table]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ReferenceFormatError(f"'{self._where(key)}' must be a list of tables")
        return [_Table(v, f"{self._where(key)}[{i}]") for i, v in enumerate(value)]

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise ReferenceFormatError(f"'{self._where(key)}' must be text, got {value!r}")
        return value

    def num(self, key: str) -> float:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ReferenceFormatError(f"'{self._where(key)}' must be a number, got {value!r}")
        return float(value)

    def whole(self, key: str) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ReferenceFormatError(f"'{self._where(key)}' must be a whole number")
        return value

    def credit(self, key: str = "credit") -> float:
        value = self.num(key)
        if not 0.0 <= value <= 1.0:
            raise ReferenceFormatError(f"'{self._where(key)}' must be between 0 and 1")
        return value

    def points(self, key: str = "points") -> float:
        value = self.num(key)
        if value < 0:
            raise ReferenceFormatError(f"'{self._where(key)}' must not be negative")
        return value

    def visibility(self) -> Visibility:
        text = self.get_raw("visibility", "visible")
        try:
            return Visibility(text)
        except ValueError:
            raise ReferenceFormatError(
                f"'{self._where('visibility')}' must be 'visible' or 'hidden', got {text!r}"
            ) from None

    def int_rows(self, key: str, width: int | None = None) -> tuple[tuple[int, ...], ...]:
        value = self.raw(key)
        ok = isinstance(value, list) and all(
            isinstance(r, list) and all(isinstance(x, int) for x in r) for r in value
        )
        if not ok or (width is not None and any(len(r) != width for r in value)):
            shape = f" of {width} whole numbers" if width else ""
            raise ReferenceFormatError(f"'{self._where(key)}' must be a list of lists{shape}")
        return tuple(tuple(r) for r in value)

    def array(self, key: str) -> Array:
        try:
            return array_from_nested(self.raw(key))
        except ValueError as exc:
            raise ReferenceFormatError(f"'{self._where(key)}': {exc}") from None


def array_from_nested(value: Any) -> Array:
    """Nested lists of numbers -> Array; ragged or non-numeric input raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("expected numbers, got true/false")
    if isinstance(value, int | float):
        return Array((), (float(value),))
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of numbers or of lists")
    parts = [array_from_nested(v) for v in value]
    shapes = {p.shape for p in parts}
    if len(shapes) != 1:
        raise ValueError("rows of different lengths (the array is ragged)")
    inner = parts[0].shape
    return Array((len(parts), *inner), tuple(x for p in parts for x in p.values))


def _pooling(t: _Table, default_form: PoolingForm = PoolingForm.DEPTHWISE) -> PoolingAnswer:
    form_text = t.get_raw("form", default_form.value)
    try:
        form = PoolingForm(form_text)
    except ValueError:
        raise ReferenceFormatError(
            f"'{t.path}.form' must be 'depthwise' or 'full', got {form_text!r}"
        ) from None
    off = t.text("off_diagonal") if "off_diagonal" in t.data else "0"
    return PoolingAnswer(form, t.text("value"), off, t.text("stride"), t.text("padding"))


def _item(t: _Table, key: str) -> Item:
    it = t.table(key)
    return Item(key, it.text("title"), it.points())


def _p1(t: _Table) -> P1Spec:
    expected = t.array("expected")
    if expected.shape != (2, 3, 3):
        raise ReferenceFormatError("'p1.expected' must be two 3x3 kernels")
    return P1Spec(
        title=t.text("title"),
        points=t.points(),
        visibility=t.visibility(),
        padding=t.whole("padding"),
        image_shapes=tuple((r[0], r[1]) for r in t.int_rows("image_shapes", 2)),
        tolerance=t.num("tolerance"),
        expected=Array((2, 1, 3, 3), expected.values),
        credit_per_channel=t.credit("credit_per_channel"),
        mistakes=tuple(
            FilterMistake(m.text("name"), m.credit(), m.text("feedback"), m.array("answer"))
            for m in t.tables("mistakes")
        ),
    )


def _p2(t: _Table) -> P2Spec:
    expected = t.table("expected")
    return P2Spec(
        title=t.text("title"),
        points=t.points(),
        visibility=t.visibility(),
        cases=tuple((r[0], r[1], r[2], r[3]) for r in t.int_rows("cases", 4)),
        tolerance=t.num("tolerance"),
        expected=tuple(
            _pooling(expected.table(form.value), form)
            for form in PoolingForm
            if form.value in expected.data
        ),
        mistakes=tuple(
            PoolingMistake(
                m.text("name"), m.credit(), m.text("feedback"), _pooling(m.table("answer"))
            )
            for m in t.tables("mistakes")
        ),
    )


def _p3(t: _Table) -> P3Spec:
    expected = t.array("expected")
    if expected.shape != (3,):
        raise ReferenceFormatError("'p3.expected' must be three weights (R, G, B)")
    return P3Spec(
        title=t.text("title"),
        points=t.points(),
        visibility=t.visibility(),
        expected=Array((1, 3, 1, 1), expected.values),
        image_shapes=tuple((r[0], r[1]) for r in t.int_rows("image_shapes", 2)),
        tolerance=t.num("tolerance"),
        mistake_tolerance=t.num("mistake_tolerance"),
        mistakes=tuple(
            FilterMistake(m.text("name"), m.credit(), m.text("feedback"), m.array("answer"))
            for m in t.tables("mistakes")
        ),
    )


def _p4(t: _Table) -> P4Spec:
    rubric = t.raw("rubric")
    if not isinstance(rubric, list) or not all(isinstance(r, str) for r in rubric):
        raise ReferenceFormatError("'p4.rubric' must be a list of texts")
    return P4Spec(t.text("title"), t.points(), t.visibility(), tuple(rubric))


def _p5(t: _Table) -> P5Spec:
    band = t.raw("plausible_percent")
    if not (isinstance(band, list) and len(band) == 2 and band[0] < band[1]):
        raise ReferenceFormatError("'p5.plausible_percent' must be [low, high]")
    items = t.table("items")
    return P5Spec(
        title=t.text("title"),
        visibility=t.visibility(),
        test_total=t.whole("test_total"),
        plausible_percent=(float(band[0]), float(band[1])),
        learning_rate=t.num("learning_rate"),
        batch_size=t.whole("batch_size"),
        epochs=t.whole("epochs"),
        seed=t.whole("seed"),
        min_accuracy_percent=t.num("min_accuracy_percent"),
        claims=_item(items, "claims"),
        loss=_item(items, "loss"),
        training=_item(items, "training"),
        mistakes=tuple(
            Mistake(m.text("name"), m.credit(), m.text("feedback")) for m in t.tables("mistakes")
        ),
    )


def _derivative(key: str, where: str) -> Derivative:
    try:
        return Derivative(key)
    except ValueError:
        names = ", ".join(d.value for d in Derivative)
        raise ReferenceFormatError(
            f"'{where}': unknown derivative {key!r} (one of {names})"
        ) from None


def _p6(t: _Table) -> P6Spec:
    items_t = t.table("items")
    items = []
    for key in items_t.data:
        it = items_t.table(key)
        items.append(
            FormulaSpec(
                derivative=_derivative(key, it.path),
                part=it.text("part"),
                points=it.points(),
                lhs=it.text("lhs"),
                answer=it.text("answer"),
            )
        )
    missing = set(Derivative) - {i.derivative for i in items}
    if missing:
        raise ReferenceFormatError(
            "'p6.items' lacks " + ", ".join(sorted(d.value for d in missing))
        )
    mistakes = []
    for m in t.tables("mistakes"):
        answers = m.table("answers")
        mistakes.append(
            FormulaMistake(
                m.text("name"),
                m.credit(),
                m.text("feedback"),
                tuple((_derivative(k, answers.path), answers.text(k)) for k in answers.data),
            )
        )
    lo_hi = t.raw("width_range")
    if not (isinstance(lo_hi, list) and len(lo_hi) == 2 and 1 <= lo_hi[0] < lo_hi[1]):
        raise ReferenceFormatError("'p6.width_range' must be [low, high] with 1 <= low < high")
    acts = t.raw("activations")
    if not isinstance(acts, list) or not acts:
        raise ReferenceFormatError("'p6.activations' must be a non-empty list")
    depths = t.raw("depths")
    if not isinstance(depths, list) or not all(isinstance(d, int) and d >= 2 for d in depths):
        raise ReferenceFormatError("'p6.depths' must be a list of whole numbers >= 2")
    return P6Spec(
        title=t.text("title"),
        visibility=t.visibility(),
        draws=t.whole("draws"),
        depths=tuple(depths),
        width_range=(int(lo_hi[0]), int(lo_hi[1])),
        activations=tuple(str(a) for a in acts),
        tolerance=t.num("tolerance"),
        seed=t.whole("seed"),
        items=tuple(sorted(items, key=lambda i: list(Derivative).index(i.derivative))),
        mistakes=tuple(mistakes),
    )


def _count_name(key: str, where: str) -> CountName:
    try:
        return CountName(key)
    except ValueError:
        names = ", ".join(c.value for c in CountName)
        raise ReferenceFormatError(f"'{where}': unknown count {key!r} (one of {names})") from None


def _p7(t: _Table) -> P7Spec:
    counts_t = t.table("counts")
    counts = []
    for key in counts_t.data:
        c = counts_t.table(key)
        counts.append(
            CountSpec(_count_name(key, c.path), c.whole("value"), c.points(), c.text("title"))
        )
    mistakes = []
    for m in t.tables("mistakes"):
        values = m.table("values")
        mistakes.append(
            CountMistake(
                m.text("name"),
                m.credit(),
                m.text("feedback"),
                tuple((_count_name(k, values.path), values.whole(k)) for k in values.data),
            )
        )
    items = t.table("items")
    ins = t.raw("input_shape")
    outs = t.raw("output_shape")
    return P7Spec(
        title=t.text("title"),
        visibility=t.visibility(),
        connections=t.int_rows("connections"),
        kernel_size=t.whole("kernel_size"),
        input_shape=(int(ins[0]), int(ins[1]), int(ins[2])),
        output_shape=(int(outs[0]), int(outs[1]), int(outs[2])),
        counts=tuple(counts),
        parameters=_item(items, "parameters"),
        shape=_item(items, "shape"),
        connection_item=_item(items, "connections"),
        mistakes=tuple(mistakes),
    )


def load_reference(path: Path | None = None) -> Reference:
    """Read and validate the reference; raises ReferenceFormatError with a clear message."""
    path = path or DEFAULT_REFERENCE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReferenceFormatError(f"cannot read reference {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceFormatError(f"{path} is not valid TOML: {exc}") from None
    root = _Table(data, "")
    hw = root.table("homework")
    try:
        return Reference(
            title=hw.text("title"),
            version=hw.text("version"),
            content_hash=hashlib.sha256(raw).hexdigest(),
            path=path,
            p1=_p1(root.table("p1")),
            p2=_p2(root.table("p2")),
            p3=_p3(root.table("p3")),
            p4=_p4(root.table("p4")),
            p5=_p5(root.table("p5")),
            p6=_p6(root.table("p6")),
            p7=_p7(root.table("p7")),
        )
    except (IndexError, TypeError, KeyError) as exc:
        raise ReferenceFormatError(f"{path}: malformed entry ({exc})") from None
