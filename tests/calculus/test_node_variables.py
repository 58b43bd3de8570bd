"""Results written in the node variables where a node is an invertible function of its input's
expression: the simplifier solves the node's definition for it (issue 12). Each model is
derived, generated, verified, proved and its result checked as a person would write it."""

from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad.calculus.chain import said
from symgrad.calculus.simplify import sums_to_one, through_nodes
from symgrad.code.verify import verify
from symgrad.model.ops import colsum, softmax
from symgrad.printing.printers import batch_str, example_str

a, y, z = sp.symbols("a y z", real=True)
A, Y = sp.symbols("A Y", real=True)


def logistic(name, activation, loss="-(y*log(a) + (1 - y)*log(1 - a))", label="binary"):
    return symgrad.Model.build(
        name, dims={"n_x": "number of input features"},
        inputs={"x": "vector(n_x)", "y": label}, parameters={"w": "vector(n_x)", "b": "scalar"},
        graph={"z": "w @ x + b", "a": activation, "L": loss}, cost={"J": "mean(L)"})


MODELS = {  # activation, loss, label type, dz as a person writes it
    "tanh_logistic": ("(tanh(z) + 1)/2", None, None, "2*(a - y)"),
    "affine_sigmoid": ("2*sigmoid(z) - 1", "(a - y)**2/2", "scalar", "(1 - a**2)*(a - y)/2"),
    "written_sigmoid": ("exp(z)/(1 + exp(z))", None, None, "a - y"),
    "flipped_sigmoid": ("1 - sigmoid(-z)", None, None, "a - y"),
}


@pytest.mark.parametrize("name", MODELS)
def test_derived_in_node_variables(name):
    activation, loss, label, claim = MODELS[name]
    model = logistic(name, activation, *[v for v in (loss, label) if v])
    d = model.derive()
    dz = sp.sympify(claim, locals={"a": a, "y": y})
    assert sp.expand(d.per_example["dz"] - dz) == 0
    assert sp.expand(d.batch["dZ"] - dz.xreplace({a: A, y: Y})) == 0
    for expr in list(d.per_example.values()) + list(d.batch.values()):
        assert not expr.has(sp.tanh, sp.exp, symgrad.model.ops.sigmoid), expr
    steps = d.per_example_steps[z].steps
    assert any(rule[0] == "write in node variables: " for rule, _ in steps)
    symgrad.codegen(d)  # its self-check included
    assert all(row.error <= row.tolerance for row in verify(d))
    symgrad.prove(d)
    assert symgrad.check(model, "dz", claim).status == "proven"


def test_tanh_parametrised_logistic_is_twice_a_minus_y():
    d = logistic("tanh_logistic", "(tanh(z) + 1)/2").derive()
    # not merely equal: as a person writes it (2*(a - y) in Python would distribute the 2)
    assert d.per_example["dz"] == sp.Mul(2, a - y, evaluate=False)
    assert d.batch["dZ"] == sp.Mul(2, A - Y, evaluate=False)
    assert example_str(d.per_example["dz"]) == "2*(a - y)"
    assert batch_str(d.batch["dZ"]) == "2*(A - Y)"


def test_no_node_applies():
    t = sp.tanh(z)
    assert through_nodes(1 - t**2, [(a, t**2)], {a, z}) == (1 - t**2, frozenset(), ())
    assert through_nodes(1 - t**2, [(a, t)], {a, z})[1] == frozenset()  # to_node_variables'
    assert through_nodes(1 - t**2, [(a, t + z)], {a, z})[1] == frozenset()  # not solvable


CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue"


@pytest.mark.parametrize("name, dz, dZ", [
    ("distillation", "(q - pt)/T", "(Q - Pt)/T"),  # the teacher's softmax sums to 1
    ("label_smoothing", "a - t", "A - T"),  # (1 - eps)*y + eps/3 over 3 classes sums to 1
])
def test_columns_summing_to_one(name, dz, dZ):
    d = symgrad.load(CATALOGUE / f"{name}.toml").derive()
    assert example_str(d.per_example["dz"]) == dz
    assert batch_str(d.batch["dZ"]) == dZ
    assert not any(isinstance(e, colsum) for e in sp.preorder_traversal(d.batch["dZ"]))
    rules = [rule for rule, _ in d.per_example_steps[sp.Symbol("z", real=True)].steps]
    assert any("sums to 1 (by its definition)" in said(rule) for rule in rules), rules


def test_softmax_sums_to_one():
    s, u = sp.symbols("s u", real=True)
    assert sums_to_one([(s, softmax(u))], {s: (4, 1), u: (4, 1)}) == {s}
    assert sums_to_one([(s, sp.exp(u))], {s: (4, 1), u: (4, 1)}) == frozenset()
