"""symgrad prove and symgrad graph: every displayed line of every shipped spec's proof checks, a
broken step is caught, the golden proofs, the printer's notation, the graph's DOT, the CLI."""

import functools
import shutil
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad import document
from symgrad.cli import main
from symgrad.drawing import dot_source
from symgrad.equality import ProofError, Scope, check, scopes
from symgrad.graph import M as m
from symgrad.ops import matmul, relu, sigmoid, transpose
from symgrad.printing import latex
from symgrad.proof import ExampleSum, Line, Partial, Times, build

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SPECS = sorted((ROOT / "derivations").glob("*.toml"))
HAS_DOT = shutil.which("dot") is not None

a, b, w, x, y, z = sp.symbols("a b w x y z", real=True)
A, X, Y, dZ = sp.symbols("A X Y dZ", real=True)


@functools.cache
def derivation(name):
    spec = f"derivations/{name}.toml"
    return symgrad.loads((ROOT / spec).read_text(encoding="utf-8"), source=spec).derive()


@functools.cache
def proved(name):
    return document.prove(derivation(name))


def block(proof, title):
    """The first block of equations in the section whose title mentions ``title``."""
    for section, eqs in proof.equations():
        if title in "".join(map(str, section.title)):
            return eqs
    raise KeyError(title)


# ----- every line checked -----


@pytest.mark.parametrize("name", [p.stem for p in SPECS])
def test_every_line_of_every_proof_checks(name):
    proof = proved(name)
    lines = [line for _, eqs in proof.equations() for line in eqs.lines if line.relation == "="]
    assert len(lines) > 10
    assert all(line.checked in ("symbolic", "numeric") for line in lines)


def broken(name, title, index, change):
    proof = build(derivation(name))
    line = block(proof, title).lines[index]
    line.rhs = change(line.rhs)
    return proof


@pytest.mark.parametrize("title, index, change", [
    ("Node z", -1, lambda r: a + y),  # the final simplification
    ("Node z", 3, lambda r: sigmoid(z) ** 2),  # the sigmoid's derivative, one step
    ("Parameter w", -1, lambda r: r * 2),  # dw = 2 x (a - y)
    ("whole matrices", 0, lambda r: r.xreplace({A: Y})),  # the batch chain rule
    ("Averaging", -1, lambda r: r * m),  # dw without the 1/m
    ("Averaging", -1, lambda r: matmul(transpose(dZ), X) / m),  # the product transposed
])
def test_a_broken_step_is_caught(title, index, change):
    with pytest.raises(ProofError, match="does not hold"):
        check(broken("logistic_regression", title, index, change))


def test_a_chain_rule_missing_a_path_is_caught():
    proof = build(derivation("poisson_regression"))  # z is used by a and by L = a - y z
    chain = [eqs for section, eqs in proof.equations() if section.title == ("Node ", z)][-1]
    assert chain.lines[0].lhs == sp.Symbol("dz", real=True) and len(chain.lines[0].rhs.args) == 2
    chain.lines[0].rhs = chain.lines[0].rhs.args[0]
    with pytest.raises(ProofError, match="Node z', line 1"):
        check(proof)


def test_nodes_are_tied_to_their_definitions():
    scope = scopes(derivation("logistic_regression"))["example"]
    assert scope.check(a * (1 - a), sigmoid(z) * (1 - sigmoid(z))) == "symbolic"
    with pytest.raises(ProofError):
        scope.check(a, z)  # equal as symbols never; a = sigmoid(z) is not z


def test_the_labels_assumptions():
    logistic = scopes(derivation("logistic_regression"))["example"]
    assert logistic.check(y ** 2, y) == "symbolic"  # y is binary
    linear = scopes(derivation("linear_regression"))["example"]
    with pytest.raises(ProofError):
        linear.check(y ** 2, y)  # y is any real number


def test_a_line_the_simplifier_cannot_decide_is_checked_numerically_and_marked():
    scope = scopes(derivation("logistic_regression"))["example"]
    assert scope.check(relu(b), b * sp.Heaviside(b, 0)) == "numeric"
    proof = build(derivation("logistic_regression"))
    eqs = block(proof, "The model")
    eqs.lines.append(Line(relu(b), b * sp.Heaviside(b, 0), ("relu",)))
    check(proof)
    assert eqs.lines[-1].checked == "numeric"
    assert r"relu${}^{\dagger}$" in document.render(proof)
    assert r"\text{relu}{}^{\dagger}" in document.render(proof, "markdown")


def test_sums_over_the_examples():
    scope = scopes(derivation("logistic_regression"))["batch"]
    assert isinstance(scope, Scope)
    assert scope.check(ExampleSum(x * (a - y)), matmul(X, transpose(A - Y))) == "symbolic"
    with pytest.raises(ProofError):
        scope.check(ExampleSum(x * (a - y)), matmul(X, transpose(A - Y)) / m)


# ----- golden files -----


@pytest.mark.parametrize("file, fmt", [("proof.tex", "latex"), ("proof.md", "markdown")])
def test_golden_proof(file, fmt):
    text = document.render(proved("logistic_regression"), fmt, "proof-graph.svg")
    expected = (GOLDEN / "logistic_regression" / file).read_text(encoding="utf-8")
    assert text == expected, ("the proof changed; if intended, run "
                              "`python -m tests.regen_golden_proof` and review the diff")


def test_the_proof_reads_as_intended():
    text = (GOLDEN / "logistic_regression" / "proof.tex").read_text(encoding="utf-8")
    for expected in [
        r"\documentclass", r"\usepackage{tikz}",
        r"\frac{\mathrm{d}L}{\mathrm{d}z} &= \frac{\mathrm{d}L}{\mathrm{d}a} \cdot "
        r"\frac{\partial a}{\partial z} \tag*{\small chain rule}",
        r"&= a \left(1 - a\right) \tag*{\small definition of the node: "
        r"$\sigma\left(z\right) = a$}",
        r"&= a - y \tag*{\small cancel common factors}",
        r"\mathrm{d}w &= \frac{1}{m} \sum_{i=1}^{m} \frac{\mathrm{d}L^{(i)}}{\mathrm{d}w}",
        r"&= \frac{1}{m} X \, \mathrm{d}Z^{\top} \tag*{\small with $\mathrm{d}Z = A - Y$}",
        r"w &:= w - \alpha \, \mathrm{d}w",
    ]:
        assert expected in text
    order = [text.index(s) for s in (r"\subsection*{Node $a$}", r"\subsection*{Node $z$}",
                                      r"\subsection*{Parameter $w$}",
                                      r"\subsection*{Parameter $b$}", r"\section{Over $m$")]
    assert order == sorted(order)  # backward order, then the examples


# ----- the printer -----


@pytest.mark.parametrize("expr, settings, expected", [
    (matmul(transpose(w), x) + b, {}, r"w^{\top} \, x + b"),
    (A * (1 - A), {"shapes": {A: (1, m)}}, r"A \odot \left(1 - A\right)"),
    (matmul(X, transpose(dZ)) / m, {"shapes": {X: (2, m), dZ: (1, m), m: (1, 1)}},
     r"\frac{1}{m} X \, dZ^{\top}"),
    (Partial(a, z), {}, r"\frac{\partial a}{\partial z}"),
    (Partial(a, z), {"inline_partials": True}, r"\partial a/\partial z"),
    (Times(sp.Symbol("da"), Partial(a, z)), {"adjoints": {sp.Symbol("da"): (sp.Symbol("L"), a)}},
     r"\frac{\mathrm{d}L}{\mathrm{d}a} \cdot \frac{\partial a}{\partial z}"),
    (ExampleSum(x * y), {"per_example": frozenset({x, y})}, r"\sum_{i=1}^{m} x^{(i)} y^{(i)}"),
    (sigmoid(z) * (1 - sigmoid(z)), {},
     r"\left(1 - \sigma\left(z\right)\right) \sigma\left(z\right)"),
])
def test_latex_printer(expr, settings, expected):
    assert latex(expr, **settings) == expected


# ----- the graph -----


def test_dot_has_the_nodes_and_the_coloured_edges():
    source = dot_source(derivation("logistic_regression"))
    for node in "xwbzayL":
        assert f'  "{node}" [shape=' in source
    for edge in ("x -> z", "w -> z", "b -> z", "z -> a", "a -> L", "y -> L"):
        u, v = edge.split(" -> ")
        assert f'  "{u}" -> "{v}" [color=blue];' in source
    for edge, label in [("L -> a", "∂L/∂a = (1 - y)/(1 - a) - y/a"),
                        ("a -> z", "∂a/∂z = a*(1 - a)"), ("z -> w", "∂z/∂w = x"),
                        ("z -> b", "∂z/∂b = 1")]:
        u, v = edge.split(" -> ")
        assert (f'  "{u}" -> "{v}" [color=red, fontcolor=red, style=dashed, constraint=false, '
                f'label="{label}"];') in source
    assert source.count("[color=red") == 4  # no backward edge into the inputs x, y


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_graph_command(tmp_path, capsys, suffix, magic):
    out = tmp_path / f"graph{suffix}"
    assert main(["graph", str(ROOT / "derivations/shallow_network.toml"), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_graph_command_dot_and_errors(tmp_path, capsys, monkeypatch):
    spec = str(ROOT / "derivations/logistic_regression.toml")
    assert main(["graph", spec, "-o", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith('digraph "logistic_regression"')
    assert main(["graph", spec, "-o", str(tmp_path / "g.gif")]) == 2
    assert "use .svg, .png or .dot" in capsys.readouterr().err
    monkeypatch.setattr("symgrad.drawing.shutil.which", lambda name: None)
    assert main(["graph", spec, "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "graphviz" in err


# ----- the command line and notebooks -----


def test_prove_command_writes_latex_and_markdown(tmp_path, capsys, monkeypatch):
    spec = str(ROOT / "derivations/computation_graph.toml")
    assert main(["prove", spec, "-o", str(tmp_path / "proof.tex")]) == 0
    assert (tmp_path / "proof.tex").read_text().startswith(r"\documentclass")
    assert main(["prove", spec, "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith(str(tmp_path / "proof.tex") + "\n\\documentclass")
    if HAS_DOT:
        assert main(["prove", spec, "-o", str(tmp_path / "proof.md")]) == 0
        assert "![The computation graph](proof-graph.svg)" in (tmp_path / "proof.md").read_text()
        assert (tmp_path / "proof-graph.svg").read_text().startswith("<?xml")
    monkeypatch.chdir(tmp_path)
    assert main(["prove", spec, "--format", "latex"]) == 0
    assert (tmp_path / "computation_graph.tex").exists()


def test_prove_command_errors(tmp_path, capsys, monkeypatch):
    spec = str(ROOT / "derivations/computation_graph.toml")
    assert main(["prove", spec, "-o", str(tmp_path / "p.md"), "--pdf"]) == 2
    assert main(["prove", str(tmp_path / "missing.toml")]) == 2
    monkeypatch.setattr("symgrad.document.shutil.which", lambda name: None)
    capsys.readouterr()
    assert main(["prove", spec, "-o", str(tmp_path / "p.tex"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "texlive-latex-base" in err
    assert not (tmp_path / "p.tex").exists()


def test_notebook_reprs():
    d = derivation("logistic_regression")
    shown = d._repr_latex_()
    assert shown.startswith("$$") and r"\frac{\mathrm{d}L}{\mathrm{d}z} &= a - y" in shown
    svg = d.model._repr_svg_()
    assert (svg is None) if not HAS_DOT else svg.lstrip().startswith("<?xml")
