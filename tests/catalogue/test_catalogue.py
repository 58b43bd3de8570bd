"""The catalogue of textbook models: each spec in this folder derived, compared with the
gradients its textbook writes by hand (``textbook.py``), checked against one right and one
wrong hand derivation, turned into training code that is verified and trained, and proven.

The models' inputs, labels and hyperparameters are drawn inside their domains
(:mod:`symgrad.model.domains`); every dimension is 3.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.calculus import numeric
from symgrad.claims.checker import Checker
from symgrad.code.verify import load_module, relative_error, verify

HERE = Path(__file__).resolve().parent
textbook = load_module(HERE / "textbook.py", "catalogue_textbook")  # tests/ is no package
SPECS = sorted(HERE.glob("*.toml"))
IDS = [p.stem for p in SPECS]
SIZE = 3  # every dimension
TOLERANCE = 1e-8  # textbook against derivation, relative, float64
POINTS = 2  # random points per model for the textbook comparison
EXAMPLES = 64  # m for training
ITERATIONS = 300
M = sp.Symbol("m", positive=True, integer=True)

# name -> (variable, the textbook's formula in node variables, a slip): the first is proven,
# the second refuted. A name written with stacked names (dW, X, dZ) is a claim over m examples.
CLAIMS = {
    "ridge_regression": ("dw", "(X @ dZ.T + lambd*w)/m", "X @ dZ.T/m"),
    "pseudo_huber_regression": ("dr", "r/sqrt(1 + (r/delta)**2)", "r*sqrt(1 + (r/delta)**2)"),
    "log_cosh_regression": ("dr", "tanh(r)", "-tanh(r)"),
    "tanh_mse": ("dz", "(a - y)*(1 - a**2)", "(a - y)*(1 - a)"),
    "cauchy_regression": ("dr", "2*r/(2*c**2 + r**2)", "2*r/(c**2 + r**2)"),
    "weighted_least_squares": ("dz", "wt*(z - y)", "z - y"),
    "multi_output_regression": ("dz", "z - y", "y - z"),
    "gaussian_nll": ("ds", "1/2 - (y - mu)**2*exp(-s)/2", "(y - mu)**2*exp(-s)/2"),
    "factorization_machine": ("dw", "x*(z - y)", "x*(y - z)"),
    "poisson_glm": ("dz", "mu - y", "y - mu"),
    "gamma_glm": ("dz", "1 - y*exp(-z)", "1 - y*exp(z)"),
    "negative_binomial_glm": ("dz", "r*(mu - y)/(r + mu)", "(mu - y)/(r + mu)"),
    "weighted_logistic_regression": ("dz", "wp*y*(a - 1) + (1 - y)*a", "a - y"),
    "hinge_svm": ("dz", "-t*heaviside(1 - t*z)", "t*heaviside(1 - t*z)"),
    "squared_hinge_svm": ("dz", "-2*t*relu(1 - t*z)", "-t*relu(1 - t*z)"),
    "logistic_margin": ("dz", "-t*sigmoid(-t*z)", "t*sigmoid(-t*z)"),
    "exponential_loss": ("dz", "-t*exp(-t*z)", "t*exp(-t*z)"),
    "focal_loss": ("dz", "y*(1 - p)**2*(2*p*log(p) + p - 1)"
                         " + (1 - y)*p**2*(p - 2*(1 - p)*log(1 - p))",
                   "y*(1 - p)**2*(2*p*log(p) + p - 1)"),
    "logistic_temperature": ("dz", "(a - y)/T", "a - y"),
    "softmax_l2": ("dW", "(dZ @ X.T + lambd*W)/m", "dZ @ X.T/m"),
    "multilabel_sigmoid": ("dz", "a - y", "a*(1 - a)*(a - y)"),
    "soft_label_softmax": ("dz", "a - y", "y - a"),
    "label_smoothing": ("dz", "a - t", "a - y"),
    "distillation": ("dz", "(q - pt)/T", "q - pt"),
    "attention_scores": ("de", "s - y", "y - s"),
    "attention_keys": ("dq", "K.T @ (s - y) / 2", "K.T @ (s - y)"),
    "two_layer_mixed": ("dz1", "(W2.T @ dz2)*sigmoid(z1)", "W2.T @ dz2"),
    "three_layer_mixed": ("dz2", "(W3.T @ dz3)*(1 - a2**2)", "W3.T @ dz3"),
    "leaky_relu_network": ("dz1", "(W2.T @ dz2)*(heaviside(z1) + (1 - heaviside(z1))/10)",
                           "(W2.T @ dz2)*heaviside(z1)"),
    "dropout_mask": ("dz1", "d*heaviside(z1)*(W2.T @ dz2)", "heaviside(z1)*(W2.T @ dz2)"),
    # the mask of dropout(u, keep_prob) is named d1 (the k-th dropout's dk) in claims too
    "dropout_network": ("dz1", "W2.T @ dz2 * d1/keep_prob * heaviside(z1)",
                        "W2.T @ dz2 * heaviside(z1)"),
    "autoencoder": ("drec", "rec - x", "x - rec"),
    "rnn_cell": ("dWh", "(dh*(1 - h**2)) @ h_prev.T", "dh @ h_prev.T"),
    "rnn_unrolled": ("dh2", "Wh.T @ (dh3*(1 - h3**2))", "Wh.T @ dh3"),
    "contrastive_pair": ("de1", "2*ddd*(e1 - e2)", "ddd*(e1 - e2)"),
    "matrix_factorization": ("dp", "(z - rating)*q", "(z - rating)*p"),
    "mae_regression": ("dr", "sign(r)", "abs(r)"),
    "huber_regression": ("dr", "c + (r - c)*heaviside(r + delta)*heaviside(delta - r)",
                         "c*heaviside(r + delta)*heaviside(delta - r)"),
    "epsilon_insensitive_svr": ("dr", "sign(r)*heaviside(abs(r) - eps)", "sign(r)"),
    "probit_regression": ("dz", "exp(-z**2/2)/sqrt(2*pi)*(p - y)/(p*(1 - p))",
                          "(p - y)/(p*(1 - p))"),
    "msle_regression": ("dz", "(log1p(yhat) - log(1 + y))/(1 + yhat)*sigmoid(z)",
                        "r/(1 + yhat)"),
    "focal_loss_tunable": ("dp", "g*(1 - y)*p**(g - 1)*(-log(1 - p)) + (1 - y)*p**g/(1 - p)"
                                 " + g*y*(1 - p)**(g - 1)*log(p) - y*(1 - p)**g/p",
                           "-y*(1 - p)**g/p + (1 - y)*p**g/(1 - p)"),
    "gelu_network": ("dz1", "(Phi(z1) + z1*exp(-z1**2/2)/sqrt(2*pi))*(w2 @ dz2)",
                     "Phi(z1)*(w2 @ dz2)"),
    "siren_network": ("dz1", "cos(z1)*(w2 @ dz2)", "-cos(z1)*(w2 @ dz2)"),
    "elu_network": ("dz1", "(heaviside(z1) + exp(z1)*heaviside(-expm1(z1)))*(w2 @ dz2)",
                    "heaviside(z1)*(w2 @ dz2)"),
    "tied_autoencoder": ("dh", "W @ (rec - x)", "W.T @ (rec - x)"),
    # the three-term form of Ioffe & Szegedy 2015, section 3, over m examples; the slip drops
    # the statistics' terms (as if one example's derivative existed)
    "batchnorm_network": ("dZ1", "gamma1/(m*sqrt(var1 + eps))*(m*dZtilde1 - "
                                 "sum(dZtilde1, axis=1) - Zhat1*sum(dZtilde1*Zhat1, axis=1))",
                          "gamma1*dZtilde1/sqrt(var1 + eps)"),
}
# proofs that take more than about 5 s on the project's 2-core machine: slow, so that
# pytest -m "not slow" stays quick (CI runs them all)
SLOW_PROOFS = {"rnn_unrolled", "leaky_relu_network", "three_layer_mixed", "contrastive_pair",
               "rnn_cell", "dropout_mask", "dropout_network", "distillation", "gaussian_nll",
               "focal_loss",
               "two_layer_mixed", "exponential_loss", "log_cosh_regression", "cauchy_regression",
               "softmax_l2", "autoencoder", "gelu_network", "probit_regression", "elu_network",
               "focal_loss_tunable", "huber_regression", "tied_autoencoder", "msle_regression",
               "siren_network", "epsilon_insensitive_svr", "batchnorm_network"}
LEARNING_RATES = {"exponential_loss": 0.05, "gamma_glm": 0.05}  # others: 0.1


@functools.cache
def derived(path: Path):
    return symgrad.derive(symgrad.load(path))


@functools.cache
def proved(path: Path):
    return symgrad.prove(derived(path))


def sizes_of(graph, m) -> dict:
    """Every dimension symbol of the graph -> SIZE, and m -> m."""
    dims = set().union(*(getattr(d, "free_symbols", set())
                         for shape in graph.shapes.values() for d in shape))
    return {d: m if d.name == "m" else SIZE for d in dims}


def rows_of(var, sizes) -> int:
    return int(sp.sympify(var.shape[0]).subs(sizes))


def draw_parameters(model, rng, sizes, scale):
    """name -> array (a float for a scalar), from N(0, scale)."""
    params = {}
    for v in model.parameters:
        if v.type == "scalar":
            params[v.name] = float(rng.normal(0.0, scale))
        else:
            shape = tuple(int(sp.sympify(d).subs(sizes)) for d in v.shape)
            params[v.name] = rng.normal(0.0, scale, size=shape)
    return params


def draw_arrays(model, rng, sizes, m):
    """input or label name -> values inside its domain, one column per example; constant
    name -> values inside its domain, of its own shape (a float for a scalar)."""
    arrays = {v.name: v.domain.draw(rng, (rows_of(v, sizes), m)) for v in model.inputs}
    for v in model.constants:
        value = v.domain.draw(rng, tuple(int(sp.sympify(d).subs(sizes)) for d in v.shape))
        arrays[v.name] = float(value.item()) if "(" not in v.type and value.size == 1 else value
    return arrays


def batch_env(model, params, arrays, hyper, sizes):
    """The batch graph's leaves: stacked inputs (X), constants, parameters, hyperparameters,
    m."""
    stacked = model.stacked_names()
    constants = {v.name for v in model.constants}
    env = {M: sizes[M]} if M in sizes else {}
    for name, value in params.items():
        env[sp.Symbol(name, real=True)] = np.reshape(np.asarray(value, dtype=float),
                                                     np.shape(value) or (1, 1))
    for name, value in arrays.items():
        if name in constants:  # never stacked
            env[sp.Symbol(name, real=True)] = np.reshape(value, np.shape(value) or (1, 1))
        else:
            env[sp.Symbol(stacked[name], real=True)] = value
    for name, value in hyper.items():
        env[sp.Symbol(name, real=True)] = value
    return env


def away_from_kinks(graph, env) -> bool:
    return all(np.min(np.abs(numeric.evaluate(k, env))) > numeric.KINK_MARGIN
               for k in numeric.kinks(graph))


def test_catalogue_size():
    assert len(SPECS) >= 32
    assert sorted(textbook.GRADIENTS) == sorted(IDS)
    assert sorted(CLAIMS) == sorted(IDS)


def test_citations():
    """Each model cites its textbook in its description, which the generated module's
    docstring and the proof show."""
    for path in SPECS:
        model = symgrad.load(path)
        assert model.description.startswith("Source: "), path.name
        assert len(model.description) > len("Source: ") + 20, path.name


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_derive(path):
    d = derived(path)
    assert d.model.name == path.stem
    assert all(f"d{v.name}" in d.batch for v in d.model.parameters)


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_textbook(path):
    d = derived(path)
    model, graph = d.model, d.batch_graph
    rng = np.random.default_rng(0)
    reference = textbook.GRADIENTS[model.name]
    hyper = {v.name: v.default for v in model.hyperparameters}
    for _ in range(POINTS):
        m = int(rng.integers(2, 5))
        sizes = sizes_of(graph, m)
        for _ in range(100):
            params = draw_parameters(model, rng, sizes, 0.5)
            arrays = draw_arrays(model, rng, sizes, m)
            env = numeric.forward(graph, batch_env(model, params, arrays, hyper, sizes))
            if away_from_kinks(graph, env):
                break
        full = numeric.with_adjoints(graph, d.batch_steps, env, sizes)
        expected = reference(params, arrays, hyper)
        assert sorted(expected) == sorted(f"d{v.name}" for v in model.parameters)
        for name, value in expected.items():
            assert np.shape(value) == np.shape(params[name[1:]]), name
            error = relative_error(full[sp.Symbol(name, real=True)], value)
            assert error < TOLERANCE, f"{name}: relative error {error:.1e}"


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_check(path):
    d = derived(path)
    name, right, wrong = CLAIMS[d.model.name]
    checker = Checker(d.model, d)  # what symgrad.check does, with the derivation made once
    verdict = checker.check(name, right)
    assert verdict.status == "proven", verdict.text()
    verdict = checker.check(name, wrong)
    assert verdict.status == "refuted", verdict.text()


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_codegen_verify(path):
    rows = verify(derived(path), trials=1)
    failed = [f"{r.gradient} vs {r.reference}: {r.error:.1e}" for r in rows if not r.passed]
    assert rows and not failed, failed


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_train(path, tmp_path):
    d = derived(path)
    model = d.model
    file = tmp_path / "model_mod.py"
    file.write_text(symgrad.codegen(d), encoding="utf-8")
    module = load_module(file)
    rng = np.random.default_rng(1)
    sizes = {**{sp.Symbol(n, positive=True, integer=True): SIZE for n in model.dims},
             M: EXAMPLES}
    sizes.update(sizes_of(d.batch_graph, EXAMPLES))
    arrays = draw_arrays(model, rng, sizes, EXAMPLES)
    params0 = draw_parameters(model, rng, sizes, 0.1)
    hyper = {v.name: v.default for v in model.hyperparameters}
    labels = {name: arrays[name] for name in module.LABELS}
    constants = getattr(module, "CONSTANTS", ())  # given in inputs beside the others
    inputs = {name: arrays[name] for name in module.INPUTS + constants}
    given = [v for v in model.inputs + model.constants if not v.mask]  # masks: drawn in train
    assert sorted([*labels, *inputs]) == sorted(v.name for v in given)
    assert sorted(labels) == sorted(v.name for v in model.labels)
    first = next(iter(inspect.signature(module.train).parameters))
    if len(inputs) == 1 and len(labels) == 1 and first == "X":
        data = (next(iter(inputs.values())), next(iter(labels.values())))
    else:
        data = (inputs, labels)
    before = float(module.compute_cost(params0, *data, **hyper))
    params, costs = module.train(*data, num_iterations=ITERATIONS,
                                 learning_rate=LEARNING_RATES.get(model.name, 0.1),
                                 params={k: np.copy(v) for k, v in params0.items()}, **hyper)
    after = float(module.compute_cost(params, *data, **hyper))
    assert len(costs) == 3 and np.isclose(costs[0], before)
    assert np.isfinite(after) and after < before, (before, after)


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW_PROOFS
                                  else p for p in SPECS], ids=IDS)
def test_prove(path):
    assert proved(path).title


# the PDF of every catalogue model is compiled once, in tests/proof/test_layout.py (no LaTeX
# error, no overfull box, no split block)


NUMPY_ONLY = ("erf", "Phi", "log_Phi", "mills")  # math.erf(c) on each entry: NumPy arrays only


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_train_on_array_api_strict_arrays(path, tmp_path):
    """Two Adam steps on array-api-strict arrays (the array API standard and nothing else):
    the NumPy run's costs and parameters to 1e-12, the parameters still array-api-strict
    arrays. Models calling the erf family are skipped: they stay NumPy-only."""
    xs = pytest.importorskip("array_api_strict")
    d = derived(path)
    model = d.model
    text = symgrad.codegen(d)
    calls = [name for name in NUMPY_ONLY if f"def {name}(" in text]
    if calls:
        pytest.skip(f"calls {', '.join(calls)}: NumPy-only")
    file = tmp_path / "model_xp.py"
    file.write_text(text, encoding="utf-8")
    module = load_module(file)
    rng = np.random.default_rng(1)
    sizes = {**{sp.Symbol(n, positive=True, integer=True): SIZE for n in model.dims},
             M: EXAMPLES}
    sizes.update(sizes_of(d.batch_graph, EXAMPLES))
    arrays = draw_arrays(model, rng, sizes, EXAMPLES)
    params = draw_parameters(model, rng, sizes, 0.1)
    hyper = {v.name: v.default for v in model.hyperparameters}
    labels = {name: arrays[name] for name in module.LABELS}
    inputs = {name: arrays[name] for name in module.INPUTS + getattr(module, "CONSTANTS", ())}
    first = next(iter(inspect.signature(module.train).parameters))
    if len(inputs) == 1 and len(labels) == 1 and first == "X":
        data = (next(iter(inputs.values())), next(iter(labels.values())))
    else:
        data = (inputs, labels)

    def strict(value):
        if isinstance(value, dict):
            return {key: strict(entry) for key, entry in value.items()}
        if isinstance(value, tuple):
            return tuple(strict(entry) for entry in value)
        return xs.asarray(value) if isinstance(value, np.ndarray) else value

    options = dict(num_iterations=2, learning_rate=0.01, optimizer="adam", cost_every=1,
                   **hyper)
    expected, expected_costs = module.train(*data, params=params, **options)
    got, costs = module.train(*strict(data), params=strict(params), **options)
    assert costs == pytest.approx(expected_costs, rel=1e-12)
    for name, value in expected.items():
        assert type(got[name]) is type(xs.asarray(0.0)), name
        assert np.allclose(np.asarray(got[name]), value, rtol=1e-12, atol=1e-14), name
