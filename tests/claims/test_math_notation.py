"""Claims in math and textbook notation: the tokenizer and translator of
:mod:`symgrad.claims.math_notation`, and claims checked end to end against the shipped specs.

Claims marked "source" are the notation of published notes, as written there (only the layer
names adapted to the spec): jmcheon/multilayer_perceptron notation.md (column-wise table) and
chrisxue815/deeplearning_notes neural.network.md ("Backward propagation (simplified)"), both
notes on the Deep Learning Specialization; the others are the course's slides as commonly
transcribed (C1W2 "Logistic regression gradient descent", C1W3 "Gradient descent for neural
networks").
"""

from functools import cache
from pathlib import Path

import pytest

import symgrad
from symgrad.claims.checker import PROVEN, REFUTED, Checker
from symgrad.claims.math_notation import left_side, to_python, tokens
from symgrad.cli.main import main
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]


@cache
def checker(spec) -> Checker:
    # the course's convention, declared: these are the course's equations (and slips in them)
    return Checker(symgrad.load(ROOT / "derivations" / f"{spec}.toml"), convention="course")


# ----- the tokenizer and the translation -----

TRANSLATED = [
    ("(1/m) dZ A^T", "dot(1 / m * dZ, A.T)"),
    ("2a", "2 * a"),
    ("a(1 - a)", "dot(a, 1 - a)"),
    ("a (1-a)", "dot(a, 1 - a)"),
    ("σ(z) − y", "sigmoid(z) - y"),
    (r"\sigma(z) - y", "sigmoid(z) - y"),
    ("σ'(z)", "sigmoid(z) * (1 - sigmoid(z))"),
    ("tanh'(z1)", "1 - tanh(z1) ** 2"),
    ("relu'(Z^{[1]})", "heaviside(Z1)"),
    ("g'(z1)", "gprime(z1)"),
    ("g^{[1]'}(Z^{[1]})", "gprime(Z1)"),
    ("f^{'}(Z^{[l]})", "gprime(Z[l])"),
    ("W^{[2]T} dZ^{[2]} ⊙ g^{[1]}'(Z^{[1]})", "dot(W2.T, dZ2) * gprime(Z1)"),
    ("y²", "y ** 2"),
    ("a³ − 1", "a ** 3 - 1"),
    ("ŷ - y", "yhat - y"),
    ("y\u0302 - y", "yhat - y"),
    (r"\hat{y} - y", "yhat - y"),
    (r"\frac{1}{m} dZ^{[l]} A^{[l-1]T}", "dot(1 / m * dZ[l], A[l - 1].T)"),
    (r"\frac {1} {m} dZ^{[l]} \cdot A^{[l - 1]^T}", "dot(1 / m * dZ[l], A[l - 1].T)"),
    (r"\frac{1}{m}\sum_{i=1}^{m} dz^{(i)}", "1 / m * sum(dZ, axis=1)"),
    (r"\frac{1}{m}\sum_{i=1}^{m} x^{(i)} (a^{(i)} - y^{(i)})", "1 / m * sum(X * (A - Y), axis=1)"),
    (r"\frac12 a", "1 / 2 * a"),
    ("e^{-z}", "exp(-z)"),
    (r"X^\top", "X.T"),
    ("X^{T}", "X.T"),
    ("Xᵀ", "X.T"),
    ("A'", "A.T"),
    ("(A - Y)'", "(A - Y).T"),
    ("W_1", "W1"),
    ("W_{1} x", "dot(W1, x)"),
    ("W₁ x + b₁", "dot(W1, x) + b1"),
    (r"\left(a - y\right) x", "dot(a - y, x)"),
    ("dW^{[2]} + dW[2]", "dW2 + dW2"),
    ("1 - tanh(z)^2", "1 - tanh(z) ** 2"),
    (r"\log(a) + \ln a", "log(a) + log(a)"),
    (r"\lambda W", "dot(lambd, W)"),
    ("a .* (1 - a)", "a * (1 - a)"),
    ("dZ·X^T", "dot(dZ, X.T)"),
    ("a − y  # a comment ∈ \u202e", "a - y"),
    (r"dZ \times X^T", "dot(dZ, X.T)"),
    ("dA ⊙ (Z > 0)", "dA * (Z > 0)"),
    ("dZ A^{[L-1]T}", "dot(dZ, A[L - 1].T)"),
    ("(1/m) dZ X.T", "dot(1 / m * dZ, X.T)"),
    ("W2.T dZ2 ⊙ (1 - A1^2)", "dot(W2.T, dZ2) * (1 - A1 ** 2)"),
    (r"\frac{\partial L}{\partial a} \sigma'(z)", "dot(da, sigmoid(z) * (1 - sigmoid(z)))"),
    (r"\frac{1}{m}\sum_{i=1}^{m} dz^{[2](i)}", "1 / m * sum(dZ2, axis=1)"),
]


@pytest.mark.parametrize("written, python", TRANSLATED)
def test_translation(written, python):
    assert to_python(written) == python


UNCHANGED = ["a - y", "sigmoid(z) - y", "X @ dZ.T / m", "np.sum(dZ, axis=1, keepdims=True)",
             "dA * (Z > 0)", "A.dot(B)", "dZ / X.shape[1]", "(dZ[l] @ A[l-1].T)/m",
             "W2.T @ dZ2 * (1 - A1**2)", "heaviside(z)", "A[2]", "a -", "open('f')"]


@pytest.mark.parametrize("text", UNCHANGED)
def test_python_syntax_comes_out_unchanged(text):
    assert to_python(text) == text


def test_tokens():
    assert tokens("σ'(z)²") == [("name", "sigma"), ("'", "'"), ("(", "("), ("name", "z"),
                               (")", ")"), ("^", "^"), ("{", "{"), ("number", "2"), ("}", "}")]
    assert [k for k, _ in tokens(r"a \odot b \cdot c ⊙ d")] == ["name", "*", "name", "dot",
                                                                 "name", "*", "name"]
    assert tokens("1.5e-3 x") == [("number", "1.5e-3"), ("name", "x")]


@pytest.mark.parametrize("text, phrase", [
    ("a ∈ b", "character '∈' (U+2208)"),
    ("a^2 ° b", "character '°' (U+00B0)"),
    (r"\foo x", r"LaTeX command '\foo'"),
    ("x^{(i)}", "is one example; expected it inside a sum over the examples"),
    ("a^", "after '^' is not read"),
    ("(a^2 - y", "expected ')'"),
    ("a^2 b )", "is not read here"),
    ("W^{[k]}", "layer index '[k]'"),
    ("mystery'(z)", "the derivative mystery' is not read"),
    (r"\sum_i x^{(i)} y^{(i)T}", "a transposed example"),
    ("{" * 60 + "a" + "}" * 60, "nests parentheses 60 deep"),
])
def test_refused_with_one_line(text, phrase):
    with pytest.raises(SpecError) as err:
        to_python(text)
    assert phrase in str(err.value) and "\n" not in str(err.value)


LEFT = [
    ("dz", ("dz", None)),
    ("dL/dz", ("dz", "L")),
    ("d L / d z", ("dz", "L")),
    ("∂L/∂z", ("dz", "L")),
    (r"\frac{\partial L}{\partial z}", ("dz", "L")),
    (r"\frac {\partial {J}} {\partial {W}}", ("dW", "J")),
    (r"\frac{\partial \mathcal{L}}{\partial a}", ("da", "L")),
    ("dJ/dW2", ("dW2", "J")),
    ("dJ/dW^{[2]}", ("dW2", "J")),
    ("dZ[L]", ("dZ[L]", None)),
    ("dZ^{[l]}", ("dZ[l]", None)),
    ("dA^{[l-1]}", ("dA[l-1]", None)),
    ("dZ^{[2]}", ("dZ2", None)),
    ("dZ[2]", ("dZ2", None)),
    ("dW_1", ("dW1", None)),
]


@pytest.mark.parametrize("text, expected", LEFT)
def test_left_side(text, expected):
    assert left_side(text) == expected


def test_left_side_refused():
    with pytest.raises(SpecError, match="expected the loss or the cost"):
        left_side("d(a+b)/dz")


# ----- claims in math notation, end to end -----

RIGHT_CLAIMS = [
    ("logistic_regression", "dz = σ(z) − y"),
    ("logistic_regression", "∂L/∂z = a - y"),
    ("logistic_regression", "dw = x (a - y)"),
    ("logistic_regression", "dL/da = -y/a + (1-y)/(1-a)"),
    ("logistic_regression", "dz = da σ'(z)"),
    ("logistic_regression", "dz = da g'(z)"),
    ("logistic_regression", r"dw = \frac{1}{m} X (A - Y)^T"),
    ("logistic_regression", r"dw = \frac{1}{m}\sum_{i=1}^{m} x^{(i)} dz^{(i)}"),
    ("logistic_regression", r"db = \frac{1}{m}\sum_{i=1}^{m} dz^{(i)}"),
    # source: jmcheon/multilayer_perceptron notation.md (the next two)
    ("logistic_regression",
     r"\frac {\partial {J}} {\partial {w}} = \frac {1} {m} X \cdot (A - Y)^T"),
    ("logistic_regression", r"\frac {\partial {J}} {\partial {b}} = \frac {1} {m} \sum(A - Y)"),
    ("shallow_network", "dz^{[2]} = a^{[2]} - y"),
    ("shallow_network", "dW^{[2]} = dz^{[2]} a^{[1]T}"),
    ("shallow_network", "dz^{[1]} = W^{[2]T} dz^{[2]} * g^{[1]'}(z^{[1]})"),
    ("shallow_network", "dW^{[1]} = dz^{[1]} x^T"),
    ("shallow_network", "dZ^{[1]} = W^{[2]T} dZ^{[2]} ⊙ g^{[1]'}(Z^{[1]})"),
    ("shallow_network", "dZ1 = W2^T dZ2 ⊙ tanh'(Z1)"),
    ("shallow_network", r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T"),
    ("shallow_network", "dJ/dW2 = (1/m) dZ2 A1^T"),
    ("shallow_network", r"db^{[1]} = \frac{1}{m} \sum dZ^{[1]}"),
    ("deep_network", "dZ[L] = A[L] - Y"),
    ("deep_network", "dZ^{[L]} = A^{[L]} - Y"),  # source: jmcheon/multilayer_perceptron
    ("deep_network", r"dW^{[l]} = \frac {1} {m} dZ^{[l]}  \cdot  A^{[l - 1]^T}"),  # source: jmcheon
    ("deep_network", r"db^{[l]} = \frac {1} {m} \sum dZ^{[l]}"),  # source: jmcheon
    ("deep_network", "dz^{[l]} = da^{[l]} g'(z^{[l]})"),  # source: chrisxue815/deeplearning_notes
    ("deep_network", "dA^{[l-1]} = W^{[l]T} dZ^{[l]}"),
    ("deep_network", "dZ^{[l]} = dA^{[l]} * relu'(Z^{[l]})"),
    ("deep_network", r"dW^{[l]} = \frac{1}{m} dZ^{[l]} (A^{[l-1]})^T"),
    ("deep_network", "dA^{[l-1]} = (W^{[l]})^T dZ^{[l]}"),
    ("deep_network", "dW[L] = (1/m) dZ[L] A[L-1]^T"),
    ("softmax_regression", r"dW = \frac{1}{m} dZ X^T"),
    ("softmax_regression", r"db = \frac{1}{m}\sum_{i=1}^{m} dz^{(i)}"),
    ("regularized_logistic", r"dw = \frac{1}{m} X (A - Y)^T + \frac{λ}{m} w"),
    ("regularized_logistic", r"dw = \frac{1}{m} \left( X (A - Y)^T + \lambda w \right)"),
]

# (spec, claim, a phrase its diagnosis must contain, or None where none is expected)
WRONG_CLAIMS = [
    ("logistic_regression", "da = -y/a - (1-y)/(1-a)", None),
    ("logistic_regression", r"dz = \sigma(z)(1 - \sigma(z))", "missing chain-rule factor"),
    ("logistic_regression", "dz = σ'(z)", "missing chain-rule factor"),
    ("logistic_regression", "dw = X (A - Y)^T", "the factor 1/m is missing"),
    ("logistic_regression", r"dw = \frac{1}{m} \sum_{i=1}^m x^{(i)} (y^{(i)} - a^{(i)})",
     "sign error"),
    ("logistic_regression", r"dw = \frac{1}{m} X^T (A - Y)", "shapes do not fit"),
    ("shallow_network", "dZ^{[1]} = W^{[2]T} dZ^{[2]}", "missing chain-rule factor"),
    ("shallow_network", "dZ^{[1]} = W^{[2]T} dZ^{[2]} ⊙ (1 - A^{[1]})", None),
    ("shallow_network", r"dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[2]T}", "uses A2 where A1 belongs"),
    ("shallow_network", "dA^{[1]} = W^{[2]} dZ^{[2]}", "in place of"),
    ("shallow_network", "dW^{[1]} = dz^{[1]} x", "in place of"),
    ("deep_network", "dZ^{[l]} = dA^{[l]} ⊙ σ'(Z^{[l]})", None),
    ("deep_network", "dA^{[l-1]} = W^{[l]} dZ^{[l]}", "with W[l].T in place of W[l]"),
    ("deep_network", r"dW^{[l]} = \frac{1}{m} dZ^{[l]} A^{[l]T}", "uses A[l] where A[l-1]"),
    ("deep_network", r"db^{[l]} = \frac{1}{m} \sum dA^{[l]}", "missing chain-rule factor"),
    ("deep_network", "dZ^{[L]} = Y - A^{[L]}", "sign error"),
    ("softmax_regression", "dZ = Y - A", "sign error"),
    ("softmax_regression", "dW = dZ X^T", "the factor 1/m is missing"),
    ("regularized_logistic", r"dw = \frac{1}{m} X (A - Y)^T + λ w", None),
]


@pytest.mark.parametrize("spec, claim", RIGHT_CLAIMS)
def test_right_claims_are_proven(spec, claim):
    verdict = checker(spec).check(claim)
    assert verdict.status == PROVEN, verdict.text()
    assert verdict.claim == " ".join(claim.partition("=")[2].split())  # shown as written


@pytest.mark.parametrize("spec, claim, phrase", WRONG_CLAIMS)
def test_wrong_claims_are_refuted(spec, claim, phrase):
    verdict = checker(spec).check(claim)
    assert verdict.status == REFUTED, verdict.text()
    if phrase is not None:
        assert any(phrase in line for line in [verdict.reason, *verdict.diagnosis]), \
            verdict.text()


def test_at_least_thirty_claims_in_math_notation():
    assert len(RIGHT_CLAIMS) + len(WRONG_CLAIMS) >= 30
    assert len({c for _, c, _ in WRONG_CLAIMS}) == len(WRONG_CLAIMS)


def test_output_on_the_left_is_kept():
    claim = checker("shallow_network").prepare("dJ/dW2 = (1/m) dZ2 A1^T")[1]
    assert (claim.name, claim.output) == ("dW2", "J")


@pytest.mark.parametrize("spec, claim, phrase", [
    ("logistic_regression", "dz = gprime(y)", "applies no activation to y"),
    ("softmax_regression", "dZ = dA * g'(Z)", "applies no activation to Z"),
    ("logistic_regression", "dZ[L] = A - Y", "has no [layers]"),
    ("deep_network", "dZ^{[l]} = W^{[l+1]^T} dZ^{[l+1]}", "sees layers l and l-1 only"),
])
def test_questions_and_refusals_in_a_model(spec, claim, phrase):
    with pytest.raises(SpecError) as err:
        checker(spec).prepare(claim)
    assert phrase in str(err.value)


def test_side_by_side_where_both_products_fit_is_a_question():
    rnn = Checker(symgrad.load(ROOT / "tests" / "catalogue" / "rnn_cell.toml"))
    with pytest.raises(SpecError, match=r"which one\? write @ \(matrix product\) or \*"):
        rnn.prepare("dWh = Wh Wh")
    assert rnn.prepare("dWh = Wh @ Wh")[1].name == "dWh"


def test_cli_reads_math_notation(capsys):
    spec = str(ROOT / "derivations" / "shallow_network.toml")
    assert main(["check", spec, "--claim", "dZ^{[1]} = W^{[2]T} dZ^{[2]} ⊙ (1 - (A^{[1]})^2)"]) == 0
    assert "✓" in capsys.readouterr().out
    assert main(["check", spec, "--claim", "dZ^{[1]} = W^{[2]T} dZ^{[2]}"]) == 1
    assert main(["check", spec, "--claim", "dZ1 = W2 ∈ dZ2"]) == 2
    assert "U+2208" in capsys.readouterr().err


def test_every_claim_function_is_read_as_a_call():
    """A function the checker knows is never read as a product (ones_like(a) is a call)."""
    from symgrad.claims.checker import Checker
    from symgrad.claims.math_notation import CALLS
    from symgrad.model.spec import load

    checker = Checker(load(Path(__file__).parents[2] / "derivations" / "softmax_regression.toml"))
    assert set(checker.space(False).functions()) <= CALLS
