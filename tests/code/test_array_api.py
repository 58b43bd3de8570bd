"""The generated module on arrays of another library than NumPy, through the array API
standard: array-api-strict's arrays, which implement the standard and nothing else (no NumPy
dispatch, no silent conversion), must train, predict and step every optimiser to the same
numbers as NumPy arrays, and come back as array-api-strict arrays. Every catalogue model is
trained so in tests/catalogue, but those whose nodes call erf, Phi, log_Phi or mills
(math.erfc on each entry), which stay NumPy-only."""

from pathlib import Path

import numpy as np
import pytest

from symgrad.code.render import render_spec
from symgrad.code.verify import load_module

xs = pytest.importorskip("array_api_strict")
STRICT = type(xs.asarray(0.0))  # array-api-strict's array class

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "logistic_regression": ROOT / "derivations" / "logistic_regression.toml",
    "shallow_network": ROOT / "derivations" / "shallow_network.toml",
    "softmax_regression": ROOT / "derivations" / "softmax_regression.toml",
    "deep_network_l2": ROOT / "derivations" / "deep_network_l2.toml",
    "weighted_least_squares": ROOT / "tests" / "catalogue" / "weighted_least_squares.toml",
    "dropout_network": ROOT / "tests" / "catalogue" / "dropout_network.toml",
    "hinge_svm": ROOT / "tests" / "catalogue" / "hinge_svm.toml",
}
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xp")

    def get(name):
        path = folder / f"{name}.py"
        if not path.exists():
            path.write_text(render_spec(SPECS[name]), encoding="utf-8")
        return load_module(path)

    return get


def data(mod, name, m=24, seed=0):
    """(X, Y), or (inputs, labels) for a model with named inputs, of the kind it reads."""
    rng = np.random.default_rng(seed)
    if name == "weighted_least_squares":
        inputs = {"x": rng.normal(size=(3, m)), "wt": rng.uniform(0.5, 2.0, size=(1, m))}
        return inputs, {"y": rng.normal(size=(1, m))}
    X = rng.normal(size=(3, m))
    if name == "softmax_regression":
        return X, np.eye(4)[:, rng.integers(0, 4, m)]
    if name == "hinge_svm":
        return X, rng.choice([-1.0, 1.0], size=(1, m))
    return X, rng.integers(0, 2, size=(1, m)).astype(float)


def initial(mod, X, Y):
    """Parameters of N(0, 1) entries, biases too (no ReLU at its kink)."""
    rng = np.random.default_rng(1)
    if hasattr(mod, "HIDDEN_LAYERS"):
        params = mod.initialize_parameters([X.shape[0], 4, 3, Y.shape[0]], "zeros")
    else:
        params = mod.initialize_parameters({**mod.HIDDEN_SIZES, **mod.data_dims(X, Y)})
    return {key: rng.normal(size=np.shape(value)) if np.ndim(value) else float(rng.normal())
            for key, value in params.items()}


def strict(value):
    """value with every NumPy array made an array-api-strict array (floats stay floats)."""
    if isinstance(value, dict):
        return {key: strict(entry) for key, entry in value.items()}
    return xs.asarray(value) if isinstance(value, np.ndarray | np.generic) else value


def check_same(got, expected, what):
    """got (array-api-strict arrays, in dicts) holds expected's numbers (NumPy) to 1e-12."""
    if isinstance(expected, dict):
        assert got.keys() == expected.keys(), what
        for key in expected:
            check_same(got[key], expected[key], f"{what}[{key}]")
        return
    if np.ndim(expected) == 0:  # a float parameter, its gradient, a cost
        if type(expected) is not float:  # computed: an array of got's library
            assert isinstance(got, STRICT), f"{what}: {type(got).__name__}"
        assert float(got) == pytest.approx(float(expected), rel=1e-12, abs=1e-14), what
        return
    assert isinstance(got, STRICT), f"{what}: {type(got).__name__}, not an array-api-strict array"
    assert got.shape == expected.shape, what
    assert np.allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-14), what


@pytest.mark.parametrize("name", sorted(SPECS))
def test_forward_backward_and_the_cost_on_array_api_strict_arrays(module, name):
    mod = module(name)
    X, Y = data(mod, name)
    params = initial(mod, X, Y)
    cache = mod.forward(params, X)
    check_same(mod.forward(strict(params), strict(X)), cache, "forward")
    grads = mod.backward(params, cache, X, Y)
    check_same(mod.backward(strict(params), strict(cache), strict(X), strict(Y)), grads,
               "backward")
    cost = mod.cost_from_cache(params, cache, X, Y)
    got = mod.cost_from_cache(strict(params), strict(cache), strict(X), strict(Y))
    assert isinstance(got, STRICT)
    assert float(got) == pytest.approx(float(cost), rel=1e-12)
    got_grads, got_cost = mod.propagate(strict(params), strict(X), strict(Y))
    check_same(got_grads, mod.propagate(params, X, Y)[0], "propagate")
    assert got_cost == pytest.approx(mod.compute_cost(params, X, Y), rel=1e-12)
    check_same(mod.update_parameters(strict(params), strict(grads), 0.1),
               mod.update_parameters(params, grads, 0.1), "update_parameters")
    check_same(mod.predict(strict(params), strict(X)), mod.predict(params, X), "predict")
    if hasattr(mod, "predict_proba"):
        check_same(mod.predict_proba(strict(params), strict(X)),
                   mod.predict_proba(params, X), "predict_proba")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_training_on_array_api_strict_arrays(module, name, optimizer):
    """A few steps of each optimiser (Adam's state built by zeros_like): the NumPy run's
    parameters and costs, the parameters still array-api-strict arrays."""
    mod = module(name)
    X, Y = data(mod, name)
    params = initial(mod, X, Y)
    options = dict(num_iterations=4, learning_rate=0.05, optimizer=optimizer, cost_every=1)
    expected, expected_costs = mod.train(X, Y, params=params, **options)
    got, costs = mod.train(strict(X), strict(Y), params=strict(params), **options)
    assert costs == pytest.approx(expected_costs, rel=1e-12)
    check_same(got, expected, "params")


def test_float32_stays_float32_on_array_api_strict_arrays(module):
    """dtype=np.float32 names array-api-strict's float32 for its arrays: converted there.
    (initialize_parameters draws NumPy arrays: the caller converts them.)"""
    mod = module("shallow_network")
    X, Y = data(mod, "shallow_network")
    params = strict(initial(mod, X, Y))
    params, _ = mod.train(strict(X), strict(Y), num_iterations=3, params=params,
                          dtype=np.float32)
    assert all(value.dtype == xs.float32 for value in params.values())
    assert mod.predict_proba(params, xs.asarray(X, dtype=xs.float32)).dtype == xs.float32



@pytest.mark.parametrize("name", ["shallow_network", "deep_network_l2", "weighted_least_squares"])
def test_parameters_drawn_by_train_go_where_the_data_is(module, name):
    """train() without params draws them with NumPy (initialize_parameters) and moves them
    to the data's library before the first step: the same numbers as NumPy's training, and
    array-api-strict arrays back. (On a GPU this is what puts them on CuPy's device:
    benchmarks/code/gpu_check.py.)"""
    mod = module(name)
    X, Y = data(mod, name)
    options = dict(num_iterations=3, learning_rate=0.05, seed=4, cost_every=1)
    expected, expected_costs = mod.train(X, Y, **options)
    got, costs = mod.train(strict(X), strict(Y), **options)
    assert costs == pytest.approx(expected_costs, rel=1e-12)
    check_same(got, expected, "params")
