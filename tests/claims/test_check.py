"""``symgrad check``: hand derivations proven, or refuted with a counterexample and a diagnosis.

The trust corpus: wrong claims (every common slip, and subtler ones) are all refuted; correct
claims written differently from symgrad's own form are all proven; bad claim text is refused
with one line.
"""

import json
from functools import cache
from pathlib import Path

import pytest

import symgrad
from symgrad.claims.checker import PROVEN, REFUTED, Checker, Claim, Verdict, read_claims
from symgrad.cli.main import main
from symgrad.model.errors import SpecError
from symgrad.printing.printers import PerExamplePrinter, TextPrinter

ROOT = Path(__file__).resolve().parents[2]


@cache
def checker(spec) -> Checker:
    # the trust corpus is in symgrad's own convention; the others: test_conventions.py
    return Checker(symgrad.load(ROOT / "derivations" / f"{spec}.toml"), convention="course")


def verdict(spec, claim) -> Verdict:
    return checker(spec).check(claim)


# ----- the trust corpus -----

# The networks' common slips, each diagnosed: (spec, claim, a phrase the diagnosis must contain)
NETWORK_WRONG = [
    ("shallow_network", "dZ1 = W2.T @ dZ2", "chain-rule factor dA1/dZ1 = 1 - A1**2 left out"),
    ("shallow_network", "dW2 = dZ2 @ A2.T / m", "uses A2 where A1 belongs"),
    ("shallow_network", "dW1 = dZ1 @ A1.T / m", "uses A1 where X belongs"),
    ("shallow_network", "dA1 = W2 @ dZ2", "with W2.T in place of W2"),
    ("shallow_network", "db1 = sum(dZ1) / m", "with sum(dZ1, axis=1) in place of sum(dZ1)"),
    ("shallow_network", "dZ1 = W2.T @ dZ2 * tanh(Z1)", "tanh(Z1) where its derivative belongs"),
    ("shallow_network", "dW2 = dz2 * a2.T", "uses a2 where a1 belongs"),
    ("softmax_regression", "dZ = Y - A", "sign error"),
    ("softmax_regression", "dW = dZ @ X / m", "with X.T in place of X"),
    ("softmax_regression", "dW = dZ @ X.T", "1/m is missing"),
    ("softmax_regression", "db = sum(dZ, axis=0) / m", "wrong axis"),
    ("deep_network", "dW2 = dZ2 @ A2.T / m", "uses A2 where A1 belongs"),
    ("deep_network", "dW1 = dZ1 @ A1.T / m", "uses A1 where X belongs"),
    ("deep_network", "dA1 = W2 @ dZ2", "with W2.T in place of W2"),
    ("deep_network", "dA1 = W2.T @ dZ1", "uses dZ1 where dZ2 belongs"),
    ("deep_network", "db2 = sum(dZ2) / m", "wrong axis"),
    ("deep_network", "dZ2 = dA2 * relu(Z2)", "relu(Z2) where its derivative belongs"),
    # layer notation: hidden layer l of the stack, checked against the block derived once
    ("deep_network", "dZ[l] = dA[l]", "chain-rule factor dA[l]/dZ[l] = (Z[l] > 0) left out"),
    ("deep_network", "dW[l] = dZ[l] @ A[l].T / m", "uses A[l] where A[l-1] belongs"),
    ("deep_network", "dW[l] = dz[l] @ a[l].T", "uses a[l] where a[l-1] belongs"),
    ("deep_network", "dA[l-1] = W[l] @ dZ[l]", "with W[l].T in place of W[l]"),
    ("deep_network", "dA[l-1] = W[l].T @ dA[l]", "chain-rule factor dA[l]/dZ[l]"),
    ("deep_network", "db[l] = sum(dZ[l]) / m", "with sum(dZ[l], axis=1) in place of sum(dZ[l])"),
    ("deep_network", "dW[l] = dZ[l] @ A[l-1].T", "1/m is missing"),
    ("deep_network", "dW[l] = A[l-1] @ dZ[l].T / m", "transpose of the correct one"),
    ("deep_network", "dZ[l] = dA[l] * relu(Z[l])", "relu(Z[l]) where its derivative belongs"),
    ("deep_network", "dz[l] = da[l] * heaviside(z[l]) / m", "extra factor 1/m"),
]

NETWORK_RIGHT = [
    ("shallow_network", "dZ1 = (W2.T @ dZ2) * (1 - tanh(Z1)**2)"),
    ("shallow_network", "dZ1 = W2.T @ (A2 - Y) * (1 - A1**2)"),
    ("shallow_network", "dW1 = (X @ dZ1.T).T / m"),
    ("shallow_network", "dW1 = ((W2.T @ dZ2) * (1 - A1**2)) @ X.T / m"),
    ("shallow_network", "dW2 = (A2 - Y) @ A1.T / m"),
    ("shallow_network", "db2 = sum(A2 - Y) / m"),
    ("shallow_network", "dz1 = W2.T * (a2 - y) * (1 - a1**2)"),
    ("softmax_regression", "dZ = softmax(Z) - Y"),
    ("softmax_regression", "dW = (X @ (A - Y).T).T / m"),
    ("softmax_regression", "db = sum(A - Y, axis=1) / m"),
    ("deep_network", "dZ3 = sigmoid(Z3) - Y"),
    ("deep_network", "dA2 = W3.T @ (A3 - Y)"),
    ("deep_network", "dW3 = (A3 - Y) @ A2.T / m"),
    ("deep_network", "dZ1 = heaviside(A1) * dA1"),  # relu: A1 > 0 exactly where Z1 > 0
    ("deep_network", "db1 = sum(dZ1, 1) / m"),
    ("deep_network", "dZ[l] = heaviside(Z[l]) * dA[l]"),
    ("deep_network", "dZ[l] = dA[l] * heaviside(A[l])"),
    ("deep_network", "dW[l] = (A[l-1] @ dZ[l].T).T / m"),
    ("deep_network", "dW[l] = (dA[l] * heaviside(Z[l])) @ A[l - 1].T / m"),
    ("deep_network", "db[l] = sum(dA[l] * heaviside(Z[l]), axis=1) / m"),
    ("deep_network", "dA[l-1] = (dZ[l].T @ W[l]).T"),
    ("deep_network", "dz[l] = heaviside(W[l] @ a[l-1] + b[l]) * da[l]"),
    ("deep_network", "da[l-1] = W[l].T @ (da[l] * heaviside(z[l]))"),
]

# (spec, claim, a phrase the diagnosis must contain, or None)
WRONG = [
    ("logistic_regression", "dz = y - a", "sign error"),
    ("logistic_regression", "dZ = Y - A", "sign error"),
    ("logistic_regression", "dz = 2*(a - y)", "twice"),
    ("logistic_regression", "dz = (a - y)/2", "half"),
    ("logistic_regression", "dw = X @ dZ.T", "1/m is missing"),
    ("logistic_regression", "db = sum(A - Y)", "1/m is missing"),
    ("logistic_regression", "dw = x*(a - y)/m", "extra factor 1/m"),
    ("logistic_regression", "dw = x.T*(a - y)", "transpose"),
    ("logistic_regression", "dw = X @ dZ / m", "dZ.T in place of dZ"),
    ("logistic_regression", "dw = dZ @ X.T / m", "transpose"),
    ("logistic_regression", "dw = a - y", "chain-rule factor dz/dw = x"),
    ("logistic_regression", "da = a - y", "with respect to z"),
    ("logistic_regression", "dz = (y - a)/(a**2 - a)", "chain-rule factor da/dz = a*(1 - a)"),
    ("logistic_regression", "dz = (a - y)*a*(1 - a)", "extra factor a*(1 - a)"),
    ("logistic_regression", "db = dZ/m", "sum over the examples is missing"),
    ("logistic_regression", "dw = y*(a - x)", "swapped"),
    ("logistic_regression", "dz = a - y + (1 - y)/2", None),  # wrong only where y = 0
    ("logistic_regression", "dz = 4*a*(1 - a)*(a - y)", None),  # right at a = 0.5 only
    ("logistic_regression", "da = -y/a - (1 - y)/(1 - a)", None),
    ("linear_regression", "dz = y - a", "sign error"),
    ("linear_regression", "dw = X @ (A - Y) / m", "transpose"),
    ("linear_regression", "da = (a - y)**2", None),
    ("poisson_regression", "dz = a - y*z", None),
    ("poisson_regression", "dz = a", None),
    ("poisson_regression", "da = 0", None),
    ("sigmoid_mse", "dz = a - y", "chain-rule factor da/dz = a*(1 - a)"),
    ("sigmoid_mse", "dw = X @ (A - Y).T / m", "chain-rule factor dA/dZ = A*(1 - A)"),
    ("sigmoid_mse", "dZ = (A - Y)*A", None),
    ("sigmoid_mse", "dz = a*(1 - a)", "missing chain-rule factor"),
    ("regularized_logistic", "dw = X @ dZ.T / m", "flows back through J"),
    ("regularized_logistic", "dw = X @ dZ.T/m + lambd*w", None),
    ("computation_graph", "db = 3*b", "with respect to c"),
    ("computation_graph", "db = c", "1/3 times"),
    ("computation_graph", "dv = 1", None),
    ("softmax_regression", "dW = x @ dz.T", "transpose"),
    ("softmax_regression", "db = sum(dZ)/m", "wrong axis"),
    ("softmax_regression", "da = y/a", "sign error"),
    ("softmax_regression", "dz = a*(1 - a)*(a - y)", None),
    ("shallow_network", "dz1 = W2.T @ dz2", "chain-rule factor da1/dz1 = 1 - a1**2"),
    ("shallow_network", "dA1 = W2 @ dZ2", "W2.T in place of W2"),
    ("shallow_network", "dW1 = dZ1 @ X.T", "1/m is missing"),
    ("shallow_network", "dz1 = (1 - a1)*(W2.T @ dz2)", None),
    ("deep_network", "dZ2 = W3.T @ dZ3", "chain-rule factor dA2/dZ2"),
    ("deep_network", "dW3 = A2 @ dZ3.T / m", "transpose"),
    *[(spec, claim, diagnosis) for spec, claim, diagnosis in NETWORK_WRONG],
]

RIGHT = [
    ("logistic_regression", "dz = -(y - a)"),
    ("logistic_regression", "dz = sigmoid(z) - y"),
    ("logistic_regression", "dz = sigmoid(w @ x + b) - y"),
    ("logistic_regression", "dz = 1/(1 + exp(-z)) - y"),
    ("logistic_regression", "dz = (a*(1 - y) - y*(1 - a))"),
    ("logistic_regression", "dz = a - y**2"),  # y is 0 or 1
    ("logistic_regression", "dz = da*a*(1 - a)"),
    ("logistic_regression", "dw = x*a - x*y"),
    ("logistic_regression", "dw = x*dz"),
    ("logistic_regression", "dw = x @ (a - y)"),
    ("logistic_regression", "db = dz"),
    ("logistic_regression", "da = -(y/a - (1 - y)/(1 - a))"),
    ("logistic_regression", "da = (a - y)/(a*(1 - a))"),
    ("logistic_regression", "dZ = sigmoid(Z) - Y"),
    ("logistic_regression", "dw = X @ (A - Y).T / m"),
    ("logistic_regression", "dw = (X @ A.T - X @ Y.T)/m"),
    ("logistic_regression", "dw = transpose(dZ @ transpose(X))/m"),
    ("logistic_regression", "dw = 1/m * X @ (sigmoid(w.T @ X + b) - Y).T"),
    ("logistic_regression", "db = (sum(A) - sum(Y))/m"),
    ("logistic_regression", "db = sum(dZ, axis=1)/m"),
    ("linear_regression", "dz = z - y"),
    ("linear_regression", "dw = x*(w @ x + b - y)"),
    ("linear_regression", "dw = X @ (Z - Y).T / m"),
    ("poisson_regression", "dz = exp(z) - y"),
    ("poisson_regression", "dw = x*(exp(w @ x + b) - y)"),
    ("poisson_regression", "dZ = exp(Z) - Y"),
    ("poisson_regression", "dA = 1"),
    ("sigmoid_mse", "dz = (a - y)*sigmoid(z)*(1 - sigmoid(z))"),
    ("sigmoid_mse", "dw = X @ ((A - Y)*A*(1 - A)).T / m"),
    ("regularized_logistic", "dw = (X @ dZ.T + lambd*w)/m"),
    ("regularized_logistic", "dw = X @ dZ.T/m + lambd/m*w"),
    ("computation_graph", "dc = 3*b"),
    ("computation_graph", "du = 3*1"),
    ("softmax_regression", "dz = softmax(z) - y"),
    ("softmax_regression", "dz = exp(z)/sum(exp(z)) - y"),
    ("softmax_regression", "dz = a*sum(y) - y"),  # a one-hot y sums to 1
    ("softmax_regression", "dW = dz * x.T"),
    ("softmax_regression", "dW = (a - y) @ x.T"),
    ("softmax_regression", "db = sum(dZ, 1)/m"),
    ("softmax_regression", "dW = (A - Y) @ X.T / m"),
    ("shallow_network", "dz1 = (1 - tanh(z1)**2) * W2.T * dz2"),
    ("shallow_network", "dW2 = dz2 * a1.T"),
    ("shallow_network", "dZ1 = (W2.T @ dZ2) * (1 - A1**2)"),
    ("shallow_network", "db1 = sum(dZ1, axis=1)/m"),
    ("deep_network", "dZ2 = heaviside(Z2)*(W3.T @ dZ3)"),
    ("deep_network", "dW1 = dZ1 @ X.T / m"),
    *NETWORK_RIGHT,
]


def test_the_corpus_is_large_enough():
    assert len(WRONG) >= 30 and len(RIGHT) >= 30
    assert len({spec for spec, *_ in WRONG}) >= 6 and len({spec for spec, _ in RIGHT}) >= 6
    assert len(NETWORK_WRONG) >= 10 and len(NETWORK_RIGHT) >= 10
    assert all(diagnosis for *_, diagnosis in NETWORK_WRONG)
    layer = [claim for _, claim, _ in NETWORK_WRONG if "[l]" in claim]
    assert len(layer) >= 5 and sum("[l]" in claim for _, claim in NETWORK_RIGHT) >= 5


@pytest.mark.parametrize("spec, claim, diagnosis", WRONG, ids=[f"{s}: {c}" for s, c, _ in WRONG])
@pytest.mark.slow
def test_wrong_claims_are_refuted(spec, claim, diagnosis):
    v = verdict(spec, claim)
    assert v.status == REFUTED, v.text()
    assert v.counterexample is not None or v.reason.startswith(("Wrong shape", "Your claim's"))
    if diagnosis:
        assert diagnosis in " ".join(v.diagnosis), v.text()


@pytest.mark.parametrize("spec, claim", RIGHT, ids=[f"{s}: {c}" for s, c in RIGHT])
@pytest.mark.slow
def test_right_claims_are_proven(spec, claim):
    v = verdict(spec, claim)
    assert v.status == PROVEN, v.text()
    assert v.points >= 1  # every proof is backed by numbers


class ClaimPrinter(PerExamplePrinter):
    """symgrad's notation, with (z > 0) written as the claim grammar's heaviside(z)."""

    def _print_Heaviside(self, expr):
        return f"heaviside({self._print(expr.args[0])})"


class BatchClaimPrinter(ClaimPrinter):
    _print_colsum = TextPrinter._print_colsum


def derived_texts(ch):
    """(name, symgrad's result as claim text, batch) for every derivative, a layer's too."""
    scopes = [(batch, layer) for layer in (False, True) if not layer or ch.derivation.layer
              for batch in ((False, True) if ch.derivation.batch_graph else (False,))]
    for batch, layer in scopes:
        printer = BatchClaimPrinter() if batch else ClaimPrinter()
        space = ch.space(batch, layer)
        for name, step in space.adjoints.items():
            yield name, printer.doprint(step.result.xreplace(space.rename)), batch


@pytest.mark.slow
def test_every_derived_result_proves_itself(spec_path):
    """What ``symgrad derive`` prints reads back as a claim, and is proven."""
    ch = Checker(symgrad.load(spec_path))
    for name, text, batch in derived_texts(ch):
        assert ch.check(Claim(name, text, batch)).proven, (name, text)


@pytest.mark.slow
def test_slightly_wrong_results_are_refuted(spec_path):
    """symgrad's own result, off by 0.1%: refuted with a counterexample, for every derivative."""
    ch = Checker(symgrad.load(spec_path))
    for name, text, batch in derived_texts(ch):
        v = ch.check(Claim(name, f"({text})*1.001", batch))
        assert v.status == REFUTED and v.counterexample is not None, v.text()


# ----- layer notation -----


def at_layer_2(claim):
    """A claim about layer l, written for layer 2 of the 3-layer unrolled network."""
    return claim.replace("[l-1]", "1").replace("[l - 1]", "1").replace("[l]", "2")


LAYER_CLAIMS = [(claim, True) for spec, claim in NETWORK_RIGHT if "[l" in claim] + [
    (claim, False) for spec, claim, _ in NETWORK_WRONG if "[l" in claim]


@pytest.mark.parametrize("claim, right", LAYER_CLAIMS, ids=[c for c, _ in LAYER_CLAIMS])
@pytest.mark.slow
def test_layer_claims_hold_in_the_unrolled_network(claim, right):
    """The block derived once and layer 2 of the unrolled network give the same verdict."""
    unrolled = verdict("deep_network", at_layer_2(claim))
    assert unrolled.proven == right and verdict("deep_network", claim).proven == right


@pytest.mark.slow
def test_layer_claims_read_in_layer_notation(capsys):
    code = main(["check", str(ROOT / "derivations/deep_network.toml"),
                 "--claim", "dW[l] = dZ[l] @ A[l].T / m", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    (found,) = data["claims"]
    assert found["name"] == "dW[l]" and found["derived"] == "(dZ[l] @ A[l-1].T)/m"
    assert "matrix(n[l], n[l]), the correct dW[l] is matrix(n[l], n[l-1])" in found["reason"]
    ce = verdict("deep_network", "dZ[l] = dA[l]").counterexample
    assert list(ce.values) == ["m", "A[l-1]", "dA[l]", "W[l]", "b[l]"]


def test_layer_claims_file(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text('[claims]\n"dz[l]" = "da[l] * heaviside(z[l])"\n'
                    '[batch]\n"dW[l]" = "dZ[l] @ A[l-1].T / m"\n"dA[l - 1]" = "W[l].T @ dZ[l]"\n')
    assert [c.name for c in read_claims(path)] == ["dz[l]", "dW[l]", "dA[l-1]"]
    code = main(["check", str(ROOT / "derivations/deep_network.toml"), "--claims", str(path)])
    assert code == 0 and capsys.readouterr().out.endswith("3 of 3 claims proven.\n")


# ----- verdicts, as the issue shows them -----


def test_the_issue_example(capsys):
    code = main(["check", str(ROOT / "derivations/logistic_regression.toml"),
                 "--claim", "dz = y - a"])
    out = capsys.readouterr().out
    assert code == 1
    assert out == ("✗ dz = y - a is false. symgrad derives dz = a - y.\n"
                   "  Your claim is the negative of the correct one (sign error).\n"
                   "  Counterexample: a = 0.7, y = 1 gives your dz = 0.3, correct dz = -0.3.\n")


def test_a_network_example(capsys):
    code = main(["check", str(ROOT / "derivations/shallow_network.toml"),
                 "--claim", "dW1 = dZ1 @ X.T / m", "--claim", "dZ1 = W2.T @ dZ2",
                 "--claim", "dW2 = dZ2 @ A2.T / m"])
    out = capsys.readouterr().out
    assert code == 1
    assert out == NETWORK_EXAMPLE


NETWORK_EXAMPLE = """\
✓ dW1 = dZ1 @ X.T / m (over m examples) is proven. symgrad derives dW1 = (dZ1 @ X.T)/m.
✗ dZ1 = W2.T @ dZ2 (over m examples) is false. symgrad derives dZ1 = (1 - A1**2)*(W2.T @ dZ2).
  Your claim matches the correct result with the chain-rule factor dA1/dZ1 = 1 - A1**2 left out \
(missing chain-rule factor).
  Your claim equals symgrad's dA1: the derivative with respect to A1, not Z1 (derivative taken \
with respect to the wrong variable).
  Counterexample: m = 2, X = [[1, 1], [1, 0]], Y = [[1, 1]], W1 = [[0, 0], [0, 1]], \
b1 = [[0], [0]], W2 = [[1, 1]], b2 = 0 gives your dZ1 = [[-0.3183, -0.5], [-0.3183, -0.5]], \
correct dZ1 = [[-0.3183, -0.5], [-0.1337, -0.5]].
✗ dW2 = dZ2 @ A2.T / m (over m examples) is false. symgrad derives dW2 = (dZ2 @ A1.T)/m.
  Wrong shape: your dW2 is a scalar, the correct dW2 is matrix(1, n_h).
  Your claim uses A2 where A1 belongs: with A1 in place of A2 your claim is right.
1 of 3 claims proven.
"""


def test_counterexample_values_come_from_a_real_forward_pass():
    v = verdict("sigmoid_mse", "dz = a - y")
    values = v.counterexample.values
    a, y = values["a"].item(), values["y"].item()
    assert v.counterexample.correct.item() == pytest.approx(a * (1 - a) * (a - y))
    assert v.counterexample.claimed.item() == pytest.approx(a - y)


def test_batch_counterexample_is_small_and_concrete():
    v = verdict("logistic_regression", "dw = X @ dZ.T")
    values = v.counterexample.values
    assert list(values)[:3] == ["m", "X", "Y"] and values["X"].shape == (2, 2)
    assert set(values["X"].ravel()) <= {0.0, 1.0}
    assert "m times the correct one" in v.text()


def test_shapes_are_checked_first():
    v = verdict("logistic_regression", "dw = a - y")
    assert v.counterexample is None
    assert "your dw is a scalar, the correct dw is a vector(n_x)" in v.reason
    v = verdict("logistic_regression", "dw = X @ dZ / m")
    assert "matrix(n_x, m) @ matrix(1, m)" in v.reason


def test_not_proven_is_said_plainly():
    v = verdict("logistic_regression", "dz = a - y + relu(z) - relu(-z) - z")
    assert v.status == "not proven" and not v.proven
    assert "evidence, not a proof" in v.text() and v.text().startswith("?")


def test_a_tiny_error_is_never_proven():
    for claim in ("dz = a - y + 1/10**12", "dz = (a - y)*(1 + 1/10**12)"):
        assert not verdict("logistic_regression", claim).proven


def test_scope_per_example_or_batch():
    ch = checker("logistic_regression")
    assert not ch.check("dw = x*dz").batch
    assert ch.check("dw = X @ dZ.T / m").batch
    assert not ch.check("db = 0").batch and ch.check("db = 0", batch=True).batch
    assert ch.check("db", "sum(dZ)/m").proven


def test_model_check_returns_a_verdict(spec):
    model = symgrad.load(spec("logistic_regression"))
    v = model.check("dz", "a - y")
    assert isinstance(v, Verdict) and v.proven and v.derived == "a - y"
    assert model.check("dz = y - a").status == REFUTED


# ----- bad input: one line, exit code 2 -----

BAD = [
    ("dz = __import__('os').system('true')", "call of a non-function"),
    ("dz = a.__class__", "attribute access"),
    ("dz = (lambda: 1)()", "call of a non-function"),
    ("dz = lambda q: q", "lambda"),
    ("dz = open('f')", "unsupported function 'open'"),
    ("dz = q - y", "unknown name 'q'"),
    ("dz = a -", "syntax error"),
    ("dz a - y", "no '='"),
    ("dz == a - y", "'=='"),
    ("__import__('os') = 1", "not the name of a derivative"),
    ("dq = a - y", "symgrad derives no 'dq'"),
    ("dz = dz", "uses dz itself"),
    ("dw = x*(a - y) + X", "mixes per-example names"),
    ("db = sum(dZ, axis=2)", "axis must be 0"),
    ("db = sum(dZ, keepdims=1)", "keyword"),
    ("dz =", "nothing claimed"),
]


BAD_LAYER = [
    ("dZ[l] = W[l+1].T @ dZ[l+1]", "sees layers l and l-1 only"),
    ("dZ[l] = dA * heaviside(Z[l])", "unknown name 'dA' in 'dA * heaviside(Z[l])' (write dA[l])"),
    ("dZ[l] = dA2", "unknown name 'dA2'"),
    ("dZ2 = dA[l]", "has it on the left too"),
    ("dZ[l] = A[2]", "subscript 'A[2]'"),
    ("dZ[l] = A[l][0]", "subscript 'A[l][0]'"),
    ("dZ[l] = A[l-2]", "subscript 'A[l - 2]'"),
    ("dZ[l+1] = dA[l]", "not the name of a derivative"),
    ("dq[l] = 1", "symgrad derives no 'dq[l]'"),
    ("dZ[l] = dZ[l]", "uses dZ[l] itself"),
    ("dZ[l] = dz[l] + dA[l]", "mixes per-example names (dz[l]) with names over m examples"),
]


@pytest.mark.parametrize("claim, message", BAD_LAYER, ids=[c for c, _ in BAD_LAYER])
@pytest.mark.slow
def test_bad_layer_claims_exit_2_with_one_line(capsys, claim, message):
    code = main(["check", str(ROOT / "derivations/deep_network.toml"), "--claim", claim])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert message in err


@pytest.mark.parametrize("claim, message", BAD + [
    ("dz[l] = a - y", "has no [layers]"), ("dz = a[l]", "has it on the left too")],
    ids=[c for c, _ in BAD] + ["dz[l] = a - y", "dz = a[l]"])
@pytest.mark.slow
def test_bad_claims_exit_2_with_one_line(capsys, claim, message):
    code = main(["check", str(ROOT / "derivations/logistic_regression.toml"), "--claim", claim])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert message in err


def test_claims_file(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text('[claims]\ndz = "a - y"\ndw = "x*dz"\n[batch]\ndw = "X @ dZ.T / m"\n')
    claims = read_claims(path)
    assert [(c.name, c.batch) for c in claims] == [("dz", None), ("dw", None), ("dw", True)]
    code = main(["check", str(ROOT / "derivations/logistic_regression.toml"),
                 "--claims", str(path), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["all_proven"]
    assert [c["verdict"] for c in data["claims"]] == ["proven"] * 3


@pytest.mark.parametrize("text, message", [
    ('[claims]\ndz = "a -"\n', "mine.toml:2: claims.dz: syntax error"),
    ('[claims]\ndz = 3\n', "mine.toml:2: claims.dz: expected the claimed expression"),
    ('[other]\ndz = "a"\n', "mine.toml:1: other: unexpected 'other'"),
    ("[claims\n", "TOML syntax error"),
    ("", "no claims"),
])
def test_bad_claims_file(tmp_path, capsys, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    code = main(["check", str(ROOT / "derivations/logistic_regression.toml"),
                 "--claims", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert message in err


def test_json_refuted(capsys):
    code = main(["check", str(ROOT / "derivations/logistic_regression.toml"),
                 "--claim", "dz = y - a", "--claim", "dz = a - y", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and not data["all_proven"]
    wrong, right = data["claims"]
    assert wrong["verdict"] == "refuted" and right["verdict"] == "proven"
    assert wrong["counterexample"] == {"values": {"a": pytest.approx(0.7), "y": 1.0},
                                       "claimed": pytest.approx(0.3),
                                       "correct": pytest.approx(-0.3)}
    assert "sign error" in wrong["diagnosis"][0]


def test_no_claims_is_bad_input():
    with pytest.raises(SpecError, match="no claims"):
        from types import SimpleNamespace

        from symgrad.cli.check import run

        run(SimpleNamespace(claim=[], claims=None, batch=False, spec="x", format="text"))
