"""The probit cost's stable forms: log(Phi(z)) -> log_Phi(z), log(1 - Phi(z)) -> log_Phi(-z), and
the gradient's phi(z)/Phi(z) -> mills(z), found by the rules of symgrad.calculus.stable_forms,
and the helpers the generated module defines for them, against mpmath at 50 digits (mpmath ships
with SymPy) over z in [-40, 40], far past where Phi(z) underflows (-38.5) or rounds to 1 (8.3).
"""

import functools
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.calculus.stable_forms import (
    QUOTIENT_RULES,
    RULES,
    Rule,
    _u,
    check_rule,
    log_Phi,
    mills,
    stable_form,
)
from symgrad.code.render import render
from symgrad.code.verify import load_module
from symgrad.model.ops import Phi

ROOT = Path(__file__).resolve().parents[2]
GRID = np.concatenate([np.linspace(-40.0, 40.0, 16001),  # steps of 0.005
                       np.linspace(-5.001, -4.999, 21), np.linspace(-1e-3, 1e-3, 21)])
RTOL = 1e-12
TINY = 1e-300  # below this (subnormal or 0 in double) only the absolute error is asked


def _log_Phi_exact(z):
    z = mpmath.mpf(float(z))
    # log1p(-Phi(-z)) above 0: 50 digits of Phi(z) itself would round 1 - 1e-60 to 1
    return mpmath.log(mpmath.ncdf(z)) if z <= 0 else mpmath.log1p(-mpmath.ncdf(-z))


def _mills_exact(z):
    z = mpmath.mpf(float(z))
    return mpmath.npdf(z) / mpmath.ncdf(z)


def _assert_close(got, exact):
    exact = np.array([float(v) for v in exact])
    assert np.isfinite(got).all()
    big = np.abs(exact) > TINY
    rel = np.abs(got[big] - exact[big]) / np.abs(exact[big])
    assert rel.max() < RTOL, f"worst relative error {rel.max():.2e} at {GRID[big][rel.argmax()]}"
    assert np.abs(got[~big] - exact[~big]).max(initial=0.0) < TINY


@functools.cache
def probit():
    return render(symgrad.load(ROOT / "tests" / "catalogue" / "probit_regression.toml").derive())


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    path = tmp_path_factory.mktemp("probit") / "probit_regression.py"
    path.write_text(probit(), encoding="utf-8")
    return load_module(path)


def test_the_rules_are_proven_identities():
    assert all(check_rule(rule) for rule in RULES + QUOTIENT_RULES)
    wrong = Rule("log(1 - Phi(u)) = log_Phi(u)", sp.log(1 - Phi(_u)), log_Phi(_u))
    assert not check_rule(wrong)
    sign = QUOTIENT_RULES[1]
    assert not check_rule(Rule("sign", sign.lhs, -sign.rhs))


def test_the_probit_cost_and_gradient_are_rewritten():
    text = probit()
    assert "L = -Y * log_Phi(Z) - (1 - Y) * log_Phi(-Z)" in text
    assert "dZ = -Y * mills(Z) - (-1 + Y) * mills(-Z)" in text
    assert "def log_Phi(z):" in text and "def mills(z):" in text


def test_the_rewrite_is_found_not_special_cased():
    z, a, y, c = sp.symbols("z a y c", real=True)
    nodes = [(z, z), (a, Phi(z))]
    phi = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
    # the fraction as the derivation combines it, with a constant factor: split, then matched
    expr, rules = stable_form(c * phi * (y - a) / (a * (a - 1)), nodes)
    assert sp.expand(expr - c * (-y * mills(z) + (1 - y) * mills(-z))) == 0
    assert rules == tuple(rule.name for rule in QUOTIENT_RULES)
    # a division by Phi that no rule removes (no density above it) is kept as written
    assert stable_form(y / a, nodes) == (y / a, ())
    assert stable_form(phi * y / a**2, nodes) == (phi * y / a**2, ())
    # log(Phi(c*z)) under a log of its own: the argument is whatever the node holds
    expr, _ = stable_form(sp.log(Phi(c * z)), [(z, z)])
    assert expr == log_Phi(c * z)


def test_the_helpers_match_mpmath_from_minus_40_to_40(module):
    """log(Phi(z)) and phi(z)/Phi(z) to 1e-12, and finite everywhere on the grid."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got_log, got_mills = module.log_Phi(GRID), module.mills(GRID)
    _assert_close(got_log, [_log_Phi_exact(z) for z in GRID])
    _assert_close(got_mills, [_mills_exact(z) for z in GRID])


def test_the_helpers_take_scalars_infinities_and_nan(module):
    assert isinstance(module.log_Phi(-3.0), np.floating)
    assert module.mills(-50.0) == pytest.approx(float(_mills_exact(-50.0)), rel=RTOL)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        edges = np.array([-np.inf, np.inf, np.nan])
        log_values, mills_values = module.log_Phi(edges), module.mills(edges)
    assert log_values[0] == -np.inf and log_values[1] == 0.0 and np.isnan(log_values[2])
    assert mills_values[0] == np.inf and mills_values[1] == 0.0 and np.isnan(mills_values[2])


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_the_probit_module_is_finite_and_exact_from_minus_40_to_40(module, label):
    """Cost, dZ, dw and db of the generated module at z = w x + b = x on the grid, every example
    labelled ``label``, against mpmath: -log(Phi(z)) and -phi(z)/Phi(z) for label 1,
    -log(1 - Phi(z)) and phi(z)/(1 - Phi(z)) = phi(-z)/Phi(-z) for label 0."""
    X = GRID[None, :]
    Y = np.full_like(X, label)
    params = {"w": np.array([[1.0]]), "b": 0.0}
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        cost = module.compute_cost(params, X, Y)
        grads, _ = module.propagate(params, X, Y)
    sign = 1 if label else -1
    losses = [-_log_Phi_exact(sign * z) for z in GRID]
    dZ = [-sign * _mills_exact(sign * z) for z in GRID]
    m = X.shape[1]
    assert cost == pytest.approx(float(mpmath.fsum(losses) / m), rel=RTOL)
    _assert_close(grads["dZ"][0], dZ)
    dw = mpmath.fsum(mpmath.mpf(float(x)) * d for x, d in zip(GRID, dZ, strict=True)) / m
    assert grads["dw"][0, 0] == pytest.approx(float(dw), rel=1e-10)
    assert grads["db"] == pytest.approx(float(mpmath.fsum(dZ) / m), rel=1e-10)
    with np.errstate(all="ignore"):  # the formulas as written would not survive
        P = module.Phi(X)
        assert not np.isfinite(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P)))
