"""The typed tree the LaTeX reader builds: small frozen dataclasses, one per construct.

Every node carries `at`, the column it started at, for error messages; it takes no part in
equality, so two spellings of one formula compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _at() -> int:
    at: int = field(default=0, compare=False, repr=False)
    return at


@dataclass(frozen=True)
class Num:
    value: float
    text: str = field(default="", compare=False)  # as written, for exact sympy numbers
    at: int = _at()


@dataclass(frozen=True)
class Sym:
    """A symbol with its subscript normalised: "y_{l-1}", "A_L", "k", "sigma"."""

    name: str
    at: int = _at()


@dataclass(frozen=True)
class Add:
    left: Expr
    right: Expr
    at: int = _at()


@dataclass(frozen=True)
class Sub:
    left: Expr
    right: Expr
    at: int = _at()


@dataclass(frozen=True)
class Neg:
    operand: Expr
    at: int = _at()


@dataclass(frozen=True)
class Mul:
    """A product: juxtaposition, \\cdot, \\times and * all mean the same here."""

    left: Expr
    right: Expr
    at: int = _at()


@dataclass(frozen=True)
class Hadamard:
    """The elementwise product, \\odot or \\circ."""

    left: Expr
    right: Expr
    at: int = _at()


@dataclass(frozen=True)
class Div:
    num: Expr
    den: Expr
    at: int = _at()


@dataclass(frozen=True)
class Pow:
    base: Expr
    exp: Expr
    at: int = _at()


@dataclass(frozen=True)
class Transpose:
    operand: Expr
    at: int = _at()


@dataclass(frozen=True)
class Call:
    """A function applied to an argument; `order` counts derivatives (sigma' has order 1)."""

    func: str
    order: int
    arg: Expr
    at: int = _at()


@dataclass(frozen=True)
class Partial:
    """A lone "\\partial x"; inside a fraction it becomes a Jacobian."""

    operand: Expr
    at: int = _at()


@dataclass(frozen=True)
class Jacobian:
    """A derivative written as a fraction, \\frac{\\partial y_L}{\\partial y_\\ell}."""

    of: Expr
    wrt: Expr
    at: int = _at()

    @property
    def name(self) -> str:
        """The name a value is bound to, e.g. "dy_L/dy_l"."""
        return f"d{render(self.of)}/d{render(self.wrt)}"


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[Expr, ...], ...]
    at: int = _at()


@dataclass(frozen=True)
class Seq:
    """A comma-separated list: [M_1, M_2], \\left(M_1, M_2\\right), (0.299, 0.587, 0.114)."""

    items: tuple[Expr, ...]
    at: int = _at()


@dataclass(frozen=True)
class Dots:
    """\\cdots, \\ldots, \\vdots, \\ddots: kept so a caller can say the answer is elided."""

    at: int = _at()


@dataclass(frozen=True)
class Ones:
    """\\mathbf{1}_{k \\times k}: a matrix of ones with the given sizes (none if unstated)."""

    dims: tuple[Expr, ...]
    at: int = _at()


@dataclass(frozen=True)
class Abs:
    operand: Expr
    at: int = _at()


@dataclass(frozen=True)
class Percent:
    operand: Expr
    at: int = _at()


@dataclass(frozen=True)
class Placeholder:
    """The \\cdot in sigma'(\\cdot): an argument left unnamed."""

    at: int = _at()


Expr = (
    Num
    | Sym
    | Add
    | Sub
    | Neg
    | Mul
    | Hadamard
    | Div
    | Pow
    | Transpose
    | Call
    | Partial
    | Jacobian
    | Matrix
    | Seq
    | Dots
    | Ones
    | Abs
    | Percent
    | Placeholder
)


def children(e: Expr) -> tuple[Expr, ...]:
    """The sub-formulas of a node, in order."""
    match e:
        case Add() | Sub() | Mul() | Hadamard():
            return (e.left, e.right)
        case Div(num=a, den=b) | Pow(base=a, exp=b) | Jacobian(of=a, wrt=b):
            return (a, b)
        case Neg(operand=a) | Transpose(operand=a) | Partial(operand=a):
            return (a,)
        case Abs(operand=a) | Percent(operand=a) | Call(arg=a):
            return (a,)
        case Matrix(rows=rows):
            return tuple(c for r in rows for c in r)
        case Seq(items=items):
            return items
        case Ones(dims=dims):
            return dims
    return ()


def height(e: Expr) -> int:
    """Depth of the tree, computed without recursion (it bounds every recursive reader)."""
    best = 0
    stack = [(e, 1)]
    while stack:
        node, h = stack.pop()
        best = max(best, h)
        stack.extend((c, h + 1) for c in children(node))
    return best


def render(e: Expr) -> str:
    """Plain text of a tree, fully bracketed where it matters: shown as "read as ..."."""
    match e:
        case Num(text=text, value=value):
            return text or f"{value:g}"
        case Sym(name=name):
            return name
        case Add(left=a, right=b):
            return f"{render(a)} + {render(b)}"
        case Sub(left=a, right=b):
            return f"{render(a)} - {_wrap(b, _SUM)}"
        case Neg(operand=a):
            return f"-{_wrap(a, _SUM)}"
        case Mul(left=a, right=b):
            return f"{_wrap(a, _SUM + (Hadamard,))} {_wrap(b, _SUM + _PRODUCT)}"
        case Hadamard(left=a, right=b):
            return f"{_wrap(a, _SUM + (Mul, Div))} ⊙ {_wrap(b, _SUM + _PRODUCT)}"
        case Div(num=a, den=b):
            return f"{_wrap(a, _SUM)}/{_wrap(b, _SUM + _PRODUCT)}"
        case Pow(base=a, exp=b):
            return f"{_wrap(a, _SUM + _PRODUCT + _NEG)}^{_wrap(b, _ALL_COMPOUND)}"
        case Transpose(operand=a):
            return f"{_wrap(a, _ALL_COMPOUND)}^T"
        case Call(func=f, order=o, arg=a):
            return f"{f}{chr(39) * o}({render(a)})"
        case Partial(operand=a):
            return f"∂{_wrap(a, _ALL_COMPOUND)}"
        case Jacobian(of=a, wrt=b):
            return f"(d{render(a)}/d{render(b)})"
        case Matrix(rows=rows):
            return "[" + "; ".join(", ".join(render(c) for c in r) for r in rows) + "]"
        case Seq(items=items):
            return "(" + ", ".join(render(i) for i in items) + ")"
        case Dots():
            return "..."
        case Ones(dims=dims):
            return "ones(" + ", ".join(render(d) for d in dims) + ")"
        case Abs(operand=a):
            return f"|{render(a)}|"
        case Percent(operand=a):
            return f"{_wrap(a, _ALL_COMPOUND)}%"
        case Placeholder():
            return "·"


_SUM: tuple[type, ...] = (Add, Sub)
_PRODUCT: tuple[type, ...] = (Mul, Hadamard, Div)
_NEG: tuple[type, ...] = (Neg,)
_ALL_COMPOUND = _SUM + _PRODUCT + _NEG + (Pow, Transpose, Percent)


def _wrap(e: Expr, compound: tuple[type, ...]) -> str:
    text = render(e)
    return f"({text})" if isinstance(e, compound) else text
