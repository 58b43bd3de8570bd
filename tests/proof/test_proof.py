"""symgrad prove and symgrad graph: every displayed line of every shipped spec's proof checks, a
broken step is caught, the golden proofs, the printer's notation, the graph's DOT, the CLI; for
networks, the recurrence shown once with the index l and the stack drawn once, whatever the depth,
softmax through its definition with the one-hot label named, tanh through its output."""

import functools
import shutil
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad.cli.main import main
from symgrad.model.graph import M as m
from symgrad.model.ops import colsum, matmul, relu, sigmoid, transpose
from symgrad.printing.printers import latex
from symgrad.proof import document
from symgrad.proof.blocks import ExampleSum, Line, Partial, Times
from symgrad.proof.build import build, prove
from symgrad.proof.drawing import dot_source
from symgrad.proof.line_check import ProofError, Scope, check, scopes

ROOT = Path(__file__).resolve().parents[2]
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
    return prove(derivation(name))


def block(proof, title):
    """The first block of equations in the section whose title mentions ``title``."""
    for section, eqs in proof.equations():
        if title in "".join(map(str, section.title)):
            return eqs
    raise KeyError(title)


# ----- every line checked -----


@pytest.mark.parametrize("name", [p.stem for p in SPECS])
@pytest.mark.slow
def test_every_line_of_every_proof_checks(name):
    proof = proved(name)
    lines = [line for _, eqs in proof.equations() for line in eqs.lines if line.relation == "="]
    assert len(lines) > 10
    assert all(line.checked in ("symbolic", "numeric", "entries") for line in lines)


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
@pytest.mark.slow
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


@pytest.mark.slow
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
@pytest.mark.slow
def test_golden_proof(file, fmt):
    text = document.render(proved("logistic_regression"), fmt, "proof-graph.svg")
    expected = (GOLDEN / "logistic_regression" / file).read_text(encoding="utf-8")
    assert text == expected, ("the proof changed; if intended, run "
                              "`python -m tests.regen_golden` and review the diff")


def test_the_proof_reads_as_intended():
    text = (GOLDEN / "logistic_regression" / "proof.tex").read_text(encoding="utf-8")
    for expected in [
        r"\documentclass", r"\usepackage{tikz}",
        r"\mathrm{d}z &= \mathrm{d}a \cdot \frac{\partial a}{\partial z} \tag*{\small chain rule}",
        r"&= a \left(1 - a\right) \tag*{\small definition of the node: "
        r"$\sigma\left(z\right) = a$}",
        r"&= a - y \tag*{\small simplify}",
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
    (sp.Symbol("W[l]"), {}, r"W^{[l]}"),  # a layer's index
    (transpose(sp.Symbol("a[l-1]")), {}, r"a^{[l-1]\top}"),
    (ExampleSum(sp.Symbol("z[L]")), {"per_example": frozenset({sp.Symbol("z[L]")})},
     r"\sum_{i=1}^{m} z^{[L](i)}"),
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
@pytest.mark.slow
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
    monkeypatch.setattr("symgrad.proof.drawing.shutil.which", lambda name: None)
    assert main(["graph", spec, "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "graphviz" in err


# ----- networks: the recurrence once, the stack drawn once, softmax, tanh -----


def indexed(name):
    return sp.Symbol(name, real=True)


@pytest.mark.slow
def test_the_deep_network_proof_shows_the_recurrence_once_with_the_general_index():
    text = document.render(proved("deep_network"))
    for expected in [
        r"z^{[l]} &= W^{[l]} \, a^{[l-1]} + b^{[l]}",  # the forward equations of layer l
        # the recurrence, per example and over m examples
        r"\mathrm{d}z^{[l]} &= \mathrm{d}a^{[l]} \odot \mathbf{1}\left[z^{[l]} > 0\right]",
        r"\mathrm{d}W^{[l]} &= \mathrm{d}z^{[l]} \, a^{[l-1]\top}",
        r"\mathrm{d}b^{[l]} &= \mathrm{d}z^{[l]}",
        r"\mathrm{d}a^{[l-1]} &= W^{[l]\top} \, \mathrm{d}z^{[l]}",
        r"&= \mathrm{d}A^{[l]} \odot \mathbf{1}\left[Z^{[l]} > 0\right]",
        r"\mathrm{d}W^{[l]} &= \frac{1}{m} \mathrm{d}Z^{[l]} \, A^{[l-1]\top}",
        r"\mathrm{d}b^{[l]} &= \frac{1}{m} \operatorname{sum}_{\mathrm{row}}\left("
        r"\mathrm{d}Z^{[l]}\right)",
        r"\mathrm{d}A^{[l-1]} &= W^{[l]\top} \, \mathrm{d}Z^{[l]}",
        # the output layer L and the loss, from the unrolled derivation
        r"\mathrm{d}z^{[L]} &= \mathrm{d}a^{[L]} \cdot \frac{\partial a^{[L]}}{\partial z^{[L]}}",
        r"&= a^{[L]} - y \tag*{\small simplify}",
        r"\mathrm{d}W^{[L]} &= \frac{1}{m} \mathrm{d}Z^{[L]} \, A^{[L-1]\top}",
        "relu has no derivative",  # the subgradient convention
        r"\mathbf{1}\left[u > 0\right]$, which is 0 at $u = 0$",
    ]:
        assert expected in text, expected
    assert text.count(r"\subsection*{The recurrence}") == 1
    assert text.count(r"\subsection*{Node $z^{[l]}$}") == 1
    body = text[:text.index("Appendix: the derivatives at one point")]  # the table: each W
    assert not any(f"_{{{k}}}" in body for k in (1, 2, 3))  # no unrolled z_{1}, W_{3}, ...


@pytest.mark.slow
def test_the_leaky_relu_convention_is_stated_once():
    spec = (ROOT / "derivations/deep_network.toml").read_text(encoding="utf-8")
    model = symgrad.loads(spec.replace('"relu(z)"', '"leaky_relu(z, 0.01)"'), source="leaky")
    text = document.render(build(model.derive()))
    assert text.count("leaky relu has no derivative") == 1
    assert "We take the slope $0.01$ there" in text  # a decimal stays a decimal
    assert "relu has no derivative: its slope jumps from 0 to 1" not in text


@pytest.mark.slow
def test_the_deep_network_proof_does_not_grow_with_the_depth():
    """Everything but the appendix, whose numbers are those of the depth asked for."""
    model = symgrad.load(ROOT / "derivations/deep_network.toml")

    def general(depth):
        text = document.render(build(model.unrolled(depth).derive()))
        body, appendix, _ = text.partition("Appendix: the derivatives at one point")
        assert appendix
        return body

    three = general(model.depth)
    assert general(12) == three
    assert general(2) == three


@pytest.mark.parametrize("index, change", [
    (1, lambda r: matmul(indexed("dz[l]"), transpose(indexed("a[l]")))),  # a[l] for a[l-1]
    (0, lambda r: indexed("da[l]")),  # the missing ⊙ g'(z[l])
    (3, lambda r: matmul(indexed("W[l]"), indexed("dz[l]"))),  # W[l] not transposed
])
@pytest.mark.slow
def test_a_broken_step_of_the_recurrence_is_caught(index, change):
    proof = build(derivation("deep_network"))
    line = block(proof, "The recurrence").lines[index]
    line.rhs = change(line.rhs)
    with pytest.raises(ProofError, match="The recurrence', line"):
        check(proof)


@pytest.mark.slow
def test_the_stacked_graph_is_drawn_once_whatever_the_depth():
    model = symgrad.load(ROOT / "derivations/deep_network.toml")
    source = dot_source(model.derive())
    assert source == dot_source(model.unrolled(12).derive())
    assert "subgraph cluster_0 {" in source and 'label="hidden layer l, for l from 1 to L - 1"' \
        in source
    for node in ("x", "a[l-1]", "W[l]", "b[l]", "z[l]", "a[l]", "W[L]", "b[L]", "z[L]", "a[L]"):
        assert f'"{node}" [shape=' in source
    assert '"L" [shape=doublecircle, label="ℒ"];' in source
    assert '"x" -> "a[l-1]" [color=blue, fontcolor=blue, label="l = 1"];' in source
    assert '"a[l]" -> "z[L]" [color=blue, fontcolor=blue, label="l = L - 1"];' in source
    assert 'label="∂a[l]/∂z[l] = (z[l] > 0)"' in source
    assert '"z[l]" -> "a[l-1]" [color=red' in source  # dA[l-1] = W[l].T dZ[l] flows down
    assert not any(f'"{n}"' in source for n in ("z1", "z2", "a1", "W3"))
    picture = document.context(proved("deep_network")).picture
    assert len(picture.nodes) == 12 and len(picture.groups) == 1


def test_softmax_proof_names_the_one_hot_assumption_and_derives_through_the_definition():
    proof = proved("softmax_regression")
    text = document.render(proof)
    assert r"one-hot: its entries are 0 or 1" in text
    assert r"\operatorname{sum}_{\mathrm{col}}\left(y\right) = 1" in text
    assert (r"definition of the node: $\frac{e^{z}}{\operatorname{sum}_{\mathrm{col}}"
            r"\left(e^{z}\right)} = a$") in text
    lines = [ln for _, eqs in proof.equations() for ln in eqs.lines]
    da = sp.Symbol("da", real=True)
    assert any(ln.rhs == a * (da - colsum(a * da)) for ln in lines)  # the softmax's VJP
    one_hot = [ln for ln in lines if ln.rule == ("the label is one-hot: each column sums to 1",)]
    assert [ln.rhs for ln in one_hot] == [a - y, A - Y]


def test_the_shallow_network_proof_has_tanh_through_its_output():
    text = document.render(proved("shallow_network"))
    assert r"&= 1 - \left(a^{[1]}\right)^{2} \tag*{\small definition of the node" in text
    assert (r"\mathrm{d}Z^{[1]} &= \mathrm{d}A^{[1]} \odot") in text
    assert (r"&= W^{[2]\top} \, \mathrm{d}Z^{[2]} \odot \left(1 - \left(A^{[1]}\right)^{2}"
            r"\right)") in text
    assert r"\mathrm{d}b^{[1]} &= \mathrm{d}z^{[1]} \tag*{\small chain rule}" in text


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
    monkeypatch.setattr("symgrad.proof.document.shutil.which", lambda name: None)
    capsys.readouterr()
    assert main(["prove", spec, "-o", str(tmp_path / "p.tex"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "texlive-latex-base" in err
    assert not (tmp_path / "p.tex").exists()


def test_notebook_reprs():
    d = derivation("logistic_regression")
    shown = d._repr_latex_()
    assert shown.startswith("$$") and r"\mathrm{d}z &= a - y" in shown
    svg = d.model._repr_svg_()
    assert (svg is None) if not HAS_DOT else svg.lstrip().startswith("<?xml")
