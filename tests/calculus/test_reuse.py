"""What the calculus keeps between calls (SymPy's matrix calculus for a product's adjoints, an
expression compiled for NumPy) gives what a fresh computation gives, for each shape and value."""

import numpy as np
import sympy as sp

from symgrad.calculus import numeric
from symgrad.calculus.rules import matrix_vjps, structural_vjp
from symgrad.model.ops import matmul, transpose

n, k, m = sp.symbols("n k m", positive=True)
W, x, g = sp.symbols("W x g", real=True)


def test_a_products_adjoints_are_kept_per_shape():
    for shape_x, shape_g in (((n, 1), (k, 1)), ((n, m), (k, m))):
        shapes = {W: (k, n), x: shape_x, g: shape_g}
        first = structural_vjp(matmul(W, x), g, shapes)
        hits = matrix_vjps.cache_info().hits
        assert structural_vjp(matmul(W, x), g, shapes) == first
        assert matrix_vjps.cache_info().hits == hits + 1
        assert dict(first) == {W: matmul(g, transpose(x)), x: matmul(transpose(W), g)}
    shapes = {W: (1, n), x: (n, 1), g: (1, 1)}  # a scalar product: its adjoints are products
    assert dict(structural_vjp(matmul(W, x), g, shapes)) == {W: g * transpose(x),
                                                              x: g * transpose(W)}


def test_an_expression_compiled_once_is_evaluated_at_each_point():
    u, v = sp.symbols("u v", real=True)
    expr = sp.exp(u) * v
    for value in (0.0, 1.0, -2.5):
        got = numeric.evaluate(expr, {u: np.array([value]), v: np.array([3.0])})
        assert np.allclose(got, 3.0 * np.exp(value))
