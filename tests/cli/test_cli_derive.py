"""``symgrad derive``: output, JSON read back by sympify, and one-line errors with exit code 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from symgrad.cli.main import main

GOOD = """name = "t"
[dims]
n_x = "features"
[inputs]
x = "vector(n_x)"
y = "binary"
[parameters]
w = "vector(n_x)"
b = "scalar"
[graph]
z = "w @ x + b"
a = "sigmoid(z)"
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L)"
"""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output(capsys, spec):
    code, out, _ = run(capsys, "derive", str(spec("logistic_regression")))
    assert code == 0
    assert "dz = dL/dz" in out and "= a - y" in out
    assert "dw = (X @ dZ.T)/m" in out and "dZ = A - Y" in out


def test_json_reads_back(capsys, spec):
    code, out, _ = run(capsys, "derive", str(spec("logistic_regression")), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["model"] == "logistic_regression"
    names = {n: sp.Symbol(n, real=True) for n in ("a", "y", "x")}
    dz = sp.sympify(data["per_example"]["dz"], locals=names)
    assert dz == names["a"] - names["y"]
    assert sp.sympify(data["per_example"]["dw"], locals=names) == names["x"] * dz
    assert data["batch"]["dZ"] == "A - Y"


def bad(tmp_path, capsys, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = run(capsys, "derive", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("old, new, expected", [
    ('z = "w @ x + b"', 'z = "w @ q + b"', ":11: graph.z: unknown name 'q'"),
    ('a = "sigmoid(z)"', 'a = "sigmoid(L)"', "cycle in the graph"),
    ('a = "sigmoid(z)"', 'a = "gamma(z)"', ":12: graph.a: unsupported function 'gamma'"),
    ('a = "sigmoid(z)"', 'a = "__import__(\'os\').system(\'ls\')"', ":12: graph.a:"),
    ('b = "scalar"', 'b = "tensor(3)"', ":9: parameters.b: unknown type 'tensor(3)'"),
    ('w = "vector(n_x)"', 'w = "vector(n_h)"', "unknown dimension 'n_h'"),
    ('J = "mean(L)"', 'J = "mean(L) + 10**10**10"', ":15: cost.J: exponent"),
    ('L = "-(', 'L = "-((', ":13: graph.L: syntax error"),
    ('[cost]', '[cost\n', "TOML syntax error"),
])
def test_bad_spec_one_line(tmp_path, capsys, old, new, expected):
    assert old in GOOD
    err = bad(tmp_path, capsys, GOOD.replace(old, new, 1))
    assert expected in err, err


def test_shape_mismatch(tmp_path, capsys):
    text = GOOD.replace('n_x = "features"', 'n_x = "features"\nn_h = "hidden"').replace(
        'w = "vector(n_x)"', 'w = "vector(n_h)"')
    err = bad(tmp_path, capsys, text)
    assert "shape mismatch: vector(n_h) @ vector(n_x)" in err and "graph.z" in err


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "derive", str(tmp_path / "none.toml"))
    assert code == 2 and "no such file" in err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "symgrad", "derive", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "spec" in out


def test_a_reader_that_closes_stdout_ends_the_command_quietly():
    """``symgrad derive SPEC | head -1``: exit 0, nothing on stderr, no BrokenPipeError."""
    spec = Path(__file__).resolve().parents[2] / "derivations" / "deep_network.toml"
    env = {**os.environ, "PYTHONPATH": str(spec.parents[1])}
    with subprocess.Popen([sys.executable, "-m", "symgrad", "derive", str(spec)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        proc.stdout.close()  # before it writes: every write then meets a closed pipe
        err = proc.stderr.read()
        code = proc.wait(timeout=60)
    assert code == 0 and err == b""
