"""train()'s faster techniques against the course's plain loop (templates/fast.py.jinja).

The Gram technique is exact algebra (the same steps in another basis), so its parameters and
costs must equal the plain loop's to rounding: 1e-10 relative, in float64. The models: the
shipped specs where it applies, and a seeded sample of the catalogue (those where it applies).
"""

import functools
import random
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.code.render import build_context, render
from symgrad.code.verify import load_module

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["logistic_regression", "regularized_logistic", "shallow_network",
           "softmax_regression", "deep_network_l2"]
CATALOGUE = sorted(p.stem for p in (ROOT / "tests" / "catalogue").glob("*.toml"))
# a seeded sample, and the two networks whose training does more than steps: batch statistics
# (computed at the end, over X) and dropout (masks drawn at every step)
SAMPLE = sorted({*random.Random(16).sample(CATALOGUE, 6), "batchnorm_network",
                 "dropout_network"})
N_X, M, HIDDEN = 40, 12, 3  # m well below n_x, as the technique wants


@functools.cache
def generated(name, folder):
    path = ROOT / "derivations" / f"{name}.toml"
    if not path.exists():
        path = ROOT / "tests" / "catalogue" / f"{name}.toml"
    model = symgrad.load(path)
    file = Path(folder) / f"fast_{name}.py"
    # the module as codegen writes it, without its self-check (which other tests run)
    file.write_text(render(symgrad.derive(model), check=False), encoding="utf-8")
    return model, load_module(file)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return str(tmp_path_factory.mktemp("fast"))


def problem(model, module, seed=0):
    """(X, Y, params, hyperparameters): X (N_X, M), labels in their domain, parameters
    N(0, 0.1) (a [layers] stack: initialize_parameters's "he"), penalties switched on."""
    rng = np.random.default_rng(seed)
    (x,) = [v for v in model.inputs if not v.label and not v.mask]
    (y,) = model.labels
    features = str(x.shape[0])
    sizes = {sp.Symbol(d, positive=True, integer=True): HIDDEN for d in model.dims}
    sizes[sp.Symbol(features, positive=True, integer=True)] = N_X
    X = rng.random((N_X, M))
    Y = y.domain.draw(rng, (int(sp.sympify(y.shape[0]).subs(sizes)), M))
    if hasattr(module, "LAYER_PARAMETERS"):
        params = module.initialize_parameters([N_X, 5, HIDDEN, Y.shape[0]], "he", seed=1)
    else:
        params = {}
        for v in model.parameters:
            shape = tuple(int(sp.sympify(d).subs(sizes)) for d in v.shape)
            value = rng.normal(0.0, 0.1, size=shape)
            params[v.name] = float(value.item()) if v.type == "scalar" else value
    hyper = {v.name: v.default for v in model.hyperparameters}
    hyper.update({name: 0.7 for name in hyper if name.startswith("lambd")})
    return X, Y, params, hyper


def relative_gap(params, reference):
    return max(float(np.max(np.abs(np.asarray(params[k]) - np.asarray(v)))
                     / max(float(np.max(np.abs(np.asarray(v)))), 1e-300))
               for k, v in reference.items())


def train_both(module, X, Y, params, hyper, **options):
    runs = {}
    for technique in ("plain", "gram"):
        history = {}
        trained, costs = module.train(X, Y, params=dict(params), technique=technique,
                                      history=history, cost_every=10, **hyper, **options)
        assert history["technique"] == technique
        runs[technique] = trained, costs
    return runs


@pytest.mark.parametrize("optimizer", ["gd", "momentum"])
@pytest.mark.parametrize("name", SHIPPED + SAMPLE)
def test_gram_takes_the_plain_loops_steps(name, optimizer, folder):
    model, module = generated(name, folder)
    if not getattr(module, "GRAM_WEIGHTS", None):
        pytest.skip(f"{name}: no weight meets X in W @ X alone")
    X, Y, params, hyper = problem(model, module)
    runs = train_both(module, X, Y, params, hyper, num_iterations=60, learning_rate=0.05,
                      optimizer=optimizer)
    (plain, plain_costs), (gram, gram_costs) = runs["plain"], runs["gram"]
    assert set(gram) == set(plain)
    assert relative_gap(gram, plain) < 1e-10
    np.testing.assert_allclose(gram_costs, plain_costs, rtol=1e-10)
    assert relative_gap(plain, params) > 1e-3  # training moved the parameters


def test_the_applicability_comes_from_the_derivation(folder):
    gram = {name: getattr(generated(name, folder)[1], "GRAM_WEIGHTS", None)
            for name in ("logistic_regression", "shallow_network", "deep_network_l2")}
    # w.T @ X; W1 @ X; layer 1's W @ X, with the L2 penalty lambd/(2m) sum(W**2)
    assert gram == {"logistic_regression": {"w": True}, "shallow_network": {"W1": False},
                    "deep_network_l2": {"W1": False}}
    autoencoder = symgrad.load(ROOT / "tests" / "catalogue" / "autoencoder.toml")
    assert build_context(symgrad.derive(autoencoder)).gram_weights == ()  # X read again


def test_auto_chooses_gram_where_it_holds_and_pays(folder, capsys):
    model, module = generated("logistic_regression", folder)
    X, Y, params, _ = problem(model, module)

    def chosen(X=X, **options):
        history = {}
        labels = np.tile(Y, X.shape[1] // Y.shape[1])
        module.train(X, labels, history=history, **{"num_iterations": 300, **options})
        return history["technique"], history["technique_reason"]

    assert chosen() == ("gram", "the Gram matrix of the 12 examples, n_x = 40")
    for options, why in [({"optimizer": "adam"}, "adam's update is not linear"),
                         ({"optimizer": "rmsprop"}, "rmsprop's update is not linear"),
                         ({"mini_batch_size": 4}, "mini-batches"),
                         ({"validation": (X, Y)}, "validation"),
                         ({"technique": "plain"}, "technique='plain'"),
                         ({"num_iterations": 3}, "does not pay"),
                         ({"X": np.hstack([X, X, X])}, "does not pay at n_x = 40, m = 36")]:
        technique, reason = chosen(**options)
        assert technique == "plain" and why in reason, (options, reason)
    with pytest.raises(ValueError, match="technique='gram' does not apply: adam"):
        module.train(X, Y, optimizer="adam", technique="gram")
    with pytest.raises(ValueError, match="technique must be one of"):
        module.train(X, Y, technique="fast")
    # dependent columns: G is singular, and train() falls back to the plain loop
    assert chosen(X=np.hstack([X[:, :6], X[:, :6]]), technique="gram") == (
        "plain", "G is singular: the columns of X are dependent")
    capsys.readouterr()
    module.train(X, Y, num_iterations=300, print_cost=True)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == ("training on the Gram matrix of the 12 examples, n_x = 40 "
                     "(technique='plain' trains on X itself)")


def test_a_model_without_such_weights_trains_plain(folder):
    model, module = generated("matrix_factorization", folder)
    assert not hasattr(module, "GRAM_WEIGHTS")
    with pytest.raises(ValueError, match="no weight meets X in W @ X alone"):
        module.choose_technique("gram", None, {}, 100, "gd", None, None)
    assert module.choose_technique("auto", None, {}, 100, "gd", None, None)[0] == "plain"


def peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["logistic_regression", "deep_network_l2"])
def test_peak_memory(name, folder):
    model, module = generated(name, folder)
    rng = np.random.default_rng(2)
    n_x, m = 3000, 100
    X, Y = rng.random((n_x, m)), (rng.random((1, m)) > 0.5).astype(float)
    options = {"num_iterations": 20, "learning_rate": 0.01}
    if name == "deep_network_l2":
        options["layer_dims"] = [n_x, 20, 7, 5, 1]
    gram = peak(lambda: module.train(X, Y, technique="gram", **options))
    plain = peak(lambda: module.train(X, Y, technique="plain", **options))
    G = 8 * m * m
    # the plain loop's peak plus G: R takes G's place (cholesky_upper), and the solves
    # with R copy no m x m array (times_inverse)
    assert gram <= plain + G, (gram, plain, G)


@pytest.mark.parametrize("m", [1, 63, 64, 65, 130, 209])
def test_cholesky_and_solves_in_place_match_numpy(folder, m):
    """cholesky_upper and times_inverse, block by block, against np.linalg on random
    G = X.T @ X, to 1e-12 relative; a singular G is refused."""
    _, module = generated("logistic_regression", folder)
    rng = np.random.default_rng(m)
    X = rng.random((400, m))
    G = X.T @ X
    R = G.copy()
    assert module.cholesky_upper(R)
    want = np.linalg.cholesky(G).T
    assert np.max(np.abs(R - want)) <= 1e-12 * np.max(np.abs(want))
    B = rng.random((5, m))
    for transposed, solved in ((False, np.linalg.solve(want.T, B.T).T),
                               (True, np.linalg.solve(want, B.T).T)):
        got = module.times_inverse(B, R, transposed=transposed)
        assert np.max(np.abs(got - solved)) <= 1e-12 * np.max(np.abs(solved))
    whole = np.arange(12.0).reshape(4, 3) ** 2  # exact arithmetic: G exactly singular
    whole[:, 2] = whole[:, 1]
    assert not module.cholesky_upper(whole.T @ whole)
