"""Generated code for a model with [constants]: the named convention, the constants in
``inputs`` by name, each of its own shape; verified, trained, and run from its command line."""

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.code.verify import load_module, verify
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
ATTENTION = ROOT / "tests" / "catalogue" / "attention_keys.toml"
TEMPERATURE = """name = "temperature"
[dims]
n_x = "input features"
[constants]
T = "positive"
prior = "probability(2)"
[inputs]
x = "vector(n_x)"
[labels]
y = "binary"
[parameters]
w = "vector(n_x)"
b = "scalar"
[graph]
z = "(w @ x + b) / T + sum(prior * prior)"
a = "sigmoid(z)"
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L)"
"""


@functools.cache
def derived(which):
    model = symgrad.load(ATTENTION) if which == "attention" else symgrad.loads(TEMPERATURE)
    return symgrad.derive(model)


@functools.cache
def code(which):
    return symgrad.codegen(derived(which))


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("constants")
    out = {}
    for which in ("attention", "temperature"):
        path = folder / f"{which}_model.py"
        path.write_text(code(which), encoding="utf-8")
        out[which] = path
    return out


def attention_data(rng, m=60, n_x=3, n_k=5):
    K = rng.normal(size=(n_k, 4))
    x = rng.normal(size=(n_x, m))
    y = np.eye(n_k)[rng.integers(0, n_k, size=m)].T
    return {"x": x, "K": K}, {"y": y}


def test_the_module_lists_the_constants_and_takes_them_in_inputs(modules):
    text = code("attention")
    module = load_module(modules["attention"])
    assert module.CONSTANTS == ("K",) and module.INPUTS == ("x",)
    assert module.CONSTANT_SHAPES == {"K": ("n_k", 4)}
    assert "def forward(params, inputs):" in text
    assert 'K = inputs["K"]' in text
    words = " ".join(text.split())
    assert "constant K: matrix(n_k, 4)" in words  # the docstring names it
    assert "with the constants K = inputs['K'] (n_k, 4)" in words
    assert "the constants K" in words  # and so does the command line's help
    temperature = load_module(modules["temperature"])
    assert temperature.CONSTANT_SHAPES == {"T": (), "prior": (2, 1)}
    assert temperature.CONSTANT_DOMAINS == {"T": "positive", "prior": "probability"}


def test_deterministic():
    assert symgrad.codegen(derived("attention")) == code("attention")


def test_ruff_clean(tmp_path):
    if shutil.which("ruff"):
        ruff = ["ruff"]
    else:
        pytest.importorskip("ruff")
        ruff = [sys.executable, "-m", "ruff"]
    for which in ("attention", "temperature"):
        (tmp_path / f"{which}.py").write_text(code(which), encoding="utf-8")
    for command in (["check", "--isolated"], ["format", "--check", "--isolated"]):
        out = subprocess.run([*ruff, *command, "--no-cache", str(tmp_path)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("which", ["attention", "temperature"])
def test_verify(which):
    rows = verify(derived(which), trials=2)
    assert rows and all(row.passed for row in rows), [r for r in rows if not r.passed]


def test_train_from_python(modules):
    module = load_module(modules["attention"])
    inputs, labels = attention_data(np.random.default_rng(0))
    dims = module.data_dims(inputs, labels)
    assert dims == {"n_x": 3, "n_k": 5}  # n_k read from K's full shape, and from y's rows
    params, costs = module.train(inputs, labels, num_iterations=300, learning_rate=0.5)
    assert np.shape(params["Wq"]) == (4, 3) and costs[-1] < costs[0]
    assert module.predict(params, inputs).shape == (1, 60)
    bad = {**inputs, "K": np.ones((6, 4))}  # 6 keys where y has 5 rows
    with pytest.raises(module.DataError, match="n_k"):
        module.data_dims(bad, labels)
    with pytest.raises(ValueError, match="'K'"):
        module.forward(params, {"x": inputs["x"]})


def _run(path, *args, cwd):
    return subprocess.run([sys.executable, str(path), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def test_command_line_train_and_predict(modules, tmp_path):
    rng = np.random.default_rng(1)
    inputs, labels = attention_data(rng)
    np.savez(tmp_path / "train.npz", **inputs, **labels)
    np.savez(tmp_path / "test.npz", **inputs)
    script = modules["attention"]
    out = _run(script, "train", "--data", "train.npz", "--iterations", 200, "--learning-rate",
               0.5, "--save", "params.npz", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "saved the parameters" in out.stdout
    out = _run(script, "predict", "--params", "params.npz", "--data", "test.npz", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.split()) == 60
    help_text = _run(script, "train", "--help", cwd=tmp_path).stdout
    assert "constants K" in help_text
    np.savez(tmp_path / "no_keys.npz", x=inputs["x"], **labels)
    np.savez(tmp_path / "bad_keys.npz", x=inputs["x"], K=np.ones((5, 3)), **labels)
    for name, expected in (("no_keys.npz", "no array K (a constant"),
                           ("bad_keys.npz", "K must have shape ('n_k', 4)")):
        out = _run(script, "train", "--data", name, "--save", "p.npz", cwd=tmp_path)
        assert out.returncode == 2 and expected in out.stderr, out.stderr
        assert len(out.stderr.splitlines()) == 1


def test_command_line_scalar_and_vector_constants(modules, tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 40))
    y = (x[:1] > 0).astype(float)
    np.savez(tmp_path / "d.npz", x=x, y=y, T=np.array(2.0), prior=np.array([0.3, 0.7]))
    script = modules["temperature"]
    out = _run(script, "train", "--data", "d.npz", "--iterations", 100, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    np.savez(tmp_path / "bad.npz", x=x, y=y, T=np.array(-1.0), prior=np.array([0.3, 0.7]))
    out = _run(script, "train", "--data", "bad.npz", cwd=tmp_path)
    assert out.returncode == 2 and "T must hold a number > 0" in out.stderr, out.stderr


def test_a_model_with_layers_and_constants_is_refused():
    spec = (ROOT / "derivations" / "deep_network.toml").read_text(encoding="utf-8")
    spec = spec.replace("[inputs]", '[constants]\nT = "positive"\n\n[inputs]', 1)
    with pytest.raises(SpecError, match="layers: a model with \\[layers\\] reads one input"):
        symgrad.loads(spec, source="deep.toml")  # by derive, not after it by codegen
