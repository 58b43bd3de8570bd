"""The functions a claim may use beyond the spec language's: ``sech``, ``cosh``, ``abs``, ``sign``,
``maximum``, ``log1p``, ``diag``, ``eye``, ``ones``, ``ones_like`` and ``onehot``; each in a proven
claim and in a refuted one, and the softmax Jacobian ``diag(a) - a @ a.T``: right, and its slips
named.
"""

from functools import cache
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.claims.checker import PROVEN, REFUTED, Checker
from symgrad.model.errors import SpecError
from symgrad.model.ops import diag, eye, ones

ROOT = Path(__file__).resolve().parents[2]


@cache
def checker(spec) -> Checker:
    path = ROOT / "derivations" / f"{spec}.toml"
    if not path.exists():
        path = ROOT / "tests" / "catalogue" / f"{spec}.toml"
    return Checker(symgrad.load(path))


# (spec, claim): each proven
RIGHT_CLAIMS = [
    # tanh' = sech**2 = 1/cosh**2
    ("shallow_network", "dz1 = W2.T * dz2 * sech(z1)**2"),
    ("shallow_network", "dz1 = W2.T * (a2 - y) / cosh(z1)**2"),
    # |r|' = sign(r)
    ("mae_regression", "dr = sign(r)"),
    ("mae_regression", "dw = x * sign(w @ x + b - y)"),
    ("logistic_regression", "dz = sign(a - y) * abs(a - y)"),
    # log(cosh(r))' = sinh/cosh
    ("log_cosh_regression", "dr = sinh(r) / cosh(r)"),
    # relu as maximum(z, 0)
    ("deep_network", "dZ[l] = dA[l] * heaviside(maximum(Z[l], 0))"),
    ("deep_network", "dZ3 = sigmoid(W3 @ maximum(Z2, 0) + b3) - Y"),
    ("deep_network", "dW3 = (A3 - Y) @ maximum(0, Z2).T / m"),
    # log1p(u) = log(1 + u)
    ("msle_regression", "dyhat = (log1p(yhat) - log1p(y)) / (1 + yhat)"),
    ("msle_regression", "dyhat = (log(1 + yhat) - log1p(y)) / (1 + yhat)"),
    # the softmax Jacobian, per example: dz = J.T @ da with J = diag(a) - a @ a.T (symmetric)
    ("softmax_regression", "dz = (diag(a) - a @ a.T) @ da"),
    ("softmax_regression", "dz = diag(a) @ da - a @ (a.T @ da)"),
    ("softmax_regression", "dz = (diag(a) - a @ a.T).T @ (-y / a)"),
    ("softmax_regression", "dz = (diag(softmax(z)) - softmax(z) @ softmax(z).T) @ da"),
    ("softmax_regression", "dz = eye(n_y) @ a - y"),
    ("softmax_regression", "dz = (eye(n_y) * a - a @ a.T) @ da"),
    # ones: sums written as products, and arrays of ones
    ("softmax_regression", "db = dZ @ ones(m, 1) / m"),
    ("softmax_regression", "db = (A - Y) @ ones(m, 1) / m"),
    ("logistic_regression", "db = ones(1, m) @ dZ.T / m"),
    ("softmax_regression", "dz = ones_like(a) * a - y"),
    ("softmax_regression", "dz = a - y * ones(n_y, 1)"),
    # the one-hot label as it is
    ("softmax_regression", "dZ = A - onehot(Y)"),
    ("softmax_regression", "dz = softmax(z) - onehot(y)"),
]

# (spec, claim, a phrase the diagnosis must contain, or None where no common slip explains it)
WRONG_CLAIMS = [
    ("shallow_network", "dz1 = -W2.T * dz2 * sech(z1)**2", "sign error"),
    ("shallow_network", "dz1 = W2.T * dz2 * sech(z1)", None),
    ("shallow_network", "dz1 = W2.T * (a2 - y) * cosh(z1)**2", None),
    ("mae_regression", "dr = -sign(r)", "sign error"),
    ("mae_regression", "dz = abs(r)", "abs(r) where its derivative belongs"),
    ("logistic_regression", "dz = abs(a - y)", None),
    ("log_cosh_regression", "dr = cosh(r) / sinh(r)", None),
    ("log_cosh_regression", "dr = -sinh(r) / cosh(r)", "sign error"),
    ("deep_network", "dZ[l] = dA[l] * maximum(Z[l], 0)", "relu(Z[l]) where its derivative"),
    ("deep_network", "dZ3 = Y - sigmoid(W3 @ maximum(Z2, 0) + b3)", "sign error"),
    ("msle_regression", "dyhat = log1p(yhat) - log1p(y)", "chain-rule factor dr/dyhat"),
    # the softmax Jacobian's slips
    ("softmax_regression", "dz = diag(a * (1 - a)) @ da", "softmax Jacobian, diagonal only"),
    ("softmax_regression", "dz = a * (1 - a) * da", "softmax Jacobian, diagonal only"),
    ("softmax_regression", "dZ = A * (1 - A) * dA", "softmax Jacobian, diagonal only"),
    ("softmax_regression", "dz = diag(a) @ da", "term -a @ a.T is missing"),
    ("softmax_regression", "dz = a * da", "term -a @ a.T is missing"),
    ("softmax_regression", "dZ = A * dA", "term -A @ A.T is missing"),
    ("softmax_regression", "dz = (a @ a.T - diag(a)) @ da", "sign error"),
    ("softmax_regression", "dz = eye(n_y) @ (y - a)", "sign error"),
    ("softmax_regression", "db = 2 * dZ @ ones(m, 1) / m", "twice the correct one"),
    ("softmax_regression", "dz = ones_like(a) * (y - a)", "sign error"),
    ("softmax_regression", "dZ = onehot(Y) - A", "sign error"),
]


@pytest.mark.parametrize("spec, claim", RIGHT_CLAIMS, ids=[f"{s}: {c}" for s, c in RIGHT_CLAIMS])
def test_right_claims_are_proven(spec, claim):
    v = checker(spec).check(claim)
    assert v.status == PROVEN and v.convention == "course", v.text()


@pytest.mark.parametrize("spec, claim, phrase", WRONG_CLAIMS,
                         ids=[f"{s}: {c}" for s, c, _ in WRONG_CLAIMS])
def test_wrong_claims_are_refuted(spec, claim, phrase):
    v = checker(spec).check(claim)
    assert v.status == REFUTED and v.counterexample is not None, v.text()
    if phrase is not None:
        assert any(phrase in d for d in v.diagnosis), v.text()


def test_the_softmax_jacobian_slips_are_named_in_full():
    v = checker("softmax_regression").check("dz = a * (1 - a) * da")
    assert v.diagnosis[0] == (
        "Your claim keeps only the diagonal of the softmax Jacobian, a*(1 - a) (the sigmoid's "
        "slope): softmax couples the classes, so dz = (diag(a) - a @ a.T) @ da; the "
        "off-diagonal part -a @ a.T is missing (softmax Jacobian, diagonal only).")
    v = checker("softmax_regression").check("dz = diag(a) @ da")
    assert v.diagnosis[0] == (
        "Your claim is a*da, diag(a) @ da: the softmax Jacobian's term -a @ a.T is missing; "
        "dz = (diag(a) - a @ a.T) @ da (softmax Jacobian slip).")
    # a = [0.7, 0.3], y = [1, 0]: your dz = diag(a) @ (-y/a) = -y
    assert v.counterexample.values["y"].ravel().tolist() == [1, 0]
    assert np.allclose(v.counterexample.claimed.ravel(), [-1, 0])
    assert "n_y" not in v.counterexample.values  # a size, not a value chosen


def test_the_arrays_have_their_shapes_and_values():
    space = checker("softmax_regression").space(False)
    a, n_y = space.names["a"], space.dims["n_y"]
    jac = space.parse("diag(a) - a @ a.T")
    assert space.shape(jac) == (n_y, n_y)
    assert space.show(space.parse("diag(a) @ da")) == "diag(a) @ da"
    env = space.points(1)[0]
    av = env[a]
    assert np.allclose(space.value(jac, env), np.diagflat(av) - av @ av.T)
    assert np.allclose(space.value(eye(n_y), env), np.eye(len(av)))
    batch = checker("softmax_regression").space(True)
    m = batch.names["m"]
    env = batch.points(1)[0]
    assert batch.shape(ones(m, 1)) == (m, 1)
    assert batch.value(ones(m, 1), env).shape == (env["sizes"][m], 1)
    assert np.all(batch.value(ones(m, 1), env) == 1)
    assert batch.shape(batch.parse("ones_like(A)")) == batch.shapes[batch.names["A"]]
    assert isinstance(space.parse("diag(a)"), diag)
    assert space.parse("diag(a)").definition() == a * eye(n_y)


def test_maximum_with_zero_is_relu():
    space = checker("deep_network").space(True)
    z = space.names["Z2"]
    assert space.parse("maximum(Z2, 0)") == space.parse("relu(Z2)")
    assert space.parse("maximum(0, Z2)") == space.parse("relu(Z2)")
    assert space.parse("maximum(Z2, 1)").args == (z, sp.Integer(1))


@pytest.mark.parametrize("spec, claim, message", [
    ("softmax_regression", "db = dZ @ ones(m) / m",
     "ones(m) is ambiguous: NumPy's ones(m) has one axis; did you mean a column ones(m, 1) or a "
     "row ones(1, m)?"),
    ("softmax_regression", "db = dZ @ ones(m, 1, 1) / m", "ones(...) with 3 sizes"),
    ("softmax_regression", "dz = eye(a) @ (a - y)", "eye(n): 'a' is not a size; expected a "
                                                     "dimension (n_x, n_y, m) or a whole number"),
    ("softmax_regression", "dZ = diag(A) @ dA", "NumPy's diag of a matrix is its diagonal"),
    ("logistic_regression", "dz = a - onehot(y)", "onehot(y): expected a label declared "
                                                  "onehot(n)"),
])
def test_misused_functions_are_refused_with_one_line(spec, claim, message):
    with pytest.raises(SpecError) as err:
        checker(spec).check(claim)
    assert message in str(err.value) and "\n" not in str(err.value)
