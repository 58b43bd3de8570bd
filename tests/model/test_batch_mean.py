"""batch_mean(u) in a spec: where it is refused, with one clear SpecError."""

from __future__ import annotations

import pytest

from symgrad.model.errors import SpecError
from symgrad.model.graph import Model


def test_statistics_and_coupled():
    model = Model.build("bn", dims={"n": "features"}, inputs={"x": "vector(n)"},
                        parameters={"W": "matrix(n, n)", "u": "vector(n)"},
                        graph={"z": "W @ x", "mu": "batch_mean(z)", "s": "2*mu",
                               "L": "u @ (z - s)"}, cost={"J": "mean(L)"})
    assert [s.name for s in model.statistics] == ["mu", "s"]
    assert {s.name for s in model.coupled} == {"z", "W", "x"}
    assert "mu" not in {s.name for s in model.per_example_symbols}
    batch = dict(model.batch_graph().nodes)
    assert str(batch[model.symbols["mu"]]) == "rowsum(Z)/m"


@pytest.mark.parametrize("graph, cost, message", [
    ({"z": "W @ x", "s": "2*batch_mean(z)"}, "mean(sum(s*x))",
     "batch_mean(...) must be a node's whole expression"),
    ({"z": "W @ x", "s": "batch_mean(batch_mean(z))"}, "mean(sum(s*x))",
     "batch_mean(...) inside batch_mean(...)"),
    ({"s": "batch_mean(gamma1)"}, "sum(s)", "the same for every example"),
    ({"z": "W @ x", "s": "batch_mean(z)", "L": "sum(s*z)"}, "sum(s)",
     "a model without examples"),
])
def test_refused(graph, cost, message):
    if "L" not in graph and "without" not in message:
        graph = {**graph, "L": "sum(s*x)"}
        cost = "mean(L)"
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.").replace("*", r"\*")):
        Model.build("bad", dims={"n": "features"}, inputs={"x": "vector(n)"},
                    parameters={"W": "matrix(n, n)", "gamma1": "vector(n)"},
                    graph=graph, cost={"J": cost})


def test_refused_in_cost():
    with pytest.raises(SpecError, match=r"batch_mean\(\.\.\.\) in the cost"):
        Model.build("bad", dims={"n": "features"}, inputs={"x": "vector(n)"},
                    parameters={"w": "vector(n)"}, graph={"L": "w @ x"},
                    cost={"J": "mean(L) + sum(batch_mean(x))"})


def test_refused_in_layers():
    with pytest.raises(SpecError, match=r"not available in \[layers\]"):
        Model.build("bad", inputs={"x": "vector(3)", "y": "binary"},
                    layers={"input": "x", "depth": 2, "output_size": 1,
                            "parameters": {"W": "matrix(n_l, n_prev)"},
                            "hidden": {"z": "W @ a_prev", "mu": "batch_mean(z)",
                                       "a": "relu(z - mu)"},
                            "output": {"z": "W @ a_prev", "a": "sigmoid(z)"}},
                    graph={"L": "-(y*log(a) + (1 - y)*log(1 - a))"}, cost={"J": "mean(L)"})
