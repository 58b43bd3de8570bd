"""A non-editable install works from any folder: templates and shipped specs travel with it."""

import os
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a fresh install in a new virtual environment

ROOT = Path(__file__).resolve().parent.parent


def test_non_editable_install_from_another_folder(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # a PYTHONPATH pointing at a checkout would import symgrad from there, not the install
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps",
                    str(ROOT)], check=True, capture_output=True, cwd=tmp_path, env=env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = ("import symgrad, symgrad.printing.resources as r; "
              "assert 'site-packages' in symgrad.__file__, symgrad.__file__; "
              "specs = r.shipped_specs(); "
              "assert any(p.name == 'logistic_regression.toml' for p in specs), specs; "
              "t = r.templates_dir(); "
              "assert sorted(p.name for p in t.glob('*.jinja')), t; "
              "print(symgrad.load(specs[0]).name)")
    out = subprocess.run([python, "-c", script], check=True, capture_output=True, text=True,
                         cwd=elsewhere, env=env)
    assert out.stdout.strip()
    derive = subprocess.run([env_dir / "bin" / "symgrad", "derive",
                             str(ROOT / "derivations" / "logistic_regression.toml")],
                            capture_output=True, text=True, cwd=elsewhere, env=env)
    assert derive.returncode == 0 and "a - y" in derive.stdout, derive.stderr
    symgrad = env_dir / "bin" / "symgrad"
    listed = subprocess.run([symgrad, "list"], capture_output=True, text=True, cwd=elsewhere,
                            env=env)
    assert listed.returncode == 0, listed.stderr
    assert "logistic_regression    Logistic regression as a single neuron" in listed.stdout
    by_name = subprocess.run([symgrad, "derive", "logistic_regression"], capture_output=True,
                             text=True, cwd=elsewhere, env=env)
    assert by_name.returncode == 0 and "site-packages" in by_name.stdout, by_name.stderr
    assert "dz = dL/dz  = a - y" in by_name.stdout
