"""A spec's [example]: a number for every input and parameter of a model of scalars, the point
where a proof writes the graph's values (tests/cli/test_cli_prove_graph.py). Bad tables are
one line naming the file, the line and what was expected; exit 2 from the command line."""

import pytest
import sympy as sp

import symgrad
from symgrad.cli.main import main
from symgrad.model.errors import SpecError

HEAD = """name = "cg"
[parameters]
"a, b" = "scalar"
[graph]
u = "a*b"
[cost]
J = "3*u"
"""


def test_example_values_are_exact():
    model = symgrad.loads(HEAD + "[example]\na = 5\nb = 0.1\n")
    assert model.example == {"a": 5, "b": sp.Rational(1, 10)}


@pytest.mark.parametrize("table, message", [
    ("a = 5\n", "[example] gives no value to b; expected a number for every input and "
                "parameter"),
    ("a = 5\nb = 1\nc = 2\n", "'c' is not an input or parameter; expected one of: a, b"),
    ("a = 5\nb = \"__import__('os')\"\n", "expected a finite number, found a str"),
    ("a = 5\nb = true\n", "expected a finite number, found a bool"),
    ("a = 5\nb = nan\n", "expected a finite number, found nan"),
    ("a = 5\nb = inf\n", "expected a finite number, found inf"),
    ("a = 5\nb = [1, 2]\n", "expected a finite number, found a list"),
])
def test_bad_examples_are_one_clear_line(table, message):
    with pytest.raises(SpecError) as err:
        symgrad.loads(HEAD + "[example]\n" + table, source="cg.toml")
    assert message in str(err.value)
    assert str(err.value).startswith("cg.toml")


def test_an_example_needs_a_model_of_scalars():
    spec = HEAD.replace('"a, b" = "scalar"', 'a = "vector(n)"\nb = "vector(n)"').replace(
        'u = "a*b"', 'u = "sum(a*b)"').replace('name = "cg"', 'name = "cg"\n[dims]\nn = "n"')
    with pytest.raises(SpecError, match=r"\[example\] needs a model of scalars; this one has "
                                        r"arrays \(a, b\)"):
        symgrad.loads(spec + "[example]\na = 1\nb = 2\n", source="v.toml")


def test_a_bad_example_exits_2_with_one_line(tmp_path, capsys):
    spec = tmp_path / "cg.toml"
    spec.write_text(HEAD + "[example]\na = 5\nb = \"x\"\n", encoding="utf-8")
    out = tmp_path / "cg.tex"
    assert main(["prove", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"{spec}:" in err and ":10: example.b:" in err and "expected a finite number" in err
    assert not out.exists()


def test_a_hyperparameter_may_have_an_example_value_or_keep_its_default():
    spec = HEAD.replace('u = "a*b"', 'u = "k*a*b"') + '[hyperparameters]\nk = { default = 2.0 }\n'
    assert symgrad.loads(spec + "[example]\na = 1\nb = 2\n").example == {"a": 1, "b": 2}
    given = symgrad.loads(spec + "[example]\na = 1\nb = 2\nk = 0.5\n").example
    assert given["k"] == sp.Rational(1, 2)
