"""symgrad codegen: the generated module's text (golden files, determinism, ruff, imports) and
its behaviour (names, shapes, the cache, training, numerical stability)."""

import ast
import functools
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.calculus.stable_forms import RULES, Rule, _u, check_rule, logsumexp
from symgrad.cli.main import main
from symgrad.code.render import render
from symgrad.code.verify import load_module, verify
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
SPECS = sorted((ROOT / "derivations").glob("*.toml"))
TRAINABLE = [p.stem for p in SPECS if symgrad.load(p).loss is not None]
CATALOGUE = sorted((ROOT / "tests" / "catalogue").glob("*.toml"))
# the catalogue's specs with golden files too, in folders catalogue-<spec> (tests/regen_golden.py)
GOLDEN_CATALOGUE = ["dropout_mask", "hinge_svm"]


@functools.cache
def derivation(name):
    return symgrad.load(ROOT / "derivations" / f"{name}.toml").derive()


@functools.cache
def code(name):
    return render(derivation(name))


@functools.cache
def catalogue_code(name):
    return render(symgrad.load(ROOT / "tests" / "catalogue" / f"{name}.toml").derive())


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """name -> the generated module, imported from its file."""
    folder = tmp_path_factory.mktemp("generated")

    @functools.cache
    def get(name):
        path = folder / f"{name}.py"
        path.write_text(code(name), encoding="utf-8")
        return load_module(path)

    return get


# ----- the text -----


@pytest.mark.parametrize("name", TRAINABLE + [f"catalogue-{n}" for n in GOLDEN_CATALOGUE])
@pytest.mark.slow
def test_golden_file(name):
    golden = GOLDEN / name / "train.py"
    assert golden.exists(), "no golden file: run python -m tests.regen_golden"
    text = (catalogue_code(name.removeprefix("catalogue-")) if name.startswith("catalogue-")
            else code(name))
    assert text.encode("utf-8") == golden.read_bytes(), (
        f"{golden} differs from the generator's output; if the change is intended, run "
        "python -m tests.regen_golden and review the diff")


def test_no_stale_golden_files():
    assert sorted(p.parent.name for p in GOLDEN.glob("*/train.py")) == sorted(
        TRAINABLE + [f"catalogue-{name}" for name in GOLDEN_CATALOGUE])


@pytest.mark.slow
def test_same_bytes_in_a_fresh_process():
    script = ("import sys; from symgrad.code.render import render_spec; "
              "sys.stdout.buffer.write(render_spec(sys.argv[1]).encode())")
    for name, seed in (("logistic_regression", "1"), ("softmax_regression", "12345"),
                       ("deep_network", "777")):
        out = subprocess.run([sys.executable, "-c", script,
                              str(ROOT / "derivations" / f"{name}.toml")],
                             capture_output=True, check=True, cwd=ROOT,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.stdout == code(name).encode("utf-8")
    out = subprocess.run([sys.executable, "-c", script,
                          str(ROOT / "tests" / "catalogue" / "dropout_mask.toml")],
                         capture_output=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONHASHSEED": "4242"})
    assert out.stdout == catalogue_code("dropout_mask").encode("utf-8")


def _ruff():
    if shutil.which("ruff"):
        return ["ruff"]
    try:
        import ruff  # noqa: F401
    except ImportError:
        pytest.skip("ruff is not installed")
    return [sys.executable, "-m", "ruff"]


def test_ruff_format_and_check_are_clean(tmp_path):
    for name in TRAINABLE:
        (tmp_path / f"{name}.py").write_text(code(name), encoding="utf-8")
    _check_ruff(tmp_path)


@pytest.mark.slow
def test_the_catalogues_modules_are_ruff_clean(tmp_path):
    """Every statement fits in 88 columns: a long one names its largest parts first
    (rnn_unrolled's db, focal loss's dP), so that ruff format has nothing to break."""
    for spec in CATALOGUE:
        (tmp_path / f"{spec.stem}.py").write_text(catalogue_code(spec.stem), encoding="utf-8")
    _check_ruff(tmp_path)


def _check_ruff(folder):
    ruff = _ruff()
    project = ["--config", str(ROOT / "pyproject.toml")]
    for command in (["format", "--check", "--isolated"], ["format", "--check", *project],
                    ["check", "--isolated"], ["check", *project]):
        out = subprocess.run([*ruff, *command, "--no-cache", str(folder)],
                             capture_output=True, text=True)
        assert out.returncode == 0, f"ruff {' '.join(command)}:\n{out.stdout}{out.stderr}"


@pytest.mark.parametrize("name", TRAINABLE)
def test_imports_only_numpy_and_the_standard_library(name):
    imported = set()
    for node in ast.walk(ast.parse(code(name))):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - sys.stdlib_module_names == {"numpy"}


def test_docstring_states_the_model_and_each_gradient_line_its_formula():
    text = code("logistic_regression")
    doc = ast.get_docstring(ast.parse(text))
    assert "a = sigmoid(z)" in doc and "L = -y*log(a) - (1 - y)*log(1 - a)" in doc
    assert "dZ = A - Y" in doc
    lines = text.splitlines()
    lines = lines[lines.index("def backward(params, cache, X, Y):"):]
    for target in ("dZ", "dw", "db"):
        i = next(i for i, line in enumerate(lines) if line.startswith(f"    {target} = "))
        assert lines[i - 1].startswith(f"    # {target} = "), lines[i - 1]


def test_a_model_without_examples_has_no_training_code(spec):
    with pytest.raises(SpecError, match="no examples"):
        render(symgrad.load(spec("computation_graph")).derive())


def test_names_that_the_module_uses_are_refused():
    text = (ROOT / "derivations" / "logistic_regression.toml").read_text()
    with pytest.raises(SpecError, match="'cache' is taken"):
        render(symgrad.loads(text.replace('b = "scalar"', 'cache = "scalar"')
                             .replace("w @ x + b", "w @ x + cache")).derive())


def test_inputs_with_other_names_become_X_and_Y(tmp_path):
    text = (ROOT / "derivations" / "logistic_regression.toml").read_text()
    text = (text.replace('x = "vector(n_x)"', 'u = "vector(n_x)"').replace("w @ x", "w @ u")
            .replace('y = "binary"', 't = "binary"')
            .replace("-(y*log(a) + (1 - y)", "-(t*log(a) + (1 - t)"))
    d = symgrad.loads(text).derive()
    source = render(d)
    assert "Z = b + w.T @ X" in source and "dZ = A - Y" in source
    from symgrad.code.verify import verify

    assert all(row.passed for row in verify(d, trials=1))


# ----- the behaviour -----


def test_signatures(generated):
    mod = generated("logistic_regression")
    signatures = {
        "initialize_parameters": "(dims, method='zeros', seed=0, scale=0.01, "
                                 "dtype=<class 'numpy.float64'>)",
        "forward": "(params, X)",
        "compute_cost": "(params, X, Y)",
        "backward": "(params, cache, X, Y)",
        "propagate": "(params, X, Y)",
        "update_parameters": "(params, grads, learning_rate)",
        "train": "(X, Y, num_iterations=2000, learning_rate=0.005, print_cost=False, "
                 "params=None, seed=0, dims=None, method='zeros', "
                 "dtype=None, *, optimizer='gd', mini_batch_size=None, "
                 "beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-08, learning_rate_decay=None, "
                 "decay_rate=1.0, time_interval=1000, validation=None, early_stopping=None, "
                 "tol=0.0001, cost_every=100, progress=False, history=None, technique='auto')",
        "predict": "(params, X)",
        "predict_proba": "(params, X)",
        "gradient_check": "(params, X, Y, epsilon=1e-07)",
        "summary": "(params, X, Y, validation=None, name='train')",
    }
    for function, signature in signatures.items():
        assert str(inspect.signature(getattr(mod, function))) == signature
    reg = generated("regularized_logistic")
    for function in ("compute_cost", "backward", "propagate", "train"):
        parameter = inspect.signature(getattr(reg, function)).parameters["lambd"]
        assert parameter.default == 0.0


def test_shapes_and_types(generated):
    mod = generated("logistic_regression")
    params = mod.initialize_parameters({"n_x": 3})
    assert params["w"].shape == (3, 1) and not params["w"].any()
    assert type(params["b"]) is float and params["b"] == 0.0
    rnd = mod.initialize_parameters({"n_x": 3}, method="random", seed=1)
    assert np.abs(rnd["w"]).max() < 0.05 and np.abs(rnd["w"]).min() > 0
    assert np.array_equal(rnd["w"], mod.initialize_parameters({"n_x": 3}, "random", 1)["w"])
    assert rnd["b"] == 0.0  # a bias: w is the weight (w.T @ X reads n_x units)
    assert mod.WEIGHTS == {"w": "n_x"}
    he = mod.initialize_parameters({"n_x": 3}, "he", seed=1)
    assert np.allclose(he["w"] / np.sqrt(2 / 3), rnd["w"] / 0.01)  # the same draws
    with pytest.raises(ValueError, match="method"):
        mod.initialize_parameters({"n_x": 3}, method="uniform")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 7)), rng.integers(0, 2, size=(1, 7)).astype(float)
    params = {"w": rng.normal(size=(3, 1)), "b": 0.3}
    cache = mod.forward(params, X)
    assert set(cache) == {"Z", "A"} and cache["Z"].shape == (1, 7)
    assert type(mod.compute_cost(params, X, Y)) is float
    grads, cost = mod.propagate(params, X, Y)
    assert set(grads) == {"dZ", "dw", "db"}
    # a float parameter's gradient is NumPy's scalar (a 0-d array on a GPU, never float()'d)
    assert grads["dw"].shape == (3, 1) and type(grads["db"]) is np.float64
    assert type(cost) is float
    new = mod.update_parameters(params, grads, 0.1)
    assert np.allclose(new["w"], params["w"] - 0.1 * grads["dw"]) and new["w"] is not params["w"]
    assert isinstance(new["b"], float) and new["b"] == params["b"] - 0.1 * grads["db"]


def test_backward_reads_the_cache(generated):
    mod = generated("logistic_regression")
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(2, 5)), np.ones((1, 5))
    params = {"w": rng.normal(size=(2, 1)), "b": 0.0}
    cache = mod.forward(params, X)
    moved = mod.backward(params, {**cache, "A": cache["A"] + 1.0}, X, Y)
    assert np.allclose(moved["dZ"], mod.backward(params, cache, X, Y)["dZ"] + 1.0)


def test_train_records_the_cost_every_100_iterations_before_the_update(generated, capsys):
    mod = generated("logistic_regression")
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(4, 30)), rng.integers(0, 2, size=(1, 30)).astype(float)
    params, costs = mod.train(X, Y, num_iterations=201, learning_rate=0.1, print_cost=True)
    assert len(costs) == 3 and costs[0] == pytest.approx(np.log(2))
    step = mod.initialize_parameters({"n_x": 4})
    for _ in range(100):
        grads, _ = mod.propagate(step, X, Y)
        step = mod.update_parameters(step, grads, 0.1)
    assert costs[1] == mod.compute_cost(step, X, Y)
    out = capsys.readouterr().out.splitlines()
    assert out == [f"Cost after iteration {i}: {c:f}" for i, c in zip((0, 100, 200), costs,
                                                                       strict=True)]
    prediction = mod.predict(params, X)
    assert prediction.shape == (1, 30) and set(np.unique(prediction)) <= {0, 1}


def test_hidden_units_come_from_HIDDEN_SIZES_and_start_random(generated):
    mod = generated("shallow_network")
    assert mod.HIDDEN_SIZES == {"n_h": 4}
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(2, 10)), rng.integers(0, 2, size=(1, 10)).astype(float)
    params, _ = mod.train(X, Y, num_iterations=1)
    assert params["W1"].shape == (4, 2) and params["b2"].shape == (1, 1)
    assert np.all(params["W1"] != 0)  # hidden units start different
    grads, _ = mod.propagate(params, X, Y)
    assert grads["db2"].shape == (1, 1) and grads["dW1"].shape == (4, 2)


def test_softmax_predicts_class_indices(generated):
    mod = generated("softmax_regression")
    params = {"W": np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), "b": np.zeros((3, 1))}
    X = np.array([[5.0, 0.0, -5.0], [0.0, 5.0, -5.0]])
    assert mod.predict(params, X).tolist() == [[0, 1, 2]]


# ----- a stack of layers -----


def _functions(source, names=("forward", "cost_from_cache", "backward", "update_parameters",
                              "predict")):
    tree = ast.parse(source)
    return {f.name: ast.get_source_segment(source, f) for f in tree.body
            if isinstance(f, ast.FunctionDef) and f.name in names}


@pytest.mark.slow
def test_deep_code_loops_over_the_layers_whatever_the_depth_derived():
    model = derivation("deep_network").model
    expected = _functions(code("deep_network"))
    for depth in (1, 2, 6):
        other = render(model.unrolled(depth).derive())
        assert _functions(other) == expected, depth
        hidden = [20, 7, 5, 5, 5][:depth - 1]  # the course's [n_x, 20, 7, 5, 1], cut or grown
        assert f"HIDDEN_LAYERS = {hidden}" in other
    statements = [ast.get_source_segment(code("deep_network"), s)
                  for f in ast.parse(code("deep_network")).body
                  if isinstance(f, ast.FunctionDef) and f.name in expected for s in f.body[1:]]
    assert not re.search(r"\b[WbZA]\d", "\n".join(statements))  # no layer by its number
    forward, backward = expected["forward"], expected["backward"]
    assert "    for layer in range(1, depth):\n" in forward
    assert "    for layer in range(depth - 1, 0, -1):\n" in backward
    # the hidden layer's block, derived once, printed once
    for line in ("        dZ = dA * astype(Z > 0, Z.dtype)\n", "        dW = dZ @ A_prev.T / m\n",
                 "        db = xp.sum(dZ, axis=1, keepdims=True) / m\n",
                 "            dA = W.T @ dZ\n",
                 "        # dZ[l] = dA[l]*(Z[l] > 0)\n"):
        assert backward.count(line) == 1, line
    # the output layer's, from the unrolled derivation's last layer
    assert "    dZ = A - Y\n" in backward and "    # dZ[L] = A[L] - Y\n" in backward


def test_deep_parameters_and_their_initialization(generated):
    mod = generated("deep_network")
    assert str(inspect.signature(mod.initialize_parameters)) == (
        "(layer_dims, method='he', seed=0, scale=0.01, dtype=<class 'numpy.float64'>)")
    assert list(inspect.signature(mod.train).parameters)[5:10] == [
        "params", "seed", "layer_dims", "method", "dtype"]
    dims = [400, 30, 20, 1]
    he = mod.initialize_parameters(dims, seed=3)
    assert sorted(he) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert [he[f"W{l}"].shape for l in (1, 2, 3)] == [(30, 400), (20, 30), (1, 20)]
    assert [he[f"b{l}"].shape for l in (1, 2, 3)] == [(30, 1), (20, 1), (1, 1)]
    assert not any(he[f"b{l}"].any() for l in (1, 2, 3))
    assert np.std(he["W1"]) == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    for method, scale in (("xavier", np.sqrt(1 / 30)), ("random", 0.01)):  # the same draws
        other = mod.initialize_parameters(dims, method, seed=3)
        assert np.allclose(other["W2"] / scale, he["W2"] / np.sqrt(2 / 30))
    assert not any(v.any() for v in mod.initialize_parameters(dims, "zeros").values())
    with pytest.raises(ValueError, match="method"):
        mod.initialize_parameters(dims, "uniform")
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(6, 9)), rng.integers(0, 2, size=(1, 9)).astype(float)
    params, _ = mod.train(X, Y, num_iterations=1)  # default: [n_x, *HIDDEN_LAYERS, 1], he
    assert [params[f"W{l}"].shape for l in (1, 2, 3)] == [(20, 6), (7, 20), (1, 7)]
    cache = mod.forward(params, X)
    assert list(cache) == ["Z1", "A1", "Z2", "A2", "Z3", "A3"]
    grads = mod.backward(params, cache, X, Y)
    assert list(grads) == ["dW3", "db3", "dW2", "db2", "dW1", "db1"]
    assert mod.predict(params, X).shape == (1, 9)
    assert mod.check_parameters(params, "here") == [6, 20, 7, 1]


def test_deep_network_for_one_layer_is_logistic_regression(generated):
    deep, logistic = generated("deep_network"), generated("logistic_regression")
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(3, 8)), rng.integers(0, 2, size=(1, 8)).astype(float)
    w, b = rng.normal(size=(3, 1)), 0.3
    grads = deep.backward({"W1": w.T, "b1": np.array([[b]])},
                          deep.forward({"W1": w.T, "b1": np.array([[b]])}, X), X, Y)
    expected = logistic.propagate({"w": w, "b": b}, X, Y)[0]
    assert np.allclose(grads["dW1"], expected["dw"].T) and np.isclose(grads["db1"], expected["db"])
    assert "dA0" not in grads


def test_a_stack_whose_cost_reads_a_lower_layer_is_refused():
    text = (ROOT / "derivations" / "deep_network.toml").read_text()
    text = text.replace('L = "-(y*log(a) + (1 - y)*log(1 - a))"',
                        'L = "-(y*log(a) + (1 - y)*log(1 - a)) + sum(a1)"')
    with pytest.raises(SpecError, match="'L' reads 'a1', a value of one layer by its number"):
        render(symgrad.loads(text).derive())


# ----- numerical stability -----


def test_helpers_are_stable(generated):
    mod = generated("softmax_regression")
    logistic = generated("logistic_regression")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert logistic.sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]
        assert logistic.softplus(np.array([1000.0]))[0] == 1000.0
        z = np.array([[1000.0], [0.0], [-1000.0]])
        assert np.allclose(mod.softmax(z).ravel(), [1, 0, 0])
        assert mod.logsumexp(z)[0, 0] == 1000.0


@pytest.mark.parametrize("name", ["logistic_regression", "regularized_logistic"])
def test_binary_cross_entropy_is_finite_at_z_1000(generated, name):
    mod = generated(name)
    X = np.array([[1.0, -1.0, 1.0, -1.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])  # right, right, wrong by 1000, wrong by 1000
    params = {"w": np.array([[1000.0]]), "b": 0.0}
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        cost = mod.compute_cost(params, X, Y)
        grads, _ = mod.propagate(params, X, Y)
    assert cost == pytest.approx(500.0)
    assert grads["dZ"].tolist() == [[0.0, 0.0, 1.0, -1.0]]
    assert np.isfinite(grads["dw"]).all() and np.isfinite(grads["db"])
    with np.errstate(all="ignore"):  # the formula as written would not survive
        A = 1 / (1 + np.exp(-(params["w"].T @ X)))
        assert not np.isfinite(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def test_softmax_cross_entropy_is_finite_at_z_1000(generated):
    mod = generated("softmax_regression")
    params = {"W": np.array([[1000.0], [-1000.0]]), "b": np.zeros((2, 1))}
    X, Y = np.array([[1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        cost = mod.compute_cost(params, X, Y)
        grads, _ = mod.propagate(params, X, Y)
    assert cost == pytest.approx(1000.0)
    assert np.isfinite(grads["dW"]).all()


def test_the_sigmoid_helper_is_the_sigmoid(generated):
    import sympy as sp

    from symgrad.calculus.numeric import sigmoid  # exp(-log(1 + exp(-z))): exact, but 7x slower

    z = sp.Symbol("z", real=True)  # the identity the helper is written by
    assert sp.simplify(((1 + sp.tanh(z / 2)) / 2 - 1 / (1 + sp.exp(-z))).rewrite(sp.exp)) == 0
    z = np.linspace(-50.0, 50.0, 100001)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        helper = generated("logistic_regression").sigmoid(z)
    exact = sigmoid(z)
    assert np.max(np.abs(helper - exact)) <= 2**-53  # half a unit in the last place of 1
    assert np.max(np.abs(helper - exact) / exact, where=exact > 1e-6, initial=0.0) < 1e-9


def test_stable_rules_are_proven_identities():
    assert all(check_rule(rule) for rule in RULES)
    wrong = Rule("log(softmax(u)) = u + logsumexp(u)", RULES[2].lhs, _u + logsumexp(_u))
    assert not check_rule(wrong)


@pytest.mark.slow
def test_stable_forms_are_found_not_special_cased():
    # the shallow network's output layer is rewritten by the same rules as logistic regression
    assert "L = Y * softplus(-Z2) + (1 - Y) * softplus(Z2)" in code("shallow_network")
    # a cost without log(sigmoid) is left as written
    assert "L = (A - Y) ** 2 / 2" in code("sigmoid_mse")


# ----- the command -----


@pytest.mark.slow
def test_codegen_writes_the_file(tmp_path, capsys, spec):
    out = tmp_path / "logreg.py"
    assert main(["codegen", str(spec("logistic_regression")), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == code("logistic_regression")
    assert main(["codegen", str(spec("logistic_regression"))]) == 0
    assert capsys.readouterr().out == code("logistic_regression")


def test_codegen_errors_leave_files_alone(tmp_path, capsys, spec):
    kept = tmp_path / "mine.py"
    kept.write_text("# mine\n")
    bad = tmp_path / "bad.toml"
    bad.write_text("[graph]\nz = 'q +'\n")
    for argv in (["codegen", str(bad), "-o", str(kept)],
                 ["codegen", str(spec("computation_graph")), "-o", str(kept)],
                 ["codegen", str(spec("logistic_regression")), "-o",
                  str(tmp_path / "missing" / "x.py")],
                 ["codegen", str(spec("logistic_regression")), "-o", str(tmp_path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("symgrad: error: ") and err.count("\n") == 1, err
    assert kept.read_text() == "# mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "mine.py"]


def test_a_hyperparameter_inside_the_layers_reaches_forward(tmp_path):
    """leaky_relu's alpha in every hidden layer: forward() takes it, verify passes at every
    depth (at depth 1 no layer reads it), and the module is written."""
    text = (ROOT / "derivations" / "deep_network.toml").read_text(encoding="utf-8")
    text = text.replace('a = "relu(z)"', 'a = "leaky_relu(z, alpha)"') + (
        '[hyperparameters]\nalpha = { default = 0.01, domain = "(0, 1)" }\n')
    d = symgrad.loads(text, source="deep_alpha.toml").derive()
    source = symgrad.codegen(d)
    assert "def forward(params, X, alpha=0.01):" in source
    rows = verify(d, trials=1)
    assert rows and all(row.passed for row in rows)


def test_trainings_option_names_are_refused_for_hyperparameters_only():
    """train(..., beta1=...) is Adam's option: a hyperparameter (also a keyword of train())
    may not be called beta1, but a parameter may (batch norm's shift), as its name is set only
    inside forward() and backward()."""
    text = (ROOT / "derivations" / "logistic_regression.toml").read_text()
    as_parameter = text.replace('b = "scalar"', 'beta1 = "scalar"').replace("w @ x + b",
                                                                            "w @ x + beta1")
    module = render(symgrad.loads(as_parameter).derive())
    assert 'params["beta1"]' in module and "def update_parameters_with_adam(" in module
    as_hyper = (text.replace("w @ x + b", "w @ x + b + beta1")
                .replace("[parameters]", '[hyperparameters]\nbeta1 = "a shift"\n\n[parameters]'))
    with pytest.raises(SpecError, match="'beta1' is taken"):
        render(symgrad.loads(as_hyper).derive())
