"""Labels, domains and hyperparameters with defaults: the spec syntax, what it means, and every
refusal as one SpecError naming the file, line and key."""

import numpy as np
import pytest

import symgrad
from symgrad.cli.main import main
from symgrad.model.domains import HYPERPARAMETER_DOMAINS, LABEL_DOMAINS, hyperparameter
from symgrad.model.errors import SpecError

SPEC = """name = "huber"
title = "Pseudo-Huber regression"
description = "Charbonnier et al. 1997."
[dims]
n_x = "features"
[inputs]
x = "vector(n_x)"
{inputs}
[labels]
{labels}
[parameters]
w = "vector(n_x)"
b = "scalar"
[hyperparameters]
{hyper}
[graph]
z = "w @ x + b"
r = "z - y"
L = "delta**2*(sqrt(1 + (r/delta)**2) - 1)"
[cost]
J = "mean(L)"
"""
GOOD = {"inputs": "", "labels": 'y = "real"',
        "hyper": 'delta = { default = 1.5, domain = "positive", description = "threshold" }'}


def spec(**fields):
    return SPEC.format(**{**GOOD, **fields})


def test_labels_domains_and_defaults_are_read():
    model = symgrad.loads(spec(inputs='d = "binary(n_x)"', labels='y = "count"'),
                          source="huber.toml")
    y, d, delta = (model.variables[n] for n in ("y", "d", "delta"))
    assert [v.name for v in model.labels] == ["y"]  # d is an input, though binary
    assert y.label and y.domain.name == "count" and not d.label and d.domain.binary
    assert (delta.default, delta.domain.name, delta.description) == (1.5, "positive", "threshold")
    assert model.description == "Charbonnier et al. 1997."
    graph = model.derive().batch_graph
    assert {s.name for s in graph.domains} == {"Y", "D", "delta"}
    assert {s.name for s in graph.binary} == {"D"}


def test_old_specs_find_their_labels_as_before():
    logistic = symgrad.load("derivations/logistic_regression.toml")
    linear = symgrad.load("derivations/linear_regression.toml")  # y = "scalar", read by L only
    assert [v.name for v in logistic.labels] == ["y"] == [v.name for v in linear.labels]
    lambd = symgrad.load("derivations/regularized_logistic.toml").variables["lambd"]
    assert (lambd.default, lambd.domain.name) == (0.0, "real")


@pytest.mark.parametrize("name", sorted(LABEL_DOMAINS) + sorted(HYPERPARAMETER_DOMAINS))
def test_draws_lie_inside_their_domain(name):
    domain = LABEL_DOMAINS.get(name) or HYPERPARAMETER_DOMAINS[name]
    values = domain.draw(np.random.default_rng(1), (4, 50))
    assert domain.contains(values)
    if domain.columns == "probability":
        assert np.allclose(values.sum(axis=0), 1) and not np.isin(values, (0, 1)).all()


@pytest.mark.parametrize("name, inside, outside", [
    ("positive", 0.5, 0.0), ("(0, 1]", 1.0, 0.0), ("(0, 1)", 0.5, 1.0),
    ("positive integer", 3, 2.5), ("nonnegative", 0.0, -1e-9), ("integer", -2, 0.5)])
def test_membership(name, inside, outside):
    domain = HYPERPARAMETER_DOMAINS[name]
    assert domain.contains(inside) and not domain.contains(outside)
    assert domain.contains(domain.default) and domain.contains(domain.typical())


@pytest.mark.parametrize("fields, key, found", [
    ({"hyper": 'delta = { default = 0.0, domain = "positive" }'}, "hyperparameters.delta",
     "default 0.0 is not in its domain (a number > 0)"),
    ({"hyper": 'delta = { domain = "tiny" }'}, "hyperparameters.delta", "unknown domain 'tiny'"),
    ({"hyper": 'delta = { default = "1" }'}, "hyperparameters.delta",
     "default: expected a number, found a str"),
    ({"hyper": 'delta = { value = 1.0 }'}, "hyperparameters.delta", "unknown key 'value'"),
    ({"hyper": 'delta = { default = true }'}, "hyperparameters.delta", "expected a number"),
    ({"labels": 'y = "onehot"'}, "labels.y", "needs its size: onehot(n)"),
    ({"labels": 'y = "matrix(n_x, n_x)"'}, "labels.y", "a label is a scalar or a vector"),
    ({"labels": 'y = "counts"'}, "labels.y", "unknown type 'counts'"),
    ({"labels": 'y = "probability(n_q)"'}, "labels.y", "unknown dimension 'n_q'"),
])
def test_refusals_name_the_key(fields, key, found):
    with pytest.raises(SpecError) as err:
        symgrad.loads(spec(**fields), source="huber.toml")
    assert err.value.key == key and err.value.line is not None and found in str(err.value)


def test_a_parameter_cannot_have_a_label_type():
    text = spec().replace('w = "vector(n_x)"', 'w = "count(n_x)"')
    with pytest.raises(SpecError, match="for labels and inputs only"):
        symgrad.loads(text)


def test_description_must_be_text(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(spec().replace('description = "Charbonnier et al. 1997."',
                                   "description = 3"), encoding="utf-8")
    assert main(["derive", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "description" in err and "expected a string" in err


def test_hyperparameter_entry_forms():
    assert hyperparameter("L2 strength")[1:] == (0.0, "L2 strength")
    domain, default, about = hyperparameter({"domain": "(0, 1]"})
    assert (domain.name, default, about) == ("(0, 1]", 1.0, "")
