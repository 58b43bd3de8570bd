"""Generated modules of models with several inputs or labels: dicts of arrays by the spec's
names (a lone array for the only one), their command line (a .npz file with one array per
input and label, each label checked against its domain), hyperparameters with defaults and
domains, and nodes computed from the label that backward needs."""

import functools
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.code.render import render
from symgrad.code.selfcheck import undefined_names
from symgrad.code.verify import load_module, relative_error

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "tests" / "catalogue"
EPSILON = 1e-6  # the finite-difference step

# Written for these tests: a count and a probability label, and a hyperparameter that forward()
# reads (inverted dropout's keep probability), with a half-open domain.
DROPOUT_COUNTS = """
name = "dropout_counts"
title = "Counts and class probabilities from a hidden layer with inverted dropout"

[dims]
n_x = "number of input features"
n_h = "number of hidden units"
k = "number of classes"

[inputs]
x = "vector(n_x)"
d = "binary(n_h)"

[labels]
c = "count"
p = "probability(k)"

[parameters]
W1 = "matrix(n_h, n_x)"
w2 = "vector(n_h)"
W3 = "matrix(k, n_h)"

[hyperparameters]
keep = { default = 0.8, domain = "(0, 1]", description = "keep probability" }

[graph]
h = "d * relu(W1 @ x) / keep"
z = "w2 @ h"
mu = "exp(z)"
s = "softmax(W3 @ h)"
L = "mu - c*z - sum(p*log(s))"

[cost]
J = "mean(L)"
"""
NAMED = ["dropout_mask", "contrastive_pair", "matrix_factorization", "dropout_counts"]


@functools.cache
def code(name):
    if name == "dropout_counts":
        return render(symgrad.loads(DROPOUT_COUNTS).derive())
    return render(symgrad.load(CATALOGUE / f"{name}.toml").derive())


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """name -> the path of the generated module, written once per test module."""
    folder = tmp_path_factory.mktemp("named")

    @functools.cache
    def get(name):
        path = folder / f"{name}.py"
        path.write_text(code(name), encoding="utf-8")
        return path

    return get


def data(name, rng, m=6):
    """(inputs, labels) for the model, inside their domains; every dimension is 3."""
    normal = functools.partial(rng.normal, size=(3, m))
    binary = lambda rows: rng.integers(0, 2, size=(rows, m)).astype(float)  # noqa: E731
    onehot = lambda: np.eye(3)[:, rng.integers(0, 3, size=m)]  # noqa: E731
    if name == "dropout_mask":
        return {"x": normal(), "d": binary(3)}, {"y": binary(1)}
    if name == "contrastive_pair":
        return {"x1": normal(), "x2": normal()}, {"y": binary(1)}
    if name == "matrix_factorization":
        return {"u": onehot(), "v": onehot()}, {"rating": rng.normal(size=(1, m))}
    counts = rng.integers(0, 4, size=(1, m)).astype(float)
    return {"x": normal(), "d": binary(3)}, {"c": counts, "p": rng.dirichlet(np.ones(3), m).T}


def parameters(mod, inputs, labels, rng):
    """Parameters of the data's sizes, N(0, 1) entries (0.01 would put relus near their kink)."""
    dims = {**{d: 3 for d in mod.HIDDEN_SIZES}, **mod.data_dims(inputs, labels)}
    params = mod.initialize_parameters(dims)
    return {k: float(rng.normal()) if type(v) is float else rng.normal(size=v.shape) / 2
            for k, v in params.items()}


def finite_differences(cost, params, name):
    """Central finite differences of cost(params) with respect to the parameter name."""
    base = np.asarray(params[name], dtype=float)
    estimate = np.zeros(base.shape)
    for index in np.ndindex(base.shape):
        step = np.zeros(base.shape)
        step[index] = EPSILON
        plus, minus = (cost({**params, name: base + s if base.ndim else float(base + s)})
                       for s in (step, -step))
        estimate[index] = (plus - minus) / (2 * EPSILON)
    return estimate


# ----- from Python -----


@pytest.mark.parametrize("name, inputs, labels", [
    ("dropout_mask", ("x", "d"), ("y",)),
    ("contrastive_pair", ("x1", "x2"), ("y",)),
    ("matrix_factorization", ("u", "v"), ("rating",)),
    ("dropout_counts", ("x", "d"), ("c", "p")),
    ("hinge_svm", ("x",), ("y",)),  # one input, one label: X and Y, and the names too
])
def test_inputs_and_labels_by_their_names_in_the_spec(generated, name, inputs, labels):
    mod = load_module(generated(name))
    assert mod.INPUTS == inputs and mod.LABELS == labels
    data = "(params, X)" if name == "hinge_svm" else "(params, inputs)"
    assert str(inspect.signature(mod.predict)) == data


def test_signatures(generated):
    mod = load_module(generated("contrastive_pair"))
    signatures = {
        "forward": "(params, inputs)",
        "cost_from_cache": "(params, cache, inputs, labels, marg=1.0)",
        "compute_cost": "(params, inputs, labels, marg=1.0)",
        "backward": "(params, cache, inputs, labels, marg=1.0)",
        "propagate": "(params, inputs, labels, marg=1.0)",
        "train": "(inputs, labels, num_iterations=2000, learning_rate=0.005, print_cost=False, "
                 "params=None, seed=0, dims=None, method='random', "
                 "dtype=None, marg=1.0, *, optimizer='gd', "
                 "mini_batch_size=None, beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-08, "
                 "learning_rate_decay=None, "
                 "decay_rate=1.0, time_interval=1000, validation=None, early_stopping=None, "
                 "tol=0.0001, cost_every=100, progress=False, history=None, technique='auto')",
        "predict": "(params, inputs)",
        "gradient_check": "(params, inputs, labels, marg=1.0, epsilon=1e-07)",
        "summary": "(params, inputs, labels, validation=None, name='train')",
    }
    for function, signature in signatures.items():
        assert str(inspect.signature(getattr(mod, function))) == signature, function
    counts = load_module(generated("dropout_counts"))  # forward reads keep
    assert str(inspect.signature(counts.forward)) == "(params, inputs, keep=0.8)"
    assert str(inspect.signature(counts.predict)) == "(params, inputs)"


@pytest.mark.parametrize("name", NAMED)
def test_gradients_agree_with_finite_differences(generated, name):
    mod = load_module(generated(name))
    rng = np.random.default_rng(NAMED.index(name))
    inputs, labels = data(name, rng)
    params = parameters(mod, inputs, labels, rng)
    grads = mod.backward(params, mod.forward(params, inputs), inputs, labels)
    for parameter in mod.PARAMETER_SHAPES:
        estimate = finite_differences(lambda p: mod.compute_cost(p, inputs, labels), params,
                                      parameter)
        assert np.shape(grads[f"d{parameter}"]) == np.shape(params[parameter])
        assert relative_error(grads[f"d{parameter}"], estimate) < 1e-6, parameter
    same, cost = mod.propagate(params, inputs, labels)
    assert cost == mod.compute_cost(params, inputs, labels) and type(cost) is float
    assert all(np.array_equal(same[k], grads[k]) for k in grads)


def test_a_lone_array_stands_for_the_only_label(generated):
    mod = load_module(generated("dropout_mask"))
    rng = np.random.default_rng(10)
    inputs, labels = data("dropout_mask", rng)
    params = parameters(mod, inputs, labels, rng)
    Y = labels["y"]
    assert mod.compute_cost(params, inputs, Y) == mod.compute_cost(params, inputs, labels)
    cache = mod.forward(params, inputs)
    lone, named = mod.backward(params, cache, inputs, Y), mod.backward(params, cache, inputs,
                                                                       labels)
    assert all(np.array_equal(lone[k], named[k]) for k in named)
    trained = [mod.train(inputs, y, num_iterations=3, seed=1)[0] for y in (Y, labels)]
    assert all(np.array_equal(trained[0][k], trained[1][k]) for k in trained[1])


def test_a_missing_array_is_a_ValueError_that_names_it(generated):
    mod = load_module(generated("dropout_mask"))
    rng = np.random.default_rng(11)
    inputs, labels = data("dropout_mask", rng)
    params = parameters(mod, inputs, labels, rng)
    with pytest.raises(ValueError, match=r"inputs: no array 'd'; expected x, d"):
        mod.forward(params, {"x": inputs["x"]})
    with pytest.raises(ValueError, match=r"inputs: no array 'x'"):
        mod.compute_cost(params, {"d": inputs["d"]}, labels)
    with pytest.raises(ValueError, match=r"labels: no array 'y'; expected y"):
        mod.propagate(params, inputs, {"Y": labels["y"]})
    with pytest.raises(ValueError, match=r"inputs: expected a dict of arrays x, d"):
        mod.predict(params, inputs["x"])  # two inputs: no lone array
    counts = load_module(generated("dropout_counts"))
    with pytest.raises(ValueError, match=r"labels: expected a dict of arrays c, p"):
        counts.train(*data("dropout_counts", rng)[:1], np.ones((1, 6)), num_iterations=1)


@pytest.mark.parametrize("name", ["dropout_mask", "matrix_factorization"])
def test_train_lowers_the_cost_and_predict_gives_one_column_per_example(generated, name):
    mod = load_module(generated(name))
    rng = np.random.default_rng(12)
    inputs, labels = data(name, rng, m=40)
    params, costs = mod.train(inputs, labels, num_iterations=201, learning_rate=0.5)
    assert len(costs) == 3 and costs[2] < costs[0]
    assert params.keys() == mod.PARAMETER_SHAPES.keys()
    prediction = mod.predict(params, inputs)
    assert prediction.shape == (1, 40)
    if name == "dropout_mask":  # a binary label: 0 or 1
        assert set(np.unique(prediction)) <= {0, 1}
    else:  # a real one: the model's output
        assert np.array_equal(prediction, mod.forward(params, inputs)["Z"])


# ----- hyperparameters: defaults and domains -----


def test_a_hyperparameters_default_is_used_where_none_is_passed(generated):
    mod = load_module(generated("contrastive_pair"))
    rng = np.random.default_rng(13)
    inputs, labels = data("contrastive_pair", rng)
    params = parameters(mod, inputs, labels, rng)
    cost = mod.compute_cost(params, inputs, labels)
    assert cost == mod.compute_cost(params, inputs, labels, marg=1.0)
    assert cost != mod.compute_cost(params, inputs, labels, marg=5.0)
    trained = [mod.train(inputs, labels, num_iterations=101, **marg)[1]
               for marg in ({}, {"marg": 1.0}, {"marg": 5.0})]
    assert trained[0] == trained[1] != trained[2]


def test_a_hyperparameter_that_forward_reads_is_a_keyword_of_forward(generated):
    mod = load_module(generated("dropout_counts"))
    rng = np.random.default_rng(14)
    inputs, labels = data("dropout_counts", rng)
    params = parameters(mod, inputs, labels, rng)
    H = mod.forward(params, inputs)["H"]
    assert np.array_equal(H, mod.forward(params, inputs, keep=0.8)["H"])
    assert np.allclose(mod.forward(params, inputs, keep=0.4)["H"], 2 * H)
    cost = mod.compute_cost(params, inputs, labels)
    assert cost == mod.compute_cost(params, inputs, labels, keep=0.8)
    grads = mod.backward(params, mod.forward(params, inputs, keep=0.4), inputs, labels,
                         keep=0.4)
    estimate = finite_differences(lambda p: mod.compute_cost(p, inputs, labels, keep=0.4),
                                  params, "W1")
    assert relative_error(grads["dW1"], estimate) < 1e-6


@pytest.mark.parametrize("name, option", [
    ("contrastive_pair", "--marg MARG margin; a number > 0; default 1.0"),
    ("dropout_counts", "--keep KEEP keep probability; a number in (0, 1]; default 0.8"),
    ("matrix_factorization", "--lambd LAMBD L2 penalty; a number >= 0; default 0.1"),
])
def test_the_help_gives_the_default_and_the_domain(generated, name, option):
    out = subprocess.run([sys.executable, generated(name), "train", "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and option in " ".join(out.stdout.split()), out.stdout


# ----- label nodes in backward -----


@pytest.mark.parametrize("name, line", [
    ("hinge_svm", "    T = -1 + 2 * Y\n"),
    ("label_smoothing", "    T = eps / 3 + Y * (1 - eps)\n"),
])
def test_backward_computes_the_label_nodes_it_reads(name, line, tmp_path):
    text = code(name)
    backward = text[text.index("def backward("):text.index("def propagate(")]
    assert line in backward and undefined_names(text) == []
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    mod = load_module(path)
    rng = np.random.default_rng(15)
    X = rng.normal(size=(3, 8))
    if name == "hinge_svm":
        Y = rng.integers(0, 2, size=(1, 8)).astype(float)
        params = {"w": rng.normal(size=(3, 1)), "b": 0.2}
    else:
        Y = np.eye(3)[:, rng.integers(0, 3, size=8)]
        params = {"W": rng.normal(size=(3, 3)), "b": rng.normal(size=(3, 1))}
    grads = mod.backward(params, mod.forward(params, X), X, Y)
    for parameter in params:
        estimate = finite_differences(lambda p: mod.compute_cost(p, X, Y), params, parameter)
        assert relative_error(grads[f"d{parameter}"], estimate) < 1e-6, parameter


# ----- the command line -----


@pytest.fixture
def counts_data(tmp_path):
    """The dropout_counts model's data as a .npz file, and the arrays."""
    inputs, labels = data("dropout_counts", np.random.default_rng(16), m=30)
    np.savez(tmp_path / "train.npz", **inputs, **labels)
    np.savez(tmp_path / "test.npz", **inputs)
    return {**inputs, **labels}


def test_train_then_predict(generated, counts_data, tmp_path):
    script = generated("dropout_counts")
    out = subprocess.run([sys.executable, script, "train", "--data", "train.npz",
                          "--iterations", "101", "--learning-rate", "0.05", "--keep", "0.5",
                          "--save", "p.npz"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Cost after iteration 0: ")
    assert "cost " in out.stdout and "saved the parameters to p.npz" in out.stdout
    params = load_module(script).load_parameters(tmp_path / "p.npz")
    assert {k: v.shape for k, v in params.items()} == {"W1": (3, 3), "w2": (3, 1),
                                                      "W3": (3, 3)}
    out = subprocess.run([sys.executable, script, "predict", "--params", "p.npz", "--data",
                          "test.npz"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    prediction = load_module(script).predict(params, {k: counts_data[k] for k in "xd"})
    assert prediction.shape == (3, 30)  # s, the output that the cost reads last
    assert np.allclose([float(v) for v in out.stdout.split()], prediction.ravel(), atol=1e-6)


def refused(generated, name, cwd, *argv):
    """stderr of the module's command line, which must refuse argv: one line, exit code 2."""
    out = subprocess.run([sys.executable, generated(name), *map(str, argv)],
                         capture_output=True, text=True, cwd=cwd)
    assert out.returncode == 2 and out.stdout == "", out
    assert out.stderr.count("\n") == 1 and f"{name}.py" in out.stderr, out.stderr
    return out.stderr


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("d"), "bad.npz: no array d (an input, shape (rows, m))"),
    (lambda a: a.pop("p"), "bad.npz: no array p (a label, shape (rows, m))"),
    (lambda a: a.update(d=a["d"][:, :29]), "bad.npz: d has 29 examples, not 30"),
    (lambda a: a.update(p=a["p"][:, :29]), "bad.npz: p has 29 examples, not 30"),
    (lambda a: a["c"].__setitem__((0, 3), -1.0), "bad.npz: c must hold a whole number >= 0"),
    (lambda a: a["c"].__setitem__((0, 3), 0.5), "bad.npz: c must hold a whole number >= 0"),
    (lambda a: a["p"].__setitem__((0, 3), a["p"][0, 3] + 0.25),
     "bad.npz: p must hold a probability vector (entries >= 0 summing to 1)"),
    (lambda a: a["x"].__setitem__((0, 0), np.nan), "bad.npz: x contains NaN or infinite"),
])
def test_bad_data_is_refused_in_one_line(generated, counts_data, tmp_path, change, message):
    arrays = {k: v.copy() for k, v in counts_data.items()}
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    err = refused(generated, "dropout_counts", tmp_path, "train", "--data", "bad.npz",
                  "--save", "never.npz")
    assert err.startswith("dropout_counts.py: error: ") and message in err, err
    assert not (tmp_path / "never.npz").exists()


def test_a_binary_label_of_2_is_refused(generated, tmp_path):
    inputs, labels = data("contrastive_pair", np.random.default_rng(17))
    labels["y"][0, 2] = 2.0
    np.savez(tmp_path / "bad.npz", **inputs, **labels)
    err = refused(generated, "contrastive_pair", tmp_path, "train", "--data", "bad.npz")
    assert err.endswith("error: bad.npz: y must hold 0 or 1\n"), err
    assert not (tmp_path / "params.npz").exists()


def test_named_modules_read_npz_files_only(generated, tmp_path):
    (tmp_path / "data.csv").write_text("1,2,3,1\n")
    err = refused(generated, "dropout_counts", tmp_path, "train", "--data", "data.csv")
    assert err.endswith("error: data.csv: expected a .npz file with arrays x, d, c, p\n"), err


@pytest.mark.parametrize("name, argv, message", [
    ("dropout_counts", ["--keep", "0"], "argument --keep: expected a number in (0.0, 1.0], "
                                        "not '0'"),
    ("dropout_counts", ["--keep", "1.5"], "expected a number in (0.0, 1.0], not '1.5'"),
    ("contrastive_pair", ["--marg", "-1"], "argument --marg: expected a number in (0.0, inf), "
                                           "not '-1'"),
    ("matrix_factorization", ["--lambd", "nan"], "argument --lambd: expected a finite number"),
])
def test_a_hyperparameter_outside_its_domain_is_refused(generated, tmp_path, name, argv,
                                                        message):
    err = refused(generated, name, tmp_path, "train", "--data", "train.npz", *argv)
    assert message in err, err


def test_a_model_without_labels_trains_on_its_inputs_alone(tmp_path):
    """The autoencoder reconstructs its input: no labels, LABELS == (), train(inputs) and a
    .npz of its inputs alone; predict() gives the reconstruction its loss reads."""
    d = symgrad.load(CATALOGUE / "autoencoder.toml").derive()
    script = tmp_path / "ae.py"
    script.write_text(render(d), encoding="utf-8")
    mod = load_module(script)
    assert (mod.INPUTS, mod.LABELS) == (("x",), ())
    assert list(inspect.signature(mod.train).parameters)[:2] == ["inputs", "labels"]
    assert inspect.signature(mod.train).parameters["labels"].default is None
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4, 40))
    params0 = mod.initialize_parameters({"n_x": 4, "n_h": 3}, "random", seed=1)
    before = mod.compute_cost(params0, {"x": X})
    params, costs = mod.train({"x": X}, num_iterations=201, learning_rate=0.5, params=params0)
    assert mod.compute_cost(params, {"x": X}) < before and len(costs) == 3
    assert mod.predict(params, {"x": X}).shape == (4, 40)
    grads = mod.backward(params, mod.forward(params, {"x": X}), {"x": X})
    estimate = finite_differences(lambda p: mod.compute_cost(p, {"x": X}), params, "W1")
    assert relative_error(grads["dW1"], estimate) < 1e-6
    np.savez(tmp_path / "d.npz", x=X)
    out = subprocess.run([sys.executable, script, "train", "--data", "d.npz", "--iterations",
                          "50", "--learning-rate", "0.5"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, script, "predict", "--params", "params.npz",
                          "--data", "d.npz"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and len(out.stdout.split()) == 4 * 40, out.stderr
