"""Fixtures for the generated modules: each written once per test module, with data files for
testing their command line."""

import functools
from pathlib import Path

import numpy as np
import pytest

from symgrad.code.render import render_spec
from symgrad.code.verify import load_module

ROOT = Path(__file__).resolve().parents[2]


# ----- the command line of generated modules


@pytest.fixture(scope="module")
def generated_script(tmp_path_factory):
    """name -> the path of the module generated from derivations/<name>.toml, written once
    per test module."""
    folder = tmp_path_factory.mktemp("cli")

    @functools.cache
    def get(name):
        path = folder / f"{name}.py"
        path.write_text(render_spec(ROOT / "derivations" / f"{name}.toml"), encoding="utf-8")
        return path

    return get


@pytest.fixture(scope="module")
def logreg(generated_script):
    return generated_script("logistic_regression")


@pytest.fixture(scope="module")
def deep(generated_script):
    return load_module(generated_script("deep_network"))


@pytest.fixture
def files(tmp_path):
    """A small separable data set as .npz and .csv, with and without labels."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 40))
    Y = (X[:1] - X[1:2] > 0).astype(float)
    np.savez(tmp_path / "train.npz", X=X, Y=Y)
    np.savetxt(tmp_path / "test.csv", np.c_[X.T, Y.T], delimiter=",")
    np.savetxt(tmp_path / "unlabelled.csv", X.T[:5], delimiter=",")
    return tmp_path


@pytest.fixture
def run(capsys):
    """(module, *argv) -> (exit code, stdout, stderr) of module.main(argv), run in this
    process; the exit code is main's return value, or argparse's where it exits."""

    def run_main(module, *argv):
        try:
            code = module.main([str(a) for a in argv])
        except SystemExit as exit:
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err

    return run_main
