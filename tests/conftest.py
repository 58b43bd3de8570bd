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
