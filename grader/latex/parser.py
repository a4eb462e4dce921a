"""Recursive-descent parser from tokens to the typed tree in grader.latex.ast.

Grammar, loosest first:
  list    := expr ("," expr)*
  expr    := term (("+" | "-") term)*
  term    := ("-" | "+") term | product
  product := postfix ((\\cdot | \\times | * | \\odot | \\circ | / | <juxtaposition>) postfix)*
  postfix := primary (_sub | ^sup | ' | % | (argument of a function))*
All multiplicative operators share one level and group to the left, so
"\\sigma'(z) \\odot v y^\\top" reads as (sigma'(z) odot v) y^T.
Nesting is bounded (MAX_DEPTH) so hostile input cannot exhaust the stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.latex.ast import (
    Abs,
    Add,
    Call,
    Div,
    Dots,
    Expr,
    Hadamard,
    Jacobian,
    Matrix,
    Mul,
    Neg,
    Num,
    Ones,
    Partial,
    Percent,
    Placeholder,
    Pow,
    Seq,
    Sub,
    Sym,
    Transpose,
    height,
)
from grader.latex.errors import LatexError
from grader.latex.tokens import Kind, Token, tokenize

MAX_DEPTH = 50  # brackets and commands inside one another
MAX_HEIGHT = 150  # nodes on the longest path of the tree

GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu "
    "nu xi pi rho varrho tau upsilon chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
    "Upsilon Phi Psi Omega".split()
)
# Names read as functions: followed by an argument they are applied, never multiplied.
FUNCTIONS = frozenset("sigma phi varphi diag exp log tanh sin cos softplus".split())
_FUNCTION_COMMANDS = frozenset(f"\\{f}" for f in ("sigma", "phi", "varphi", "exp", "log"))
_FUNCTION_COMMANDS |= {"\\tanh", "\\sin", "\\cos"}
_WORD_COMMANDS = frozenset(
    ("\\operatorname", "\\text", "\\mathrm", "\\textrm", "\\mathit", "\\textit", "\\mathsf")
    + ("\\texttt", "\\textbf", "\\rm")
)
_DECORATIONS = frozenset(
    ("\\mathbf", "\\boldsymbol", "\\bm", "\\pmb", "\\vec", "\\mathbfit", "\\mathnormal")
)
_FRACTIONS = frozenset(("\\frac", "\\dfrac", "\\tfrac", "\\cfrac"))
_DOTS = frozenset(("\\cdots", "\\ldots", "\\dots", "\\vdots", "\\ddots", "\\dotsc", "\\dotsb"))
_SIZES = frozenset(
    "\\big \\Big \\bigg \\Bigg \\bigl \\bigr \\Bigl \\Bigr \\biggl \\biggr \\Biggl \\Biggr".split()
)
_MATRIX_ENVS = frozenset("matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix array".split())
_TRANSPOSE_MARKS = frozenset(("T", "\\top", "\\intercal", "\\mathsf", "\\mathrm", "\\text"))
_PRODUCT_OPS = frozenset(("\\cdot", "\\times", "*"))
_HADAMARD_OPS = frozenset(("\\odot", "\\circ"))
_OPENERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "|": "|"}
_LEFT_DELIMS = frozenset(("(", "[", "\\{", "|", ".", "\\lvert", "\\langle", "\\|", "\\lbrack"))
_RIGHT_DELIMS = frozenset((")", "]", "\\}", "|", ".", "\\rvert", "\\rangle", "\\|", "\\rbrack"))
_PRIMARY_COMMANDS = (
    GREEK
    | {f"\\{g}" for g in GREEK}
    | _FUNCTION_COMMANDS
    | _WORD_COMMANDS
    | _DECORATIONS
    | _FRACTIONS
    | _DOTS
    | _SIZES
    | {"\\ell", "\\sqrt", "\\left", "\\begin", "\\partial", "\\dot", "\\{", "\\lvert"}
    | {"\\underbrace", "\\overbrace", "\\underset", "\\overset", "\\stackrel", "\\hspace"}
)


@dataclass(frozen=True)
class _FuncRef:
    """A function name waiting for its argument (sigma, sigma', diag)."""

    name: str
    order: int
    at: int


@dataclass(frozen=True)
class _OnesRef:
    """\\mathbf{1} waiting for its size subscript."""

    at: int


_Item = Expr | _FuncRef | _OnesRef


def parse_latex(text: str) -> Expr:
    """Read one formula (no '='); raises LatexError naming the column."""
    parser = _Parser(tokenize(text), 0)
    if parser.peek().kind is Kind.END:
        raise LatexError("empty formula", 0)
    result = parser.parse_list()
    parser.expect_end()
    if height(result) > MAX_HEIGHT:
        # Long flat chains nest deeply in the tree; every reader of the tree recurses.
        raise LatexError(f"formula too complex (more than {MAX_HEIGHT} nested operations)", 0)
    return result


class _Parser:
    def __init__(self, tokens: list[Token], depth: int) -> None:
        self.toks = tokens
        self.i = 0
        self.depth = depth
        self.in_abs = 0

    # --- token access ------------------------------------------------------------------

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.peek()
        if t.kind is not Kind.END:
            self.i += 1
        return t

    def fail(self, message: str, tok: Token | None = None) -> LatexError:
        t = tok or self.peek()
        return LatexError(message, t.col)

    def unexpected(self, tok: Token | None = None) -> LatexError:
        t = tok or self.peek()
        if t.kind is Kind.END:
            return self.fail("unexpected end of formula", t)
        hint = " (give one side of the equation)" if t.is_char("=") else ""
        return self.fail(f"unexpected '{t.text}'{hint}", t)

    def expect_char(self, c: str) -> Token:
        t = self.peek()
        if not t.is_char(c):
            if t.kind is Kind.END:
                raise self.fail(f"missing '{c}' before the end of the formula", t)
            raise self.fail(f"expected '{c}' but found '{t.text}'", t)
        return self.next()

    def expect_end(self) -> None:
        if self.peek().kind is not Kind.END:
            raise self.unexpected()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"formula nested too deeply (more than {MAX_DEPTH} levels)")

    def leave(self) -> None:
        self.depth -= 1

    def group_range(self) -> tuple[int, int]:
        """Token indices inside the braces starting at the current '{'; consumes them."""
        open_tok = self.expect_char("{")
        start, level = self.i, 1
        while True:
            t = self.next()
            if t.kind is Kind.END:
                raise self.fail("missing '}' for the '{'", open_tok)
            if t.is_char("{"):
                level += 1
            elif t.is_char("}"):
                level -= 1
                if level == 0:
                    return start, self.i - 1

    def sub_parser(self, start: int, end: int) -> _Parser:
        end_tok = Token(Kind.END, "", self.toks[end].col if end < len(self.toks) else 0)
        return _Parser([*self.toks[start:end], end_tok], self.depth + 1)

    # --- grammar -----------------------------------------------------------------------

    def parse_list(self) -> Expr:
        at = self.peek().col
        items = [self.parse_expr()]
        while self.peek().is_char(","):
            self.next()
            items.append(self.parse_expr())
        return items[0] if len(items) == 1 else Seq(tuple(items), at)

    def parse_expr(self) -> Expr:
        left = self.parse_term()
        while True:
            t = self.peek()
            if t.is_char("+"):
                self.next()
                left = Add(left, self.parse_term(), t.col)
            elif t.is_char("-"):
                self.next()
                left = Sub(left, self.parse_term(), t.col)
            else:
                return left

    def parse_term(self) -> Expr:
        t = self.peek()
        if t.is_char("-"):
            self.next()
            self.enter()
            try:
                return Neg(self.parse_term(), t.col)
            finally:
                self.leave()
        if t.is_char("+"):
            self.next()
            return self.parse_term()
        return self.parse_product()

    def parse_product(self) -> Expr:
        left = self.parse_postfix()
        while True:
            t = self.peek()
            if t.is_cmd(*_PRODUCT_OPS) or t.is_char("*"):
                self.next()
                left = Mul(left, self.parse_factor(), t.col)
            elif t.is_cmd(*_HADAMARD_OPS):
                self.next()
                left = Hadamard(left, self.parse_factor(), t.col)
            elif t.is_char("/") or t.is_cmd("\\div"):
                self.next()
                left = make_div(left, self.denominator(left), t.col)
            elif self.starts_atom(t):
                left = Mul(left, self.parse_postfix(), t.col)
            else:
                return left

    def parse_factor(self) -> Expr:
        """The right operand of an explicit operator: a sign is allowed ("2 \\cdot -3")."""
        t = self.peek()
        if t.is_char("-"):
            self.next()
            return Neg(self.parse_postfix(), t.col)
        return self.parse_postfix()

    def denominator(self, num: Expr) -> Expr:
        """The right operand of "/": after "d y" the "d x" of dy/dx is taken whole."""
        t = self.peek()
        den = self.parse_factor()
        if _is_d(num) and den == Sym("d") and self.starts_atom(self.peek()):
            return Mul(den, self.parse_postfix(), t.col)
        return den

    def starts_atom(self, t: Token) -> bool:
        if t.kind in (Kind.NUMBER, Kind.LETTER, Kind.WORD):
            return True
        if t.kind is Kind.COMMAND:
            if t.text in _SIZES:  # \big( opens a group, \big) closes one
                return self.peek(1).text in ("(", "[", "\\{", "|", "\\lvert")
            return t.text in _PRIMARY_COMMANDS
        if t.is_char("|"):
            return self.in_abs == 0
        return t.kind is Kind.CHAR and t.text in "([{"

    def parse_postfix(self) -> Expr:
        item: _Item = self.parse_primary()
        while True:
            t = self.peek()
            if t.is_char("_"):
                self.next()
                item = self.subscript(item, t)
            elif t.is_char("^"):
                self.next()
                item = self.superscript(item, t)
            elif t.is_char("'"):
                self.next()
                item = self.prime(item, 1, t)
            elif t.is_char("%") or t.is_cmd("\\%"):
                self.next()
                item = Percent(self.as_expr(item), t.col)
            elif isinstance(item, _FuncRef) and self.starts_atom(t):
                item = self.apply(item)
            else:
                return self.as_expr(item)

    def as_expr(self, item: _Item) -> Expr:
        if isinstance(item, _FuncRef):
            raise LatexError(f"the function {item.name} has no argument", item.at)
        if isinstance(item, _OnesRef):
            return Ones((), item.at)
        return item

    def apply(self, f: _FuncRef) -> Expr:
        self.enter()  # \sigma\sigma\sigma... nests through here
        try:
            return self.applied(f)
        finally:
            self.leave()

    def applied(self, f: _FuncRef) -> Expr:
        t = self.peek()
        bracketed = t.kind is Kind.CHAR and t.text in "([{" or t.is_cmd("\\left", *_SIZES)
        arg = self.parse_primary() if bracketed else self.parse_postfix()
        if isinstance(arg, _FuncRef | _OnesRef):
            arg = self.as_expr(arg)
        if isinstance(arg, Seq):
            raise self.fail(f"{f.name} takes one argument, found {len(arg.items)}", t)
        if f.name == "diag" and f.order:
            raise LatexError("diag has no derivative", f.at)
        return Call(f.name, f.order, arg, f.at)

    # --- scripts -----------------------------------------------------------------------

    def script_tokens(self) -> list[Token]:
        """The tokens of a sub/superscript: a braced group or a single token (digit)."""
        t = self.peek()
        if t.is_char("{"):
            start, end = self.group_range()
            return self.toks[start:end]
        if t.kind is Kind.END:
            raise self.fail("a subscript or superscript is missing", t)
        self.next()
        if t.kind is Kind.NUMBER and len(t.text) > 1:
            # k^23 is k^2 followed by 3 in LaTeX: give the rest back.
            self.i -= 1
            self.toks[self.i] = Token(Kind.NUMBER, t.text[1:], t.col + 1)
            return [Token(Kind.NUMBER, t.text[0], t.col)]
        if t.kind is Kind.COMMAND and (t.text in _WORD_COMMANDS or t.text in _DECORATIONS):
            if self.peek().is_char("{"):
                start, end = self.group_range()
                return [t, *self.toks[start:end]]
            return [t, self.next()]
        return [t]

    def subscript(self, item: _Item, t: Token) -> _Item:
        if isinstance(item, _OnesRef):
            return self.ones_dims(item)
        toks = self.script_tokens()
        label = _script_text(toks, t)
        if isinstance(item, Sym):
            if "_" in item.name:
                raise self.fail(f"a second subscript on {item.name}", t)
            return Sym(_subscripted(item.name, label), item.at)
        if isinstance(item, _FuncRef):
            return _FuncRef(_subscripted(item.name, label), item.order, item.at)
        raise self.fail("a subscript on something that is not a symbol", t)

    def ones_dims(self, item: _OnesRef) -> Ones:
        toks = self.script_tokens()
        parts: list[list[Token]] = [[]]
        for tok in toks:
            if tok.is_cmd("\\times") or (tok.kind is Kind.CHAR and tok.text in ",*"):
                parts.append([])
            else:
                parts[-1].append(tok)
        dims = []
        for part in parts:
            if not part:
                raise LatexError("an empty size in the subscript of the ones matrix", item.at)
            sub = _Parser([*part, Token(Kind.END, "", part[-1].col + 1)], self.depth + 1)
            dims.append(sub.parse_expr())
            sub.expect_end()
        return Ones(tuple(dims), item.at)

    def superscript(self, item: _Item, t: Token) -> _Item:
        toks = self.script_tokens()
        bare = [x for x in toks if not (x.is_char("{") or x.is_char("}"))]
        if not bare:
            raise self.fail("an empty superscript", t)
        if all(x.is_char("'") or x.is_cmd("\\prime") for x in bare):
            return self.prime(item, len(bare), t)
        if _is_transpose_mark(bare):
            return Transpose(self.as_expr(item), t.col)
        if bare[0].kind is Kind.CHAR and bare[0].text in "([" and bare[-1].text in ")]":
            if isinstance(item, Sym) and "_" not in item.name:
                # y^{(\ell-1)}: a layer index written as a superscript, same as y_{\ell-1}
                return Sym(_subscripted(item.name, _script_text(bare[1:-1], t)), item.at)
        base = self.as_expr(item)
        sub = _Parser([*toks, Token(Kind.END, "", t.col + 1)], self.depth + 1)
        exponent = sub.parse_expr()
        sub.expect_end()
        return Pow(base, exponent, t.col)

    def prime(self, item: _Item, count: int, t: Token) -> _Item:
        if isinstance(item, _FuncRef):
            return _FuncRef(item.name, item.order + count, item.at)
        # A prime on anything else is the transpose some students write (y_{L-1}').
        out = self.as_expr(item)
        for _ in range(count):
            out = Transpose(out, t.col)
        return out

    # --- primaries ---------------------------------------------------------------------

    def parse_primary(self) -> _Item:
        # Every recursion passes through here (or through a sign), so one guard bounds all.
        self.enter()
        try:
            return self.primary()
        finally:
            self.leave()

    def primary(self) -> _Item:
        t = self.peek()
        if t.kind is Kind.NUMBER:
            self.next()
            return Num(float(t.text), t.text, t.col)
        if t.kind is Kind.LETTER:
            self.next()
            return Sym(t.text, t.col)
        if t.kind is Kind.WORD:
            self.next()
            return _FuncRef(t.text, 0, t.col)
        if t.kind is Kind.CHAR and t.text in _OPENERS:
            self.next()
            return self.bracketed(t, _OPENERS[t.text])
        if t.kind is Kind.COMMAND:
            return self.command()
        raise self.unexpected(t)

    def bracketed(self, open_tok: Token, close: str) -> Expr:
        if close == "|":
            self.in_abs += 1
        try:
            inner = self.parse_list()
            if self.peek().is_cmd(*_SIZES):  # \big( ... \big)
                self.next()
            t = self.peek()
            if not (t.text == close and t.kind in (Kind.CHAR, Kind.COMMAND)):
                if t.kind is Kind.END:
                    raise self.fail(f"'{open_tok.text}' is never closed", open_tok)
                raise self.fail(f"expected '{close}' but found '{t.text}'", t)
            self.next()
        finally:
            if close == "|":
                self.in_abs -= 1
        return Abs(inner, open_tok.col) if open_tok.text == "|" else inner

    def left_right(self, left: Token) -> Expr:
        delim = self.next()
        if delim.text not in _LEFT_DELIMS:
            raise self.fail(f"\\left needs a delimiter, found '{delim.text}'", delim)
        inner = self.parse_list()
        t = self.peek()
        if not t.is_cmd("\\right"):
            if t.kind is Kind.END:
                raise self.fail("\\left is never closed by \\right", left)
            raise self.fail(f"expected \\right but found '{t.text}'", t)
        self.next()
        close = self.next()
        if close.text not in _RIGHT_DELIMS:
            raise self.fail(f"\\right needs a delimiter, found '{close.text}'", close)
        return Abs(inner, left.col) if delim.text in ("|", "\\lvert") else inner

    def argument(self) -> Expr:
        """One argument of \\frac and friends: a braced group or a single token."""
        t = self.peek()
        if t.is_char("{"):
            start, end = self.group_range()
            if start == end:
                raise self.fail("an empty argument", t)
            sub = self.sub_parser(start, end)
            result = sub.parse_expr()
            sub.expect_end()
            return result
        if t.kind is Kind.NUMBER and len(t.text) > 1:
            self.toks[self.i] = Token(Kind.NUMBER, t.text[1:], t.col + 1)
            return Num(float(t.text[0]), t.text[0], t.col)
        item = self.parse_primary()
        return self.as_expr(item)

    def raw_word(self) -> tuple[str | None, int, int]:
        """The text of a \\text{...}-like group when it is plain letters and digits."""
        t = self.peek()
        if t.is_char("{"):
            start, end = self.group_range()
        else:
            start, end = self.i, self.i + 1
            self.next()
        toks = self.toks[start:end]
        if toks and all(x.kind in (Kind.LETTER, Kind.WORD, Kind.NUMBER) for x in toks):
            return "".join(x.text for x in toks), start, end
        return None, start, end

    def command(self) -> _Item:
        t = self.next()
        name = t.text
        if name == "\\ell":
            return Sym("l", t.col)
        if name in _FUNCTION_COMMANDS:
            return _FuncRef(name[1:], 0, t.col)
        if name[1:] in GREEK:
            return Sym(name[1:], t.col)
        if name in _WORD_COMMANDS:
            return self.word_command(t)
        if name in _DECORATIONS:
            inner = self.argument()
            if isinstance(inner, Num) and inner.value == 1.0:
                return _OnesRef(t.col)
            return inner
        if name in _FRACTIONS:
            num = self.argument()
            den = self.argument()
            return make_div(num, den, t.col)
        if name in _DOTS:
            return Dots(t.col)
        if name in _SIZES:
            return self.parse_primary()
        if name == "\\left":
            return self.left_right(t)
        if name == "\\{":
            return self.bracketed(t, "\\}")
        if name == "\\lvert":
            return self.bracketed(Token(Kind.CHAR, "|", t.col), "\\rvert")
        if name == "\\sqrt":
            return self.sqrt(t)
        if name == "\\partial":
            return Partial(self.parse_postfix(), t.col)
        if name == "\\dot":
            f = self.parse_primary() if not self.peek().is_char("{") else self.brace_item()
            if not isinstance(f, _FuncRef):
                raise self.fail("\\dot is read only on a function such as \\sigma", t)
            return _FuncRef(f.name, f.order + 1, f.at)
        if name == "\\begin":
            return self.environment(t)
        if name in ("\\underbrace", "\\overbrace"):
            body = self.argument()
            if self.peek().is_char("_") or self.peek().is_char("^"):
                self.next()
                self.script_tokens()  # the label under the brace is commentary
            return body
        if name in ("\\underset", "\\overset", "\\stackrel"):
            self.script_tokens()
            return self.argument()
        if name in ("\\cdot", "\\bullet") and (
            self.peek().kind is Kind.CHAR
            and self.peek().text in ")]"
            or self.peek().is_cmd("\\right")
        ):
            return Placeholder(t.col)  # sigma'(\cdot): the argument left unnamed
        if name == "\\hspace":
            self.script_tokens()
            return self.parse_primary()
        raise self.fail(f"unsupported command {name}", t)

    def brace_item(self) -> _Item:
        start, end = self.group_range()
        sub = self.sub_parser(start, end)
        item = sub.parse_primary()
        while sub.peek().is_char("'"):
            sub.next()
            item = sub.prime(item, 1, sub.peek())
        sub.expect_end()
        return item

    def word_command(self, t: Token) -> _Item:
        word, start, end = self.raw_word()
        if word is None:
            if t.text in ("\\text", "\\textrm", "\\operatorname"):
                raise self.fail(f"{t.text} holds something that is not a name", t)
            sub = self.sub_parser(start, end)  # \mathrm{A}_\ell and the like: decoration
            item = sub.parse_primary()
            sub.expect_end()
            return item
        if word in FUNCTIONS:
            return _FuncRef(word, 0, t.col)
        if word.isdigit():
            return Num(float(word), word, t.col)
        return Sym(word, t.col)

    def sqrt(self, t: Token) -> Expr:
        root: Expr = Num(2.0, "2", t.col)
        if self.peek().is_char("["):
            self.next()
            root = self.parse_expr()
            self.expect_char("]")
        return Pow(self.argument(), Div(Num(1.0, "1", t.col), root, t.col), t.col)

    def environment(self, t: Token) -> Expr:
        env, _, _ = self.raw_word()
        if env is None:
            raise self.fail("\\begin needs an environment name", t)
        if self.peek().is_char("*"):
            self.next()
            env += "*"
        if env.rstrip("*") not in _MATRIX_ENVS:
            raise self.fail(f"unsupported environment '{env}'", t)
        if self.peek().is_char("["):  # bmatrix*[r]: alignment only
            while not self.next().is_char("]"):
                if self.peek().kind is Kind.END:
                    raise self.fail("missing ']'", t)
        if env == "array" and self.peek().is_char("{"):
            self.group_range()  # the column specification {ccc}
        rows = self.matrix_rows(t)
        end = self.next()
        name, _, _ = self.raw_word()
        if name is None or name.rstrip("*") != env.rstrip("*"):
            raise self.fail(f"\\begin{{{env}}} ended by \\end{{{name}}}", end)
        widths = {len(r) for r in rows}
        if len(widths) > 1:
            raise self.fail("the rows of the matrix have different lengths", t)
        return Matrix(tuple(rows), t.col)

    def matrix_rows(self, begin: Token) -> list[tuple[Expr, ...]]:
        rows: list[tuple[Expr, ...]] = []
        cells: list[Expr] = []
        while True:
            t = self.peek()
            if t.kind is Kind.END:
                raise self.fail("\\begin is never closed by \\end", begin)
            if t.is_cmd("\\end"):
                if cells:
                    rows.append(tuple(cells))
                if not rows:
                    raise self.fail("an empty matrix", begin)
                return rows
            cells.append(self.parse_expr())
            t = self.peek()
            if t.is_char("&"):
                self.next()
            elif t.is_cmd("\\\\", "\\cr"):
                self.next()
                rows.append(tuple(cells))
                cells = []
            elif not t.is_cmd("\\end"):
                raise self.unexpected(t)


def make_div(num: Expr, den: Expr, at: int) -> Expr:
    """A fraction; \\partial y / \\partial x (or dy/dx) becomes a Jacobian symbol."""
    if isinstance(num, Partial) and isinstance(den, Partial):
        return Jacobian(num.operand, den.operand, at)
    if _is_d(num) and _is_d(den):
        assert isinstance(num, Mul) and isinstance(den, Mul)
        return Jacobian(num.right, den.right, at)
    return Div(num, den, at)


def _is_d(e: Expr) -> bool:
    return isinstance(e, Mul) and e.left == Sym("d") and isinstance(e.right, Sym)


def _is_transpose_mark(toks: list[Token]) -> bool:
    texts = [x.text for x in toks]
    if len(texts) == 1:
        return texts[0] in ("T", "\\top", "\\intercal")
    # \mathsf{T}, \mathrm{T}, \text{T}
    return len(texts) == 2 and texts[0] in _TRANSPOSE_MARKS and texts[1] == "T"


def _script_text(toks: list[Token], at: Token) -> str:
    parts = []
    for x in toks:
        if x.is_char("{") or x.is_char("}") or x.is_cmd(*_DECORATIONS, *_WORD_COMMANDS):
            continue
        if x.is_cmd("\\ell"):
            parts.append("l")
        elif x.kind is Kind.COMMAND:
            parts.append(x.text.lstrip("\\"))
        else:
            parts.append(x.text)
    text = "".join(parts)
    if not text:
        raise LatexError("an empty subscript", at.col)
    return text


def _subscripted(name: str, label: str) -> str:
    return f"{name}_{label}" if len(label) == 1 else f"{name}_{{{label}}}"
