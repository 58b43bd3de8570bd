"""Results printed as a person writes them (issue 12): the spec's decimals stay decimals while
the derivation stays exact, and a step function's two cases print as one ``where``."""

from pathlib import Path

import sympy as sp

import symgrad
from symgrad.printing.printers import NumpyPrinter, batch_str, decimal, example_str

z, a, y, alpha = sp.symbols("z a y alpha", real=True)
STEP = sp.Heaviside(z, 0)
ROOT = Path(__file__).resolve().parents[2]


def regression(name, activation, hyperparameters=None):
    return symgrad.Model.build(
        name, dims={"n_x": "number of input features"},
        inputs={"x": "vector(n_x)", "y": "scalar"},
        parameters={"w": "vector(n_x)", "b": "scalar"}, hyperparameters=hyperparameters,
        graph={"z": "w @ x + b", "a": activation, "L": "(a - y)**2/2"}, cost={"J": "mean(L)"})


def test_decimals_stay_decimals():
    model = regression("cubic", "z + 0.044715*z**3 + sqrt(2/c)*z",
                       {"c": {"default": 2.0, "domain": "positive", "description": "scale"}})
    d = model.derive()
    assert d.per_example["dz"].has(sp.Rational(26829, 200000))  # exact: 3 * 0.044715
    assert not d.per_example["dz"].has(sp.Float)
    text = example_str(d.per_example["dz"])
    assert "0.134145*z**2" in text and "sqrt(" in text and "200000" not in text
    assert example_str(model.nodes[1].expr).count("0.044715*z**3") == 1
    assert "0.134145*Z**2" in symgrad.codegen(d)
    assert symgrad.check(model, "dz", "(a - y)*(1 + 3*0.044715*z**2 + sqrt(2/c))").status \
        == "proven"


def test_which_rationals_are_decimals():
    assert [decimal(sp.Rational(p, q)) for p, q in [(1, 10), (-3, 20), (1, 2), (1, 3), (7, 4)]] \
        == ["0.1", "-0.15", None, None, None]
    assert example_str(z / 2 + sp.Rational(3, 4)) == "3/4 + z/2"


def test_leaky_relu_slope_prints_as_where():
    model = regression("leaky", "leaky_relu(z, alpha)",
                       {"alpha": {"default": 0.01, "domain": "positive", "description": "slope"}})
    d = model.derive()
    assert example_str(d.per_example["dz"]) == "where(z > 0, 1, alpha)*(a - y)"
    assert batch_str(d.batch["dZ"]) == "where(Z > 0, 1, alpha)*(A - Y)"
    code = symgrad.codegen(d)  # its self-check included
    assert "dZ = xp.where(Z > 0, xp.asarray(1.0, dtype=Z.dtype), alpha) * (A - Y)" in code


def test_where_only_for_two_nonzero_cases():
    assert example_str((1 + 99 * STEP) / 100) == "where(z > 0, 1, 0.01)"
    assert example_str(-(STEP + alpha * (1 - STEP)) * a) == "-where(z > 0, 1, alpha)*a"
    assert example_str(STEP * a) == "a*(z > 0)"  # relu's: one case is 0
    assert example_str(y + STEP * a) == "y + a*(z > 0)"
    printer = NumpyPrinter({"numpy_alias": "np"})
    assert printer.doprint((STEP + alpha * (1 - STEP)) * y) == "np.where(z > 0, 1, alpha)*y"


def test_log_cosh_derives_tanh_and_its_code_stays_finite(tmp_path):
    """d log(cosh(r)) / dr is tanh(r), one function: sinh(r)/cosh(r) would be inf/inf in
    floating point beyond |r| = 710."""
    import numpy as np

    from symgrad.code.verify import load_module

    d = symgrad.load(ROOT / "tests" / "catalogue" / "log_cosh_regression.toml").derive()
    assert str(d.per_example["dr"]) == "tanh(r)"
    path = tmp_path / "m.py"
    path.write_text(symgrad.codegen(d), encoding="utf-8")
    module = load_module(path)
    X = np.array([[1.0, -1.0]])
    Y = np.array([[-800.0, 800.0]])
    params = {"w": np.array([[0.0]]), "b": 0.0}
    grads = module.backward(params, module.forward(params, X), X, Y)
    assert np.all(np.isfinite(grads["dw"])) and np.isfinite(grads["db"])
