"""Every step's rule in a proof is typeset (issue 12): the math inside a rule (tanh(z) = 2a - 1,
the columns that sum to 1, a leaky ReLU's slope, sinh/cosh = tanh) is math, and the words are
escaped; a spec's decimals print as decimals in the proof too."""

import functools
import re
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad.calculus.simplify import identities
from symgrad.model.ops import relu
from symgrad.printing.printers import latex
from symgrad.proof.document import render

CATALOGUE = Path(__file__).resolve().parents[1] / "catalogue"
TANH_LOGISTIC = {  # a = (tanh(z) + 1)/2, as in tests/calculus/test_node_variables.py
    "dims": {"n_x": "number of input features"},
    "inputs": {"x": "vector(n_x)", "y": "binary"},
    "parameters": {"w": "vector(n_x)", "b": "scalar"},
    "graph": {"z": "w @ x + b", "a": "(tanh(z) + 1)/2", "L": "-(y*log(a) + (1 - y)*log(1 - a))"},
    "cost": {"J": "mean(L)"}}


@functools.cache
def proof(name):
    if name == "tanh_logistic":
        model = symgrad.Model.build(name, **TANH_LOGISTIC)
    else:
        model = symgrad.load(CATALOGUE / f"{name}.toml")
    return symgrad.prove(model.derive())


def latex_rules(name) -> list[str]:
    tex = render(proof(name), "latex")
    found = re.findall(r"\\tag\*\{\\small (.*?)\}(?: \\\\)?$", tex, flags=re.M)
    return [_unboxed(rule) for rule in found]


def _unboxed(rule: str) -> str:
    """A long rule as written, out of its paragraph and its formulas' scaling."""
    hit = re.fullmatch(r"\\parbox\[t\]\{[^{}]*\}\{\\raggedleft (.*)\}", rule)
    rule = hit.group(1) if hit else rule
    return re.sub(r"\\adjustbox\{max width=[^{}]*\}\{(\$[^$]*\$)\}", r"\1", rule)


def markdown_rules(name) -> list[str]:
    md = render(proof(name), "markdown")
    return [line.split(" && ", 1)[1].removesuffix(r" \\") for line in md.splitlines()
            if " && " in line]


MODELS = {  # model: what one of its rules says, in LaTeX
    "tanh_logistic": r"write in node variables: $\tanh{\left(z \right)} = -1 + 2 a$ by the "
                     r"definition of $a$",
    "tanh_mse": r"definition of the node: $\tanh{\left(z \right)} = a$",
    "label_smoothing": r"each column of $a$ and $t$ sums to 1 (by its definition)",
    "leaky_relu_network": r"derivative of leaky relu (taken as $0.1$ at 0)",
    "log_cosh_regression": r"the identity $\frac{\sinh{\left(r \right)}}{\cosh{\left(r \right)}}"
                           r" = \tanh{\left(r \right)}$",
}


@pytest.mark.parametrize("name", MODELS)
def test_rules_typeset_in_latex(name):
    rules = latex_rules(name)
    assert any(MODELS[name] in rule for rule in rules), rules  # alone, or after "simplify; "
    for rule in rules:
        words = re.sub(r"\$[^$]*\$", "", rule.removesuffix(r"${}^{\dagger}$"))
        assert not re.search(r"[=*^_]|\w\(|alpha", words), rule  # no math as text


@pytest.mark.parametrize("name", MODELS)
def test_rules_typeset_in_markdown(name):
    rules = markdown_rules(name)
    math = re.sub(r"\$([^$]*)\$", r"\1", MODELS[name])  # the same pieces, words in \text{}
    pieces = [p for p in re.split(r"(\$[^$]*\$)", MODELS[name]) if p]
    expected = "".join(p[1:-1] if p.startswith("$") else rf"\text{{{p}}}" for p in pieces)
    assert any(expected in rule for rule in rules), (math, rules)
    for rule in rules:
        words = "".join(re.findall(r"\\text\{((?:[^{}]|\{\})*)\}", rule))
        assert not re.search(r"[=*^]|\w\(|alpha", words), rule
        assert "$" not in rule


def test_rule_words_are_escaped():
    tex = render(proof("label_smoothing"), "latex")
    md = render(proof("label_smoothing"), "markdown")
    assert r"\tag*{\small derivative of leaky" not in tex
    # words inside Markdown's math are LaTeX text: an underscore cannot start a subscript
    assert not re.search(r"\\text\{[^}]*(?<!\\)_", md)


def test_kink_and_quotient_identities_are_named():
    u, r = sp.symbols("u r", real=True)
    rule, expr = identities(sp.Heaviside(u, 0) * relu(u) + sp.sinh(r) / sp.cosh(r))
    assert expr == relu(u) + sp.tanh(r)
    words = "".join(p for p in rule if isinstance(p, str))
    assert "relu's convention" in words and "the identity" in words
    assert sp.Eq(sp.Mul(sp.sinh(r), 1 / sp.cosh(r), evaluate=False), sp.tanh(r),
                 evaluate=False) in rule
    assert identities(sp.tanh(r)) == ((), sp.tanh(r))


GELU_TANH = {  # Hendrycks and Gimpel's tanh approximation of GELU
    "dims": {"n_x": "number of input features"},
    "inputs": {"x": "vector(n_x)", "y": "real"},
    "parameters": {"w": "vector(n_x)", "b": "scalar"},
    "graph": {"z": "w @ x + b", "a": "z*(1 + tanh(sqrt(2/pi)*(z + 0.044715*z**3)))/2",
              "L": "(a - y)**2/2"},
    "cost": {"J": "mean(L)"}}


def test_decimals_stay_decimals_in_proofs():
    d = symgrad.Model.build("gelu_tanh", **GELU_TANH).derive()
    proved = symgrad.prove(d)  # every line checked
    assert all(line.checked for _, eqs in proved.equations() for line in eqs.lines
               if line.relation == "=")
    for fmt in ("latex", "markdown"):
        text = render(proved, fmt)
        assert "0.044715 z^{3}" in text and "0.134145 z^{2}" in text
        assert "200000" not in text and "8943" not in text
        assert r"\sqrt{\pi}" in text  # sqrt(2/pi) stays symbolic
    z = sp.Symbol("z", real=True)
    assert latex(sp.Rational(-3, 20) * z) == "- 0.15 z"
    assert latex(sp.Rational(1, 10)) == "0.1"
    assert latex(z / 2) == r"\frac{z}{2}"  # 1/2 is no decimal
