"""The line checker keeps what it computed (canonical forms, zero tests, derivatives, compiled
evaluators) for the lines after: a wrong line is still refused after the right one it resembles
was checked, in the same proof and in the same scope."""

import functools
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad.model.graph import M as m
from symgrad.model.ops import matmul, sigmoid, transpose
from symgrad.proof.blocks import ExampleSum, Line
from symgrad.proof.build import build
from symgrad.proof.line_check import ProofError, check, scopes

ROOT = Path(__file__).resolve().parents[2]

a, b, x, y, z = sp.symbols("a b x y z", real=True)
A, X, Y, dz, dZ = sp.symbols("A X Y dz dZ", real=True)


@functools.cache
def derivation(name):
    spec = f"derivations/{name}.toml"
    return symgrad.loads((ROOT / spec).read_text(encoding="utf-8"), source=spec).derive()


@pytest.mark.slow
def test_a_wrong_line_after_its_right_twin_in_one_proof_is_refused():
    proof = build(derivation("logistic_regression"))
    eqs = [eqs for section, eqs in proof.equations() if section.title == ("Node ", z)][-1]
    assert eqs.lines[0].lhs == dz and eqs.lines[-1].rhs == a - y
    eqs.lines += [Line(dz, a - y), Line(dz, a + y)]  # dz = a - y again, then a slip
    with pytest.raises(ProofError, match=f"line {len(eqs.lines)}: dz = a \\+ y does not hold"):
        check(proof)


@pytest.mark.parametrize("scope, right, wrong", [
    ("example", (a * (1 - a), sigmoid(z) * (1 - sigmoid(z))),
     (a * (1 - a), sigmoid(z) * (1 + sigmoid(z)))),  # the node tied to its definition
    ("example", (dz, a - y), (dz, y - a)),  # the adjoint's derivative, taken once
    ("batch", (ExampleSum(x * (a - y)), matmul(X, transpose(A - Y))),
     (ExampleSum(x * (a - y)), matmul(X, transpose(A - Y)) / m)),
    ("batch", (dZ, A - Y), (dZ, A - Y + 1)),
])
def test_a_scope_refuses_the_wrong_line_between_two_right_ones(scope, right, wrong):
    found = scopes(derivation("logistic_regression"))[scope]
    assert found.check(*right) == "symbolic"
    with pytest.raises(ProofError, match="does not hold"):
        found.check(*wrong)
    assert found.check(*right) == "symbolic"
    with pytest.raises(ProofError, match="does not hold"):
        found.check(*wrong)
