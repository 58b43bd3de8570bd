"""What the proofs teach (issue 15, items 1, 4, 6, 7): the hard steps at index level, the course's
notation, no tool words in the body, and the teaching points exactly where their structure is."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symgrad import load, loads
from symgrad.calculus.chain import adjoint_symbol
from symgrad.model.ops import matmul
from symgrad.proof import entries as ix
from symgrad.proof.blocks import Equations, Table
from symgrad.proof.build import prove
from symgrad.proof.document import render
from symgrad.proof.layer_steps import index_names
from symgrad.proof.line_check import ProofError
from symgrad.proof.teaching import Identity, finite_difference

SPECS = sorted(Path("derivations").glob("*.toml"))
NAMES = [p.stem for p in SPECS]


class _Proofs(dict):
    """Every shipped spec's checked proof and its Markdown, each built once, when first
    asked for."""

    def __missing__(self, name):
        proof = prove(load(f"derivations/{name}.toml").derive(), seconds=600)
        self[name] = (proof, render(proof, "markdown"))
        return self[name]

    def items(self):
        return [(n, self[n]) for n in NAMES]


_CACHE = _Proofs()


@pytest.fixture(scope="module")
def proofs():
    return _CACHE


def _sections(proof):
    def walk(section):
        yield section
        for b in section.blocks:
            if hasattr(b, "blocks"):
                yield from walk(b)

    for s in proof.sections:
        yield from walk(s)


def _titles(proof):
    return ["".join(str(p) for p in s.title) for s in _sections(proof)]


def _index_blocks(proof):
    return [b for _, b in proof.equations() if b.entries is not None
            and not hasattr(b.entries, "check")]


# ----- item 1: index level -----


@pytest.mark.parametrize("name", NAMES)
def test_every_matrix_product_is_derived_entry_by_entry(proofs, name):
    proof, _ = proofs[name]
    d = proof.derivation
    graphs = [d.per_example_graph] + ([d.layer.per_example_graph] if d.layer is not None
                                       and (d.model.depth or 0) >= 2 else [])
    wanted = set()
    for g in graphs:
        steps = (d.layer.per_example_steps if g is not d.per_example_graph
                 else d.per_example_steps)
        names = index_names(d).get("layer", {}) if g is not d.per_example_graph else {}
        for _node, fwd in g.nodes:
            for m in sp.preorder_traversal(fwd):
                if isinstance(m, matmul):
                    for v in m.free_symbols:
                        if v in steps and g.shapes[v] != (1, 1):
                            wanted.add(adjoint_symbol(names.get(v, v)).name)
    found = set()
    for block in _index_blocks(proof):
        for line in block.lines:
            if line.lhs is not None and isinstance(line.lhs, sp.Indexed):
                found.add(str(line.lhs.base.label))
    names = {n.split("[")[0] for n in found}
    missing = {w for w in wanted if w not in names and w.split("[")[0] not in names}
    if proof.derivation.layer is not None and (d.model.depth or 0) >= 2:
        missing = {w for w in missing if not re.search(r"\d$", w)}  # layer L is unrolled
    assert not missing, (name, missing, found)
    # every index line was checked entry by entry
    for block in _index_blocks(proof):
        assert all(line.checked == "entries" for line in block.lines)


def test_the_matmul_step_reads_as_the_course_writes_it(proofs):
    _, md = proofs["softmax_regression"]
    assert r"{z}_{j} &= {b}_{j} + \sum_{k=1}^{n_{x}}" in md
    assert r"\frac{\partial {z}_{j}}{\partial {W}_{j,k}} &= {x}_{k}" in md
    assert r"&= {\mathrm{d}z}_{j} {x}_{k}" in md
    _, md = proofs["shallow_network"]  # layers as the course writes them
    assert r"{\mathrm{d}W^{[1]}}_{j,k} &= \sum_{q=1}^{n_{h}} {\mathrm{d}z^{[1]}}_{q}" in md
    assert r"{\mathrm{d}a^{[1]}}_{k} &= \mathrm{d}z^{[2]}" in md
    _, md = proofs["deep_network"]  # the hidden layer's input: the chain rule's sum over j
    assert re.search(r"\\sum_\{j=1\}\^\{n\^\{\[l\]\}\} \{\\mathrm\{d\}z\^\{\[l\]\}\}_\{j\} "
                     r"\{W\^\{\[l\]\}\}_\{j,k\}", md)


def test_softmax_jacobian_and_sum_over_j(proofs):
    proof, md = proofs["softmax_regression"]
    assert r"\left(- {a}_{k} + \delta_{j k}\right) {a}_{j}" in md  # a_j (delta_jk - a_k)
    assert r"\sum_{j=1}^{n_{y}} {\mathrm{d}a}_{j} \frac{\partial {a}_{j}}{\partial {z}_{k}}" in md
    assert r"- \frac{{y}_{j}}{{a}_{j}}" in md  # softmax's dL/da worked
    assert r"\text{the label is one-hot: }\sum_{j=1}^{n_{y}} {y}_{j} = 1" in md
    last = [b for b in _index_blocks(proof) if any(isinstance(ln.lhs, sp.Indexed) and
            str(ln.lhs.base.label) == "dz" for ln in b.lines)][0].lines[-1].rhs
    a, y = sp.IndexedBase(sp.Symbol("a", real=True)), sp.IndexedBase(sp.Symbol("y", real=True))
    assert sp.simplify(last - (a[ix.K] - y[ix.K])) == 0


def test_an_index_line_that_is_wrong_is_caught():
    d = load("derivations/softmax_regression.toml").derive()
    g = d.per_example_graph
    z, W = (s for s in (g.nodes[0][0], sorted(g.leaves, key=str)[0]))
    _, chain, entries = ix.matmul_lines(g, z, W, dict(g.shapes))
    scope = ix.EntryScope(entries)
    x = sp.IndexedBase(sp.Symbol("x", real=True))
    assert scope.check(chain[0].lhs, chain[0].rhs) == "entries"
    with pytest.raises(ProofError):
        scope.check(chain[0].lhs, x[ix.J])  # dz_j/dW_jk = x_j: the wrong index


def test_trivial_identities_fold_into_the_sentence(proofs):
    _, md = proofs["logistic_regression"]
    assert r"\mathrm{d}a &= \frac{\partial L}{\partial a}" not in md
    assert r"\frac{\partial z}{\partial b} &=" not in md
    assert r"\mathrm{d}b &= \mathrm{d}z" in md
    _, md = proofs["softmax_regression"]  # a vector b: the identity, not 1
    assert r"$\frac{\partial z}{\partial b}$ is the identity" in md
    _, md = proofs["shallow_network"]  # db1 = dz1, not expanded and collapsed back
    block = md[md.index("### Parameter $b^{[1]}$"):]
    block = block[:block.index("\n#", 5)]  # to the next heading
    assert block.count("&=") == 1


# ----- item 4: notation -----


def test_dz_is_defined_once_and_used(proofs):
    for name in ("logistic_regression", "shallow_network", "softmax_regression"):
        _, md = proofs[name]
        section = md[md.index("## 3."):md.index("## 4.")]
        assert section.count(r"\frac{\mathrm{d}L}{\mathrm{d}") == 1, name  # the definition
        assert r"We write $\mathrm{d}z" in section


def test_the_course_form_of_da(proofs):
    """da = −y/a + (1 − y)/(1 − a) for one example and dA = −Y/A + (1 − Y)/(1 − A) over m
    examples, never the one fraction (y − a)/(a² − a); dZ is multiplied out from there."""
    for name in ("logistic_regression", "regularized_logistic", "shallow_network",
                 "deep_network"):
        _, md = proofs[name]
        assert not re.search(r"\^\{2\} - a|\^\{2\} - A", md), name
        assert "common denominator" not in md, name
        for y, a in (("y", r"a(\^\{\[(2|L)\]\})?"), ("Y", r"A(\^\{\[(2|L)\]\})?")):
            assert re.search(rf"\\frac\{{1 - {y}\}}\{{1 - {a}\}} - \\frac\{{{y}\}}\{{{a}\}}", md), \
                (name, y)


def test_backprop_order(proofs):
    _, md = proofs["shallow_network"]
    heads = re.findall(r"### (?:Node|Parameter|Input) \$([^$]+)\$", md)
    assert heads[:8] == [f"{v}^{{[{n}]}}" for n in (2, 1) for v in "azWb"], heads


# ----- item 6: what the text says -----

FORBIDDEN = ("sympy", "heaviside", "numerical check", "derivations/")


@pytest.mark.parametrize("name", NAMES)
def test_no_tool_words_in_the_body(proofs, name):
    _, md = proofs[name]
    body = md[:md.rindex("---")]  # the provenance note is the last part
    low = body.lower()
    for word in FORBIDDEN:
        assert word not in low, (name, word)
    assert "derivations/" in md[md.rindex("---"):]  # provenance: in the note


def test_the_penalised_cost_is_not_called_a_mean(proofs):
    _, md = proofs["regularized_logistic"]
    assert "mean of the losses plus a penalty" in md
    assert "The cost is the mean of the losses, so" not in md
    _, md = proofs["logistic_regression"]
    assert "The cost is the mean of the losses, so" in md


def test_common_denominator_is_not_cancel(proofs):
    _, md = proofs["sigmoid_mse"]
    for line in md.splitlines():
        if "cancel common factors" in line:
            assert "&=" in line


# ----- item 7: teaching points where their structure is -----

POINTS = {"weight decay": "also called weight decay",
          "slow sigmoid": "Why squared error learns slowly here",
          "poisson": "What the Poisson loss is",
          "no training": "No training here"}
WHERE = {"weight decay": {"regularized_logistic", "deep_network_l2"},
         "slow sigmoid": {"sigmoid_mse"},
         "poisson": {"poisson_regression"},
         "no training": {"computation_graph"}}


@pytest.mark.parametrize("point", sorted(POINTS))
def test_teaching_point_exactly_where_its_structure_is(proofs, point):
    has = {name for name, (_, md) in proofs.items() if POINTS[point] in md}
    assert has == WHERE[point]


def test_weight_decay_line_is_checked(proofs):
    proof, md = proofs["regularized_logistic"]
    assert r"\left(1 - \frac{\lambda \alpha}{m}\right) w" in md
    decay = [ln for _, b in proof.equations() for ln in b.lines
             if ln.lhs is not None and "alpha" in str(ln.lhs) and ln.relation == "="]
    assert decay and all(ln.checked == "symbolic" for ln in decay)


def test_poisson_identity_is_checked():
    a = sp.Symbol("a", positive=True)
    y = sp.Symbol("y", integer=True, nonnegative=True)
    prob = a ** y * sp.exp(-a) / sp.factorial(y)
    assert Identity().check(-sp.log(prob), a - y * sp.log(a) + sp.log(sp.factorial(y)))
    with pytest.raises(ProofError):
        Identity().check(-sp.log(prob), a - y * sp.log(a))


def test_no_gradient_descent_without_examples(proofs):
    proof, _ = proofs["computation_graph"]
    assert "The updates" not in _titles(proof)
    for name in set(NAMES) - {"computation_graph"}:
        assert "The updates" in _titles(proofs[name][0]), name


@pytest.mark.parametrize("name", NAMES)
def test_appendix_table_is_computed(proofs, name):
    proof, _ = proofs[name]
    tables = [b for s in _sections(proof) for b in s.blocks if isinstance(b, Table)]
    assert len(tables) == 1
    rows = tables[0].rows
    assert rows
    for _, derived, fd, diff in rows:
        d, f, e = float(derived[0]), float(fd[0]), float(diff[0])
        assert abs(d - f) < 1e-5 and e < 1e-5
        assert abs(abs(d - f) - e) < 2e-6


def test_appendix_numbers_are_the_lectures(proofs):
    """computation_graph's appendix is at its spec's [example], the lecture's point a = 5,
    b = 3, c = 2, and gives the lecture's derivatives dJ/da = 3, dJ/db = 6, dJ/dc = 9 (Andrew
    Ng, Neural Networks and Deep Learning, week 2, "Derivatives with a computation graph"),
    which are also 3, 3c and 3b by hand, and the central differences computed here."""
    proof, md = proofs["computation_graph"]
    rows = [b for s in _sections(proof) for b in s.blocks if isinstance(b, Table)][0].rows
    values = {str(r[0][0]): float(r[1][0]) for r in rows}
    assert values == {"a": 3.0, "b": 6.0, "c": 9.0}
    assert "At the example point ($a = 5$, $b = 3$, $c = 2$)" in md
    g = proof.derivation.per_example_graph
    env = {s: np.full((1, 1), {"a": 5.0, "b": 3.0, "c": 2.0}[s.name]) for s in g.leaves}
    for s, want in zip(sorted(g.leaves, key=str), (3.0, 6.0, 9.0), strict=True):
        assert float(finite_difference(g, env, s).reshape(-1)[0]) == pytest.approx(want, abs=1e-6)


def test_appendix_numbers_match_an_independent_computation():
    """Without an [example], the point is drawn: J = 3(a + bc) at that point has dJ/db = 3c and
    dJ/dc = 3b."""
    text = Path("derivations/computation_graph.toml").read_text(encoding="utf-8")
    model = loads(text.split("[example]")[0], source="cg")
    assert not model.example
    proof = prove(model.derive())
    rows = [b for s in _sections(proof) for b in s.blocks if isinstance(b, Table)][0].rows
    values = {str(r[0][0]): float(r[1][0]) for r in rows}
    assert values["a"] == pytest.approx(3.0, abs=1e-6)
    g = proof.derivation.per_example_graph
    rng = np.random.default_rng(0)
    from symgrad.calculus import numeric

    sizes = {dim: 2 for dim in numeric.sizes_for(g.shapes, rng)}
    env = numeric.draw(g, rng, sizes)
    b, c = (float(np.ravel(env[s])[0]) for s in sorted(g.leaves, key=str)[1:])
    assert values["b"] == pytest.approx(3 * c, abs=1e-6)
    assert values["c"] == pytest.approx(3 * b, abs=1e-6)
    fd = finite_difference(g, env, sorted(g.leaves, key=str)[2])
    assert float(fd.reshape(-1)[0]) == pytest.approx(3 * b, abs=1e-5)


def test_every_line_still_checked(proofs):
    for name, (proof, _) in proofs.items():
        for _, block in proof.equations():
            for line in block.lines:
                if line.relation == "=":
                    assert line.checked in ("symbolic", "numeric", "entries"), name
        assert isinstance(proof.sections[0].blocks[0], (Equations, object))


def test_a_model_of_scalars_has_no_array_notation_and_no_examples_column(proofs):
    """computation_graph has neither arrays nor examples: no line about matrix products and
    no empty 'm examples' column; logistic regression has both."""
    _, md = proofs["computation_graph"]
    assert "Notation:" not in md and "$m$ examples |" not in md
    assert "| | role | values in |" in md
    _, md = proofs["logistic_regression"]
    assert "Notation: $A B$ is a matrix product" in md
    assert "| | role | one example | $m$ examples |" in md
