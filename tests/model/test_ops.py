"""One test per elementwise rule: fdiff agrees with the derivative of the definition."""

import numpy as np
import sympy as sp

from symgrad.model.ops import relu, sigmoid, softplus

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
