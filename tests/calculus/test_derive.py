"""The required results, asserted symbolically, and every derivative of every shipped spec
checked against finite differences, per example and over m examples."""

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.calculus import numeric
from symgrad.calculus.chain import adjoint_symbol
from symgrad.model.graph import M, mean
from symgrad.model.ops import colsum, matmul, total, transpose

a, b, c, u, v, w, x, y, z = sp.symbols("a b c u v w x y z", real=True)
A, X, Y, dZ, lambd = sp.symbols("A X Y dZ lambd", real=True)


def same(e1, e2):
    return sp.simplify(e1 - e2) == 0


def derive(spec, name):
    return symgrad.load(spec(name)).derive()


def test_computation_graph(spec):
    d = derive(spec, "computation_graph").per_example
    assert d == {"dv": 3, "du": 3, "da": 3, "db": 3 * c, "dc": 3 * b}


@pytest.mark.slow
def test_logistic_regression(spec):
    d = derive(spec, "logistic_regression")
    pe, batch = d.per_example, d.batch
    assert same(pe["da"], -y / a + (1 - y) / (1 - a))
    assert pe["dz"] == a - y  # not merely equal: written in the node variables
    assert pe["dw"] == x * (a - y)
    assert pe["db"] == a - y
    assert batch["dZ"] == A - Y
    assert batch["dw"] == matmul(X, transpose(dZ)) / M
    assert batch["db"] == total(dZ) / M


@pytest.mark.parametrize("name", ["linear_regression", "poisson_regression"])
def test_dz_is_a_minus_y(spec, name):
    assert derive(spec, name).per_example["dz"] == a - y


def test_sigmoid_mse(spec):
    dz = derive(spec, "sigmoid_mse").per_example["dz"]
    assert same(dz, (a - y) * a * (1 - a))
    assert not dz.has(sp.exp)  # in node variables, not re-expanded


def test_regularized_logistic(spec):
    d = derive(spec, "regularized_logistic").batch
    assert same(d["dw"], matmul(X, transpose(dZ)) / M + lambd / M * w)


@pytest.mark.slow
def test_results_use_node_variables(spec_path):
    for expr in symgrad.load(spec_path).derive().per_example.values():
        assert not expr.has(sp.exp), expr


def _check_against_finite_differences(graph, steps, seed):
    rng = np.random.default_rng(seed)
    sizes = numeric.sizes_for(graph.shapes, rng)
    env = numeric.with_adjoints(graph, steps, numeric.draw(graph, rng, sizes), sizes)
    for leaf in graph.leaves:
        if leaf not in steps:
            continue
        fd = numeric.finite_difference(graph, env, leaf)
        got = np.broadcast_to(env[adjoint_symbol(leaf)], fd.shape)
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-7, err_msg=str(leaf))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.slow
def test_per_example_against_finite_differences(spec_path, seed):
    d = symgrad.load(spec_path).derive()
    _check_against_finite_differences(d.per_example_graph, d.per_example_steps, seed)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.slow
def test_batch_against_finite_differences(spec_path, seed):
    d = symgrad.load(spec_path).derive()
    if d.batch_graph is None:
        pytest.skip("no examples: no batch form")
    _check_against_finite_differences(d.batch_graph, d.batch_steps, seed)


@pytest.mark.slow
def test_batch_is_the_average_of_per_example(spec_path):
    """The vectorisation check: dZ[:, i] is example i's dz, and d<param> averages them."""
    model = symgrad.load(spec_path)
    d = model.derive()
    if d.batch_graph is None:
        pytest.skip("no examples: no batch form")
    rng = np.random.default_rng(3)
    bg, pg = d.batch_graph, d.per_example_graph
    sizes = numeric.sizes_for(bg.shapes, rng)
    benv = numeric.draw(bg, rng, sizes)
    benv = numeric.with_adjoints(bg, d.batch_steps, benv, sizes)
    stacked = {sp.Symbol(k, real=True): sp.Symbol(s, real=True)
               for k, s in model.stacked_names().items()}
    m = sizes[M]
    per_param = {p: [] for p in pg.leaves}
    for i in range(m):
        env = {}
        for s in set().union(*(e.free_symbols for _, e in pg.nodes)):
            value = benv.get(stacked.get(s, s))
            if value is None:
                continue
            env[s] = value[:, i:i + 1] if s in stacked else value
        env = numeric.with_adjoints(pg, d.per_example_steps, numeric.forward(pg, env), sizes)
        for node, step in d.per_example_steps.items():
            batch_adjoint = adjoint_symbol(stacked.get(node, node))
            if node in stacked and batch_adjoint in benv:
                full = numeric.concrete(bg.shapes[stacked[node]], sizes)
                column = np.broadcast_to(benv[batch_adjoint], full)[:, i:i + 1]
                np.testing.assert_allclose(column, np.broadcast_to(env[step.adjoint], column.shape),
                                           rtol=1e-9, atol=1e-12)
        for p in per_param:
            shape = numeric.concrete(pg.shapes[p], sizes)
            per_param[p].append(np.broadcast_to(env[adjoint_symbol(p)], shape))
    # terms of the cost outside mean(L), such as an L2 penalty, are not per-example
    extra = sp.sympify(model.cost.expr.replace(lambda e: isinstance(e, mean), lambda e: 0))
    for p, values in per_param.items():
        expected = np.mean(values, axis=0)
        regulariser = sp.diff(extra.replace(lambda e: isinstance(e, total), lambda e: e.args[0]), p)
        if regulariser != 0:
            expected = expected + numeric.evaluate(regulariser, {**benv, M: m})
        np.testing.assert_allclose(np.broadcast_to(benv[adjoint_symbol(p)], expected.shape),
                                   expected, rtol=1e-9, atol=1e-12, err_msg=str(p))


def test_build_in_python():
    model = symgrad.Model.build("scalar", parameters={"a, b, c": "scalar"},
                                graph={"u": "b*c", "v": "a + u"}, cost={"J": "3*v"})
    assert model.derive().per_example["dc"] == 3 * b


@pytest.mark.slow
def test_deriving_does_not_swell():
    graph = {"h1": "tanh(p*x)"}
    for i in range(2, 13):
        graph[f"h{i}"] = f"tanh(h{i - 1})"
    model = symgrad.Model.build("chain", inputs={"x": "scalar"}, parameters={"p": "scalar"},
                                graph=graph, cost={"J": "mean(h12)"})
    results = model.derive().per_example
    assert max(sp.count_ops(e) for e in results.values()) <= 16


def test_softmax_regression_uses_the_one_hot_label(spec):
    d = derive(spec, "softmax_regression")
    assert d.per_example["dz"] == a - y
    W, dW, db, dZ_ = sp.symbols("W dW db dZ", real=True)
    assert d.batch["dZ"] == A - Y
    assert d.batch["dW"] == matmul(dZ, transpose(X)) / M
    from symgrad.model.ops import rowsum

    assert d.batch["db"] == rowsum(dZ) / M


def test_softmax_without_the_one_hot_assumption_keeps_the_sum(spec):
    text = spec("softmax_regression").read_text().replace('"onehot(n_y)"', '"vector(n_y)"')
    d = symgrad.loads(text).derive()
    assert d.per_example["dz"] != a - y  # y need not sum to 1: the sum must stay
    assert same(d.per_example["dz"].subs(colsum(y), 1), a - y)


@pytest.mark.slow
def test_shallow_network(spec):
    d = derive(spec, "shallow_network").batch
    A1, A2, W2, dZ1, dZ2 = sp.symbols("A1 A2 W2 dZ1 dZ2", real=True)
    assert d["dZ2"] == A2 - Y
    assert d["dW2"] == matmul(dZ2, transpose(A1)) / M
    assert d["dZ1"] == matmul(transpose(W2), dZ2) * (1 - A1**2)
    assert d["dW1"] == matmul(dZ1, transpose(X)) / M
