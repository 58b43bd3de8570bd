"""Course 2 of the Deep Learning Specialization (Improving Deep Neural Networks), week 1,
"Regularization": the generated modules reproduce the assignment's published values.

The 3-layer network LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID with
(a) L2 regularisation, written once for layer l as ``[layers] penalty``, and
(b) inverted dropout on both hidden layers, ``a = "dropout(relu(z), keep_prob)"`` in
    [layers.hidden]: forward() draws the masks D1, D2 in layer order with the generator it is
    given, so np.random.RandomState(1) reproduces the course's np.random.seed(1) and rand; and,
    written out in [graph] with the masks as inputs (``d1``, ``d2``, drawn by the caller).

Sources of the inputs and of the expected values (each compared to 1e-7):
- the test cases (np.random.seed(1), then np.random.randn in the order below, and the caches
  written out): the assignment's testCases.py, e.g. repository muellevin/ML_CV, path
  3_Improving_ML_applications/1_regularization/testCases.py, and its public_tests.py
  (compute_cost_with_regularization_test, backward_propagation_with_regularization_test,
  forward_propagation_with_dropout_test, backward_propagation_with_dropout_test, which hold
  the expected dictionaries of gradients);
- the expected outputs printed in the notebook: repository Kulbear/deep-learning-coursera,
  path "Improving Deep Neural Networks Hyperparameter tuning, Regularization and
  Optimization/Regularization.ipynb" (cost = 1.78648594516; dW1, dW2, dW3 with lambd = 0.7;
  A3 of forward_propagation_with_dropout with keep_prob = 0.7).
"""

import numpy as np
import pytest

import symgrad
from symgrad.code.render import render_spec
from symgrad.code.verify import load_module

L2_SPEC = """\
name = "regularization_l2"
title = "Course 2, week 1: a deep network with L2 regularisation"

[dims]
n_x = "number of input features"

[inputs]
x = "vector(n_x)"
y = "binary"

[hyperparameters]
lambd = { default = 0.7, domain = "nonnegative", description = "the L2 strength" }

[layers]
input = "x"
depth = 3
output_size = 1
penalty = "lambd/(2*m) * sum(W**2)"

[layers.parameters]
W = "matrix(n_l, n_prev)"
b = "vector(n_l)"

[layers.hidden]
z = "W @ a_prev + b"
a = "relu(z)"

[layers.output]
z = "W @ a_prev + b"
a = "sigmoid(z)"

[graph]
L = "-(y*log(a) + (1 - y)*log(1 - a))"

[cost]
J = "mean(L)"
"""

DROPOUT_LAYERS_SPEC = L2_SPEC.replace("regularization_l2", "regularization_dropout_layers").replace(
    'lambd = { default = 0.7, domain = "nonnegative", description = "the L2 strength" }',
    'keep_prob = { default = 0.86, domain = "(0, 1]", description = "the keep probability" }',
).replace('penalty = "lambd/(2*m) * sum(W**2)"\n', "").replace(
    '[layers.hidden]\nz = "W @ a_prev + b"\na = "relu(z)"',
    '[layers.hidden]\nz = "W @ a_prev + b"\na = "dropout(relu(z), keep_prob)"')

DROPOUT_SPEC = """\
name = "regularization_dropout"
title = "Course 2, week 1: inverted dropout on both hidden layers"

[dims]
n_x = "number of input features"
n1 = "units of layer 1"
n2 = "units of layer 2"

[inputs]
x = "vector(n_x)"
d1 = "binary(n1)"
d2 = "binary(n2)"

[labels]
y = "binary"

[hyperparameters]
keep_prob = { default = 0.86, domain = "(0, 1]", description = "the probability of keeping a unit" }

[parameters]
W1 = "matrix(n1, n_x)"
b1 = "vector(n1)"
W2 = "matrix(n2, n1)"
b2 = "vector(n2)"
W3 = "matrix(1, n2)"
b3 = "vector(1)"

[graph]
z1 = "W1 @ x + b1"
a1 = "d1 * relu(z1) / keep_prob"
z2 = "W2 @ a1 + b2"
a2 = "d2 * relu(z2) / keep_prob"
z3 = "W3 @ a2 + b3"
a3 = "sigmoid(z3)"
L = "-(y*log(a3) + (1 - y)*log(1 - a3))"

[cost]
J = "mean(L)"
"""


def module(text, tmp_path_factory, name):
    folder = tmp_path_factory.mktemp(name)
    spec = folder / f"{name}.toml"
    spec.write_text(text, encoding="utf-8")
    path = folder / f"{name}.py"
    path.write_text(render_spec(spec), encoding="utf-8")
    return load_module(path)


@pytest.fixture(scope="module")
def l2(tmp_path_factory):
    return module(L2_SPEC, tmp_path_factory, "regularization_l2")


@pytest.fixture(scope="module")
def dropout(tmp_path_factory):
    return module(DROPOUT_SPEC, tmp_path_factory, "regularization_dropout")


@pytest.fixture(scope="module")
def dropout_layers(tmp_path_factory):
    return module(DROPOUT_LAYERS_SPEC, tmp_path_factory, "regularization_dropout_layers")


def course_parameters(rng, shapes=((2, 3), (2, 1), (3, 2), (3, 1), (1, 3), (1, 1))):
    """W1, b1, W2, b2, W3, b3 drawn with randn in the test cases' order."""
    names = ("W1", "b1", "W2", "b2", "W3", "b3")
    return {name: rng.randn(*shape) for name, shape in zip(names, shapes, strict=True)}


Y = np.array([[1, 1, 0, 1, 0]])

# backward_propagation_with_regularization_test_case: the cache (Z1, A1, W1, b1, Z2, A2, W2,
# b2, Z3, A3, W3, b3) as testCases.py writes it out, X = randn(3, 5) after seed(1)
L2_CACHE = {
    "Z1": [[-1.52855314, 3.32524635, 2.13994541, 2.60700654, -0.75942115],
           [-1.98043538, 4.1600994, 0.79051021, 1.46493512, -0.45506242]],
    "A1": [[0.0, 3.32524635, 2.13994541, 2.60700654, 0.0],
           [0.0, 4.1600994, 0.79051021, 1.46493512, 0.0]],
    "W1": [[-1.09989127, -0.17242821, -0.87785842], [0.04221375, 0.58281521, -1.10061918]],
    "b1": [[1.14472371], [0.90159072]],
    "Z2": [[0.53035547, 5.94892323, 2.31780174, 3.16005701, 0.53035547],
           [-0.69166075, -3.47645987, -2.25194702, -2.65416996, -0.69166075],
           [-0.39675353, -4.62285846, -2.61101729, -3.22874921, -0.39675353]],
    "A2": [[0.53035547, 5.94892323, 2.31780174, 3.16005701, 0.53035547],
           [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]],
    "W2": [[0.50249434, 0.90085595], [-0.68372786, -0.12289023], [-0.93576943, -0.26788808]],
    "b2": [[0.53035547], [-0.69166075], [-0.39675353]],
    "Z3": [[-0.3771104, -4.10060224, -1.60539468, -2.18416951, -0.3771104]],
    "A3": [[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]],
    "W3": [[-0.6871727, -0.84520564, -0.67124613]],
    "b3": [[-0.0126646]],
}


def test_the_cost_with_l2_regularization(l2):
    """compute_cost_with_regularization_test_case, lambd = 0.1: cost = 1.78648594516."""
    rng = np.random.RandomState(1)
    params = course_parameters(rng)
    a3 = np.array([[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    cache = {"A3": a3, "Z3": np.log(a3 / (1 - a3))}  # the module's stable cost reads Z3
    cost = l2.cost_from_cache(params, cache, np.zeros((3, 5)), Y, lambd=0.1)
    assert abs(cost - 1.7864859451590758) < 1e-7


def test_the_gradients_with_l2_regularization(l2):
    """backward_propagation_with_regularization_test_case, lambd = 0.7."""
    X = np.random.RandomState(1).randn(3, 5)
    cache = {k: np.array(v) for k, v in L2_CACHE.items()}
    params = {k: cache[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
    grads = l2.backward(params, cache, X, Y, lambd=0.7)
    expected = {
        "dW1": [[-0.25604646, 0.12298827, -0.28297129], [-0.17706303, 0.34536094, -0.4410571]],
        "db1": [[0.11845855], [0.21236874]],
        "dW2": [[0.79276486, 0.85133918], [-0.0957219, -0.01720463], [-0.13100772, -0.03750433]],
        "db2": [[0.26135226], [0.0], [0.0]],
        "dW3": [[-1.77691347, -0.11832879, -0.09397446]],
        "db3": [[-0.38032981]],
    }
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=0, atol=1e-7, err_msg=name)


def test_the_l2_module_runs_at_any_depth(l2):
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(2, 30)), rng.integers(0, 2, size=(1, 30))
    for dims in ([2, 1], [2, 4, 1], [2, 5, 4, 3, 1]):
        params = l2.initialize_parameters(dims)
        plain = l2.compute_cost(params, X, labels, lambd=0.0)
        weights = sum(np.sum(params[f"W{k}"] ** 2) for k in range(1, len(dims)))
        assert np.isclose(l2.compute_cost(params, X, labels, lambd=0.7),
                          plain + 0.7 / (2 * 30) * weights)


def dropout_masks(rng, keep_prob, shapes=((2, 5), (3, 5))):
    """The masks of forward_propagation_with_dropout: after np.random.seed(1),
    D1 = rand(*A1.shape) < keep_prob, then D2 the same for A2."""
    return [(rng.rand(*shape) < keep_prob).astype(float) for shape in shapes]


def test_the_forward_pass_with_dropout(dropout):
    """forward_propagation_with_dropout_test_case, keep_prob = 0.7: A3 as published."""
    rng = np.random.RandomState(1)
    X = rng.randn(3, 5)
    params = course_parameters(rng)
    d1, d2 = dropout_masks(np.random.RandomState(1), 0.7)  # seed(1) again inside forward
    cache = dropout.forward(params, {"x": X, "d1": d1, "d2": d2}, keep_prob=0.7)
    np.testing.assert_allclose(
        cache["A3"], [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]],
        rtol=0, atol=1e-7)


def test_the_forward_pass_with_the_dropout_op(dropout_layers):
    """forward_propagation_with_dropout_test_case, keep_prob = 0.7: the module draws D1 and D2
    itself, in layer order, with the generator given: RandomState(1) is the course's
    np.random.seed(1) followed by np.random.rand. A3 as published."""
    assert "dropout(relu(z), keep_prob)" in DROPOUT_LAYERS_SPEC
    rng = np.random.RandomState(1)
    X = rng.randn(3, 5)
    params = course_parameters(rng)
    cache = dropout_layers.forward(params, X, keep_prob=0.7, rng=np.random.RandomState(1))
    np.testing.assert_allclose(
        cache["A3"], [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]],
        rtol=0, atol=1e-7)
    d1, d2 = dropout_masks(np.random.RandomState(1), 0.7)
    np.testing.assert_array_equal(cache["D1"], d1)
    np.testing.assert_array_equal(cache["D2"], d2)
    plain = dropout_layers.forward(params, X, keep_prob=0.7)  # predict: the identity
    relu = np.maximum(params["W1"] @ X + params["b1"], 0)
    np.testing.assert_array_equal(plain["A1"], relu)


def test_the_gradients_with_the_dropout_op(dropout_layers):
    """backward_propagation_with_dropout_test_case as in test_the_gradients_with_dropout, the
    masks read from the cache (where forward() stores them as D1, D2)."""
    X, cache, params, expected = dropout_gradient_case()
    cache["D1"], cache["D2"] = DROPOUT_D1, DROPOUT_D2
    grads = dropout_layers.backward(params, cache, X, Y, keep_prob=0.8)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=0, atol=1e-7, err_msg=name)


def test_a_student_claim_with_the_mask_is_checked():
    """A claim reads the masks by their names d1, d2 (d[l] in layer l)."""
    model = symgrad.loads(DROPOUT_LAYERS_SPEC, source="dropout.toml").derive().model
    right = "W2.T @ dz2 * d1/keep_prob * heaviside(z1)"
    assert symgrad.check(model, "dz1", right).status == "proven"
    assert symgrad.check(model, "dz1", "W2.T @ dz2 * heaviside(z1)").status == "refuted"
    layer = "dA[l] * D[l]/keep_prob * heaviside(Z[l])"
    assert symgrad.check(model, "dZ[l]", layer).status == "proven"


DROPOUT_D1 = np.array([[1, 0, 1, 1, 1], [1, 1, 1, 1, 0]], dtype=float)
DROPOUT_D2 = np.array([[1, 0, 1, 0, 1], [0, 1, 0, 1, 1], [0, 0, 1, 0, 0]], dtype=float)


def dropout_gradient_case():
    """backward_propagation_with_dropout_test_case: X, the cache, the parameters and the
    expected gradients of public_tests.py."""
    X = np.random.RandomState(1).randn(3, 5)
    params = {k: np.array(L2_CACHE[k]) for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
    cache = {
        "Z1": L2_CACHE["Z1"],
        "A1": [[0.0, 0.0, 4.27989081, 5.21401307, 0.0],
               [0.0, 8.32019881, 1.58102041, 2.92987024, 0.0]],
        "Z2": [[0.53035547, 8.02565606, 4.10524802, 5.78975856, 0.53035547],
               [-0.69166075, -1.71413186, -3.81223329, -4.61667916, -0.69166075],
               [-0.39675353, -2.62563561, -4.82528105, -6.0607449, -0.39675353]],
        "A2": [[1.06071093, 0.0, 8.21049603, 0.0, 1.06071093],
               [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]],
        "Z3": [[-0.7415562, -0.0126646, -5.65469333, -0.0126646, -0.7415562]],
        "A3": [[0.32266394, 0.49683389, 0.00348883, 0.49683389, 0.32266394]],
    }
    cache = {k: np.array(v) for k, v in cache.items()}
    expected = {
        "dW1": [[0.00019884, 0.00028657, 0.00012138], [0.00035647, 0.00051375, 0.00021761]],
        "db1": [[-0.00037647], [-0.00067492]],
        "dW2": [[-0.00256518, -0.0009476], [0.0, 0.0], [0.0, 0.0]],
        "db2": [[0.06033089], [0.0], [0.0]],
        "dW3": [[-0.06951191, 0.0, 0.0]],
        "db3": [[-0.2715031]],
    }
    return X, cache, params, expected


def test_the_gradients_with_dropout(dropout):
    """backward_propagation_with_dropout_test_case, keep_prob = 0.8, X = randn(3, 5) after
    seed(1), and the values of its cache as written out there (made with keep_prob = 0.5:
    A1 = D1 * relu(Z1) / 0.5, so that the cache is read as given, not recomputed); the
    gradients of public_tests.py. The masks are inputs here, given by the caller."""
    X, cache, params, expected = dropout_gradient_case()
    inputs = {"x": X, "d1": DROPOUT_D1, "d2": DROPOUT_D2}
    grads = dropout.backward(params, cache, inputs, {"y": Y}, keep_prob=0.8)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=0, atol=1e-7, err_msg=name)


def test_the_l2_stack_is_proved_and_checked_with_its_penalty():
    """The penalty is a term of the cost outside the graph: the proof's average over the
    examples adds its derivative, and the claim checker knows lambd in layer l's claims."""
    d = symgrad.loads(L2_SPEC, source="l2.toml").derive()
    proof = symgrad.prove(d)  # every line checked
    assert proof.title
    model = d.model
    assert symgrad.check(model, "dW[l]", "dZ[l] @ A[l-1].T/m + lambd*W[l]/m").status == "proven"
    assert symgrad.check(model, "dW[l]", "dZ[l] @ A[l-1].T/m").status == "refuted"
    assert symgrad.check(model, "dW2", "(dZ2 @ A1.T + lambd*W2)/m").status == "proven"
