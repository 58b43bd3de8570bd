"""Shared fixtures: the catalogue of shipped specs, parametrized by name."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "derivations").glob("*.toml"))


def pytest_generate_tests(metafunc):
    if "spec_path" in metafunc.fixturenames:
        metafunc.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])


@pytest.fixture
def spec(request):
    return lambda name: ROOT / "derivations" / f"{name}.toml"


@pytest.fixture
def bn_layer():
    """A batch-normalized layer alone (batch statistics mu and v of z = W @ x), with a loss
    linear in its output, sum(g*zt): a fresh Model each call."""
    from symgrad.model.graph import Model

    return lambda: Model.build(
        "bn_layer", dims={"n": "features"}, inputs={"x": "vector(n)", "g": "vector(n)"},
        parameters={"W": "matrix(n, n)", "gamma1": "vector(n)", "beta1": "vector(n)"},
        hyperparameters={"eps": {"default": 1e-5, "domain": "positive"}},
        graph={"z": "W @ x", "mu": "batch_mean(z)", "v": "batch_mean((z - mu)**2)",
               "zh": "(z - mu)/sqrt(v + eps)", "zt": "gamma1*zh + beta1", "L": "sum(g*zt)"},
        cost={"J": "mean(L)"})
