"""The canonical form shared by the proof checker and the claim checker: each identity it knows,
and differences it must not call 0."""

import pytest
import sympy as sp

from symgrad.calculus.canonical_form import Canonical
from symgrad.model.graph import M as m
from symgrad.model.ops import colsum, matmul, relu, rowsum, sigmoid, total, transpose

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


# ----- the quick tests, and what a form keeps -----

u, v = sp.symbols("u v", real=True)


def no_simplify(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("simplify was called")

    monkeypatch.setattr(sp, "simplify", refused)


def test_sigmoids_derivative_is_found_without_simplify(monkeypatch):
    no_simplify(monkeypatch)
    form = Canonical({u: (1, 1), v: (1, 1)})
    s = sigmoid(u + v)
    assert form.is_zero(s * (1 - s) - sp.exp(-u - v) / (1 + sp.exp(-u - v)) ** 2)


def test_a_wrong_sigmoid_derivative_is_not_zero():
    form = Canonical({u: (1, 1)})
    s = sigmoid(u)
    assert not form.is_zero(s * (1 + s) - sp.exp(-u) / (1 + sp.exp(-u)) ** 2)
    assert not form.is_zero(s * (1 - s) - sp.exp(-u) / (1 + sp.exp(-u)))


def test_a_rational_function_that_cancel_leaves_is_not_zero_without_simplify(monkeypatch):
    no_simplify(monkeypatch)
    form = Canonical({u: (1, 1), v: (1, 1), W: (k, n), X: (n, m)})
    assert not form.is_zero((u * v + u) / (v + 1) - u + 1)
    assert not form.is_zero(matmul(W, X) * u - matmul(W, X) * v)  # products are symbols here
    assert form.is_zero((u * v + u) / (v + 1) - u)


def test_a_form_keeps_its_results_and_still_tells_them_apart():
    form = Canonical({u: (1, 1)})
    right, wrong = sp.tanh(u) - (1 - 2 / (sp.exp(2 * u) + 1)), sp.tanh(u) - 2 / (sp.exp(u) + 1)
    for _ in range(2):
        assert form.is_zero(right) and not form.is_zero(wrong)


def test_a_line_turned_round_is_the_same_question():
    form = Canonical({u: (1, 1), X: (n, m), D: (1, m)})
    s = sigmoid(u + matmul(D, transpose(D)))
    right = s * (1 - s) - sp.exp(-u - matmul(D, transpose(D))) / (
        1 + sp.exp(-u - matmul(D, transpose(D)))) ** 2
    assert form.is_zero(right) and form.is_zero(-right)
    assert not form.is_zero(right + s) and not form.is_zero(-right - s)


def test_shapes_kept_for_the_parts_agree_with_shape_of():
    from symgrad.model.shapes import shape_of

    form = Canonical({u: (1, 1), X: (n, m), D: (1, m), W: (k, n)})
    for expr in (sp.tanh(u * D + 1) * D, sigmoid(matmul(W, X)) ** 2 + u, sp.Integer(3) * u):
        assert form._shape(expr) == shape_of(expr, form.shapes)
