"""Soundness holes of ``symgrad check``, each closed: no false proof, and right claims proven.

Each test here failed before its fix: a false claim was proven (or its difference was shown to
be 0), or a right claim was only "not proven".
"""

from functools import cache
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad.calculus.canonical_form import Canonical
from symgrad.claims.checker import PROVEN, REFUTED, Checker
from symgrad.model.graph import M
from symgrad.model.ops import colsum, matmul, rowsum

ROOT = Path(__file__).resolve().parents[2]


@cache
def checker(spec) -> Checker:
    # no time limit: these tests are about the verdict, and a loaded machine must not turn a
    # refutation into "gave up" (the 10 s limit is tested in test_check.py)
    return Checker(symgrad.load(ROOT / "derivations" / f"{spec}.toml"), time_limit=None)


def status(spec, claim) -> str:
    return checker(spec).check(claim).status


# ----- 1. a product of two broadcast blocks keeps its inner size -----


def test_products_of_broadcast_blocks_with_different_inner_sizes_do_not_cancel():
    A, B, C, D = sp.symbols("A B C D", real=True)
    n, k = sp.symbols("n k", positive=True, integer=True)
    form = Canonical({A: (1, M), B: (M, n), C: (1, k), D: (k, n)})
    # (A + 1) @ (B + 1) has the term m * ones(1, n); (C + 1) @ (D + 1) has k * ones(1, n)
    rest_ab = matmul(A, B) + rowsum(A) + colsum(B)
    rest_cd = matmul(C, D) + rowsum(C) + colsum(D)
    false = matmul(A + 1, B + 1) - rest_ab - (matmul(C + 1, D + 1) - rest_cd)
    assert not form.is_zero(false)  # (m - k) * ones(1, n)
    assert form.is_zero(matmul(A + 1, B + 1) - rest_ab - M)  # the inner size is m
    assert form.is_zero(matmul(C + 1, D + 1) - rest_cd - k)


# the shallow network: dZ2 (1, m) @ A1.T (m, n_h) has inner size m; W2 (1, n_h) @ (n_h, n_h) n_h
_AB = "(dZ2 + 1) @ (A1.T + 1) - dZ2 @ A1.T - sum(dZ2, axis=1) - sum(A1.T, axis=0)"
_CD = "(W2 + 1) @ (W1 @ W1.T + 1) - W2 @ W1 @ W1.T - sum(W2, axis=1) - sum(W1 @ W1.T, axis=0)"


@pytest.mark.parametrize("claim, expected", [
    (f"dW2 = dZ2 @ A1.T / m + {_AB} - ({_CD})", REFUTED),
    (f"dW2 = dZ2 @ A1.T / m + {_AB} - m", PROVEN),
    (f"dW2 = dZ2 @ A1.T / m + {_AB} - sum(Y**0)", PROVEN),  # sum(Y**0) = m
    (f"dW2 = dZ2 @ A1.T / m + {_CD} - sum(W2**0)", PROVEN),  # n_h
    (f"dW2 = dZ2 @ A1.T / m + {_CD} - m", REFUTED),
])
def test_broadcast_products_in_claims(claim, expected):
    assert status("shallow_network", claim) == expected


# ----- 2. X**0, X/X, 0*X + 1 keep the array's shape -----


@pytest.mark.parametrize("spec, claim, expected", [
    # sum(X**0) is n_x*m in NumPy, not 1
    ("logistic_regression", "db = sum(dZ)/m + sum(X**0) - 1", REFUTED),
    ("logistic_regression", "db = sum(dZ)/m + sum(X/X) - 1", REFUTED),
    ("logistic_regression", "db = sum(dZ)/m + sum(0*X + 1) - 1", REFUTED),
    ("logistic_regression", "db = sum(dZ + X - X)/m", REFUTED),  # dZ broadcast over n_x rows
    ("logistic_regression", "db = sum(dZ + 0*X)/m", REFUTED),
    ("logistic_regression", "db = sum(dZ)/m + sum(Y**0)/m - 1", PROVEN),  # sum(Y**0) = m
    ("logistic_regression", "db = sum(dZ*Y**0)/m", PROVEN),
    ("logistic_regression", "db = sum(dZ + Y - Y)/m", PROVEN),
    ("logistic_regression", "dw = X @ (dZ + 0*Y).T/m", PROVEN),
    ("logistic_regression", "dw = X @ (dZ*Y**0).T/m", PROVEN),
    ("shallow_network", "db1 = sum(dZ1, axis=1)/m + sum(X**0, axis=1)/m - sum(Y**0)/m", REFUTED),
    ("shallow_network", "db2 = sum(dZ2 * (A1/A1), axis=1)/m", REFUTED),  # A1/A1 is (n_h, m)
])
def test_folded_arrays_keep_their_shape(spec, claim, expected):
    assert status(spec, claim) == expected


def test_a_folded_array_has_the_shape_of_its_operands():
    verdict = checker("logistic_regression").check("dZ = A - Y + 0*X")
    assert verdict.status == REFUTED and "matrix(n_x, m)" in verdict.reason


# ----- 3. random points use sizes beyond 5 -----


def test_random_points_use_sizes_beyond_five():
    space = checker("logistic_regression").space(True)
    sizes = [env["sizes"] for env in space.points(6)]
    assert max(s[M] for s in sizes) > 5 and min(s[M] for s in sizes) == 2
    assert any(min(s.values()) > 5 for s in sizes)  # every dimension, n_x too


@pytest.mark.parametrize("spec, claim", [
    ("logistic_regression", "db = sum(dZ)/m + (m - 2)*(m - 3)*(m - 4)*(m - 5)"),
    ("logistic_regression", "dw = X @ dZ.T/m + (m - 2)*(m - 3)*(m - 4)*(m - 5)*w"),
    ("logistic_regression", "db = sum(dZ)/m + sum(X**0)/m - 2 - (m - 2)*(m - 3)*(m - 4)"),
])
def test_a_claim_off_by_a_product_vanishing_at_small_sizes_is_refuted(spec, claim):
    assert status(spec, claim) == REFUTED


# ----- 4. transposes and sums of one-row derivatives are proven -----


@pytest.mark.parametrize("spec, claim", [
    ("logistic_regression", "db = sum(dZ.T)/m"),
    ("logistic_regression", "db = sum(dZ.T, axis=0)/m"),
    ("logistic_regression", "db = sum((A - Y).T)/m"),
    ("logistic_regression", "dw = (dZ @ X.T).T/m"),
    ("shallow_network", "dW2 = (A1 @ dZ2.T).T/m"),
    ("shallow_network", "dW2 = (A1 @ (A2 - Y).T).T/m"),
    ("shallow_network", "db2 = sum(dZ2.T)/m"),
    ("deep_network", "dW3 = (A2 @ dZ3.T).T/m"),
])
def test_transposes_and_sums_of_one_row_derivatives_are_proven(spec, claim):
    assert status(spec, claim) == PROVEN


def test_a_transposed_false_claim_is_still_refuted():
    assert status("shallow_network", "dW2 = (A1 @ dZ2.T).T") == REFUTED
    assert status("logistic_regression", "db = sum(dZ.T)") == REFUTED


# ----- 5. the labels' premises: one-hot entries are 0 or 1; a proof that used one says so ----


def test_the_one_hot_premise_applies_like_the_binary_one():
    verdict = checker("softmax_regression").check("dZ = A - Y + Y*Y - Y")  # Y*Y = Y: 0s and 1s
    assert verdict.status == PROVEN
    assert verdict.premises == ["Y one-hot (each column 0s and one 1)"]
    assert "proven, using Y one-hot" in verdict.text()
    assert verdict.to_json()["premises"] == verdict.premises


def test_a_proof_that_used_the_binary_premise_says_so():
    verdict = checker("logistic_regression").check("dz = a - y**2")
    assert verdict.status == PROVEN and verdict.premises == ["y in {0, 1}"]
    assert "is proven, using y in {0, 1}." in verdict.text()


@pytest.mark.parametrize("spec, claim", [
    ("logistic_regression", "dz = a - y"),
    ("softmax_regression", "dZ = A - Y"),
    ("shallow_network", "dW2 = (A2 - Y) @ A1.T / m"),
])
def test_a_proof_without_premises_names_none(spec, claim):
    verdict = checker(spec).check(claim)
    assert verdict.status == PROVEN and verdict.premises == []
    assert "using" not in verdict.text() and verdict.to_json()["premises"] == []


def test_a_probability_label_is_not_binary():
    # soft_label_softmax's labels are probability vectors: Y*Y = Y does not hold there
    model = symgrad.load(ROOT / "tests" / "catalogue" / "soft_label_softmax.toml")
    verdict = Checker(model, time_limit=None).check("dZ = A - Y + Y*Y - Y")
    assert verdict.status == REFUTED

