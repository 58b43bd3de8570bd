"""Generated code for a model with batch statistics: verified, and its docstring says how
predict() normalizes. train() returns, beside the parameters, the statistics of the whole
training set under the final parameters (course 2 week 3, "Batch Norm at test time": the
exact estimate), and forward() normalizes with the statistics params holds: predict() on one
example gives what it gives on that example within any batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.code.render import render
from symgrad.code.verify import load_module, verify

SPEC = Path(__file__).parents[1] / "catalogue" / "batchnorm_network.toml"




def test_verify(bn_layer):
    rows = verify(bn_layer().derive(), trials=2)
    assert rows and all(r.passed for r in rows), [r for r in rows if not r.passed]
    checked = {(r.gradient, r.reference) for r in rows}
    # dW has no per-example form: never compared with a mean of per-example derivatives
    assert ("dW", "symbolic, per example (mean)") not in checked
    assert ("dgamma1", "symbolic, per example (mean)") in checked
    assert ("dW", "finite differences of compute_cost") in checked


def test_code(bn_layer):
    code = symgrad.codegen(bn_layer().derive())
    assert "mu = xp.sum(Z, axis=1, keepdims=True) / m" in code
    words = " ".join(code.split())  # the docstring is wrapped
    assert "Batch statistics (mu, v)" in words
    assert "forward() normalizes with the statistics params holds, else with the batch's" in words
    assert 'STATISTIC_SHAPES = {\n    "mu": ("n", 1),\n    "v": ("n", 1),\n}' in code
    assert '    if "mu" in params:' in code


@pytest.fixture(scope="module")
def bn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bn")
    path = folder / "batchnorm_network.py"
    path.write_text(render(symgrad.load(SPEC).derive()), encoding="utf-8")
    return load_module(path)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 200)) * np.array([[1.0], [5.0], [0.2]]) + np.array([[2.0], [0], [-1]])
    Y = (X[:1] - 0.2 * X[1:2] > 2).astype(float)
    return X, Y


@pytest.fixture(scope="module")
def trained(bn, data):
    X, Y = data
    start = bn.initialize_parameters({"n_x": 3, "n_h": 5}, method="he", seed=1)
    params, _ = bn.train(X, Y, num_iterations=30, learning_rate=0.01, optimizer="adam",
                         mini_batch_size=32, params=start)
    assert not np.allclose(params["gamma1"], 1)
    return params


def test_a_scale_starts_at_1_and_everything_learns(bn, data):
    """gamma1 multiplies the data (gamma1*zhat1 + beta1): a scale, started at 1, as batch
    normalization starts (at 0, relu(beta1) = 0 and no gradient would reach W1, gamma1 or
    beta1); beta1 is a bias, at 0."""
    assert bn.SCALES == {"gamma1"} and "gamma1" not in bn.WEIGHTS
    start = bn.initialize_parameters({"n_x": 3, "n_h": 5}, method="he", seed=1)
    assert np.array_equal(start["gamma1"], np.ones((5, 1)))
    assert np.array_equal(start["beta1"], np.zeros((5, 1)))
    X, Y = data
    params, costs = bn.train(X, Y, num_iterations=20, learning_rate=0.05, seed=1,
                             cost_every=1, dims={"n_h": 5}, method="he")
    for name in ("W1", "gamma1", "beta1", "w2"):
        assert not np.allclose(params[name], start[name]), name
    assert costs[-1] < costs[0]


def test_train_stores_the_training_sets_statistics(bn, data, trained):
    X, _ = data
    assert set(trained) == set(bn.PARAMETER_SHAPES) | {"mu1", "var1"}
    Z1 = trained["W1"] @ X  # by hand: the statistics of the whole training set
    assert np.allclose(trained["mu1"], Z1.mean(axis=1, keepdims=True), rtol=1e-12)
    assert np.allclose(trained["var1"], Z1.var(axis=1, keepdims=True), rtol=1e-12)
    assert trained["mu1"].shape == trained["var1"].shape == (5, 1)
    # not the statistics of the last mini-batch: those differ
    last = trained["W1"] @ X[:, :32]
    assert not np.allclose(trained["mu1"], last.mean(axis=1, keepdims=True))


def test_one_example_is_predicted_as_within_a_batch(bn, data, trained):
    X, _ = data
    together = bn.predict_proba(trained, X)
    alone = np.hstack([bn.predict_proba(trained, X[:, j:j + 1]) for j in range(10)])
    assert np.allclose(alone, together[:, :10], rtol=1e-12)
    assert np.array_equal(bn.predict(trained, X[:, :1]), bn.predict(trained, X)[:, :1])
    # without the statistics, one example normalizes to beta1: every example alike
    bare = bn.without_statistics(trained)
    singles = [bn.predict_proba(bare, X[:, j:j + 1]).item() for j in range(3)]
    assert singles[0] == singles[1] == singles[2]
    assert not np.allclose(alone[0, :3], singles)


def test_training_continues_from_trained_params(bn, data, trained):
    X, Y = data
    params, costs = bn.train(X, Y, num_iterations=5, learning_rate=0.01, params=trained,
                             optimizer="momentum", mini_batch_size=50)
    assert set(params) == set(trained) and np.isfinite(costs).all()
    assert not np.allclose(params["W1"], trained["W1"])
    Z1 = params["W1"] @ X
    assert np.allclose(params["var1"], Z1.var(axis=1, keepdims=True), rtol=1e-12)
    # the gradients are the batch's: stored statistics are dropped, as train() drops them
    grads, cost = bn.propagate(trained, X[:, :20], Y[:, :20])
    bare_grads, bare_cost = bn.propagate(bn.without_statistics(trained), X[:, :20], Y[:, :20])
    assert cost == bare_cost and all(np.array_equal(grads[k], bare_grads[k]) for k in grads)
    assert bn.gradient_check(trained, X[:, :20], Y[:, :20]) < 2e-7


def test_validation_cost_uses_the_training_sets_statistics(bn, data, trained):
    X, Y = data
    history = {}
    params, _ = bn.train(X, Y, num_iterations=1, learning_rate=0.01, params=trained,
                         validation=(X[:, :7], Y[:, :7]), history=history)
    # recorded after the epoch's step, with the parameters that train() returns
    assert history["validation_costs"] == [bn.compute_cost(params, X[:, :7], Y[:, :7])]
    assert history["validation_costs"][0] != bn.compute_cost(
        bn.without_statistics(params), X[:, :7], Y[:, :7])


def test_save_and_predict_from_the_command_line(bn, data, tmp_path):
    X, Y = data
    np.savez(tmp_path / "train.npz", X=X, Y=Y)
    np.savez(tmp_path / "one.npz", X=X[:, 5:6])
    script, saved = Path(bn.__file__), tmp_path / "params.npz"
    run = lambda *args: subprocess.run([sys.executable, str(script), *args],  # noqa: E731
                                       capture_output=True, text=True, cwd=tmp_path)
    done = run("train", "--data", "train.npz", "--iterations", "20", "--mini-batch-size", "64",
               "--save", "params.npz", "--learning-rate", "0.01")
    assert done.returncode == 0, done.stderr
    params = bn.load_parameters(saved)
    assert set(params) == set(bn.PARAMETER_SHAPES) | {"mu1", "var1"}
    Z1 = params["W1"] @ X
    assert np.allclose(params["mu1"], Z1.mean(axis=1, keepdims=True), rtol=1e-12)
    one = run("predict", "--params", "params.npz", "--data", "one.npz")
    assert one.returncode == 0, one.stderr
    assert one.stdout.split() == [f"{bn.predict(params, X)[0, 5]:g}"]
    everything = run("predict", "--params", "params.npz", "--data", "train.npz")
    assert everything.stdout.split()[5] == one.stdout.strip()
    arrays = dict(np.load(saved))
    del arrays["var1"]
    np.savez(tmp_path / "old.npz", **arrays)
    refused = run("predict", "--params", "old.npz", "--data", "one.npz")
    assert refused.returncode == 2
    assert refused.stderr.endswith("no batch statistic var1, saved by train --save\n")
    arrays["var1"] = np.ones((3, 1))  # n_h is 4
    np.savez(tmp_path / "wrong.npz", **arrays)
    wrong = run("predict", "--params", "wrong.npz", "--data", "one.npz")
    assert wrong.returncode == 2
    assert wrong.stderr.endswith("wrong.npz: var1 has shape (3, 1), expected (4, 1)\n")
