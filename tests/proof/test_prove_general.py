"""symgrad prove works for every model that symgrad derive accepts: products of two matrices over
m examples (attention scores, an autoencoder, a factorization machine), vector labels (multi-output
regression), hyperparameters with domains (label smoothing, pseudo-Huber), probability-vector
labels and binary inputs. Every line of each proof is checked; the document names each
parameter's derivative and the domains of the labels, inputs and hyperparameters."""

import functools
import shutil

import pytest
import sympy as sp

import symgrad
from symgrad.calculus.canonical_form import Canonical
from symgrad.calculus.chain import adjoint_symbol
from symgrad.calculus.rules import structural_vjp
from symgrad.cli.main import main
from symgrad.model.domains import OPEN_UNIT, POSITIVE, POSITIVE_INTEGER
from symgrad.model.ops import colsum, matmul, rowsum, transpose
from symgrad.proof import document
from symgrad.proof.blocks import Equations
from symgrad.proof.build import prove
from symgrad.proof.steps import domain_relation

SPECS = {
    "attention": """
        [dims]
        n_x = "input size"
        d = "key size"
        n_k = "number of keys"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "onehot(n_k)"
        [parameters]
        K = "matrix(n_k, d)"
        Wq = "matrix(d, n_x)"
        [graph]
        q = "Wq @ x"
        s = "softmax(K @ q)"
        L = "-sum(y*log(s))"
        [cost]
        J = "mean(L)"
    """,
    "autoencoder": """
        [dims]
        n_x = "input size"
        n_h = "code size"
        [inputs]
        x = "vector(n_x)"
        [parameters]
        W1 = "matrix(n_h, n_x)"
        b1 = "vector(n_h)"
        W2 = "matrix(n_x, n_h)"
        b2 = "vector(n_x)"
        [graph]
        h = "sigmoid(W1 @ x + b1)"
        r = "W2 @ h + b2"
        L = "sum((r - x)**2)/2"
        [cost]
        J = "mean(L)"
    """,
    "factorization_machine": """
        [dims]
        n_x = "number of features"
        k = "number of factors"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "binary"
        [parameters]
        w = "vector(n_x)"
        b = "scalar"
        V = "matrix(k, n_x)"
        [graph]
        p = "V @ x"
        z = "w @ x + b + (sum(p**2) - sum((V**2) @ (x**2)))/2"
        a = "sigmoid(z)"
        L = "-(y*log(a) + (1 - y)*log(1 - a))"
        [cost]
        J = "mean(L)"
    """,
    "multi_output": """
        [dims]
        n_x = "number of inputs"
        n_y = "number of outputs"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "real(n_y)"
        [parameters]
        W = "matrix(n_y, n_x)"
        b = "vector(n_y)"
        [graph]
        z = "W @ x + b"
        L = "sum((z - y)**2)/2"
        [cost]
        J = "mean(L)"
    """,
    "label_smoothing": """
        [dims]
        n_x = "number of inputs"
        n_y = "number of classes"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "onehot(n_y)"
        [hyperparameters]
        eps = { default = 0.1, domain = "(0, 1)", description = "smoothing" }
        k = { default = 3.0, domain = "positive", description = "the number of classes" }
        [parameters]
        W = "matrix(n_y, n_x)"
        b = "vector(n_y)"
        [graph]
        z = "W @ x + b"
        a = "softmax(z)"
        s = "(1 - eps)*y + eps/k"
        L = "-sum(s*log(a))"
        [cost]
        J = "mean(L)"
    """,
    "soft_targets": """
        [dims]
        n_x = "number of inputs"
        n_y = "number of classes"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "probability(n_y)"
        [parameters]
        W = "matrix(n_y, n_x)"
        b = "vector(n_y)"
        [graph]
        z = "W @ x + b"
        a = "softmax(z)"
        L = "-sum(y*log(a))"
        [cost]
        J = "mean(L)"
    """,
    "pseudo_huber": """
        [dims]
        n_x = "number of inputs"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "real"
        [hyperparameters]
        delta = { default = 1.0, domain = "positive", description = "where it turns linear" }
        [parameters]
        w = "vector(n_x)"
        b = "scalar"
        [graph]
        z = "w @ x + b"
        r = "z - y"
        L = "delta**2*(sqrt(1 + (r/delta)**2) - 1)"
        [cost]
        J = "mean(L)"
    """,
    "margin": """
        [dims]
        n_x = "number of inputs"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "binary"
        [parameters]
        w = "vector(n_x)"
        b = "scalar"
        [graph]
        t = "2*y - 1"
        z = "w @ x + b"
        L = "softplus(-t*z)"
        [cost]
        J = "mean(L)"
    """,
    "bilinear": """
        [dims]
        n1 = "size of the first input"
        n2 = "size of the second input"
        [inputs]
        x1 = "vector(n1)"
        x2 = "vector(n2)"
        [labels]
        y = "binary"
        [parameters]
        U = "matrix(n1, n2)"
        b = "scalar"
        [graph]
        v = "U @ x2"
        z = "x1 @ v + b"
        a = "sigmoid(z)"
        L = "-(y*log(a) + (1 - y)*log(1 - a))"
        [cost]
        J = "mean(L)"
    """,
    "masked": """
        [dims]
        n_x = "number of inputs"
        [inputs]
        x = "vector(n_x)"
        d = "binary(n_x)"
        [labels]
        y = "binary"
        [parameters]
        w = "vector(n_x)"
        b = "scalar"
        [graph]
        z = "w @ (d*x) + b"
        a = "sigmoid(z)"
        L = "-(y*log(a) + (1 - y)*log(1 - a))"
        [cost]
        J = "mean(L)"
    """,
}
SLOW_SPECS = {  # larger proofs: 20 s each or more
    "dropout": """
        [dims]
        n_x = "number of inputs"
        n_h = "hidden units"
        [inputs]
        x = "vector(n_x)"
        d = "binary(n_h)"
        [labels]
        y = "binary"
        [parameters]
        W1 = "matrix(n_h, n_x)"
        b1 = "vector(n_h)"
        w2 = "vector(n_h)"
        b2 = "scalar"
        [graph]
        h = "d*relu(W1 @ x + b1)"
        z = "w2 @ h + b2"
        a = "sigmoid(z)"
        L = "-(y*log(a) + (1 - y)*log(1 - a))"
        [cost]
        J = "mean(L)"
    """,
    "rnn_step": """
        [dims]
        n_x = "number of inputs"
        n_h = "hidden units"
        [inputs]
        x = "vector(n_x)"
        h_prev = "vector(n_h)"
        [labels]
        y = "binary"
        [parameters]
        Wx = "matrix(n_h, n_x)"
        Wh = "matrix(n_h, n_h)"
        bh = "vector(n_h)"
        v = "vector(n_h)"
        c = "scalar"
        [graph]
        h = "tanh(Wx @ x + Wh @ h_prev + bh)"
        z = "v @ h + c"
        a = "sigmoid(z)"
        L = "-(y*log(a) + (1 - y)*log(1 - a))"
        [cost]
        J = "mean(L)"
    """,
    "gaussian_nll": """
        [dims]
        n_x = "number of inputs"
        [inputs]
        x = "vector(n_x)"
        [labels]
        y = "real"
        [parameters]
        w = "vector(n_x)"
        b = "scalar"
        v = "vector(n_x)"
        c = "scalar"
        [graph]
        mu = "w @ x + b"
        s = "v @ x + c"
        L = "(y - mu)**2*exp(-s)/2 + s/2"
        [cost]
        J = "mean(L)"
    """,
}
ALL = {**SPECS, **SLOW_SPECS}
HAS_TEX = any(shutil.which(e) for e in document.ENGINES)


def spec_text(name):
    body = "\n".join(line.strip() for line in ALL[name].strip().splitlines())
    return f'name = "{name}"\ntitle = "{name.replace("_", " ")}"\n{body}\n'


@functools.cache
def proved(name):
    return prove(symgrad.loads(spec_text(name), source=f"{name}.toml").derive())


def check_structure(name):
    proof = proved(name)
    lines = [ln for _, eqs in proof.equations() for ln in eqs.lines if ln.relation == "="]
    assert len(lines) > 10
    assert all(ln.checked in ("symbolic", "numeric", "entries") for ln in lines)
    titles = ["".join(map(str, s.title)) for s in proof.sections]
    assert titles == ["The model", "The computation graph", "Derivatives for one example",
                      "The forward pass over m examples", "Over m examples", "The updates",
                      "Appendix: the derivatives at one point", "Summary over m examples"]
    model = proof.derivation.model
    updates = [b for b in proof.sections[titles.index("The updates")].blocks
               if isinstance(b, Equations)
               and b.kind == "equations"]
    assert [ln.lhs for ln in updates[0].lines] == [p.symbol for p in model.parameters]
    assert [ln.lhs for ln in updates[1].lines] == [adjoint_symbol(p.symbol)
                                                  for p in model.parameters]
    # each parameter's derivative is derived for one example and averaged over m
    example = [s.title for s in proof.sections[2].blocks if hasattr(s, "title")]
    averaged = [eqs.lines[0].lhs for s, eqs in proof.equations()
                if "Averaging" in "".join(map(str, s.title))]
    for p in model.parameters:
        assert ("Parameter ", p.symbol) in example
        assert adjoint_symbol(p.symbol) in averaged
    latex, markdown = document.render(proof), document.render(proof, "markdown")
    assert latex.startswith(r"\documentclass") and r"\end{document}" in latex
    assert "$$" in markdown
    return proof, latex


@pytest.mark.parametrize("name", list(SPECS))
def test_prove_succeeds_with_every_parameter_derived(name):
    check_structure(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW_SPECS))
def test_prove_succeeds_on_larger_models(name):
    check_structure(name)


def test_products_of_two_matrices_over_m_examples():
    A = sp.Symbol("A", real=True)
    _, latex = check_structure("autoencoder")
    assert r"\mathrm{d}W^{[2]} &= \frac{1}{m} \mathrm{d}R \, H^{\top}" in latex
    assert r"W^{[2]\top} \, \mathrm{d}R" in latex
    proof = proved("attention")
    batch = proof.derivation.batch_steps
    assert batch[sp.Symbol("Wq", real=True)].result.has(matmul)
    assert A not in batch[sp.Symbol("K", real=True)].result.free_symbols


def test_an_inner_product_of_two_inputs_is_one_per_column_over_m_examples():
    proof = proved("bilinear")
    z = dict(proof.derivation.batch_graph.nodes)[sp.Symbol("Z", real=True)]
    assert z.has(colsum) and not z.has(transpose)


def test_domains_in_the_model_section():
    _, latex = check_structure("label_smoothing")
    assert r"Domains of the hyperparameters: $eps \in \left(0, 1\right)$ and $k > 0$." in latex
    assert r"$y$ & input & $\lbrace 0, 1\rbrace^{n_{y}}$" in latex
    assert "is one-hot: its entries are 0 or 1" in latex
    _, latex = check_structure("soft_targets")
    assert "is a probability vector: its entries are $y \\geq 0$ and sum to 1" in latex
    assert "one-hot" not in latex
    assert r"$Y \in [0, 1]^{n_{y} \times m}$" in latex
    _, latex = check_structure("pseudo_huber")
    assert r"Domain of the hyperparameter: $\delta > 0$." in latex
    assert r"$\delta$ & hyperparameter: where it turns linear & $\mathbb{R}_{>0}$" in latex


def test_a_binary_input_is_named_an_input():
    _, latex = check_structure("masked")
    assert "The input $d$ has entries 0 or 1, so $d^{2} = d$" in latex
    assert r"$d$ & input & $\lbrace 0, 1\rbrace^{n_{x}}$" in latex
    assert "The label $y$ is 0 or 1, so $y^{2} = y$" in latex


def test_domain_relation():
    d, k = sp.symbols("delta k", real=True)
    assert domain_relation(d, POSITIVE) == sp.StrictGreaterThan(d, 0)
    assert domain_relation(d, OPEN_UNIT) == sp.Contains(d, sp.Interval.open(0, 1),
                                                        evaluate=False)
    assert domain_relation(k, POSITIVE_INTEGER) == sp.Contains(k, sp.Range(1, sp.oo),
                                                               evaluate=False)


# ----- the calculus behind it -----


def test_a_ones_vector_between_two_factors_sums_rather_than_broadcasts():
    # sum over k of (V**2 @ X**2): the adjoint into X**2 is sum(V**2, axis=0).T @ dZ
    n, k, m = sp.symbols("n k m", positive=True, integer=True)
    V2, X2, G = sp.symbols("V2 X2 G", real=True)
    shapes = {V2: (k, n), X2: (n, m), G: (1, m)}
    back = dict(structural_vjp(colsum(matmul(V2, X2)), G, shapes))
    assert back[X2] == matmul(rowsum(transpose(V2)), G)
    assert back[V2] == matmul(G, transpose(X2))


def test_the_canonical_form_groups_products_and_counts_dimensions():
    n, d, m = sp.symbols("n d m", positive=True, integer=True)
    K, Wq, X, y = sp.symbols("K Wq X y", real=True)
    eps = sp.Symbol("eps", real=True)
    form = Canonical({K: (n, d), Wq: (d, n), X: (n, m), y: (n, 1), eps: (1, 1)},
                     onehot={y})
    assert form.is_zero(matmul(matmul(K, Wq), X) - matmul(K, matmul(Wq, X)))
    # a scalar summed over the n entries of a column counts n times
    assert form.is_zero(colsum((1 - eps) * y + eps / 3) - (1 - eps) - n * eps / 3)


# ----- the command line -----


def test_prove_writes_markdown(tmp_path, capsys):
    spec = tmp_path / "multi_output.toml"
    spec.write_text(spec_text("multi_output"), encoding="utf-8")
    out = tmp_path / "x.md"
    assert main(["prove", str(spec), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "$$" in text and "Averaging over the examples" in text


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TEX, reason="no LaTeX engine (pdflatex or latexmk); install "
                                        f"{document.TEX_PACKAGES}")
@pytest.mark.parametrize("name", ["multi_output", "label_smoothing", "autoencoder"])
def test_prove_pdf(name, tmp_path, capsys, monkeypatch):
    spec = tmp_path / f"{name}.toml"
    spec.write_text(spec_text(name), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["prove", str(spec), "--pdf"]) == 0
    assert (tmp_path / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    tex = tmp_path / "again.tex"
    tex.write_text(document.render(proved(name)), encoding="utf-8")
    _, log = document.compile_pdf(tex)
    assert document.problems(log) == []
