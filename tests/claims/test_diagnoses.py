"""Diagnoses that name the slip: the common real mistakes, each refuted with its slip named.

The mistakes are the ones graders see in the course ("Deep Learning Specialization",
Andrew Ng) and its textbook notation: a sign of one term of the cross-entropy derivative, a
wrong sigma' or tanh' formula, the upstream gradient fed through the activation twice or not at
all, ``@`` for ``*`` and the reverse, a gradient for its parameter, the L2 term's sign, factor
or parameter. Each is planted in the correct formula of a shipped spec or catalogue model.
"""

from functools import cache
from pathlib import Path

import pytest

import symgrad
from symgrad.claims.checker import PROVEN, REFUTED, Checker
from symgrad.claims.diagnose import _Diagnosis, diagnose

ROOT = Path(__file__).resolve().parents[2]


@cache
def checker(spec) -> Checker:
    path = ROOT / "derivations" / f"{spec}.toml"
    if not path.exists():
        path = ROOT / "tests" / "catalogue" / f"{spec}.toml"
    return Checker(symgrad.load(path))


SIGN = "has the wrong sign"

# (spec, claim, a phrase the diagnosis must contain)
WRONG_CLAIMS = [
    # the sign of one term of the cross-entropy derivative
    ("logistic_regression", "da = -y/a - (1 - y)/(1 - a)",
     "The term -(1 - y)/(1 - a) has the wrong sign"),
    ("logistic_regression", "dA = -Y/A - (1 - Y)/(1 - A)", SIGN),
    ("logistic_regression", "da = -y/a + (1 + y)/(1 - a)",
     "The term y in 1 + y has the wrong sign"),
    ("logistic_regression", "da = y/a - (1 - y)/(1 - a)", "negative of the correct one"),
    ("shallow_network", "dA2 = -Y/A2 - (1 - Y)/(1 - A2)", SIGN),
    ("deep_network", "dA3 = -Y/A3 - (1 - Y)/(1 - A3)", SIGN),
    ("multilabel_sigmoid", "dA = -Y/A - (1 - Y)/(1 - A)", SIGN),
    ("regularized_logistic", "da = -y/a - (1 - y)/(1 - a)", SIGN),
    # a wrong sigma' or tanh' formula
    ("logistic_regression", "dz = da * a*(1 + a)",
     "Your sigma'(z) is a*(1 + a); sigma'(z) = a*(1 - a)"),
    ("logistic_regression", "dz = da * sigmoid(z)*(1 + sigmoid(z))", "sigma'(z) = a*(1 - a)"),
    ("logistic_regression", "dZ = dA * A*(1 + A)", "Your sigma'(Z) is A*(1 + A)"),
    ("logistic_regression", "dZ = dA * (1 - A)", "Your sigma'(Z) is 1 - A"),
    ("shallow_network", "dZ1 = W2.T @ dZ2 * (1 - tanh(Z1))", "Your tanh'(Z1) is 1 - tanh(Z1)"),
    ("shallow_network", "dZ1 = W2.T @ dZ2 * (1 - A1)",
     "Your tanh'(Z1) is 1 - A1; tanh'(Z1) = 1 - A1**2"),
    ("shallow_network", "dZ1 = W2.T @ dZ2 * (1 + A1**2)", "Your tanh'(Z1) is 1 + A1**2"),
    ("shallow_network", "dZ1 = (W2.T @ dZ2) * (1 - A1)**2", "Your tanh'(Z1) is (1 - A1)**2"),
    ("shallow_network", "dz1 = W2.T * dz2 * (1 - a1)", "Your tanh'(z1) is 1 - a1"),
    ("shallow_network", "dZ2 = dA2 * A2*(1 + A2)", "Your sigma'(Z2) is A2*(1 + A2)"),
    # sigmoid's slope in a tanh network: the line dz1 = np.dot(w2.T, dz2) * a1*(1-a1) of a
    # sigmoid network (vishwagw/Building-Deep-learning-algorithms-from-scratch,
    # forward_propogation.py), written where the hidden layer is tanh
    ("shallow_network", "dZ1 = W2.T @ dZ2 * A1*(1 - A1)", "Your tanh'(Z1) is A1*(1 - A1)"),
    ("two_layer_mixed", "dZ1 = W2.T @ dZ2 * A1", "Your softplus'(Z1) is A1"),
    ("two_layer_mixed", "dZ1 = W2.T @ dZ2 * sigmoid(Z1)*(1 - sigmoid(Z1))",
     "softplus'(Z1) = sigmoid(Z1)"),
    ("tanh_mse", "dZ = dA * (1 - A)", "Your tanh'(Z) is 1 - A"),
    ("tanh_mse", "dZ = (A - Y) * (1 + A**2)", "Your tanh'(Z) is 1 + A**2"),
    ("deep_network", "dZ3 = dA3 * A3*(1 + A3)", "Your sigma'(Z3) is A3*(1 + A3)"),
    # the upstream gradient through the activation twice, or not at all
    ("logistic_regression", "dz = da * a*(1 - a) * a*(1 - a)", "extra factor a*(1 - a)"),
    ("shallow_network", "dZ1 = W2.T @ dZ2 * (1 - A1**2)**2", "extra factor 1 - A1**2"),
    ("shallow_network", "dZ1 = W2.T @ (dZ2 * A2*(1 - A2)) * (1 - A1**2)",
     "extra factor A2*(1 - A2)"),
    ("shallow_network", "dZ1 = W2.T @ dZ2", "chain-rule factor dA1/dZ1 = 1 - A1**2 left out"),
    ("shallow_network", "dZ1 = 1 - A1**2", "leaves out the factor dA1"),
    ("logistic_regression", "dz = a*(1 - a)", "leaves out the factor da"),
    ("deep_network", "dZ2 = W3.T @ dZ3", "chain-rule factor dA2/dZ2 = (Z2 > 0) left out"),
    # @ where * belongs, and the reverse
    ("shallow_network", "dZ1 = W2.T @ dZ2 @ (1 - A1**2)", "'@' where '*' belongs"),
    ("deep_network", "dZ2 = dA2 @ heaviside(Z2)", "'@' where '*' belongs"),
    ("shallow_network", "dW2 = dZ2 * A1.T / m", "'*' where '@' belongs: with dZ2 @ A1.T"),
    ("deep_network", "dA1 = W2.T * dZ2", "'*' where '@' belongs: with W2.T @ dZ2"),
    ("softmax_regression", "dW = dZ * X.T / m", "'*' where '@' belongs: with dZ @ X.T"),
    ("deep_network", "dW[l] = dZ[l] * A[l-1].T / m", "'*' where '@' belongs"),
    # a gradient where the parameter belongs
    # a real confusion: course notes insist "dZ1 = np.dot(W2.T, dZ2) * (Z1 > 0) uses W2, not dW2"
    ("shallow_network", "dA1 = dW2.T @ dZ2", "uses dW2, a gradient, where W2 belongs"),
    ("shallow_network", "dZ1 = dW2.T @ dZ2 * (1 - A1**2)",
     "uses dW2, a gradient, where W2 belongs"),
    ("deep_network", "dA1 = dW2.T @ dZ2", "uses dW2, a gradient, where W2 belongs"),
    ("deep_network", "dA[l-1] = dW[l].T @ dZ[l]", "uses dW[l], a gradient, where W[l] belongs"),
    # the L2 term: its sign, its factor, W missing
    ("regularized_logistic", "dw = (X @ dZ.T - lambd*w)/m", "L2 term -lambd*w in"),
    ("regularized_logistic", "dw = X @ dZ.T/m - lambd/m * w", "L2 term"),
    ("regularized_logistic", "dw = X @ dZ.T/m + lambd/m", "lacks w: with lambd*w/m"),
    ("regularized_logistic", "dw = X @ dZ.T/m + lambd*w", "the factor 1/m is missing there"),
    ("regularized_logistic", "dw = X @ dZ.T/m + lambd*w/(2*m)", "half what it should be"),
    ("deep_network_l2", "dW2 = dZ2 @ A1.T/m - lambd/m * W2",
     "The L2 term -W2*lambd/m has the wrong sign"),
    ("deep_network_l2", "dW2 = dZ2 @ A1.T/m + lambd/m", "lacks W2"),
    ("deep_network_l2", "dW3 = dZ3 @ A2.T/m + lambd * W3", "the factor 1/m is missing there"),
    ("deep_network_l2", "dW[l] = dZ[l] @ A[l-1].T/m - lambd/m * W[l]", "wrong sign"),
    ("deep_network_l2", "dW[l] = dZ[l] @ A[l-1].T/m + lambd/m", "lacks W[l]"),
    ("ridge_regression", "dw = X @ dZ.T/m - lambd*w/m", "wrong sign"),
    ("ridge_regression", "dw = X @ dZ.T/m + lambd/m", "lacks w"),
    ("softmax_l2", "dW = dZ @ X.T/m - lambd/m * W", "wrong sign"),
    ("softmax_l2", "dW = dZ @ X.T/m + lambd/m", "lacks W"),
]


def test_the_list_is_large_and_broad():
    assert len(WRONG_CLAIMS) >= 40
    specs = {spec for spec, *_ in WRONG_CLAIMS}
    assert len(specs) >= 10
    assert {"tanh_mse", "ridge_regression", "softmax_l2", "multilabel_sigmoid"} <= specs


@pytest.mark.parametrize("spec, claim, phrase", WRONG_CLAIMS,
                         ids=[f"{s}: {c}" for s, c, _ in WRONG_CLAIMS])
def test_the_slip_is_named(spec, claim, phrase):
    verdict = checker(spec).check(claim)
    assert verdict.status == REFUTED, verdict.text()
    assert any(phrase in line for line in verdict.diagnosis), verdict.text()


RIGHT_CLAIMS = [
    ("logistic_regression", "da = -y/a + (1 - y)/(1 - a)"),
    ("logistic_regression", "dz = da * a*(1 - a)"),
    ("logistic_regression", "dZ = dA * sigmoid(Z)*(1 - sigmoid(Z))"),
    # np.dot(W2.T, dZ2) * (1 - np.power(A1, 2)) in hvsbombay/SOC-2025-DEEP-LEARNING-2025,
    # Week3/Hidden_Layer_Neural_Network/Exercise6.py
    ("shallow_network", "dZ1 = W2.T @ dZ2 * (1 - A1**2)"),
    ("shallow_network", "dZ1 = W2.T @ dZ2 * (1 - tanh(Z1)**2)"),
    ("shallow_network", "dW2 = dZ2 @ A1.T / m"),
    ("deep_network", "dA1 = W2.T @ dZ2"),
    ("regularized_logistic", "dw = X @ dZ.T/m + lambd/m * w"),
    ("deep_network_l2", "dW[l] = dZ[l] @ A[l-1].T/m + lambd/m * W[l]"),
    ("tanh_mse", "dZ = (A - Y) * (1 - A**2)"),
    ("softmax_l2", "dW = dZ @ X.T/m + lambd*W/m"),
]


@pytest.mark.parametrize("spec, claim", RIGHT_CLAIMS)
def test_right_claims_get_no_diagnosis(spec, claim):
    c = checker(spec)
    verdict = c.check(claim)
    assert verdict.status == PROVEN and verdict.diagnosis == []
    space, _, step, expr = c.prepare(claim)
    assert diagnose(space, step, expr) == []  # no repair of a right claim "explains" it


def _ratio(spec, claim):
    space, _, step, expr = checker(spec).prepare(claim)
    return list(_Diagnosis(space, step, expr).ratio())


def test_a_ratio_holds_at_every_entry():
    # -dZ2 where Z2 > 0, +dA2 where dZ2 is 0: not "-1 times" the correct dZ2
    assert _ratio("deep_network", "dZ2 = dA2 * (1 - 2*heaviside(Z2))") == []
    assert _ratio("deep_network", "dZ2 = -dA2 * heaviside(Z2) + heaviside(-Z2)") == []
    assert _ratio("deep_network", "dZ2 = 3 * dA2 * heaviside(Z2)") == [
        "Your claim is 3 times the correct one."]
    assert _ratio("logistic_regression", "dZ = (A - Y)*(1 - 2*Y)") == []


def test_no_diagnosis_claims_a_ratio_that_fails_somewhere():
    verdict = checker("deep_network").check("dZ2 = dA2 * (1 - 2*heaviside(Z2))")
    assert verdict.status == REFUTED
    assert not any("times the correct one" in line or "negative" in line
                   for line in verdict.diagnosis)
