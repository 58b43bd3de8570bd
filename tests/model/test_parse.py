"""The whitelist parser: the grammar it accepts, and everything it refuses without running."""

import pytest
import sympy as sp

from symgrad.model.errors import SpecError
from symgrad.model.ops import ELEMENTWISE
from symgrad.model.parse import parse

x, y = sp.symbols("x y", real=True)
NAMES = {"x": x, "y": y}


def p(text):
    return parse(text, names=NAMES, functions=ELEMENTWISE)


def test_arithmetic_and_functions():
    assert p("-(y*log(x) + (1 - y)*log(1 - x))") == -(y * sp.log(x) + (1 - y) * sp.log(1 - x))
    assert p("x**2 / 2") == x**2 / 2
    assert p("0.5*x") == x / 2
    assert p("+x - -y") == x + y


@pytest.mark.parametrize("text, found", [
    ("__import__('os').system('echo pwned')", "call of a non-function"),
    ("x.__class__", "attribute access"),
    ("(lambda: 1)()", "call of a non-function"),
    ("lambda q: q", "lambda"),
    ("[t for t in x]", "comprehension"),
    ("x[0]", "subscript"),
    ("10**10**10", "exponent"),
    ("x**1000", "too large"),
    ("x**y", "exponent"),
    ("'text'", "constant"),
    ("x if y else 1", "conditional"),
    ("open('f')", "unsupported function 'open'"),
    ("log(x, base=2)", "keyword"),
    ("q + 1", "unknown name 'q'"),
    ("x +", "syntax error"),
    ("x @ y", "'@'"),
    ("x == y", "comparison"),
])
def test_refused(text, found):
    with pytest.raises(SpecError) as err:
        p(text)
    assert found in str(err.value)
    assert "\n" not in str(err.value)


def test_nothing_runs(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError):
        p(f"__import__('os').system('touch {marker}')")
    assert not marker.exists()


def test_huge_input_refused():
    with pytest.raises(SpecError, match="longer than"):
        p("x+" * 2000 + "x")
    with pytest.raises(SpecError):
        p("(" * 500 + "x" + ")" * 500)


g = sp.Symbol("g", positive=True)


def test_exponents_may_use_the_names_the_caller_allows():
    names = {**NAMES, "g": g}
    assert parse("(1 - x)**g", names=names, functions={}, exponents=["g"]) == (1 - x)**g
    assert parse("x**(g - 1)", names=names, functions={}, exponents=["g"]) == x**(g - 1)
    assert parse("x**(2*g/3)", names=names, functions={}, exponents=["g"]) == x**(2 * g / 3)
    assert parse("2**g", names=names, functions={}, exponents=["g"]) == 2**g


@pytest.mark.parametrize("text, found", [
    ("x**y", "exponent"),  # y is not a hyperparameter
    ("x**(g*y)", "exponent"),
    ("x**log(g)", "exponent"),
    ("x**(g**2)", "exponent"),  # no towers
    ("x**(g*100)", "too large"),
    ("x**g", ""),  # the only one accepted
])
def test_exponents_refuse_everything_else(text, found):
    names = {**NAMES, "g": g}
    if not found:
        assert parse(text, names=names, functions=ELEMENTWISE, exponents=["g"]) == x**g
        return
    with pytest.raises(SpecError, match=found):
        parse(text, names=names, functions=ELEMENTWISE, exponents=["g"])


def test_transpose_only_where_given():
    t = parse("x.T + y", names=NAMES, functions={}, transpose=lambda a: 2 * a)
    assert t == 2 * x + y
    for text in ("x.T", "x.real", "(x + y).H"):
        with pytest.raises(SpecError, match="attribute access"):
            parse(text, names=NAMES, functions={})
    with pytest.raises(SpecError, match="attribute access '.H'"):
        parse("x.H", names=NAMES, functions={}, transpose=lambda a: a)


def test_transpose_in_a_spec():
    from symgrad.model.graph import Model
    from symgrad.model.ops import matmul, transpose

    spec = dict(dims={"n": "size"}, inputs={"x": "vector(n)"},
                parameters={"W": "matrix(2, n)"}, cost={"J": "mean(L)"})
    model = Model.build("tied", graph={"h": "W @ x", "r": "W.T @ h", "L": "sum(r**2)"}, **spec)
    W, h = (model.variables[k].symbol for k in "Wh")
    assert model.nodes[1].expr == matmul(transpose(W), h)
    with pytest.raises(SpecError, match="changes with the example"):
        Model.build("bad", graph={"L": "x.T @ W.T @ W @ x"}, **spec)
