"""Generated code for a model with batch statistics: verified, and its docstring says how
predict() normalizes."""

from __future__ import annotations

import symgrad
from symgrad.code.verify import verify
from symgrad.model.graph import Model


def layer():
    return Model.build(
        "bn_layer", dims={"n": "features"}, inputs={"x": "vector(n)", "g": "vector(n)"},
        parameters={"W": "matrix(n, n)", "gamma1": "vector(n)", "beta1": "vector(n)"},
        hyperparameters={"eps": {"default": 1e-5, "domain": "positive"}},
        graph={"z": "W @ x", "mu": "batch_mean(z)", "v": "batch_mean((z - mu)**2)",
               "zh": "(z - mu)/sqrt(v + eps)", "zt": "gamma1*zh + beta1", "L": "sum(g*zt)"},
        cost={"J": "mean(L)"})


def test_verify():
    rows = verify(layer().derive(), trials=2)
    assert rows and all(r.passed for r in rows), [r for r in rows if not r.passed]
    checked = {(r.gradient, r.reference) for r in rows}
    # dW has no per-example form: never compared with a mean of per-example derivatives
    assert ("dW", "symbolic, per example (mean)") not in checked
    assert ("dgamma1", "symbolic, per example (mean)") in checked
    assert ("dW", "finite differences of compute_cost") in checked


def test_code():
    code = symgrad.codegen(layer().derive())
    assert "mu = xp.sum(Z, axis=1, keepdims=True) / m" in code
    words = " ".join(code.split())  # the docstring is wrapped
    assert "Batch statistics (mu, v)" in words
    assert "predict() normalizes with the statistics of the batch it is given" in words
    assert "no running averages are kept" in words
