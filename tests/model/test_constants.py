"""[constants]: inputs that are the same for every example of a batch, never stacked."""

import pytest
import sympy as sp

import symgrad
from symgrad.model.errors import SpecError
from symgrad.model.graph import M

ATTENTION = """name = "attn"
[dims]
n_x = "input features"
n_k = "keys"
d = "key size"
[constants]
K = "matrix(n_k, d)"
[inputs]
x = "vector(n_x)"
[labels]
y = "onehot(n_k)"
[parameters]
Wq = "matrix(d, n_x)"
[graph]
q = "Wq @ x"
s = "softmax(K @ q)"
L = "-sum(y*log(s))"
[cost]
J = "mean(L)"
"""

TEMPERATURE = """name = "temp"
[dims]
n_x = "input features"
[constants]
T = "positive"
[inputs]
x = "vector(n_x)"
[labels]
y = "binary"
[parameters]
w = "vector(n_x)"
b = "scalar"
[graph]
z = "(w @ x + b) / T"
a = "sigmoid(z)"
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L)"
"""

K, T = sp.Symbol("K", real=True), sp.Symbol("T", real=True)
d, n_k = (sp.Symbol(n, positive=True, integer=True) for n in ("d", "n_k"))


def test_a_constant_is_an_input_that_is_never_stacked():
    model = symgrad.loads(ATTENTION)
    (k,) = model.constants
    assert (k.role, k.constant, k.label, k.shape) == ("input", True, False, (n_k, d))
    assert [v.name for v in model.inputs] == ["x", "y"]
    assert [v.name for v in model.labels] == ["y"]
    assert K not in model.per_example_symbols and "K" not in model.stacked_names()
    batch = model.batch_graph()
    assert batch.shapes[K] == (n_k, d)  # its own name and shape, like a parameter's
    assert K not in batch.leaves  # no gradient is taken for it
    assert dict(batch.nodes)[sp.Symbol("S", real=True)].has(K)


def test_derive_and_check_a_matrix_constant():
    d_ = symgrad.derive(symgrad.loads(ATTENTION))
    assert set(d_.batch) >= {"dWq", "dQ"} and "dK" not in d_.batch
    assert symgrad.check(d_.model, "dq", "K.T @ (s - y)").status == "proven"
    assert symgrad.check(d_.model, "dq", "K @ (s - y)").status == "refuted"


def test_a_positive_scalar_constant_lies_in_its_domain():
    model = symgrad.loads(TEMPERATURE)
    (t,) = model.constants
    assert t.domain.name == "positive" and t.shape == (1, 1)
    assert T in model.batch_graph().domains  # numbers are drawn inside it
    d_ = symgrad.derive(model)
    assert symgrad.check(model, "db", "sum(dZ)/(T*m)").status == "proven"
    assert symgrad.check(model, "dw", "x*(a - y)/T").status == "proven"
    assert M not in d_.per_example["dw"].free_symbols


def test_python_build_takes_constants():
    model = symgrad.Model.build("tiny", dims={"n": "size"}, constants={"c": "vector(n)"},
                                inputs={"x": "vector(n)"}, labels={"y": "real"},
                                parameters={"w": "vector(n)"},
                                graph={"z": "w @ x + c @ w", "L": "(z - y)**2/2"},
                                cost={"J": "mean(L)"})
    assert [v.name for v in model.constants] == ["c"]
    assert model.where("c") == {"file": None, "line": None, "key": "constants.c"}


def _error(text):
    with pytest.raises(SpecError) as err:
        symgrad.loads(text, source="spec.toml")
    message = str(err.value)
    assert "\n" not in message
    return message


def test_a_constant_named_like_another_name_is_refused():
    message = _error(ATTENTION.replace('K = "matrix(n_k, d)"', 'x = "matrix(n_k, d)"'))
    assert "spec.toml:7: constants.x" in message and "defined twice" in message
    message = _error(ATTENTION.replace('Wq = "matrix(d, n_x)"', 'K = "matrix(d, n_x)"'))
    assert "parameters.K" in message and "defined twice" in message
    message = _error(ATTENTION.replace('K = "matrix(n_k, d)"', 'X = "matrix(n_k, d)"'))
    assert "would both be 'X'" in message


def test_a_bad_constant_type_is_refused_with_its_location():
    message = _error(ATTENTION.replace('K = "matrix(n_k, d)"', 'K = "tensor(n_k, d)"'))
    assert message.startswith("spec.toml:7: constants.K: unknown type 'tensor(n_k, d)'")
    message = _error(ATTENTION.replace('K = "matrix(n_k, d)"', 'K = "matrix(n_k, e)"'))
    assert "spec.toml:7: constants.K: unknown dimension 'e'" in message
    message = _error(ATTENTION.replace('K = "matrix(n_k, d)"', "K = 3"))
    assert "spec.toml:7: constants.K: expected a string" in message
    message = _error("constants = 3\n" + ATTENTION.replace('[constants]\nK = "matrix(n_k, d)"', ""))
    assert "'constants' must be a table" in message


def test_the_proof_lists_the_constants():
    from symgrad.proof import document

    proof = symgrad.prove(symgrad.derive(symgrad.loads(TEMPERATURE)))
    text = document.render(proof, "markdown")
    assert "| $T$ | constant |" in text
    assert "The constant $T$ is the same for every example" in text
