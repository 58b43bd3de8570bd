"""Claims in NumPy spelling: :func:`symgrad.claims.numpy_notation.to_grammar` line by line, and
the course's own backward passes (Deep Learning Specialization, courses 1 and 2) checked as
written in the assignments, each group with the GitHub mirror it was copied from.

``RIGHT_CLAIMS`` (spec, claim) must all be proven; ``WRONG_CLAIMS`` (spec, claim, a phrase the
diagnosis must contain, or None where no diagnosis is asserted) must all be refuted.
"""

from functools import cache
from pathlib import Path

import pytest

import symgrad
from symgrad.claims.checker import NOT_PROVEN, PROVEN, REFUTED, Checker
from symgrad.claims.numpy_notation import to_grammar
from symgrad.cli.main import main
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]


@cache
def checker(spec) -> Checker:
    path = ROOT / "derivations" / f"{spec}.toml"
    if not path.exists():
        path = ROOT / "tests" / "catalogue" / f"{spec}.toml"
    # the slowest of these claims takes about 3 s of CPU here; the wall-clock limit is
    # loosened so that a machine loaded by other work does not turn a proof into a timeout
    return Checker(symgrad.load(path), time_limit=30)


# ----- to_grammar, one rewrite each -----

TRANSLATIONS = [
    ("np.dot(W2.T, dZ2)", "W2.T @ dZ2"),
    ("np.dot(0.5, dZ2)", "0.5 * dZ2"),
    ("np.matmul(dZ, A_prev.T)", "dZ @ A_prev.T"),
    ("A.dot(B)", "A @ B"),
    ("W.dot(A).T", "(W @ A).T"),
    ("np.outer(a, b)", "a @ b.T"),
    ("np.multiply(dA, s)", "dA * s"),
    ("np.divide(Y, AL)", "Y / AL"),
    ("np.add(Z, b)", "Z + b"),
    ("np.subtract(A, Y)", "A - Y"),
    ("np.power(A1, 2)", "A1 ** 2"),
    ("np.square(W)", "W ** 2"),
    ("np.negative(Z)", "-Z"),
    ("np.exp(-Z)", "exp(-Z)"),
    ("numpy.log(A)", "log(A)"),
    ("np.sqrt(v) + np.tanh(z) + np.log1p(u) + np.cosh(z)",
     "sqrt(v) + tanh(z) + log1p(u) + cosh(z)"),
    ("np.absolute(z) + np.abs(z)", "abs(z) + abs(z)"),
    ("np.maximum(0, Z)", "relu(Z)"),
    ("np.maximum(Z, 0.0)", "relu(Z)"),
    ("np.maximum(Z, Y)", "maximum(Z, Y)"),
    ("np.transpose(A)", "A.T"),
    ("A.transpose()", "A.T"),
    ("np.sum(A - Y)", "sum(A - Y)"),
    ("np.sum(dZ, axis=1, keepdims=True)", "sum(dZ, axis=1)"),
    ("np.sum(dZ, axis = 0, keepdims = True)", "sum(dZ, axis=0)"),
    ("np.sum(dZ, 1, keepdims=True)", "sum(dZ, axis=1)"),
    ("np.sum(dZ, axis=-1, keepdims=True)", "sum(dZ, axis=1)"),
    ("np.sum(dZ, axis=(0, 1))", "sum(dZ)"),
    ("dZ.sum(axis=1, keepdims=True)", "sum(dZ, axis=1)"),
    ("np.sum(dZ1, axis=1)", "sum(dZ1, axis=1, keepdims=0)"),  # NumPy's 1-D sum
    ("np.sum(dZ1, axis=1, keepdims=False)", "sum(dZ1, axis=1, keepdims=0)"),
    ("np.mean(dZ, axis=1, keepdims=True)", "mean(dZ, axis=1)"),
    ("np.squeeze(db)", "squeeze(db)"),
    ("1 / X.shape[1] * np.sum(A - Y)", "1 / shape(X, 1) * sum(A - Y)"),
    ("A_prev.shape[-1]", "shape(A_prev, 1)"),
    ("1./m * np.dot(dZ, A_prev.T)", "1.0 / m * (dZ @ A_prev.T)"),
    ("dA[l]*(Z[l] > 0)", "dA[l] * heaviside(Z[l])"),
    ("Z >= 0", "heaviside(Z, 1)"),
    ("Z < 0", "heaviside(-Z)"),
    ("Z <= 0", "heaviside(-Z, 1)"),
    ("0 < Z", "heaviside(Z)"),
    ("A > B", "heaviside(A - B)"),
    ("np.int64(A2 > 0)", "heaviside(A2)"),
    ("np.float64(Z >= 0)", "heaviside(Z, 1)"),
    ("(A > 0).astype(int)", "heaviside(A)"),
    ("(A > 0).astype(np.float32)", "heaviside(A)"),
    ("np.heaviside(Z, 0)", "heaviside(Z)"),
    ("np.heaviside(Z, 1)", "heaviside(Z, 1)"),
    ("np.where(Z > 0, dA, 0)", "heaviside(Z) * dA"),
    ("np.where(Z <= 0, 0, dA)", "heaviside(Z) * dA"),
    ("np.where(Z > 0, 1, 0.01)", "heaviside(Z) + (1 - heaviside(Z)) * 0.01"),
    ("np.where(Z >= 0, u, v)", "heaviside(Z, 1) * u + (1 - heaviside(Z, 1)) * v"),
    ("np.where(Z < 0, u, v)", "heaviside(Z, 1) * v + (1 - heaviside(Z, 1)) * u"),
    ("np.where(Z > 0, dA, dA)", "heaviside(Z) * dA + (1 - heaviside(Z)) * dA"),
    ("np.pi * np.e", "pi * exp(1)"),
]


@pytest.mark.parametrize("text, grammar", TRANSLATIONS)
def test_to_grammar(text, grammar):
    assert to_grammar(text) == grammar


@pytest.mark.parametrize("text", ["a - y", "dZ[l] @ A[l-1].T/m", "sum(dZ, axis=1)/m",
                                  "sum(dZ, 1)", "a.__class__", "f(x).g(y)",
                                  "W2.T @ dZ2 * (1 - A1**2)", "heaviside(z)*da"])
def test_claims_without_numpy_are_left_as_typed(text):
    assert to_grammar(text) == text


REFUSED = [
    ("np.random.rand(3, 1)", "'np.random.rand'"),
    ("np.linalg.norm(W)", "'np.linalg.norm'"),
    ("np.zeros_like(Z)", "'np.zeros_like'"),
    ("A[:, 0]", "indexing or slicing 'A[:, 0]'"),
    ("A.reshape(3, 1)", "method '.reshape()'"),
    ("A.shape", "attribute '.shape'"),
    ("X.shape[2]", "'X.shape[2]'"),
    ("Z == 0", "comparison 'Z == 0'"),
    ("0 < Z < 1", "comparison '0 < Z < 1'"),
    ("np.where(D1, dA, 0)", "np.where() with the condition 'D1'"),
    ("np.sum(dZ, axis=2)", "axis=2"),
    ("np.sum(dZ, axis=1, out=b)", "found out"),
    ("np.dot(W.T, np.sum(dZ, axis=1))", "without keepdims=True"),
    ("np.sum(dZ, axis=0).T", "without keepdims=True"),
    ("np.squeeze(db).T", "np.squeeze(db)"),
    ("np.dot(A)", "takes 2 arguments"),
    ("np", "'np' on its own"),
]


@pytest.mark.parametrize("text, phrase", REFUSED)
def test_numpy_outside_a_gradient_formula_is_refused(text, phrase):
    with pytest.raises(SpecError) as err:
        to_grammar(text)
    assert phrase in str(err.value)
    assert "\n" not in str(err.value)


# ----- the course's code, as written in the assignments -----

RIGHT_CLAIMS = [
    # course 1 week 2, propagate():
    # Silva-6/deeplearning.AI-deep_learning
    #   0-neural_networks-nd-deep_learning/1-logistic_regression_with_a_NN_mindset/1-propagate.py
    ("logistic_regression", "dw = (1 / m) * np.dot(X, (A - Y).T)"),
    ("logistic_regression", "db = (1 / m) * np.sum(A - Y)"),
    # the same with A = sigmoid(np.dot(w.T, X) + b) and m = X.shape[1] from the lines above
    ("logistic_regression", "dw = (1 / m) * np.dot(X, (sigmoid(np.dot(w.T, X) + b) - Y).T)"),
    ("logistic_regression", "db = (1 / X.shape[1]) * np.sum(sigmoid(np.dot(w.T, X) + b) - Y)"),
    # sheviv/mirrors dl_spec/nn_and_dl/first_second_w/propagate.py
    ("logistic_regression", "dw = 1 / m * (np.dot(X, (A - Y).T))"),
    ("logistic_regression", "db = 1 / m * (np.sum(A - Y))"),
    # Sarfaraz-Ali/Image_recognization propagate.py
    ("logistic_regression", "dw = np.dot(X,(A-Y).T)/m"),
    ("logistic_regression", "db = np.sum((A-Y)/m)"),
    # course 1 week 3, planar data, backward_propagation():
    # Silva-6/deeplearning.AI-deep_learning 0-neural_networks-nd-deep_learning/
    #   2-Planar_data_classification_with_one_hidden_layer/4-backward_propagation.py
    ("shallow_network", "dZ2 = A2 - Y"),
    ("shallow_network", "dW2 = (1 / m) * np.dot(dZ2, A1.T)"),
    ("shallow_network", "db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)"),
    ("shallow_network", "dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.power(A1, 2))"),
    ("shallow_network", "dW1 = (1 / m) * np.dot(dZ1, X.T)"),
    ("shallow_network", "db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)"),
    # sourabh-burnwal/ML nn_backprop.py
    ("shallow_network", "dW2 = 1 / m * np.dot(dZ2, A1.T)"),
    ("shallow_network", "db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)"),
    ("shallow_network", "dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))"),
    ("shallow_network", "dW1 = 1 / m * np.dot(dZ1, X.T)"),
    ("shallow_network", "db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)"),
    # hvsbombay/SOC-2025-DEEP-LEARNING-2025 Week3/Hidden_Layer_Neural_Network/Exercise6.py
    ("shallow_network", "dW2 = (1/m) * np.dot(dZ2, A1.T)"),
    ("shallow_network", "db2 = (1/m) * np.sum(dZ2, axis=1, keepdims=True) "),
    ("shallow_network", "dW1 = (1/m) * np.dot(dZ1, X.T)"),
    ("shallow_network", "db1 = (1/m) * np.sum(dZ1, axis=1, keepdims=True)"),
    # keepdims=True left out where the sum has one row: NumPy's (1,) broadcasts as (1, 1)
    ("shallow_network", "db2 = (1 / m) * np.sum(dZ2, axis=1)"),
    # course 1 week 4, linear_backward() in layer notation (A_prev, dA_prev as the course names
    # them): Silva-6/deeplearning.AI-deep_learning
    #   0-neural_networks-nd-deep_learning/3-step_by_step-build_your_DNN/6-linear_backward_prop.py
    ("deep_network", "dW[l] = np.dot(dZ[l], A_prev.T) / m"),
    ("deep_network", "dA_prev = np.dot(W[l].T, dZ[l])"),
    # mofeiyu/dnn dnn/train/layers/linear.py
    ("deep_network", "dW[l] = np.dot(dZ[l], A_prev.T)*1/m"),
    ("deep_network", "db[l] = np.sum(dZ[l], axis = 1, keepdims = True)*1/m"),
    ("deep_network", "dA[l-1] = np.dot(W[l].T, dZ[l])"),
    # relu_backward() and sigmoid_backward(): Dictria/MNIST layer_utils.py (the statements
    # dZ = np.array(dA, copy=True); dZ[Z <= 0] = 0 as one np.where)
    ("deep_network", "dZ[l] = np.where(Z[l] <= 0, 0, dA[l])"),
    ("deep_network", "dZ3 = dA3 * (1 / (1 + np.exp(-Z3))) * (1 - 1 / (1 + np.exp(-Z3)))"),
    ("deep_network", "dZ[l] = np.multiply(dA[l], np.int64(Z[l] > 0))"),
    # L_model_backward(): Silva-6/deeplearning.AI-deep_learning
    #   0-neural_networks-nd-deep_learning/3-step_by_step-build_your_DNN/8-L_model_backward.py
    ("deep_network", "dAL = - (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))"),
    # pavankodi/neural-networks backprop.py
    ("deep_network", "dAL = -(np.divide(Y, AL) - np.divide(1-Y, 1-AL))"),
    ("deep_network", "dZL = AL - Y"),
    # course 2 week 1, backward_propagation_with_regularization(): Silva-6/
    #   deeplearning.AI-deep_learning/1-improving_deep_neural_networks/1-regularization/
    #   1-backward_propagation_with_regularization.py
    ("deep_network_l2", "dZ3 = A3 - Y"),
    ("deep_network_l2", "dW3 = 1. / m * np.dot(dZ3, A2.T) + (lambd * W3) / m"),
    ("deep_network_l2", "db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)"),
    ("deep_network_l2", "dA2 = np.dot(W3.T, dZ3)"),
    ("deep_network_l2", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))"),
    ("deep_network_l2", "dW2 = 1. / m * np.dot(dZ2, A1.T) + (lambd * W2) / m"),
    ("deep_network_l2", "db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)"),
    ("deep_network_l2", "dA1 = np.dot(W2.T, dZ2)"),
    ("deep_network_l2", "dZ1 = np.multiply(dA1, np.int64(A1 > 0))"),
    ("deep_network_l2", "dW1 = 1. / m * np.dot(dZ1, X.T) + (lambd * W1) / m"),
    ("deep_network_l2", "db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)"),
    # course 2 week 1, gradient checking, backward_propagation_n() (its correct lines):
    # Silva-6/deeplearning.AI-deep_learning
    #   1-improving_deep_neural_networks/2-gradient_checking/4-backward_propagation_n.py
    ("deep_network", "dZ3 = A3 - Y"),
    ("deep_network", "dW3 = 1. / m * np.dot(dZ3, A2.T)"),
    ("deep_network", "db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)"),
    ("deep_network", "dA2 = np.dot(W3.T, dZ3)"),
    ("deep_network", "dZ2 = np.multiply(dA2, np.int64(A2 > 0))"),
    ("deep_network", "db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)"),
    ("deep_network", "dA1 = np.dot(W2.T, dZ2)"),
    ("deep_network", "dZ1 = np.multiply(dA1, np.int64(A1 > 0))"),
    ("deep_network", "dW1 = 1. / m * np.dot(dZ1, X.T)"),
    # course 2 week 1, backward_propagation_with_dropout() on the catalogue's one-hidden-layer
    # network (its dropped-out hidden output is H, mask D1; the lines dA1 = dA1 * D1,
    # dA1 = dA1 / keep_prob and dZ1 = np.multiply(dA1, np.int64(A1 > 0)) as one):
    # Silva-6/deeplearning.AI-deep_learning
    #   1-improving_deep_neural_networks/1-regularization/3-backward_propagation_with_dropout.py
    ("dropout_network", "dZ2 = A - Y"),
    ("dropout_network", "dW2 = 1. / m * np.dot(dZ2, H.T)"),
    ("dropout_network", "db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)"),
    ("dropout_network", "dZ1 = np.multiply(np.dot(W2.T, dZ2) * D1 / keep_prob, "
                        "np.int64(Z1 > 0))"),
    ("dropout_network", "dW1 = 1. / m * np.dot(dZ1, X.T)"),
    ("dropout_network", "db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)"),
]

WRONG_CLAIMS = [
    # real slips in real code
    # the gradient-checking assignment's own planted bugs: Silva-6/deeplearning.AI-deep_learning
    #   1-improving_deep_neural_networks/2-gradient_checking/4-backward_propagation_n.py
    ("deep_network", "dW2 = 1. / m * np.dot(dZ2, A1.T) * 2", "twice the correct one"),
    ("deep_network", "db1 = 4. / m * np.sum(dZ1, axis=1, keepdims=True)",
     "4 times the correct one"),
    # np.squeeze makes db 1-D: Silva-6/deeplearning.AI-deep_learning
    #   0-neural_networks-nd-deep_learning/3-step_by_step-build_your_DNN/6-linear_backward_prop.py
    ("deep_network", "db[l] = np.squeeze(np.sum(dZ[l], axis=1, keepdims=True)) / m",
     "leave out np.squeeze"),
    # planted in the lines above: keepdims=True left out where the sum has n > 1 rows
    ("shallow_network", "db1 = (1 / m) * np.sum(dZ1, axis=1)", "keepdims=True is missing"),
    ("deep_network", "db[l] = np.sum(dZ[l], axis=1) / m", "keepdims=True is missing"),
    ("deep_network_l2", "db2 = 1. / m * np.sum(dZ2, axis=1)", "keepdims=True is missing"),
    ("deep_network", "db1 = 2. / m * np.sum(dZ1, axis=1)", "keepdims=True is missing"),
    # planted: propagate()
    ("logistic_regression", "dw = (1 / m) * np.dot(X.T, (A - Y))", None),
    ("logistic_regression", "dw = (1 / m) * np.dot(X, (A - Y))", "A transpose is missing"),
    ("logistic_regression", "dw = np.dot(X, (A - Y).T)", "the factor 1/m is missing"),
    ("logistic_regression", "db = (1 / m) * np.sum(Y - A)", "sign error"),
    ("logistic_regression", "db = (1 / m) * np.sum(A - Y, axis=0, keepdims=True)",
     "along the wrong axis"),
    ("regularized_logistic", "dw = 1/m*np.dot(X, (A-Y).T) - lambd/m*w", None),
    ("regularized_logistic", "dw = 1/m*np.dot(X, (A-Y).T) + lambd*w", None),
    ("regularized_logistic", "dw = 1/m*np.dot(X, (A-Y).T) + lambd/m", None),
    # planted: backward_propagation() of the planar network
    ("shallow_network", "dZ1 = np.dot(W2.T, dZ2) * np.power(A1, 2)", None),
    ("shallow_network", "dZ1 = np.dot(W2.T, dZ2) * (1 - A1)", None),
    ("shallow_network", "dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.tanh(A1))", None),
    ("shallow_network", "dZ1 = np.dot(W2, dZ2) * (1 - np.power(A1, 2))",
     "with W2.T in place of W2"),
    ("shallow_network", "dZ1 = np.dot(W2.T, dZ2)",
     "chain-rule factor dA1/dZ1 = 1 - A1**2 left out"),
    ("shallow_network", "dW2 = (1 / m) * np.dot(dZ2, A2.T)", "uses A2 where A1 belongs"),
    ("shallow_network", "dW2 = (1 / m) * np.dot(dZ2, A1)", "A transpose is missing"),
    ("shallow_network", "dW1 = (1 / m) * np.dot(X, dZ1.T)", "transpose of the correct one"),
    ("shallow_network", "db2 = np.sum(dZ2, axis=1, keepdims=True)", "1/m is missing"),
    # planted: relu_backward(), sigmoid_backward(), linear_backward(), L_model_backward()
    ("deep_network", "dZ[l] = np.multiply(dA[l], np.int64(Z[l] < 0))", "wrong way round"),
    ("deep_network", "dZ[l] = np.where(Z[l] > 0, 0, dA[l])", "wrong way round"),
    ("deep_network", "dZ2 = np.multiply(dA2, np.maximum(0, Z2))",
     "relu(Z2) where its derivative belongs"),
    ("deep_network", "dW[l] = np.dot(dZ[l], A[l].T) / m", "uses A[l] where A[l-1] belongs"),
    ("deep_network", "dA_prev = np.dot(W[l], dZ[l])", "with W[l].T in place of W[l]"),
    ("deep_network", "dAL = - (np.divide(Y, AL) + np.divide(1 - Y, 1 - AL))", None),
    ("deep_network", "dAL = np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)", "sign error"),
    ("deep_network", "dZ3 = dA3 * (1 / (1 + np.exp(-Z3)))", None),
    ("deep_network", "dZ3 = dA3 * (1 / (1 + np.exp(-Z3))) * (1 + 1 / (1 + np.exp(-Z3)))",
     None),
    # planted: backward_propagation_with_regularization(), with dropout()
    ("deep_network_l2", "dW3 = 1. / m * np.dot(dZ3, A2.T) - (lambd * W3) / m", None),
    ("deep_network_l2", "dW2 = 1. / m * np.dot(dZ2, A1.T) + lambd / m", None),
    ("deep_network_l2", "dW1 = 1. / m * np.dot(dZ1, X.T) + lambd * W1", None),
    ("dropout_network", "dZ1 = np.multiply(np.dot(W2.T, dZ2) * D1, np.int64(Z1 > 0))", None),
    ("dropout_network", "dZ1 = np.multiply(np.dot(W2.T, dZ2) / keep_prob, np.int64(Z1 > 0))",
     None),
]


@pytest.mark.parametrize("spec, claim", RIGHT_CLAIMS)
def test_course_code_is_proven(spec, claim):
    verdict = checker(spec).check(claim)
    assert verdict.status == PROVEN, verdict.text()


@pytest.mark.parametrize("spec, claim, phrase", WRONG_CLAIMS)
def test_planted_and_real_slips_are_refuted(spec, claim, phrase):
    verdict = checker(spec).check(claim)
    assert verdict.status == REFUTED, verdict.text()
    if phrase is not None:
        assert phrase in verdict.text(), verdict.text()


def test_the_corpus_is_large_enough():
    assert len(RIGHT_CLAIMS) + len(WRONG_CLAIMS) >= 60
    assert len(set(RIGHT_CLAIMS)) == len(RIGHT_CLAIMS)
    assert len({(s, c) for s, c, _ in WRONG_CLAIMS}) == len(WRONG_CLAIMS)


# ----- what the verdicts say -----

def test_missing_keepdims_names_the_shapes():
    text = checker("shallow_network").check("db1 = np.sum(dZ1, axis=1) / m").text()
    assert "Wrong shape: your db1 is matrix(1, n_h), the correct db1 is a vector(n_h)" in text
    assert "the sum (or mean) of dZ1 along axis 1 is a 1-D array of n_h entries" in text
    assert "row (1, n_h), not the column (n_h, 1)" in text


def test_missing_keepdims_with_another_slip_names_both():
    text = checker("shallow_network").check("db1 = 2 / m * np.sum(dZ1, axis=1)").text()
    assert "keepdims=True is missing" in text
    assert "twice the correct one" in text


def test_missing_keepdims_inside_an_elementwise_expression_is_refuted():
    # (n_h, m) minus a 1-D (n_h,): NumPy broadcasts the 1-D array along the rows, not columns
    verdict = checker("shallow_network").check(
        "dZ1 = (W2.T @ dZ2) * (1 - A1**2) - np.sum(W2.T @ dZ2, axis=1) / m")
    assert verdict.status == REFUTED
    assert "keepdims=True is missing" in verdict.text()


def test_a_step_that_is_one_at_zero_is_not_proven_and_says_why():
    verdict = checker("deep_network").check("dZ[l] = dA[l] * (Z[l] >= 0)")
    assert verdict.status == NOT_PROVEN
    assert "Equal except where Z[l] = 0: your (Z[l] >= 0) is 1 there" in verdict.text()
    leaky = checker("leaky_relu_network").check("dZ1 = W2.T @ dZ2 * np.where(Z1 >= 0, 1, 0.1)")
    assert leaky.status == NOT_PROVEN and "Equal except where Z1 = 0" in leaky.text()
    # where the step's argument cannot be 0 there is nothing to say: a plain "not proven"
    wrong = checker("deep_network").check("dZ[l] = dA[l] * (Z[l] >= 0) * 2")
    assert wrong.status == REFUTED


def test_what_symgrad_derive_prints_is_accepted_as_a_claim(capsys):
    assert main(["derive", str(ROOT / "derivations" / "deep_network.toml")]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    printed = [line for line in lines if line.startswith("dZ[l]") and "> 0" in line]
    assert printed, lines
    name, _, text = printed[-1].partition("=")  # over m examples: dZ[l] = dA[l]*(Z[l] > 0)
    assert text.strip() == "dA[l]*(Z[l] > 0)"
    assert checker("deep_network").check(name.strip(), text.strip()).status == PROVEN


MEANS = [
    ("shallow_network", "db1 = np.mean(dZ1, axis=1, keepdims=True)", PROVEN),
    ("shallow_network", "db1 = dZ1.mean(axis=1, keepdims=True)", PROVEN),
    ("shallow_network", "db2 = np.mean(dZ2)", PROVEN),
    ("logistic_regression", "db = np.mean(A - Y)", PROVEN),
    ("logistic_regression", "dw = np.dot(X, (A - Y).T) / X.shape[1]", PROVEN),
    ("shallow_network", "db1 = np.mean(dZ1, axis=1)", REFUTED),  # 1-D: keepdims missing
]

WHERE = [  # the catalogue's leaky relu network, alpha = 0.1
    ("dZ1 = W2.T @ dZ2 * np.where(Z1 > 0, 1, 0.1)", PROVEN),
    ("dZ1 = np.where(Z1 <= 0, 0.1, 1) * np.dot(W2.T, dZ2)", PROVEN),
    ("dZ1 = np.where(Z1 > 0, np.dot(W2.T, dZ2), 0.1 * np.dot(W2.T, dZ2))", PROVEN),
    ("dZ1 = W2.T @ dZ2 * np.where(Z1 > 0, 1, 0.01)", REFUTED),
    ("dZ1 = W2.T @ dZ2 * np.where(Z1 < 0, 1, 0.1)", REFUTED),
]


@pytest.mark.parametrize("claim, status", WHERE)
def test_np_where_reads_as_a_step(claim, status):
    assert checker("leaky_relu_network").check(claim).status == status


@pytest.mark.parametrize("spec, claim, status", MEANS)
def test_np_mean_divides_by_the_number_of_examples(spec, claim, status):
    assert checker(spec).check(claim).status == status


SIZES = [
    ("logistic_regression", "dw = np.dot(X, (A - Y).T) / X.shape[1]", PROVEN),
    ("logistic_regression", "db = np.sum(A - Y) / Y.shape[1]", PROVEN),
    ("shallow_network", "db2 = np.sum(dZ2, axis=1, keepdims=True) * Y.shape[0] / A1.shape[1]",
     PROVEN),  # Y has one row
    ("deep_network", "dW[l] = 1./m * np.dot(dZ[l], A[l-1].T)", PROVEN),
    ("deep_network", "dW[l] = np.dot(dZ[l], A_prev.T) / A_prev.shape[1]", PROVEN),
]


@pytest.mark.parametrize("spec, claim, status", SIZES)
def test_shape_reads_as_the_number_of_examples(spec, claim, status):
    assert checker(spec).check(claim).status == status


@pytest.mark.parametrize("claim, size", [("dW1 = dZ1 @ X.T / W1.shape[1]", "is n_x"),
                                         ("dW1 = dZ1 @ X.T / X.shape[0]", "is n_x")])
def test_a_size_a_claim_cannot_name_is_refused(claim, size):
    # W1.shape[1] is n_x, not m: read as m it would prove NumPy code that divides by n_x
    with pytest.raises(SpecError) as err:
        checker("shallow_network").check(claim)
    assert size in str(err.value) and "cannot name" in str(err.value)


def test_a_mean_over_units_is_refused():
    with pytest.raises(SpecError) as err:
        checker("shallow_network").check("db1 = np.mean(dZ1, axis=0, keepdims=True)")
    assert "mean over n_h entries: a claim cannot name that number" in str(err.value)
    with pytest.raises(SpecError) as err:
        checker("shallow_network").check("db1 = np.mean(dZ1)")
    assert "mean over m*n_h entries" in str(err.value)


# ----- the course's names: AL, A0, A_prev, yhat -----

ALIASES = [
    ("deep_network", "dZ3 = AL - Y"),
    ("deep_network", "dZL = A3 - Y"),
    ("deep_network", "dA2 = W3.T @ dZL"),
    ("deep_network", "dz3 = aL - y"),
    ("deep_network", "dW1 = dZ1 @ A0.T / m"),
    ("deep_network", "dW1 = dz1 @ a0.T"),
    ("deep_network", "dW[l] = dZ[l] @ A_prev.T / m"),
    ("deep_network", "dW[l] = dz[l] @ a_prev.T"),
    ("deep_network", "da_prev = W[l].T @ dz[l]"),
    ("deep_network", "dZ3 = Yhat - Y"),
    ("deep_network", "dz3 = yhat - y"),
    ("logistic_regression", "dz = y_hat - y"),
    ("logistic_regression", "dZ = Y_hat - Y"),
    ("shallow_network", "dZ2 = Yhat - Y"),
    ("shallow_network", "dW1 = dZ1 @ A0.T / m"),
    ("shallow_network", "dZ1 = W2.T @ dZL * (1 - A1**2)"),
]


@pytest.mark.parametrize("spec, claim", ALIASES)
def test_the_course_names_are_read(spec, claim):
    assert checker(spec).check(claim).status == PROVEN


def test_an_alias_that_is_ambiguous_asks():
    with pytest.raises(SpecError) as err:
        checker("gaussian_nll").check("dmu = yhat - y")
    assert "which node is 'yhat'? The loss reads mu or s" in str(err.value)


def test_a_name_the_model_declares_wins_over_an_alias():
    space = checker("deep_network").space(True)
    assert str(space.names["L"]) == "L"  # the loss node, not the depth
    assert str(space.names["AL"]) == "A3"


# ----- the command line -----

def test_cli_accepts_numpy_claims(capsys):
    code = main(["check", str(ROOT / "derivations" / "deep_network.toml"),
                 "--claim", "dZ[l] = dA[l]*(Z[l] > 0)",
                 "--claim", "db2 = 1./m * np.sum(dZ2, axis=1, keepdims=True)"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "✓ dZ[l] = dA[l]*(Z[l] > 0) (over m examples) is proven." in out
    assert "✓ db2 = 1./m * np.sum(dZ2, axis=1, keepdims=True)" in out


def test_cli_refuses_numpy_it_cannot_read_in_one_line(capsys):
    code = main(["check", str(ROOT / "derivations" / "deep_network.toml"),
                 "--claim", "dW1 = np.random.randn(3, 2)"])
    err = capsys.readouterr().err
    assert code == 2
    assert "'np.random.randn'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
