"""symgrad verify, and the generated modules checked further: against HIPS autograd, by training
on random data, and on a real data set (scikit-learn's breast-cancer data)."""

import functools
import inspect
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad import codegen
from symgrad.cli import main
from symgrad.verify import load_module, relative_error, verify

ROOT = Path(__file__).resolve().parent.parent
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
def test_verify_passes_on_every_spec(name, generated):
    rows = verify(derivation(name), trials=2, module=generated(name))
    assert all(row.passed for row in rows), [r for r in rows if not r.passed]
    model = derivation(name).model
    for v in model.parameters:
        references = {r.reference for r in rows if r.gradient == f"d{v.name}"}
        assert {"symbolic, over m examples", "finite differences of compute_cost"} <= references
        assert "symbolic, per example (mean)" in references
    assert any(r.reference == "symbolic, per example" for r in rows)


def test_verify_command(capsys, spec):
    assert main(["verify", str(spec("regularized_logistic")), "--trials", "1"]) == 0
    out = capsys.readouterr().out
    assert "finite differences of compute_cost" in out and "all pass" in out
    assert "FAIL" not in out


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
    dims = mod.data_dims(X, Y)
    dims.update({d: 3 for d in mod.HIDDEN_SIZES})
    params = mod.initialize_parameters(dims, method="random", seed=1)
    params = {k: (v * 50 if isinstance(v, np.ndarray) else v + 0.1) for k, v in params.items()}
    hyper = {h: 0.7 for h in list(inspect.signature(mod.compute_cost).parameters)[3:]}
    grads = mod.backward(params, mod.forward(params, X), X, Y, **hyper)
    mod.np = anp  # the same module, its NumPy traced by autograd
    try:
        expected = autograd.grad(
            lambda p: mod.cost_from_cache(p, mod.forward(p, X), X, Y, **hyper))(params)
    finally:
        mod.np = np
    for key, value in expected.items():
        assert relative_error(grads[f"d{key}"], value) < 1e-12, key


# ----- training -----


@pytest.mark.parametrize("name", TRAINABLE)
def test_training_lowers_the_cost(name, generated):
    mod = generated(name)
    X, Y = data(name, np.random.default_rng(11))
    _, costs = mod.train(X, Y, num_iterations=301, learning_rate=0.05)
    assert len(costs) == 4 and np.isfinite(costs).all()
    assert costs[-1] < costs[0], costs


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
