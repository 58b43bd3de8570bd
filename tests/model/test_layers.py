"""Repeated layers: the block derived once, the stack unrolled to any depth, and the two agree."""

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.calculus import numeric
from symgrad.calculus.chain import adjoint_symbol
from symgrad.model.errors import SpecError
from symgrad.model.graph import M
from symgrad.model.ops import matmul, rowsum, transpose

S = {n: sp.Symbol(n, real=True) for n in ("dA", "Z", "dZ", "A_prev", "W", "da", "z")}


@pytest.fixture(scope="module")
def deep(request):
    from pathlib import Path

    return symgrad.load(Path(__file__).resolve().parents[2] / "derivations/deep_network.toml")


@pytest.mark.slow
def test_layer_recurrence_is_derived(deep):
    layer = deep.derive().layer.batch
    assert layer["dZ"] == S["dA"] * sp.Heaviside(S["Z"], 0)
    assert layer["dW"] == matmul(S["dZ"], transpose(S["A_prev"])) / M
    assert layer["db"] == rowsum(S["dZ"]) / M
    assert layer["dA_prev"] == matmul(transpose(S["W"]), S["dZ"])


@pytest.mark.slow
def test_unrolled_layers_follow_the_recurrence(deep):
    model = deep.unrolled(4)
    batch = model.derive().batch
    assert [p.name for p in model.parameters] == ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"]
    for l in (1, 2, 3):
        Z, dZ, W, A_prev = (sp.Symbol(n, real=True) for n in
                            (f"Z{l}", f"dZ{l}", f"W{l}", "X" if l == 1 else f"A{l - 1}"))
        assert batch[f"dW{l}"] == matmul(dZ, transpose(A_prev)) / M
        assert sp.Heaviside(Z, 0) in batch[f"dZ{l}"].atoms(sp.Heaviside)
    assert batch["dZ4"] == sp.Symbol("A4", real=True) - sp.Symbol("Y", real=True)


@pytest.mark.slow
def test_layer_block_against_finite_differences(deep):
    layer = deep.derive().layer
    rng = np.random.default_rng(5)
    for graph, steps in ((layer.per_example_graph, layer.per_example_steps),
                         (layer.batch_graph, layer.batch_steps)):
        sizes = numeric.sizes_for(graph.shapes, rng)
        env = numeric.draw(graph, rng, sizes)
        upstream = rng.normal(size=np.shape(env[graph.output]))
        env[adjoint_symbol(graph.output)] = upstream
        for step in steps.values():
            env[step.adjoint] = numeric.evaluate(step.result, env)
        # the block's output feeds sum(da * a): its gradient is the block's adjoint
        weighted = [(s, e) for s, e in graph.nodes]
        out = sp.Symbol("out", real=True)
        probe = type(graph)(nodes=weighted + [(out, sp.Symbol("g", real=True) * graph.output)],
                            output=out, shapes={**graph.shapes}, leaves=graph.leaves)
        env[sp.Symbol("g", real=True)] = upstream
        scale = float(sizes.get(M, 1)) if graph is layer.batch_graph else 1.0
        for var in graph.leaves + graph.inputs:
            fd = numeric.finite_difference(probe, env, var)
            factor = 1 / scale if var in graph.leaves else 1.0  # dW = dJ/dW: the 1/m of the mean
            got = np.broadcast_to(env[adjoint_symbol(var)], fd.shape)
            np.testing.assert_allclose(got, fd * factor, rtol=1e-6, atol=1e-8, err_msg=str(var))


def test_depth_costs_nothing_for_the_block(deep):
    import time

    start = time.perf_counter()
    deep.stack.block().derive()
    assert time.perf_counter() - start < 5  # generous: one block, whatever L is


def test_unknown_layers_key(tmp_path, deep):
    text = deep.source and open(deep.source).read()
    with pytest.raises(SpecError, match="unknown key 'depht'"):
        symgrad.loads(text.replace("depth = 3", "depht = 3"))
    with pytest.raises(SpecError, match="unknown name 'q'"):
        symgrad.loads(text.replace('a = "relu(z)"', 'a = "relu(q)"'))


def test_layer_errors_name_the_line(deep):
    text = open(deep.source).read()
    with pytest.raises(SpecError) as err:
        symgrad.loads(text.replace('a = "sigmoid(z)"', 'a = "sigmod(z)"'), source="deep.toml")
    assert str(err.value).startswith("deep.toml:26: layers.output.a: unsupported function")
