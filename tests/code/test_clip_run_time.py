"""clip(u, lo, hi) between two hyperparameters (issue 12): the spec cannot order them, so the
generated module does, when it runs. train() and forward() raise a ValueError that names both
hyperparameters and their values; the command line says so in one line, exit code 2, as it
does for its other arguments; bounds in order (equal ones too) train."""

import subprocess
import sys

import numpy as np
import pytest

import symgrad
from symgrad.code.render import render
from symgrad.code.verify import load_module

SPEC = """name = "clipped_regression"
title = "Linear regression through a clip whose bounds are hyperparameters"
[dims]
n_x = "number of input features"
[inputs]
x = "vector(n_x)"
[labels]
y = "real"
[parameters]
w = "vector(n_x)"
b = "scalar"
[hyperparameters]
lower = { default = -1.0, description = "the clip's lower bound" }
upper = { default = 1.0, description = "the clip's upper bound" }
[graph]
z = "w @ x + b"
a = "clip(z, lower, upper)"
L = "(a - y)**2/2"
[cost]
J = "mean(L)"
"""
REFUSED = ("clip's bounds are in the wrong order: lower = 2.0 is above upper = 1.0; "
           "expected lower <= upper")


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip")
    spec = folder / "clipped_regression.toml"
    spec.write_text(SPEC, encoding="utf-8")
    path = folder / "clipped_regression.py"
    path.write_text(render(symgrad.load(spec).derive()), encoding="utf-8")
    return load_module(path)


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 40))
    Y = np.clip(X[:1] - 0.5 * X[1:], -0.5, 0.5)
    np.savez(tmp_path / "train.npz", X=X, Y=Y)
    return X, Y, tmp_path


def test_train_and_forward_refuse_bounds_out_of_order(module, data):
    X, Y, _ = data
    with pytest.raises(ValueError) as err:
        module.train(X, Y, num_iterations=1, lower=2.0, upper=1.0)
    assert str(err.value) == REFUSED
    params = module.initialize_parameters({"n_x": 2})
    with pytest.raises(ValueError, match="lower = 0.5 is above upper = -0.5"):
        module.forward(params, X, lower=0.5, upper=-0.5)
    with pytest.raises(ValueError, match="lower = 1.0 is above upper = -1.0"):
        module.compute_cost(params, X, Y, lower=1.0, upper=-1.0)


def test_the_command_line_refuses_them_in_one_line(module, data):
    _, _, folder = data
    save = folder / "params.npz"
    out = subprocess.run([sys.executable, module.__file__, "train", "--data",
                          str(folder / "train.npz"), "--lower", "2", "--upper", "1",
                          "--save", str(save)], capture_output=True, text=True, cwd=folder)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == f"clipped_regression.py train: error: {REFUSED}\n"
    assert not save.exists()


@pytest.mark.parametrize("lower, upper", [(-0.5, 0.5), (0.25, 0.25)])
def test_bounds_in_order_train(module, data, run, lower, upper):
    X, Y, folder = data
    params, costs = module.train(X, Y, num_iterations=300, learning_rate=0.1, lower=lower,
                                 upper=upper)
    assert np.isfinite(costs).all()
    if lower < upper:
        assert costs[-1] < costs[0]
    prediction = module.forward(params, X, lower=lower, upper=upper)["A"]
    assert prediction.min() >= lower and prediction.max() <= upper
    save = folder / "params.npz"
    code, out, _ = run(module, "train", "--data", folder / "train.npz", "--lower", lower,
                       "--upper", upper, "--iterations", 50, "--save", save)
    assert code == 0 and save.exists() and "saved the parameters" in out


@pytest.mark.parametrize("bounds, check", [
    ("-width, width", None),  # width > 0: in order whatever it is, nothing to check
    ("lower, width + upper", 'check_clip_bounds("lower", lower, "upper + width", upper + width)'),
])
def test_only_bounds_that_can_be_out_of_order_are_checked(tmp_path, bounds, check):
    spec = tmp_path / "clipped.toml"
    spec.write_text(SPEC.replace("clip(z, lower, upper)", f"clip(z, {bounds})").replace(
        "[graph]", 'width = { default = 1.0, domain = "positive" }\n[graph]'), encoding="utf-8")
    text = render(symgrad.load(spec).derive())
    assert ("check_clip_bounds" in text) == (check is not None)
    if check:
        assert text.count(check) == 2  # in forward() and in train()
