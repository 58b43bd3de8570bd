"""Claims about models whose labels and hyperparameters have domains: a correct claim is
proven, a wrong one refuted with a counterexample whose every value lies in its domain."""

from functools import cache

import numpy as np
import pytest

import symgrad
from symgrad.claims.checker import NOT_PROVEN, PROVEN, REFUTED, Checker

HEAD = """
[dims]
n_x = "features"
[inputs]
x = "vector(n_x)"
"""
SOFT = HEAD.replace('n_x = "features"', 'n_x = "features"\nn_y = "classes"') + """
[labels]
y = "probability(n_y)"
[parameters]
W = "matrix(n_y, n_x)"
b = "vector(n_y)"
[graph]
z = "W @ x + b"
q = "softmax(z)"
L = "-sum(y * log(q))"
[cost]
J = "mean(L)"
"""
LINEAR = """
[parameters]
w = "vector(n_x)"
b = "scalar"
[graph]
z = "w @ x + b"
"""
POISSON = HEAD + """[labels]
y = "count"
""" + LINEAR + """mu = "exp(z)"
L = "mu - y*z"
[cost]
J = "mean(L)"
"""
HUBER = HEAD + """[labels]
y = "real"
[hyperparameters]
delta = { default = 1.0, domain = "positive" }
""" + LINEAR + """r = "z - y"
L = "delta**2*(sqrt(1 + (r/delta)**2) - 1)"
[cost]
J = "mean(L)"
"""
SHRUNK = HEAD + """[labels]
y = "real"
[hyperparameters]
eps = { default = 0.1, domain = "(0, 1)" }
""" + LINEAR + """L = "(1 - eps)*(z - y)**2"
[cost]
J = "mean(L)"
"""
MODELS = {"soft": SOFT, "poisson": POISSON, "huber": HUBER, "shrunk": SHRUNK}


@cache
def checker(name) -> Checker:
    return Checker(symgrad.loads(MODELS[name], source=f"{name}.toml"))


def refuted(name, claim):
    v = checker(name).check(claim)
    assert v.status == REFUTED and v.counterexample is not None, v.text()
    return v, {k: np.asarray(x) for k, x in v.counterexample.values.items()}


def is_probability(columns) -> bool:
    return bool(np.all(columns >= 0) and np.allclose(columns.sum(axis=0), 1.0))


@pytest.mark.parametrize("name, claim", [
    ("soft", "dz = q - y"), ("soft", "dz = q - y*sum(y)"), ("soft", "dZ = Q - Y"),
    ("poisson", "dz = mu - y"), ("poisson", "dZ = Mu - Y"),
    ("huber", "dr = r/sqrt(1 + (r/delta)**2)"), ("shrunk", "dz = 2*(1 - eps)*(z - y)"),
])
def test_correct_claims_are_proven(name, claim):
    v = checker(name).check(claim)
    assert v.status == PROVEN, v.text()


@pytest.mark.parametrize("claim", ["dz = y - q", "dz = q - y**2", "dZ = Y - Q"])
def test_probability_label_counterexample_is_a_probability_vector(claim):
    v, values = refuted("soft", claim)
    y = values["Y" if claim.startswith("dZ") else "y"]
    assert is_probability(y.reshape(y.shape[0], -1)), v.text()
    assert not np.all(np.isin(y, (0.0, 1.0))), v.text()  # a soft label, not one-hot
    assert "y = [0.3, 0.7]" in v.text() or "Y = [[" in v.text()


@pytest.mark.parametrize("claim", ["dz = y - mu", "dz = mu - y**2", "dZ = Y - Mu",
                                   "dw = X @ (Mu - Y**2).T / m"])
def test_count_label_counterexample_is_a_whole_number(claim):
    v, values = refuted("poisson", claim)
    y = values["Y" if "Y" in values else "y"]
    assert np.all(y >= 0) and np.all(y == np.round(y)), v.text()


@pytest.mark.parametrize("name, claim, hyper, inside", [
    ("huber", "dr = r/sqrt(1 + r**2)", "delta", lambda d: d > 0),
    ("huber", "dr = r*delta/sqrt(1 + r**2)", "delta", lambda d: d > 0),
    ("shrunk", "dz = 2*(z - y)", "eps", lambda e: 0 < e < 1),
    ("shrunk", "dz = (1 - eps)*(z - y)", "eps", lambda e: 0 < e < 1),
])
def test_hyperparameter_counterexample_inside_its_domain(name, claim, hyper, inside):
    v, values = refuted(name, claim)
    assert hyper in values and inside(values[hyper].item()), v.text()


def test_a_claim_true_only_inside_the_domain_is_never_refuted():
    # r*delta/sqrt(delta**2 + r**2) equals the derivation for delta > 0 only
    v = checker("huber").check("dr = r*delta/sqrt(delta**2 + r**2)")
    assert v.status in (PROVEN, NOT_PROVEN), v.text()
    v = checker("poisson").check("dz = mu - sqrt(y**2)")  # y >= 0
    assert v.status in (PROVEN, NOT_PROVEN), v.text()


def test_proof_calls_a_probability_label_a_probability_vector():
    from symgrad.proof.document import render

    text = render(symgrad.prove(symgrad.derive(checker("soft").model)), "latex")
    assert "is a probability vector" in text and "one-hot" not in text
