"""Batch normalization's backward pass, derived by symgrad over m examples, against sources
that owe nothing to symgrad.

The Deep Learning Specialization publishes no NumPy batch-normalization backward values
(course 2, week 3 is its TensorFlow tutorial; searched with the code-search tools for a
``batchnorm_backward`` with expected arrays), so the references are:

1. the backward equations of Ioffe & Szegedy 2015 ("Batch Normalization: Accelerating Deep
   Network Training by Reducing Internal Covariate Shift", section 3: dx_hat, d sigma^2, d mu,
   dx, d gamma, d beta), written by hand in NumPy below;
2. the ``autograd`` package (HIPS autograd) applied to a NumPy forward pass;
3. central finite differences of the same forward pass;

each to 1e-7 relative on seeded random data; and one small published example, from
repository akim42003/alexkode, path problems/04-deep-learning/11-batch-normalization/README.md
("Example 2": for x = [[1, 2], [3, 4], [5, 6]] (examples as rows), gamma = 1, beta = 0 and an
upstream gradient of ones, dgamma = [0, 0], dbeta = [3, 3], dx = 0).

The layer as a symgrad model: z = W x (W = I gives the layer's input), the statistics, the
normalized and scaled zt, and the loss L = sum(g * zt) whose derivative in zt is the upstream
gradient g ("dout"). Over m examples symgrad's dZ is m dJ/dZ = d(sum of the losses)/dZ, which is
the dx of the paper's per-batch loss; the statistics' dmu and dvar likewise.
"""

from __future__ import annotations

from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.calculus import numeric
from symgrad.model.graph import M, Model
from symgrad.model.ops import rowsum

TOLERANCE = 1e-7


def layer(eps=1e-5):
    return Model.build(
        "bn_layer", dims={"n": "features"},
        inputs={"x": "vector(n)", "g": "vector(n)"},
        parameters={"W": "matrix(n, n)", "gamma1": "vector(n)", "beta1": "vector(n)"},
        hyperparameters={"eps": {"default": eps, "domain": "positive"}},
        graph={"z": "W @ x", "mu": "batch_mean(z)", "v": "batch_mean((z - mu)**2)",
               "zh": "(z - mu)/sqrt(v + eps)", "zt": "gamma1*zh + beta1",
               "L": "sum(g*zt)"},
        cost={"J": "mean(L)"})


def symgrad_values(X, G, gamma, beta, eps):
    """symgrad's batch results at the data: dZ, dmu, dv, and m*dgamma, m*dbeta (the sums)."""
    d = layer(eps).derive()
    graph = d.batch_graph
    n, m = X.shape
    sizes = {sp.Symbol("n", positive=True, integer=True): n, M: m}
    env = {M: m, sp.Symbol("eps", real=True): eps}
    for name, value in {"X": X, "G": G, "W": np.eye(n), "gamma1": gamma,
                        "beta1": beta}.items():
        env[sp.Symbol(name, real=True)] = value
    full = numeric.with_adjoints(graph, d.batch_steps, numeric.forward(graph, env), sizes)
    value = {name: np.asarray(full[sp.Symbol(name, real=True)], dtype=float)
             for name in ("dZ", "dmu", "dv", "dgamma1", "dbeta1")}
    value["dgamma1"], value["dbeta1"] = m * value["dgamma1"], m * value["dbeta1"]
    return value


def ioffe_szegedy(X, dout, gamma, eps):
    """Section 3 of the paper, term by term (examples are columns here)."""
    m = X.shape[1]
    mu = X.mean(axis=1, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=1, keepdims=True)
    xhat = (X - mu) / np.sqrt(var + eps)
    dxhat = dout * gamma
    dvar = np.sum(dxhat * (X - mu), axis=1, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = (np.sum(dxhat, axis=1, keepdims=True) * -1 / np.sqrt(var + eps)
           + dvar * np.sum(-2 * (X - mu), axis=1, keepdims=True) / m)
    dx = dxhat / np.sqrt(var + eps) + dvar * 2 * (X - mu) / m + dmu / m
    return {"dZ": dx, "dmu": dmu, "dv": dvar,
            "dgamma1": np.sum(dout * xhat, axis=1, keepdims=True),
            "dbeta1": np.sum(dout, axis=1, keepdims=True)}


def batch_loss(X, G, gamma, beta, eps):
    """The sum over the batch of sum(g * y), y the layer's output (autograd's NumPy)."""
    mu = anp.mean(X, axis=1, keepdims=True)
    var = anp.mean((X - mu) ** 2, axis=1, keepdims=True)
    return anp.sum(G * (gamma * (X - mu) / anp.sqrt(var + eps) + beta))


def finite_difference(f, X, h=1e-5):
    out = np.zeros_like(X)
    for index in np.ndindex(*X.shape):
        step = np.zeros_like(X)
        step[index] = h
        out[index] = (f(X + step) - f(X - step)) / (2 * h)
    return out


def relative(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


@pytest.mark.parametrize("seed", [0, 1])
def test_backward_against_paper_autograd_and_finite_differences(seed):
    rng = np.random.default_rng(seed)
    n, m, eps = 3, 5, 1e-5
    X, G = rng.normal(size=(n, m)), rng.normal(size=(n, m))
    gamma, beta = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    ours = symgrad_values(X, G, gamma, beta, eps)
    paper = ioffe_szegedy(X, G, gamma, eps)
    for name in paper:
        assert relative(ours[name], paper[name]) < TOLERANCE, name
    by_autograd = autograd.grad(batch_loss, (0, 2, 3))(X, G, gamma, beta, eps)
    for name, value in zip(("dZ", "dgamma1", "dbeta1"), by_autograd, strict=True):
        assert relative(ours[name], value) < TOLERANCE, name
    numerical = finite_difference(lambda Z: batch_loss(Z, G, gamma, beta, eps), X)
    assert relative(ours["dZ"], numerical) < TOLERANCE


def test_published_example():
    """akim42003/alexkode, problems/04-deep-learning/11-batch-normalization/README.md,
    Example 2 (upstream gradient of ones: dgamma = [0, 0], dbeta = [3, 3], dx = 0)."""
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).T  # examples as columns
    ours = symgrad_values(X, np.ones((2, 3)), np.ones((2, 1)), np.zeros((2, 1)), 1e-5)
    np.testing.assert_allclose(ours["dbeta1"], [[3.0], [3.0]], rtol=TOLERANCE)
    np.testing.assert_allclose(ours["dgamma1"], [[0.0], [0.0]], atol=TOLERANCE)
    np.testing.assert_allclose(ours["dZ"], np.zeros((2, 3)), atol=TOLERANCE)


def test_three_term_form():
    """dZ comes out of the sweep and the simplifier in the three-term form, in node variables
    (dZh = gamma1*dZt): (dZh - sum(dZh)/m - Zh*sum(Zh*dZh)/m)/sqrt(v + eps)."""
    d = layer().derive()
    Zh, dZh, v, eps = sp.symbols("Zh dZh v eps", real=True)
    result = d.batch["dZ"].xreplace({d.batch["dZh"]: dZh})
    expected = (dZh - rowsum(dZh) / M - Zh * rowsum(Zh * dZh) / M) / sp.sqrt(v + eps)
    assert sp.simplify(result - expected) == 0, result
    assert sp.simplify(d.batch["dv"] + rowsum(Zh * dZh) / (2 * (eps + v))) == 0
    assert sp.simplify(d.batch["dmu"] + rowsum(dZh) / sp.sqrt(eps + v)) == 0


def test_no_per_example_form():
    d = layer().derive()
    assert sorted(d.no_per_example) == ["dW", "dz"]
    assert "dz" not in d.per_example and "dW" not in d.per_example
    assert {"dzt", "dzh", "dgamma1", "dbeta1"} <= set(d.per_example)
    assert d.to_json()["batch_statistics"] == ["mu", "v"]


def test_the_three_terms_print_with_names_only():
    """The catalogue's network: dZhat1 stays a name in every term, as it does inside the sums
    (its result is not written in beside its own name)."""
    d = symgrad.load(Path(__file__).parents[1] / "catalogue" / "batchnorm_network.toml").derive()
    assert d.to_json()["batch"]["dZ1"] == (
        "(dZhat1 - sum(dZhat1, axis=1)/m - Zhat1*sum(Zhat1*dZhat1, axis=1)/m)/sqrt(eps + var1)")
