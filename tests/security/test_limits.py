"""Size, depth and value limits on untrusted specs and claims (symgrad/model/limits.py).

Every case runs the command line: exit code 2, exactly one line on stderr, no traceback, within
a few seconds. The huge inputs run in a subprocess under a 1 GiB address-space limit, so that
reading them whole (or letting Python's parser loose on them) would fail the test.
"""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symgrad.claims.claim import Claim
from symgrad.cli import derive as derive_command
from symgrad.cli.main import main
from symgrad.model.errors import SpecError
from symgrad.model.graph import Model
from symgrad.model.limits import (
    MAX_DIMENSION,
    MAX_FILE_LENGTH,
    MAX_LAYERS,
    MAX_LENGTH,
    MAX_NAMES,
    MAX_NESTING,
    MAX_NODES,
)
from symgrad.model.spec import load, loads

ROOT = Path(__file__).resolve().parents[2]
LOGREG = ROOT / "derivations" / "logistic_regression.toml"
SECONDS = 20  # generous: start-up and the SymPy import take about a second

SPEC = """name = "t"
[dims]
n = "features"
[inputs]
x = "{x}"
y = "binary"
[parameters]
w = "{w}"
b = "scalar"
[graph]
{graph}
a = "sigmoid(z)"
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L)"
"""


def spec(graph='z = "w @ x + b"', x="vector(n)", w="vector(n)", top=""):
    """A spec of logistic regression; ``top`` goes on line 2, before the tables."""
    text = SPEC.format(graph=graph, x=x, w=w)
    return text.replace("\n", "\n" + top, 1)


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def one_line(code, out, err, seconds, start="symgrad: error: ") -> str:
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err and out == ""
    assert err.count("\n") == 1 and err.startswith(start), err[:500]
    assert seconds < SECONDS
    return err


def in_subprocess(tmp_path, *argv, start="symgrad: error: ") -> str:
    """The one line on stderr of ``python -m symgrad ARGV``, run with at most 1 GiB of memory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    begun = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "symgrad", *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=SECONDS * 3,
                          preexec_fn=limit_memory)
    return one_line(done.returncode, done.stdout, done.stderr, time.monotonic() - begun, start)


@pytest.fixture
def refused(tmp_path, capsys, monkeypatch):
    """The one line with which ``symgrad derive`` refuses a spec (given as text)."""
    monkeypatch.chdir(tmp_path)

    def run(text):
        (tmp_path / "f.toml").write_text(text, encoding="utf-8")
        begun = time.monotonic()
        code = main(["derive", "f.toml"])
        out, err = capsys.readouterr()
        return one_line(code, out, err, time.monotonic() - begun, "symgrad: error: f.toml")
    return run


def test_the_spec_used_here_is_good():
    assert loads(spec()).nodes[0].name == "z"


# ----- size and depth, checked before parsing -----

@pytest.mark.slow
def test_a_10_mb_expression_is_refused_without_reading_it(tmp_path):
    (tmp_path / "f.toml").write_text(spec(graph='z = "' + "b+" * 5_000_000 + 'b"'))
    err = in_subprocess(tmp_path, "derive", "f.toml", start="symgrad: error: f.toml: ")
    assert f"file longer than {MAX_FILE_LENGTH} characters" in err


@pytest.mark.slow
def test_a_10_mb_expression_from_python_is_refused_without_parsing_it():
    text = spec(graph='z = "' + "b+" * 5_000_000 + 'b"')
    with pytest.raises(SpecError, match="longer than"):
        loads(text)
    graph = {"z": "w @ x + " + "b+" * 5_000_000 + "b", "a": "sigmoid(z)",
             "L": "-(y*log(a) + (1 - y)*log(1 - a))"}
    with pytest.raises(SpecError, match="graph.z: expression of 10000009 characters"):
        Model.build("t", dims={"n": "features"}, inputs={"x": "vector(n)", "y": "binary"},
                    parameters={"w": "vector(n)", "b": "scalar"}, graph=graph,
                    cost={"J": "mean(L)"})


def test_a_long_expression_is_refused(refused):
    err = refused(spec(graph='z = "' + "b+" * 100_000 + 'b"'))
    assert ":11: graph.z: expression of 200001 characters" in err
    assert f"at most {MAX_LENGTH}" in err


def test_a_chain_of_1200_nodes_is_refused(refused):
    chain = 'z0 = "w @ x + b"\n' + "".join(f'z{i} = "z{i - 1} + b"\n' for i in range(1, 1200))
    err = refused(spec(graph=chain.replace("z1199 =", "z =")))
    assert ":10: graph: [graph] has 1202 nodes" in err and f"at most {MAX_NODES}" in err


def test_a_chain_written_backwards_is_refused(refused):
    chain = "".join(f'z{i} = "z{i + 1} + b"\n' for i in range(1199)) + 'z1199 = "w @ x + b"\n'
    err = refused(spec(graph=chain.replace("z0 =", "z =")))
    assert "[graph] has 1202 nodes" in err


def test_too_many_names_are_refused(refused):
    names = ", ".join(f"p{i}" for i in range(MAX_NAMES + 1))  # and 8 more: n x y w b z a L
    err = refused(spec().replace('b = "scalar"', f'b = "scalar"\n"{names}" = "scalar"'))
    assert f"declares {MAX_NAMES + 9} names; expected at most {MAX_NAMES}" in err


def test_too_deep_a_stack_of_layers_is_refused(refused):
    text = (ROOT / "derivations" / "deep_network.toml").read_text()
    err = refused(text.replace("depth = 3 ", f"depth = {MAX_LAYERS + 1} "))
    assert f"layers.depth: layers.depth must be a whole number from 1 to {MAX_LAYERS}" in err


@pytest.mark.parametrize("depth", [60, 200, 900])
def test_deep_parentheses_are_refused(refused, depth):
    err = refused(spec(graph='z = "' + "(" * depth + "w @ x + b" + ")" * depth + '"'))
    assert f":11: graph.z: '((((((((((((((((((((...' nests parentheses {depth} deep" in err
    assert f"at most {MAX_NESTING}" in err


def test_long_chains_of_operators_are_refused(refused):
    err = refused(spec(graph='z = "' + "-" * 1500 + 'b + w @ x"'))
    assert ":11: graph.z:" in err and "levels of operators" in err


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a = ", "}")])
def test_deeply_nested_toml_values_are_refused(refused, opening, closing):
    err = refused(spec(top="title = " + opening * 5000 + closing * 5000 + "\n"))
    assert "f.toml:2: arrays or inline tables nested more than" in err


def test_brackets_in_strings_and_comments_are_not_nesting():
    text = spec(top='# ' + "[" * 100 + '\ntitle = "' + "[" * 100 + '"\n')
    assert loads(text).title == "[" * 100


def test_a_toml_number_of_5000_digits_is_refused(refused):
    err = refused(spec(top="title = " + "9" * 5000 + "\n"))
    assert "f.toml:2: a number of 5000 digits" in err


def test_a_line_of_spaces_is_read_quickly():
    start = time.monotonic()
    loads(spec(top=" " * 200_000 + "\n"))
    assert time.monotonic() - start < 2


# ----- dimensions -----

@pytest.mark.parametrize("size, expected", [
    ("²", "unknown dimension '²'"),
    ("١", "unknown dimension '١'"),
    ("٣", "unknown dimension '٣'"),
    ("9" * 5000, "size 999999999999... (5000 digits) is out of range"),
    ("0", "size 0 is out of range"),
    ("-3", "unknown dimension '-3'"),
    (str(MAX_DIMENSION + 1), f"size {MAX_DIMENSION + 1} is out of range"),
])
def test_bad_sizes_are_refused(refused, size, expected):
    err = refused(spec(x=f"vector({size})", w=f"vector({size})"))
    assert ":5: inputs.x: " + expected in err


def test_sizes_are_ascii_digits():
    model = loads(spec(x="vector(3)", w="vector(3)"))
    assert model.variables["x"].shape[0] == 3


@pytest.mark.parametrize("size, expected", [
    ('"²"', "'²' must be a positive integer"),
    ("0", "size 0 is out of range"),
    ('"' + "9" * 5000 + '"', "(5000 digits) is out of range"),
    ("true", "must be a positive integer"),
])
def test_bad_output_sizes_of_layers_are_refused(refused, size, expected):
    text = (ROOT / "derivations" / "deep_network.toml").read_text()
    text = text.replace("output_size = 1 ", f"output_size = {size} ")
    err = refused(text)
    assert "layers.output_size: " in err and expected in err


# ----- values SymPy computes -----

@pytest.mark.parametrize("expr, value", [
    ("log(0)", "zoo"), ("0**-1", "zoo"), ("1/0", "zoo"), ("1/(b - b)", "zoo"),
    ("sqrt(-1)", "I"), ("log(-2)", "log(2) + I*pi"), ("(-2)**0.5", "sqrt(2)*I"),
    ("(-2)**0.3", "(-2)**(3/10)"), ("0*log(0)", "zoo"),
])
def test_constants_that_are_not_finite_real_numbers_are_refused(refused, expr, value):
    err = refused(spec(graph=f'z = "w @ x + b + {expr}"'))
    assert ":11: graph.z: '" in err and f"is {value}, not a finite real number" in err


def test_a_node_that_is_a_constant_is_refused(refused):
    err = refused(spec(graph='c = "b - b"\nz = "w @ x + log(c)"'))
    assert ":11: graph.c: the node is the constant 0" in err


@pytest.mark.parametrize("expr, expected", [
    ("9" * 401, "has a number of more than 400 digits"),
    ("9" * 300 + "*" + "9" * 300, "has a number of more than 400 digits"),
    ("((2**64)**64)**64", "has a number of more than 400 digits"),
    ("((((((2**64)**64)**64)**64)**64)**64)", "has a number of more than 400 digits"),
    ("b**64*b**64", "is b to the power 128"),
    ("((b + 1)**64)**64", "is b + 1 to the power 4096"),
])
def test_huge_numbers_and_powers_are_refused_before_they_are_computed(refused, expr, expected):
    err = refused(spec(graph=f'z = "w @ x + {expr}"'))
    assert ":11: graph.z: " in err and expected in err


# ----- claims -----

def test_a_10_mb_claim_is_refused():
    with pytest.raises(SpecError, match="claim of 10000005 characters"):
        Claim.read("dz = " + "a+" * 5_000_000)
    with pytest.raises(SpecError, match="claim of 10000002 characters"):
        Claim.of("dz", "a " * 5_000_000)


@pytest.fixture
def claims(tmp_path, capsys, monkeypatch):
    """The one line with which ``symgrad check`` (on logistic regression) refuses ARGV."""
    monkeypatch.chdir(tmp_path)

    def run(*argv):
        begun = time.monotonic()
        code = main(["check", str(LOGREG), *argv])
        out, err = capsys.readouterr()
        return one_line(code, out, err, time.monotonic() - begun)
    return run


@pytest.mark.slow
def test_a_10_mb_claims_file_is_refused_without_reading_it(tmp_path):
    (tmp_path / "c.toml").write_text('[claims]\ndz = "' + "a+" * 5_000_000 + 'y"\n')
    err = in_subprocess(tmp_path, "check", str(LOGREG), "--claims", "c.toml")
    assert f"c.toml: file longer than {MAX_FILE_LENGTH} characters" in err


@pytest.mark.slow
def test_a_long_claim_on_the_command_line_is_refused(tmp_path):
    # one argument of a command line holds at most 128 KiB on Linux: 10 MB go in a file (above)
    err = in_subprocess(tmp_path, "check", str(LOGREG), "--claim", "dz = " + "a+" * 60_000 + "y")
    assert "claim of 120006 characters is longer than the limit" in err


@pytest.mark.slow
def test_deep_nesting_in_a_claim_is_refused_in_little_memory(tmp_path):
    claim = "dz = " + "(" * 900 + "a" + ")" * 900
    err = in_subprocess(tmp_path, "check", str(LOGREG), "--claim", claim)
    assert "nests parentheses 900 deep" in err


@pytest.mark.slow
@pytest.mark.parametrize("text, expected", [
    ("dz = " + "(" * 200 + "a" + ")" * 200, "nests parentheses 200 deep"),
    ("dz = a - y + log(0)", "'log(0)' in 'a - y + log(0)' is zoo"),
    ("dz = a - y + sqrt(-1)", "is I, not a finite real number"),
    ("dz = a - y + 1/(a - a)", "is zoo, not a finite real number"),
])
def test_bad_claims_on_the_command_line_are_refused(claims, text, expected):
    err = claims("--claim", text)
    assert expected in err


@pytest.mark.slow
@pytest.mark.parametrize("body, expected", [
    ('dz = "' + "(" * 200 + 'a)"', ":2: claims.dz: '((((((((((((((((((((...' nests parentheses"),
    ("dz = " + "[" * 5000 + "]" * 5000, ":2: arrays or inline tables nested more than"),
    ("".join(f'd{i} = "a"\n' for i in range(101)), "101 claims; expected at most 100"),
])
def test_bad_claims_files_are_refused(tmp_path, claims, body, expected):
    (tmp_path / "c.toml").write_text("[claims]\n" + body + "\n")
    err = claims("--claims", "c.toml")
    assert "c.toml" in err and expected in err


# ----- the limits leave every shipped spec, and the deep network at every depth, working -----

@pytest.mark.slow
def test_the_deep_network_unrolls_to_its_largest_depth():
    deep = load(ROOT / "derivations" / "deep_network.toml")
    assert len(deep.unrolled(MAX_LAYERS).nodes) <= MAX_NODES
    with pytest.raises(SpecError, match=f"out of range \\(1 to {MAX_LAYERS}\\)"):
        deep.unrolled(MAX_LAYERS + 1)


def test_what_is_too_deep_for_sympy_still_gets_one_line(refused, monkeypatch):
    # a long chain of nested nodes within MAX_NODES can still exhaust Python's recursion limit
    # inside SymPy (checking a claim about a 500-node chain of tanh takes minutes to get there)
    def too_deep(args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(derive_command, "run", too_deep)
    err = refused(spec())
    assert err.startswith("symgrad: error: f.toml: the model's expressions are nested too deeply")
