"""symgrad verify, and the generated modules checked further: against HIPS autograd, by training
on random data, at several depths for a stack of layers, and on real data sets that ship with
scikit-learn (breast cancer, 8x8 digits, iris)."""

import functools
import inspect
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.cli.main import main
from symgrad.code import render as codegen
from symgrad.code.verify import load_module, relative_error, verify

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "derivations").glob("*.toml"))
TRAINABLE = [p.stem for p in SPECS if symgrad.load(p).loss is not None]


@functools.cache
def derivation(name):
    return symgrad.load(ROOT / "derivations" / f"{name}.toml").derive()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")

    @functools.cache
    def get(name):
        path = folder / f"{name}.py"
        path.write_text(codegen.render(derivation(name)), encoding="utf-8")
        return load_module(path)

    return get


def initial(mod, X, Y, seed=1):
    """Random parameters for the data: a stack of layers gets two hidden layers and biases
    away from 0 (at 0, a column of zeros would put a relu exactly on its kink)."""
    if hasattr(mod, "LAYER_PARAMETERS"):
        rng = np.random.default_rng(seed)
        params = mod.initialize_parameters([X.shape[0], 3, 2, Y.shape[0]], "random", seed)
        return {k: v + 0.01 * rng.normal(size=v.shape) for k, v in params.items()}
    dims = mod.data_dims(X, Y)
    dims.update({d: 3 for d in mod.HIDDEN_SIZES})
    return mod.initialize_parameters(dims, method="random", seed=seed)


def data(name, rng, n_x=3, m=64):
    """Random examples and labels from the model's label domain."""
    kind = codegen.build_context(derivation(name)).label.kind
    X = rng.normal(size=(n_x, m))
    if kind == "binary":
        Y = (X[:1] + 0.5 * X[1:2] + 0.3 * rng.normal(size=(1, m)) > 0).astype(float)
    elif kind == "onehot":
        Y = np.eye(3)[:, np.argmax(rng.normal(size=(3, n_x)) @ X, axis=0)]
    else:  # counts: valid for a real-valued and for a Poisson target
        Y = rng.poisson(np.exp(0.3 * X[:1])).astype(float)
    return X, Y


# ----- symgrad verify -----


@pytest.mark.parametrize("name", TRAINABLE)
@pytest.mark.slow
def test_verify_passes_on_every_spec(name, generated):
    rows = verify(derivation(name), trials=2, module=generated(name))
    assert all(row.passed for row in rows), [r for r in rows if not r.passed]
    model = derivation(name).model
    for v in model.parameters:
        references = {r.reference for r in rows if r.gradient == f"d{v.name}"}
        assert {"symbolic, over m examples", "finite differences of compute_cost"} <= references
        assert "symbolic, per example (mean)" in references
    if model.stack is None:  # a stack's backward returns its parameters' gradients alone
        assert any(r.reference == "symbolic, per example" for r in rows)


def test_verify_command(capsys, spec):
    assert main(["verify", str(spec("regularized_logistic")), "--trials", "1"]) == 0
    out = capsys.readouterr().out
    assert "finite differences of compute_cost" in out and "all pass" in out
    assert "FAIL" not in out


@pytest.mark.slow
def test_verify_fails_on_a_wrong_gradient(monkeypatch, capsys, spec):
    render = codegen.render

    def wrong(derivation):
        text = render(derivation)
        assert "    dw = X @ dZ.T / m\n" in text
        return text.replace("    dw = X @ dZ.T / m\n", "    dw = X @ dZ.T / m * 1.001\n")

    monkeypatch.setattr(codegen, "render", wrong)
    assert main(["verify", str(spec("logistic_regression")), "--trials", "1"]) == 1
    lines = capsys.readouterr().out.splitlines()
    failed = [line.split()[0] for line in lines if line.endswith("  FAIL")]
    assert failed == ["dw", "dw", "dw"]  # against both references
    assert lines[-1] == "3 of 9 comparisons FAIL"


@pytest.mark.slow
def test_verify_fails_on_a_wrong_hidden_layer(monkeypatch, capsys, spec):
    render = codegen.render

    def wrong(derivation):  # the loop forgets relu's derivative
        text = render(derivation)
        assert text.count("        dZ = dA * astype(Z > 0, Z.dtype)\n") == 1
        return text.replace("        dZ = dA * astype(Z > 0, Z.dtype)\n", "        dZ = dA\n")

    monkeypatch.setattr(codegen, "render", wrong)
    assert main(["verify", str(spec("deep_network")), "--trials", "1"]) == 1
    out = capsys.readouterr().out
    assert "checked at L = 1, 2, 3, 4" in out
    failed = {line.split()[0] for line in out.splitlines() if line.endswith("  FAIL")}
    assert failed == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}  # hidden layers of L = 2 .. 4;
    # J and dW4, db4 (the output layer of L = 4, where dW1 .. db3 all fail as well) are right


def test_verify_refuses_bad_input(capsys, spec):
    assert main(["verify", str(spec("computation_graph"))]) == 2
    assert main(["verify", str(spec("logistic_regression")), "--trials", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 2


def test_relative_error():
    assert relative_error([[1.0]], 1.0) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.0, 3.0]) == float("inf")
    assert relative_error([np.nan], [np.nan]) == float("inf")
    assert relative_error([1.0], [1.0 + 2e-6]) == pytest.approx(1e-6, rel=1e-3)


# ----- an independent automatic differentiation: HIPS autograd on the same cost -----


@pytest.mark.parametrize("name", TRAINABLE)
def test_backward_agrees_with_autograd(name, generated):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    mod = generated(name)
    rng = np.random.default_rng(7)
    X, Y = data(name, rng, m=6)
    params = initial(mod, X, Y)
    params = {k: (v * 50 if isinstance(v, np.ndarray) else v + 0.1) for k, v in params.items()}
    hyper = {h: 0.7 for h in list(inspect.signature(mod.compute_cost).parameters)[3:]}
    grads = mod.backward(params, mod.forward(params, X), X, Y, **hyper)
    numpy = mod.NUMPY
    mod.np = mod.NUMPY = anp  # the same module, its NumPy traced by autograd
    try:
        expected = autograd.grad(
            lambda p: mod.cost_from_cache(p, mod.forward(p, X), X, Y, **hyper))(params)
    finally:
        mod.np, mod.NUMPY = np, numpy
    assert expected.keys() == params.keys()
    for key, value in expected.items():
        assert relative_error(grads[f"d{key}"], value) < 1e-12, key


# ----- training -----


@pytest.mark.parametrize("name", TRAINABLE)
@pytest.mark.slow
def test_training_lowers_the_cost(name, generated):
    mod = generated(name)
    X, Y = data(name, np.random.default_rng(11))
    _, costs = mod.train(X, Y, num_iterations=301, learning_rate=0.05)
    assert len(costs) == 4 and np.isfinite(costs).all()
    assert costs[-1] < costs[0], costs


# ----- a stack of layers: one module, any depth -----


@pytest.mark.parametrize("depth", [2, 3, 5])
@pytest.mark.slow
def test_deep_network_trains_and_matches_the_unrolled_derivation(depth, generated):
    mod = generated("deep_network")
    model = derivation("deep_network").model
    rows = verify(model.unrolled(depth).derive(), trials=1, seed=depth, module=mod,
                  at_depths=(depth,))
    assert all(row.passed for row in rows), [r for r in rows if not r.passed]
    gradients = {row.gradient for row in rows}
    assert gradients == {"J"} | {f"d{p}{l}" for l in range(1, depth + 1) for p in "Wb"}
    X, Y = data("deep_network", np.random.default_rng(depth))
    layer_dims = [3, *[5] * (depth - 1), 1]
    params, costs = mod.train(X, Y, num_iterations=301, learning_rate=0.1, layer_dims=layer_dims)
    assert sorted(params) == sorted(f"{p}{l}" for l in range(1, depth + 1) for p in "Wb")
    assert [params[f"W{l}"].shape for l in range(1, depth + 1)] == list(
        zip(layer_dims[1:], layer_dims[:-1], strict=True))
    assert costs[-1] < 0.5 * costs[0], costs
    grads, _ = mod.propagate(params, X, Y)  # train(params=...) reads the depth from params
    again, _ = mod.train(X, Y, num_iterations=1, learning_rate=0.1, params=params)
    for key, value in params.items():
        assert np.allclose(again[key], value - 0.1 * grads[f"d{key}"])


# ----- real data that ships with scikit-learn -----


def split(features, labels, train_size, seed=0):
    """A shuffled train/held-out split, standardised by the training part; examples as
    columns."""
    order = np.random.default_rng(seed).permutation(len(labels))
    train, test = order[:train_size], order[train_size:]
    mean, std = features[train].mean(axis=0), features[train].std(axis=0)
    std[std == 0] = 1.0  # the digits' always-blank corner pixels
    return ((features[train] - mean) / std).T, labels[train], ((features[test] - mean) / std).T, \
        labels[test]


@pytest.mark.slow
def test_breast_cancer_held_out_accuracy(generated):
    datasets = pytest.importorskip("sklearn.datasets")
    features, labels = datasets.load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = order[:455], order[455:]
    mean, std = features[train].mean(axis=0), features[train].std(axis=0)
    X_train, X_test = ((features[train] - mean) / std).T, ((features[test] - mean) / std).T
    Y_train, Y_test = labels[train][None, :], labels[test][None, :]
    mod = generated("logistic_regression")
    params, costs = mod.train(X_train, Y_train, num_iterations=2000, learning_rate=0.1)
    accuracy = float(np.mean(mod.predict(params, X_test) == Y_test))
    assert costs[-1] < 0.1 and accuracy >= 0.95, (costs[-1], accuracy)


@pytest.mark.slow
def test_digits_softmax_held_out_accuracy(generated):
    datasets = pytest.importorskip("sklearn.datasets")
    features, labels = datasets.load_digits(return_X_y=True)  # 1797 8x8 images, 10 classes
    X_train, y_train, X_test, y_test = split(features, labels, 1347)
    mod = generated("softmax_regression")
    params, costs = mod.train(X_train, np.eye(10)[:, y_train], num_iterations=500,
                              learning_rate=1.0)
    accuracy = float(np.mean(mod.predict(params, X_test) == y_test))
    assert accuracy >= 0.95, (costs[-1], accuracy)  # measured: 0.982 on the 450 held out


def test_shallow_network_beats_a_line_on_iris(generated):
    # Versicolor against the other two irises, from the petals' length and width: versicolor's
    # petals are longer and wider than setosa's but shorter and narrower than virginica's, so
    # its examples lie in a band between the others and no single line (no logistic
    # regression) can cut them off; a tanh hidden layer can draw the band's two edges.
    datasets = pytest.importorskip("sklearn.datasets")
    features, labels = datasets.load_iris(return_X_y=True)
    X_train, y_train, X_test, y_test = split(features[:, 2:], (labels == 1).astype(float), 100)
    accuracy = {}
    for name in ("logistic_regression", "shallow_network"):
        mod = generated(name)
        params, _ = mod.train(X_train, y_train[None, :], num_iterations=3000, learning_rate=1.0)
        accuracy[name] = float(np.mean(mod.predict(params, X_test) == y_test))
    # measured on the 50 held out: shallow network 0.96, logistic regression 0.64 (no better
    # than always answering "not versicolor", which is right for 0.66 of them)
    assert accuracy["shallow_network"] >= 0.9, accuracy
    assert accuracy["logistic_regression"] <= 0.75, accuracy
