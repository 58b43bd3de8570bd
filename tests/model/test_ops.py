"""One test per elementwise rule: fdiff agrees with the derivative of the definition."""

import math

import numpy as np
import pytest
import sympy as sp

from symgrad.calculus import numeric
from symgrad.calculus.numeric import FUNCTIONS
from symgrad.model.ops import Phi, clip, expm1, log1p, maximum, minimum, relu, sigmoid, softplus
from symgrad.printing.printers import NumpyPrinter, latex

z = sp.Symbol("z", real=True)


def test_sigmoid_fdiff_matches_definition():
    f = sigmoid(z)
    assert sp.simplify(sp.diff(f, z).rewrite(sp.exp) - sp.diff(f.rewrite(sp.exp), z)) == 0


def test_softplus_fdiff_matches_definition():
    f = softplus(z)
    assert sp.simplify(sp.diff(f, z).rewrite(sp.exp) - sp.diff(f.rewrite(sp.exp), z)) == 0


def test_relu_fdiff_matches_definition_away_from_the_kink():
    d = sp.diff(relu(z), z)
    for value in (-2.5, -0.1, 0.3, 4.0):
        h = 1e-6
        numeric = (max(value + h, 0) - max(value - h, 0)) / (2 * h)
        assert float(d.subs(z, value)) == np.round(numeric)


def test_relu_subgradient_at_zero_is_zero():
    assert sp.diff(relu(z), z).subs(z, 0) == 0


def test_leaky_relu_fdiff_matches_definition_away_from_the_kink():
    from symgrad.model.ops import leaky_relu

    alpha = sp.Rational(1, 100)
    f = leaky_relu(z, alpha)
    for value in (-3, -sp.Rational(1, 10), sp.Rational(1, 5), 2):
        definition = f.rewrite(sp.Piecewise)
        assert sp.diff(f, z).subs(z, value) == sp.diff(definition, z).subs(z, value)
    assert sp.diff(f, z).subs(z, 0) == alpha  # at the kink: the left slope


def test_softmax_definition_sums_to_one():
    from symgrad.model.ops import colsum, softmax

    assert softmax(z).definition() == sp.exp(z) / colsum(sp.exp(z))


# ----- the operations textbook models need -----

u, v = sp.symbols("u v", real=True)


def _finite_difference(f, at, h=1e-6):
    fn = sp.lambdify(z, f, modules=[FUNCTIONS, "numpy"], printer=NumpyPrinter)
    return (fn(at + h) - fn(at - h)) / (2 * h)


@pytest.mark.parametrize("f, rewrite", [
    (Phi(z), sp.erf), (log1p(z), sp.log), (expm1(z), sp.exp),
])
def test_fdiff_matches_definition(f, rewrite):
    assert sp.simplify(sp.diff(f, z) - sp.diff(f.rewrite(rewrite), z)) == 0


@pytest.mark.parametrize("f", [
    sp.Abs(z), sp.sin(z), sp.cos(z), sp.cosh(z), sp.sinh(z), sp.erf(z), Phi(z), log1p(z),
    expm1(z), maximum(z, sp.Rational(1, 3)), minimum(z, sp.Rational(1, 3)),
    maximum(sp.Rational(1, 3), z), clip(z, -1, sp.Rational(1, 2)),
])
def test_derivative_matches_finite_differences(f):
    d = sp.lambdify(z, sp.diff(f, z), modules=[FUNCTIONS, "numpy"], printer=NumpyPrinter)
    for at in (-1.3, -0.7, 0.2, 0.9, 1.7) if f.func is not log1p else (-0.7, 0.2, 1.7):
        assert np.isclose(float(d(at)), _finite_difference(f, at), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", [maximum(u, v), minimum(u, v), clip(u, v, v + 2)])
def test_piecewise_fdiff_matches_definition_away_from_kinks(f):
    definition = f.rewrite(sp.Piecewise)
    for point in ({u: -1, v: sp.Rational(1, 2)}, {u: 3, v: sp.Rational(1, 2)},
                  {u: 1, v: 0}):
        for x in (u, v):
            assert sp.diff(f, x).subs(point) == sp.diff(definition, x).subs(point)


def test_conventions_at_kinks():
    assert sp.diff(sp.Abs(z), z).subs(z, 0) == 0  # sign(0) = 0
    assert sp.diff(maximum(u, v), u).subs(u, v) == 0  # a tie goes to v
    assert sp.diff(maximum(u, v), v).subs(u, v) == 1
    assert sp.diff(minimum(u, v), u).subs(u, v) == 0
    assert sp.diff(clip(z, -1, 1), z).subs(z, 1) == 0  # 0 at the ends
    assert sp.diff(clip(z, -1, 1), z).subs(z, 0) == 1


def test_erf_and_phi_are_exact():
    values = np.array([-30.0, -8.0, -1.0, 0.0, 0.5, 3.0])
    assert np.array_equal(numeric.erf(values), [math.erf(t) for t in values])
    assert numeric.Phi(np.array([-30.0]))[0] > 0  # no underflow in the lower tail
    assert np.allclose(numeric.Phi(values), [(1 + math.erf(t / math.sqrt(2))) / 2
                                             for t in values], rtol=1e-15, atol=1e-16)


def test_kinks_are_registered():
    from symgrad.model.ops import KINKS

    for f in (sp.Abs, maximum, minimum, clip):
        assert f in KINKS
    assert KINKS[clip](u, -1, 1) == [u + 1, u - 1]


@pytest.mark.parametrize("f, code, tex", [
    (sp.Abs(z), "numpy.abs(z)", r"\lvert z \rvert"),
    (maximum(u, v), "numpy.maximum(u, v)", r"\max\left(u, v\right)"),
    (minimum(u, v), "numpy.minimum(u, v)", r"\min\left(u, v\right)"),
    (clip(u, -1, v), "numpy.clip(u, -1, v)", r"\operatorname{clip}\left(u, -1, v\right)"),
    (Phi(z), "Phi(z)", r"\Phi\left(z\right)"),
    (sp.erf(z), "erf(z)", r"\operatorname{erf}\left(z\right)"),
    (log1p(z), "numpy.log1p(z)", r"\log\left(1 + z\right)"),
    (expm1(z), "numpy.expm1(z)", r"\left(e^{z} - 1\right)"),
])
def test_printing(f, code, tex):
    assert NumpyPrinter().doprint(f) == code
    assert latex(f) == tex
