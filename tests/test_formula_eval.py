"""Formula evaluation: scalars in k, matrix shapes and their wording, the sympy backend."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp

from grader.formula import (
    Bindings,
    FormulaError,
    ShapeError,
    UnknownSymbol,
    evaluate_numeric,
    evaluate_scalar,
    shape_mismatch,
)
from grader.formula.mlp import InstancePlan, check_plan, draw_instances
from grader.formula.symbolic import SMat, elementwise, evaluate_symbolic, is_zero
from grader.latex import parse_latex

# --- scalars ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["1/k^2", r"\frac{1}{k^{2}}", "k^{-2}", r"\tfrac1{k^2}", r"\dfrac{1}{k \cdot k}"]
)
@pytest.mark.parametrize("k", [2, 3, 5])
def test_one_over_k_squared(text: str, k: int) -> None:
    assert evaluate_scalar(parse_latex(text), {"k": k}) == pytest.approx(1 / k**2)


def test_simple_scalars() -> None:
    assert evaluate_scalar(parse_latex("1"), {}) == 1.0
    assert evaluate_scalar(parse_latex("0"), {"k": 4}) == 0.0
    assert evaluate_scalar(parse_latex("k"), {"k": 4}) == 4.0
    assert evaluate_scalar(parse_latex("1/k"), {"k": 4}) == 0.25
    assert evaluate_scalar(parse_latex(r"\sqrt{k}"), {"k": 9}) == pytest.approx(3.0)
    assert evaluate_scalar(parse_latex(r"95.28\%"), {}) == pytest.approx(0.9528)


def test_scalar_errors_are_worded() -> None:
    with pytest.raises(UnknownSymbol, match="symbol j"):
        evaluate_scalar(parse_latex("1/j^2"), {"k": 2})
    with pytest.raises(FormulaError, match="3x3 matrix where one number"):
        evaluate_scalar(parse_latex(r"\frac{1}{k^2}\mathbf{1}_{k\times k}"), {"k": 3})
    with pytest.raises(FormulaError, match="a 3x1 column where one number"):
        evaluate_scalar(parse_latex(r"\mathbf{1}_{k\times 1}"), {"k": 3})
    with pytest.raises(FormulaError, match="finite"):
        evaluate_scalar(parse_latex("1/(k-k)"), {"k": 3})


def test_huge_powers_overflow_instead_of_hanging() -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaError, match="finite"):
        evaluate_scalar(parse_latex(r"10^{10^{10^{10}}}"), {})
    with pytest.raises(FormulaError, match="too large"):
        evaluate_symbolic(parse_latex(r"10^{10^{10^{10}}}"), Bindings({}))
    with pytest.raises(FormulaError, match="too large"):
        evaluate_symbolic(parse_latex(r"((10^{60})^{60})^{60}"), Bindings({}))
    assert time.perf_counter() - start < 1.0


def test_ones_matrix_value() -> None:
    k = np.full((1, 1), 3.0)
    m = evaluate_numeric(parse_latex(r"\frac{1}{k^2}\mathbf{1}_{k\times k}"), Bindings({"k": k}))
    assert m.shape == (3, 3) and np.allclose(m, 1 / 9)
    with pytest.raises(FormulaError, match="size"):
        evaluate_numeric(parse_latex(r"\mathbf{1}_{k\times k}"), Bindings({"k": k / 2}))


# --- shapes -----------------------------------------------------------------------------

RNG = np.random.default_rng(0)
COL3 = RNG.normal(size=(3, 1))
ROW3 = RNG.normal(size=(1, 3))
M23 = RNG.normal(size=(2, 3))
ENV = Bindings({"v": COL3, "r": ROW3, "M": M23, "s": np.full((1, 1), 2.0)})


def ev(text: str) -> np.ndarray:
    return evaluate_numeric(parse_latex(text), ENV)


def test_vectors_are_columns_and_products_follow_shapes() -> None:
    assert ev("v r").shape == (3, 3)
    assert ev("r v").shape == (1, 1)
    assert np.allclose(ev("M v"), M23 @ COL3)
    assert np.allclose(ev("v^T M^T"), (M23 @ COL3).T)
    assert np.allclose(ev(r"s \cdot M"), 2 * M23)  # a 1x1 value scales
    assert np.allclose(ev("M s"), 2 * M23)


def test_diag_of_a_column_is_square() -> None:
    d = ev(r"\operatorname{diag}(v)")
    assert d.shape == (3, 3) and np.allclose(np.diag(d), COL3[:, 0])
    assert ev(r"\text{diag}(r)").shape == (3, 3)
    with pytest.raises(ShapeError, match="diag of a 2x3 matrix"):
        ev(r"\operatorname{diag}(M)")


def test_elementwise_product() -> None:
    assert np.allclose(ev(r"v \odot v"), COL3**2)
    with pytest.raises(ShapeError, match="elementwise"):
        ev(r"v \odot r")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("v M", "cannot multiply a 3x1 column by a 2x3 matrix (inner sizes 1 and 2 differ)"),
        ("v + r", "cannot add a 3x1 column and a 1x3 row"),
        ("v - M", "cannot subtract a 3x1 column and a 2x3 matrix"),
        ("M / v", "cannot divide by a 3x1 column"),
        ("M^2", "a power of a 2x3 matrix"),
    ],
)
def test_shape_errors_are_sentences(text: str, words: str) -> None:
    with pytest.raises(ShapeError) as e:
        ev(text)
    assert words in str(e.value)
    assert e.value.column is not None


def test_shape_mismatch_wording() -> None:
    assert (
        shape_mismatch((3, 1), (1, 3))
        == "gives a 3x1 column where the Jacobian is 1x3: a transpose is missing"
    )
    assert shape_mismatch((2, 3), (3, 3)) == "gives a 2x3 matrix where the Jacobian is 3x3"
    assert shape_mismatch((1, 1), (1, 4)) == "gives a 1x1 scalar where the Jacobian is 1x4"


def test_functions_are_bound_per_instance() -> None:
    env = Bindings({"z": COL3}, {("sigma", 0): np.tanh, ("sigma", 1): np.cos})
    assert np.allclose(evaluate_numeric(parse_latex(r"\sigma(z)"), env), np.tanh(COL3))
    assert np.allclose(evaluate_numeric(parse_latex(r"\sigma'(z)"), env), np.cos(COL3))
    with pytest.raises(UnknownSymbol, match="function phi"):
        evaluate_numeric(parse_latex(r"\phi(z)"), env)
    with pytest.raises(UnknownSymbol, match="function sigma''"):
        evaluate_numeric(parse_latex(r"\sigma''(z)"), env)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (r"v + \cdots", "ellipsis"),
        ("(v, v)", "list of 2 values"),
        (r"\partial v", "lone"),
        (r"\sigma'(\cdot)", "unnamed argument"),
        (r"\frac{\partial y}{\partial v}", "derivative (dy/dv)"),
    ],
)
def test_unusable_constructs_are_worded(text: str, words: str) -> None:
    env = Bindings({"v": COL3}, {("sigma", 1): np.cos})
    with pytest.raises(FormulaError) as e:
        evaluate_numeric(parse_latex(text), env)
    assert words in str(e.value)


# --- sympy backend ----------------------------------------------------------------------


def test_sympy_backend_agrees_with_numpy() -> None:
    syms = sp.symbols("a0:6")
    a = SMat(sp.Matrix(2, 3, syms))
    x = SMat(sp.Matrix(3, 1, sp.symbols("x0:3")))
    sigma = sp.Function("sigma")
    text = r"\operatorname{diag}(\sigma'(A x)) A - (A x) \odot \sigma(A x) x^\top"
    env = Bindings({"A": a, "x": x}, {("sigma", o): elementwise(sigma, o) for o in (0, 1)})
    exact = evaluate_symbolic(parse_latex(text), env)
    assert exact.shape == (2, 3)
    numeric_sigma = exact.replace(sigma, sp.tanh).doit()
    f = sp.lambdify([*syms, *sp.symbols("x0:3")], numeric_sigma, "numpy")
    av, xv = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 1))
    num_env = Bindings(
        {"A": av, "x": xv},
        {("sigma", 0): np.tanh, ("sigma", 1): lambda u: 1 - np.tanh(u) ** 2},
    )
    want = evaluate_numeric(parse_latex(text), num_env)
    assert np.allclose(np.array(f(*av.ravel(), *xv.ravel()), dtype=float), want)


def test_sympy_sigma_prime_is_the_derivative() -> None:
    a, t = sp.symbols("a t")
    sigma = sp.Function("sigma")
    env = Bindings(
        {"a": SMat([[a]]), "t": SMat([[t]])},
        {("sigma", o): elementwise(sigma, o) for o in (0, 1)},
    )
    got = evaluate_symbolic(parse_latex(r"a \sigma'(a t)"), env)
    assert is_zero(SMat(got - SMat([[sp.diff(sigma(a * t), t)]])))
    wrong = evaluate_symbolic(parse_latex(r"a \sigma(a t)"), env)
    assert not is_zero(SMat(wrong - SMat([[sp.diff(sigma(a * t), t)]])))


# --- random MLP instances ---------------------------------------------------------------


def test_instances_have_all_different_widths_and_cover_the_plan() -> None:
    plan = InstancePlan(6, (3, 4, 5), (2, 7), ("tanh", "softplus", "sin"), seed=7)
    instances = draw_instances(plan)
    assert {i.depth for i in instances} == {3, 4, 5}
    assert {i.activation for i in instances} == {"tanh", "softplus", "sin"}
    for inst in instances:
        inner = inst.widths[:-1]
        assert len(set(inner)) == len(inner) and inst.widths[-1] == 1
        assert 1 <= inst.layer <= inst.depth - 1
        a = inst.bindings.values["A_l"]
        assert a.shape == (inst.widths[inst.layer], inst.widths[inst.layer - 1])
        assert inst.bindings.values["dy_L/dy_l"].shape == (1, inst.widths[inst.layer])
    assert draw_instances(plan)[0].describe() == instances[0].describe()


def test_impossible_plans_are_explained() -> None:
    assert "unknown activation relu" in str(check_plan(InstancePlan(2, (3,), (2, 7), ("relu",), 1)))
    assert "too few widths" in str(check_plan(InstancePlan(2, (5,), (2, 4), ("tanh",), 1)))
