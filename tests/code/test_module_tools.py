"""The generated module's tools beside training: gradient_check, predict_proba, scores and
summary, float32 end to end, and arrays that live elsewhere (a GPU's) through NumPy's dispatch
(other libraries' arrays, through the array API standard: test_array_api.py).
"""

from pathlib import Path

import numpy as np
import pytest

from symgrad.code.verify import load_module

CATALOGUE = sorted((Path(__file__).resolve().parents[1] / "catalogue").glob("*.toml"))
MODELS = ("logistic_regression", "softmax_regression", "shallow_network", "deep_network",
          "deep_network_l2", "poisson_regression", "linear_regression")


@pytest.fixture(scope="module")
def module(generated_script):
    return lambda name: load_module(generated_script(name))


def data(name, m=20, seed=0):
    """X (3, m) and labels of the kind the model reads."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3, m))
    if name == "softmax_regression":
        return X, np.eye(4)[:, rng.integers(0, 4, m)]
    if name == "linear_regression":
        return X, rng.normal(size=(1, m))
    if name == "poisson_regression":
        return X, rng.integers(0, 5, size=(1, m)).astype(float)
    return X, rng.integers(0, 2, size=(1, m)).astype(float)


def parameters(mod, X, Y, seed=1):
    """Every parameter entry drawn from N(0, 1), biases too: no ReLU sits at its kink."""
    rng = np.random.default_rng(seed)
    if hasattr(mod, "HIDDEN_LAYERS"):
        params = mod.initialize_parameters([X.shape[0], 4, 3, Y.shape[0]], "zeros")
    else:
        params = mod.initialize_parameters({**mod.HIDDEN_SIZES, **mod.data_dims(X, Y)})
    return {name: rng.normal(size=np.shape(value)) if np.ndim(value) else float(rng.normal())
            for name, value in params.items()}


# ----- gradient_check


def test_gradient_check_on_the_courses_test_case(module, capsys):
    """Course 2, week 1, "Gradient Checking": gradient_check_n_test_case() (testCases.py:
    np.random.seed(1); x = randn(4, 3), y = [1, 1, 0], then W1 (5, 4), b1, W2 (3, 5), b2,
    W3 (1, 3), b3 drawn by randn) on LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID.
    The notebook, its deliberate bugs removed, prints "Your backward propagation works
    perfectly fine! difference = 1.1890913023330276e-07": below its threshold 2e-7. Source:
    repository amanchadha/coursera-deep-learning-specialization, "C2 - Improving Deep Neural
    Networks Hyperparameter tuning, Regularization and Optimization/Week 1/Gradient
    Checking/Gradient Checking v1.ipynb" and testCases.py beside it. The module's cost is
    computed in its stable form (softplus), so its difference is smaller still."""
    deep = module("deep_network")
    rng = np.random.RandomState(1)
    x, y = rng.randn(4, 3), np.array([[1.0, 1.0, 0.0]])
    shapes = {"W1": (5, 4), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}
    params = {name: rng.randn(*shape) for name, shape in shapes.items()}
    difference = deep.gradient_check(params, x, y)
    assert difference < 2e-7
    assert f"difference {difference:.3g} (backward() agrees)" in capsys.readouterr().out


@pytest.mark.parametrize("name", MODELS)
def test_gradient_check_passes_and_catches_a_wrong_gradient(module, name, monkeypatch, capsys):
    mod = module(name)
    X, Y = data(name)
    params = parameters(mod, X, Y)
    assert mod.gradient_check(params, X, Y) < 2e-7
    backward = mod.backward

    def wrong(*args, **kwargs):  # one gradient entry off by 1 %
        grads = dict(backward(*args, **kwargs))
        key = "dW1" if "dW1" in grads else "dw" if "dw" in grads else "dW"
        grads[key] = grads[key] * np.where(np.arange(np.size(grads[key])) == 0, 1.01, 1.0
                                           ).reshape(np.shape(grads[key]))
        return grads

    monkeypatch.setattr(mod, "backward", wrong)
    assert mod.gradient_check(params, X, Y) > 2e-7
    assert "a gradient may be wrong" in capsys.readouterr().out


# ----- predict_proba, scores, summary


def test_predict_proba_is_the_models_probability(module):
    logreg, softmax = module("logistic_regression"), module("softmax_regression")
    X, Y = data("logistic_regression")
    params = parameters(logreg, X, Y)
    z = params["w"].T @ X + params["b"]
    assert np.allclose(logreg.predict_proba(params, X), 1 / (1 + np.exp(-z)), rtol=1e-14)
    assert np.array_equal(logreg.predict(params, X), (1 / (1 + np.exp(-z)) > 0.5).astype(int))
    X, Y = data("softmax_regression")
    params = parameters(softmax, X, Y)
    p = softmax.predict_proba(params, X)
    z = params["W"] @ X + params["b"]
    assert np.allclose(p, np.exp(z) / np.exp(z).sum(axis=0), rtol=1e-14)
    assert np.array_equal(softmax.predict(params, X), p.argmax(axis=0)[None])


def test_a_score_is_no_probability(module):
    """The hinge SVM's output is a score (threshold 0): no predict_proba."""
    from symgrad.code.render import render_spec

    from .conftest import ROOT
    assert "def predict_proba" not in render_spec(ROOT / "tests/catalogue/hinge_svm.toml")
    assert not hasattr(module("linear_regression"), "predict_proba")


def test_scores_and_summary_on_train_and_validation(module):
    mod = module("logistic_regression")
    X, Y = data("logistic_regression", m=40)
    Xv, Yv = data("logistic_regression", m=10, seed=5)
    params = parameters(mod, X, Y)
    scores = mod.scores(params, X, Y)
    assert scores == {"accuracy": float(np.mean(mod.predict(params, X) == Y)),
                      "cost": mod.compute_cost(params, X, Y)}
    validation = mod.scores(params, Xv, Yv)
    text = mod.summary(params, X, Y, validation=(Xv, Yv))
    assert text == (f"train: accuracy {scores['accuracy']:.6g}, cost {scores['cost']:.6g}\n"
                    f"validation: accuracy {validation['accuracy']:.6g}, "
                    f"cost {validation['cost']:.6g}")
    assert mod.summary(params, X, Y).count("\n") == 0
    linear = module("linear_regression")
    X, Y = data("linear_regression")
    params = parameters(linear, X, Y)
    error = float(np.mean((linear.predict(params, X) - Y) ** 2))
    assert linear.scores(params, X, Y) == {"mean squared error": error,
                                           "cost": linear.compute_cost(params, X, Y)}


# ----- float32


@pytest.mark.parametrize("name", MODELS)
def test_float32_stays_float32(module, name):
    mod = module(name)
    X, Y = data(name)
    params, costs = mod.train(X, Y, num_iterations=101, learning_rate=0.01, dtype=np.float32)
    arrays = [value for value in params.values() if np.ndim(value)]
    assert arrays and all(value.dtype == np.float32 for value in arrays), params
    assert all(np.asarray(value).dtype == np.float32 for value in params.values()
               if not isinstance(value, float))  # a float parameter is NumPy's weak scalar
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    cache = mod.forward(params, X32)
    grads = mod.backward(params, cache, X32, Y32)
    for values in (cache, grads):
        for key, value in values.items():
            assert np.asarray(value).dtype == np.float32, key
    assert np.asarray(mod.cost_from_cache(params, cache, X32, Y32)).dtype == np.float32
    reference, costs64 = mod.train(X, Y, num_iterations=101, learning_rate=0.01)
    assert costs == pytest.approx(costs64, rel=1e-4)


@pytest.mark.parametrize("name", ["logistic_regression", "deep_network"])
def test_the_dtype_follows_the_data(module, name):
    """With no dtype, float32 data trains in float32 (no upcast at every product, issue 16)
    and anything else in float64; dtype= still decides when given."""
    mod = module(name)
    X, Y = data(name)
    trained, _ = mod.train(X.astype(np.float32), Y, num_iterations=3)
    assert {value.dtype for value in trained.values() if np.ndim(value)} == {np.dtype("float32")}
    for given in (X.round().astype(np.int64), X):
        trained, _ = mod.train(given, Y, num_iterations=3)
        assert {v.dtype for v in trained.values() if np.ndim(v)} == {np.dtype("float64")}
    trained, _ = mod.train(X.astype(np.float32), Y, num_iterations=3, dtype=np.float64)
    assert {v.dtype for v in trained.values() if np.ndim(v)} == {np.dtype("float64")}


def test_the_command_line_keeps_float32_data(generated_script, files, run):
    mod = load_module(generated_script("shallow_network"))
    with np.load(files / "train.npz") as arrays:
        np.savez(files / "train32.npz", X=arrays["X"].astype(np.float32), Y=arrays["Y"])
    for data_file, expected in (("train32.npz", np.float32), ("train.npz", np.float64)):
        saved = files / f"from-{data_file}"
        code, out, err = run(mod, "train", "--data", str(files / data_file), "--iterations",
                             "5", "--save", str(saved))
        assert code == 0, err
        with np.load(saved) as arrays:
            assert {arrays[name].dtype for name in arrays.files} == {np.dtype(expected)}


def test_the_command_lines_dtype(generated_script, files, run):
    mod = load_module(generated_script("shallow_network"))
    saved = files / "params.npz"
    code, out, err = run(mod, "train", "--data", str(files / "train.npz"), "--iterations", "5",
                         "--dtype", "float32", "--save", str(saved))
    assert code == 0, err
    with np.load(saved) as arrays:
        assert {arrays[name].dtype for name in arrays.files} == {np.dtype(np.float32)}
    code, out, err = run(mod, "train", "--data", str(files / "train.npz"), "--dtype", "half")
    assert code == 2 and "--dtype: invalid choice: 'half'" in err


# ----- arrays that live elsewhere


class DeviceArray(np.lib.mixins.NDArrayOperatorsMixin):
    """An array that lives elsewhere, as a CuPy array lives on a GPU: NumPy's functions and
    operators dispatch to it (__array_ufunc__, __array_function__), a copy into a NumPy array
    (a copy to the host) raises, and float() (a transfer of one number) is counted."""

    transfers = 0

    def __init__(self, data):
        self.data = data

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    T = property(lambda self: DeviceArray(self.data.T))

    def astype(self, dtype, copy=True):
        return DeviceArray(self.data.astype(dtype, copy=copy))

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("an array was copied to the host")

    def __float__(self):
        DeviceArray.transfers += 1
        return float(self.data)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs)))

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))


def _unwrap(value):
    if isinstance(value, DeviceArray):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return DeviceArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    return value


@pytest.mark.parametrize("name", ["logistic_regression", "softmax_regression",
                                  "shallow_network", "deep_network_l2"])
def test_training_stays_on_the_arrays_device(module, name):
    """train() and predict() on arrays that refuse to be copied to the host: the same numbers
    as on NumPy arrays, and one float() per recorded cost, at the end, not one per step."""
    mod = module(name)
    X, Y = data(name)
    expected, expected_costs = mod.train(X, Y, num_iterations=201, learning_rate=0.05)
    DeviceArray.transfers = 0
    params, costs = mod.train(DeviceArray(X), DeviceArray(Y), num_iterations=201,
                              learning_rate=0.05)
    assert DeviceArray.transfers == len(costs) == 3
    assert costs == pytest.approx(expected_costs, rel=1e-12)
    for key, value in expected.items():
        assert np.allclose(_unwrap(params[key]), value, rtol=1e-12, atol=0), key
    assert np.array_equal(_unwrap(mod.predict(params, DeviceArray(X))),
                          mod.predict(expected, X))


# ----- float32 across the catalogue

@pytest.mark.parametrize("path", CATALOGUE, ids=[p.stem for p in CATALOGUE])
def test_every_catalogue_model_trains_in_float32(path, tmp_path):
    """Two steps in float32 from the same parameters as two in float64: every parameter array
    stays float32 (no constant, helper or scalar upcasts it), and the costs agree."""
    module, data, params0, hyper = catalogue_case(path, tmp_path)
    kwargs = dict(num_iterations=2, learning_rate=0.01, **hyper)
    params, costs = module.train(*data, params=dict(params0), dtype=np.float32, **kwargs)
    _, costs64 = module.train(*data, params=dict(params0), **kwargs)
    upcast = [name for name, value in params.items()
              if type(value) is not float and np.asarray(value).dtype != np.float32]
    assert not upcast
    assert costs[0] == pytest.approx(costs64[0], rel=1e-4)


def catalogue_case(path, folder):
    """The generated module of a catalogue spec, its data (X, Y or dicts), parameters from
    N(0, 0.1) and the hyperparameters' defaults, drawn as tests/catalogue draws them."""
    import inspect

    import sympy as sp

    import symgrad
    from symgrad.model.graph import M
    from tests.catalogue import test_catalogue as catalogue

    d = catalogue.derived(path)
    model = d.model
    file = folder / f"{model.name}.py"
    file.write_text(symgrad.codegen(d), encoding="utf-8")
    module = load_module(file)
    rng = np.random.default_rng(1)
    sizes = {**{sp.Symbol(n, positive=True, integer=True): catalogue.SIZE for n in model.dims},
             M: catalogue.EXAMPLES}
    sizes.update(catalogue.sizes_of(d.batch_graph, catalogue.EXAMPLES))
    arrays = catalogue.draw_arrays(model, rng, sizes, catalogue.EXAMPLES)
    params0 = catalogue.draw_parameters(model, rng, sizes, 0.1)
    hyper = {v.name: v.default for v in model.hyperparameters}
    labels = {name: arrays[name] for name in module.LABELS}
    inputs = {name: arrays[name] for name in module.INPUTS + getattr(module, "CONSTANTS", ())}
    first = next(iter(inspect.signature(module.train).parameters))
    if len(inputs) == 1 and len(labels) == 1 and first == "X":
        data = (next(iter(inputs.values())), next(iter(labels.values())))
    else:
        data = (inputs, labels)
    return module, data, params0, hyper
