"""The LaTeX reader: every construct in at least two spellings, errors with columns, and
hostile input that must stay cheap."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader.latex import LatexError, parse_latex, render, side_spans, to_array
from grader.latex.ast import (
    Abs,
    Add,
    Call,
    Div,
    Dots,
    Hadamard,
    Jacobian,
    Matrix,
    Mul,
    Neg,
    Num,
    Ones,
    Pow,
    Seq,
    Sub,
    Sym,
    Transpose,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"  # beside the repo


def same(*forms: str) -> None:
    first = parse_latex(forms[0])
    for f in forms[1:]:
        assert parse_latex(f) == first, f"{f!r} read as {render(parse_latex(f))}"


def one(x: float) -> Num:
    return Num(x)


k = Sym("k")


# --- scalars --------------------------------------------------------------------------


def test_fractions_of_k_read_alike() -> None:
    want = Div(one(1), Pow(k, one(2)))
    for f in ("1/k^2", r"\frac{1}{k^{2}}", r"\tfrac1{k^2}", r"\dfrac{1}{k^2}", r"\frac1{k^2}"):
        assert parse_latex(f) == want, f
    assert parse_latex("k^{-2}") == Pow(k, Neg(one(2)))
    assert parse_latex(r"\frac12") == Div(one(1), one(2))


def test_numbers_and_symbols() -> None:
    assert parse_latex("0") == one(0)
    assert parse_latex("1") == one(1)
    assert parse_latex("0.299") == one(0.299)
    assert parse_latex("k") == k
    assert parse_latex(r"\alpha") == Sym("alpha")


def test_sums_and_signs() -> None:
    assert parse_latex("a + b - c") == Sub(Add(Sym("a"), Sym("b")), Sym("c"))
    assert parse_latex("-a") == Neg(Sym("a"))
    assert parse_latex("2 \\cdot -3") == Mul(one(2), Neg(one(3)))


def test_products_by_juxtaposition_cdot_times_star() -> None:
    same("a b", r"a \cdot b", r"a \times b", "a*b", r"a\,b", r"a \quad b")
    assert parse_latex("ab") == Mul(Sym("a"), Sym("b"))
    assert parse_latex("2k") == Mul(one(2), k)


def test_products_group_left() -> None:
    a, b, c = Sym("a"), Sym("b"), Sym("c")
    assert parse_latex("a b c") == Mul(Mul(a, b), c)
    assert parse_latex(r"a \odot b c") == Mul(Hadamard(a, b), c)


def test_elementwise_product_odot_and_circ() -> None:
    same(r"a \odot b", r"a \circ b")
    assert parse_latex(r"a \odot b") == Hadamard(Sym("a"), Sym("b"))


def test_powers() -> None:
    assert parse_latex("k^2") == parse_latex("k^{2}") == Pow(k, one(2))
    assert parse_latex("k^23") == Mul(Pow(k, one(2)), one(3))  # LaTeX: one digit only
    assert parse_latex(r"\sqrt{k}") == Pow(k, Div(one(1), one(2)))


# --- subscripts and names ---------------------------------------------------------------


def test_subscripts_normalised() -> None:
    same(r"y_{\ell-1}", "y_{l-1}", r"y_{\ell - 1}", r"y^{(\ell-1)}", r"\mathbf{y}_{\ell-1}")
    assert parse_latex(r"y_{\ell-1}") == Sym("y_{l-1}")
    assert parse_latex("y_{L-1}") == Sym("y_{L-1}")
    assert parse_latex("y_{L-1}") != parse_latex("y_{l-1}")
    same(r"A_\ell", r"A_{\ell}", "A_l", "A_{l}", r"\mathbf{A}_\ell", r"\boldsymbol{A}_\ell")
    assert parse_latex(r"A_\ell") == Sym("A_l")
    assert parse_latex("w_{1,1,1}") == Sym("w_{1,1,1}")


def test_second_subscript_is_an_error() -> None:
    with pytest.raises(LatexError) as e:
        parse_latex("A_l_m")
    assert e.value.column == 3


# --- transposes, functions, diag --------------------------------------------------------


def test_transpose_spellings() -> None:
    want = Transpose(Sym("y_{L-1}"))
    for f in (
        r"y_{L-1}^\top",
        "y_{L-1}^T",
        "y_{L-1}^{T}",
        r"y_{L-1}^{\top}",
        r"y_{L-1}^\intercal",
        r"y_{L-1}^{\mathsf{T}}",
        "y_{L-1}'",
        r"\mathbf{y}_{L-1}^\top",
    ):
        assert parse_latex(f) == want, f
    assert parse_latex(r"\boldsymbol{A}_\ell^\top") == Transpose(Sym("A_l"))


def test_sigma_and_its_derivative() -> None:
    x = Sym("x")
    assert parse_latex(r"\sigma(x)") == parse_latex("sigma(x)") == Call("sigma", 0, x)
    for f in (r"\sigma'(x)", r"\sigma^\prime(x)", r"\sigma^{\prime}(x)", r"\dot\sigma(x)"):
        assert parse_latex(f) == Call("sigma", 1, x), f
    assert parse_latex(r"\dot{\sigma}\left(x\right)") == Call("sigma", 1, x)
    assert parse_latex(r"\sigma''(x)") == Call("sigma", 2, x)
    assert parse_latex(r"\sigma'(x)^\top") == Transpose(Call("sigma", 1, x))


def test_diag_spellings() -> None:
    want = Call("diag", 0, Sym("v"))
    for f in (
        r"\operatorname{diag}(v)",
        r"\text{diag}(v)",
        r"\mathrm{diag}(v)",
        "diag(v)",
        r"\operatorname{diag}\left(v\right)",
        r"\operatorname{diag} v",
    ):
        assert parse_latex(f) == want, f


def test_reference_formula_reads_as_intended() -> None:
    got = parse_latex(
        r"\operatorname{diag}\left(\sigma'\left(A_{\ell} y_{\ell - 1} + b_{\ell}\right)\right)"
        r" A_{\ell}"
    )
    z = Add(Mul(Sym("A_l"), Sym("y_{l-1}")), Sym("b_l"))
    assert got == Mul(Call("diag", 0, Call("sigma", 1, z)), Sym("A_l"))


def test_function_needs_an_argument() -> None:
    with pytest.raises(LatexError, match="no argument"):
        parse_latex(r"\sigma")


# --- brackets ---------------------------------------------------------------------------


def test_left_right_brackets_group() -> None:
    same("(a+b) c", r"\left(a+b\right) c", r"\left[a+b\right] c", r"\left\{a+b\right\} c")
    same("[a+b] c", r"\big(a+b\big) c", "{a+b} c")
    assert parse_latex(r"\left[ x \right]^\top") == Transpose(Sym("x"))


def test_absolute_value() -> None:
    same(r"\left| x \right|", "|x|", r"\lvert x \rvert")
    assert parse_latex("|x| + |y|") == Add(Abs(Sym("x")), Abs(Sym("y")))


def test_partial_fractions_are_jacobian_symbols() -> None:
    want = Jacobian(Sym("y_L"), Sym("y_l"))
    for f in (
        r"\frac{\partial y_L}{\partial y_\ell}",
        r"\dfrac{\partial y_L}{\partial y_{\ell}}",
        r"\partial y_L / \partial y_\ell",
        r"\frac{dy_L}{dy_l}",
        r"dy_L/dy_l",
        r"d y_L / d y_\ell",
        r"(dy_L)/(dy_l)",
        r"\mathrm{d} y^{(L)} / \mathrm{d} y^{(\ell)}",
    ):
        assert parse_latex(f) == want, f
    assert want.name == "dy_L/dy_l"
    assert parse_latex(r"\left(\frac{\partial y_L}{\partial y_\ell}\right)^\top") == Transpose(want)


def test_slash_d_needs_d_on_both_sides() -> None:
    d, x, y = Sym("d"), Sym("x"), Sym("y")
    assert parse_latex("x/d y") == Mul(Div(x, d), y)  # only "d y / d x" is a derivative
    assert parse_latex("dy/d") == Div(Mul(d, y), d)
    assert parse_latex("dy/dx A") == Mul(Jacobian(y, x), Sym("A"))
    assert parse_latex("2/d y") == Mul(Div(one(2), d), y)


# --- matrices, lists, ones, dots ----------------------------------------------------------


@pytest.mark.parametrize("env", ["bmatrix", "pmatrix", "vmatrix", "matrix", "Bmatrix"])
def test_matrix_environments(env: str) -> None:
    m = parse_latex(rf"\begin{{{env}}} 0 & -1 \\ 1 & 0.5 \end{{{env}}}")
    assert m == Matrix(((one(0), Neg(one(1))), (one(1), one(0.5))))


def test_array_environment_and_trailing_row_break() -> None:
    same(
        r"\begin{array}{cc} 1 & 2 \\ 3 & 4 \\ \end{array}",
        r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}",
    )


def test_ragged_matrix_is_an_error() -> None:
    with pytest.raises(LatexError, match="different lengths"):
        parse_latex(r"\begin{bmatrix}1 & 2 \\ 3\end{bmatrix}")
    with pytest.raises(LatexError, match="ended by"):
        parse_latex(r"\begin{bmatrix}1\end{pmatrix}")


def test_lists_of_matrices() -> None:
    m1 = r"\begin{bmatrix} 0 & 1 \\ 2 & 3 \end{bmatrix}"
    m2 = r"\begin{bmatrix} 4 & 5 \\ 6 & 7 \end{bmatrix}"
    same(rf"\left( {m1}, {m2} \right)", f"[{m1}, {m2}]", rf"{m1},\quad {m2}")
    arr = to_array(parse_latex(f"[{m1}, {m2}]"))
    assert arr.shape == (2, 2, 2)
    assert arr.values == tuple(float(i) for i in range(8))


def test_to_array_forms() -> None:
    assert to_array(parse_latex("(0.299, 0.587, 0.114)")).shape == (3,)
    row = to_array(parse_latex(r"\begin{bmatrix} 0.299 & 0.587 & 0.114 \end{bmatrix}"))
    assert row.shape == (1, 3) and row.values == (0.299, 0.587, 0.114)
    scaled = to_array(parse_latex(r"\frac{1}{4}\begin{pmatrix} 1 & 1 \\ 1 & 1 \end{pmatrix}"))
    assert scaled.values == (0.25,) * 4
    assert to_array(parse_latex(r"\frac{1}{2}")).values == (0.5,)


def test_to_array_refuses_symbols_and_ragged_lists() -> None:
    with pytest.raises(LatexError) as e:
        to_array(parse_latex(r"\begin{bmatrix} 1 & k \end{bmatrix}"))
    assert e.value.column == 20 and "k" in e.value.message
    with pytest.raises(LatexError, match="different shapes"):
        to_array(parse_latex(r"[\begin{bmatrix}1\end{bmatrix}, \begin{bmatrix}1&2\end{bmatrix}]"))


def test_example_submissions_filters() -> None:
    carol = (EXAMPLES / "carol_tex" / "writeup.tex").read_text()
    start = carol.index(r"w_1 = ") + len("w_1 = ")
    w1 = carol[start : carol.index(r"\end{pmatrix}", start) + len(r"\end{pmatrix}")]
    assert to_array(parse_latex(w1)).values == (0, 0, 0, 0, -1, 0, 0, 1, 0)
    dave = (EXAMPLES / "dave_md_mistakes" / "writeup.md").read_text()
    start = dave.index(r"\left[ \begin{bmatrix}")
    text = dave[start : dave.index(r"\right]", start) + len(r"\right]")]
    arr = to_array(parse_latex(text))
    assert arr.shape == (2, 3, 3)
    assert arr.values[:9] == (0, 1, 0, 0, -1, 0, 0, 0, 0)


def test_ones_matrix() -> None:
    assert parse_latex(r"\mathbf{1}_{k\times k}") == Ones((k, k))
    assert parse_latex(r"\mathbf{1}_{k \times k}") == parse_latex(r"\boldsymbol{1}_{k,k}")
    scaled = Mul(Div(one(1), Pow(k, one(2))), Ones((k, k)))
    assert parse_latex(r"\frac{1}{k^{2}} \mathbf{1}_{k \times k}") == scaled
    assert parse_latex(r"\tfrac{1}{k^2}\,\mathbf{1}_{k\times k}") == scaled


def test_dots_are_kept() -> None:
    for cmd in (r"\cdots", r"\ldots", r"\dots", r"\vdots"):
        got = parse_latex(rf"a + {cmd} + b")
        assert got == Add(Add(Sym("a"), Dots()), Sym("b")), cmd
    assert parse_latex(r"(1, \ldots, 5)") == Seq((one(1), Dots(), one(5)))


def test_underbrace_keeps_the_body() -> None:
    same(r"\underbrace{A_\ell}_{n_\ell \times n_{\ell-1}} y", r"A_\ell y")
    same(r"\overbrace{A_\ell}^{\text{weights}} y", r"A_\ell y")


def test_trailing_punctuation_ignored() -> None:
    same("A_L", "A_L.", "A_L ,", "A_L;", r"A_L\,.", r"A_L \quad")


def test_unicode_spellings() -> None:
    same("σ'(x) ⊙ y", r"\sigma'(x) \odot y")


# --- equations ------------------------------------------------------------------------


def _sides(text: str) -> list[str]:
    return [side.strip() for _, side in side_spans(text)]


def test_side_spans_split_at_top_level_equals() -> None:
    assert _sides("a = b = c") == ["a", "b", "c"]
    assert side_spans("x = 1") == [(0, "x "), (3, " 1")]
    assert _sides("x") == ["x"]
    lhs = r"\frac{\partial(A_L y_{L-1} + b_L)}{\partial y_{L-1}}"
    assert _sides(f"{lhs} = A_L") == [lhs, "A_L"]
    assert _sides(r"\left( x = y \right) = z")[-1] == "z"
    assert _sides(r"\begin{bmatrix} a \end{bmatrix} = 1") == [
        r"\begin{bmatrix} a \end{bmatrix}",
        "1",
    ]


# --- errors and hostile input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        (r"\frac{1}{k^2}}", 13, "unexpected '}'"),
        ("(a+b", 0, "never closed"),
        ("a = b", 2, "give one side"),
        (r"\foo x", 0, "unsupported command"),
        ("x @ y", 2, "unexpected character"),
        (r"\left( x", 0, "never closed"),
        ("x^", 2, "missing"),
        ("", 0, "empty"),
        (r"\begin{cases} 1 \end{cases}", 0, "unsupported environment"),
    ],
)
def test_errors_name_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(LatexError) as e:
        parse_latex(text)
    assert e.value.column == column, str(e.value)
    assert words in str(e.value)
    assert str(e.value).endswith(f"at column {column}")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 300 + "x" + ")" * 300,
        r"\frac" * 700 + "1",
        r"\sigma" * 600 + "(x)",
        "-" * 3000 + "x",
        "x^{" * 400 + "1" + "}" * 400,
        "a" * 3999,
        r"\partial " * 400 + "x",
        r"\sqrt" * 700 + "x",
        r"\left(" * 500,
        "[" * 3000,
        "x" * 5000,
    ],
)
def test_hostile_input_is_refused_quickly(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(LatexError):
        parse_latex(text)
    assert time.perf_counter() - start < 0.5


def test_huge_powers_are_not_computed() -> None:
    start = time.perf_counter()
    tower = parse_latex(r"10^{10^{10^{10}}}")
    assert isinstance(tower, Pow)
    with pytest.raises(LatexError, match="too large"):
        to_array(tower)
    assert time.perf_counter() - start < 0.5


def test_huge_literals_are_refused() -> None:
    with pytest.raises(LatexError, match="too large") as e:
        to_array(parse_latex("(1, " + "9" * 400 + ")"))
    assert e.value.column == 4
    with pytest.raises(LatexError, match="matrix entry .* too large"):
        to_array(parse_latex(r"\begin{bmatrix} 1 & " + "9" * 400 + r" \end{bmatrix}"))


def test_a_number_times_a_matrix_too_large_for_a_float_is_refused() -> None:
    big = "1" + "0" * 200
    with pytest.raises(LatexError, match="too large"):
        to_array(parse_latex(f"{big} \\begin{{bmatrix}} {big} & 1 \\end{{bmatrix}}"))
