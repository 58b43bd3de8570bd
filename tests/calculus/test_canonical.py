"""The canonical form shared by the proof checker and the claim checker: each identity it knows,
and differences it must not call 0."""

import pytest
import sympy as sp

from symgrad.calculus.canonical_form import Canonical
from symgrad.model.graph import M as m
from symgrad.model.ops import colsum, matmul, relu, rowsum, total, transpose

n, k = sp.symbols("n k", positive=True)
X, D, W, P, Y, Yh = sp.symbols("X D W P Y Yh", real=True)
w, x = sp.symbols("w x", real=True)
FORM = Canonical({X: (n, m), D: (1, m), W: (k, n), P: (k, m), Y: (1, m), Yh: (k, m),
                  w: (n, 1), x: (n, 1)}, binary={Y}, onehot={Yh})


@pytest.mark.parametrize("left, right", [
    (transpose(matmul(D, transpose(X))), matmul(X, transpose(D))),  # (A B)^T = B^T A^T
    (transpose(rowsum(P)), colsum(transpose(P))),
    (rowsum(P), transpose(colsum(transpose(P)))),
    (matmul(X, transpose(D - Y)), matmul(X, transpose(D)) - matmul(X, transpose(Y))),
    (matmul(transpose(w), x), matmul(transpose(x), w)),  # an inner product, either way round
    (sp.Heaviside(relu(P), 0), sp.Heaviside(P, 0)),  # relu's slope read from its output
    (Y**2, Y), (Y * (1 - Y), 0),  # a binary label is 0 or 1
    (colsum(Yh), 1), (total(Yh), m),  # a one-hot label's columns sum to 1
    (total(D), rowsum(D)),
])
def test_identities(left, right):
    assert FORM.is_zero(left - right)


@pytest.mark.parametrize("left, right", [
    (matmul(X, transpose(D)), transpose(matmul(X, transpose(D)))),
    (matmul(W, X), matmul(transpose(transpose(W)), X) * 2),
    (rowsum(P), rowsum(P * P)),
    (sp.Heaviside(relu(P), 0), sp.Heaviside(-P, 0)),
    (D**2, D),  # D is no label
    (total(P), rowsum(colsum(P)) + 1),
])
def test_differences_that_are_not_zero(left, right):
    assert not FORM.is_zero(left - right)
