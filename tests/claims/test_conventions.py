"""Conventions (:mod:`symgrad.claims.conventions`): a claim over m examples written in another
convention than symgrad's (dZ = dJ/dZ with the 1/m, examples as rows, a summed cost) is
recognised. Examples as rows cannot be a slip, and such a claim is proven with a note that names
the convention; a cost or summed reading is what a 1/m too many or missing gives too, so it is
refuted, the convention named in the diagnosis, and proven with the note once declared. A claim
wrong under every convention is refuted as before; a declared convention is the only one tried.
"""

import json
from functools import cache
from pathlib import Path

import pytest

import symgrad
from symgrad.claims.checker import NOT_PROVEN, PROVEN, REFUTED, Checker, Claim, read_claims
from symgrad.claims.conventions import read
from symgrad.cli.main import main
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]


@cache
def checker(spec, convention=None) -> Checker:
    return Checker(symgrad.load(ROOT / "derivations" / f"{spec}.toml"), convention=convention)


# The phrase each convention's note has.
NOTE = {"cost": "= dJ/d", "summed": "the cost is summed", "rows": "examples are rows",
        "rows+cost": "examples are rows", "rows+summed": "examples are rows"}

# (spec, claim, the convention it is recognised in)
RECOGNISED = [
    # The course's own notebook states its six equations as derivatives of J (dJ/dz2 =
    # (a2 - y)/m, dJ/dW2 = dJ/dz2 a1.T, dJ/db2 = sum dJ/dz2, dJ/dz1 = W2.T dJ/dz2 * (1 - a1**2),
    # dJ/dW1 = dJ/dz1 X.T): abdulrahman-1212/Planar_data_classification_with_one_hidden_layer,
    # README.md; written with symgrad's names:
    ("shallow_network", "dZ2 = (A2 - Y) / m", "cost"),
    ("shallow_network", "dW2 = dZ2 @ A1.T", "cost"),
    ("shallow_network", "db2 = sum(dZ2)", "cost"),
    ("shallow_network", "dW1 = dZ1 @ X.T", "cost"),
    ("shallow_network", "db1 = sum(dZ1, axis=1)", "cost"),
    ("logistic_regression", "dZ = (A - Y) / m", "cost"),
    ("logistic_regression", "dw = X @ dZ.T", "cost"),
    ("softmax_regression", "dZ = (A - Y) / m", "cost"),
    ("softmax_regression", "dW = dZ @ X.T", "cost"),
    # a summed cost: no 1/m anywhere
    ("logistic_regression", "dw = X @ (A - Y).T", "summed"),
    ("logistic_regression", "db = sum(A - Y)", "summed"),
    ("shallow_network", "dW2 = (A2 - Y) @ A1.T", "summed"),
    ("softmax_regression", "dW = (A - Y) @ X.T", "summed"),
    ("softmax_regression", "db = sum(A - Y, axis=1)", "summed"),
    # examples as rows: the row-wise column of jmcheon/multilayer_perceptron, notation.md
    # (dJ/dW = X^T (A - y)/m, dW[l] = A[l-1]^T dZ[l]/m, dZ[l-1] = dZ[l] W[l]^T * f'(Z[l-1]))
    ("logistic_regression", "dw = X.T @ (A - Y) / m", "rows"),  # w stays w: Z = X @ w + b
    ("logistic_regression", "dw = X.T @ dZ / m", "rows"),
    ("logistic_regression", "db = sum(dZ, axis=0) / m", "rows"),
    ("shallow_network", "dW2 = A1.T @ dZ2 / m", "rows"),
    ("shallow_network", "dW1 = X.T @ dZ1 / m", "rows"),
    ("shallow_network", "dZ1 = dZ2 @ W2.T * (1 - A1**2)", "rows"),
    ("shallow_network", "dA1 = dZ2 @ W2.T", "rows"),
    ("softmax_regression", "dW = X.T @ (A - Y) / m", "rows"),
    # np.sum(dvalues, axis=0, keepdims=True): jhoanmartinez/Neural-networks-from-scratch-in-
    # Python, 9-backpropagation/e.py
    ("softmax_regression", "db = sum(dZ, axis=0) / m", "rows"),
    # rows, with the 1/m in dZ (or nowhere): np.dot(inputs.T, dvalues), dendroman/neural-network,
    # backpropagation-weights.py
    ("softmax_regression", "dW = X.T @ dZ", "rows+cost"),
    ("shallow_network", "db1 = sum(dZ1, axis=0)", "rows+cost"),
    ("softmax_regression", "dW = X.T @ (A - Y)", "rows+summed"),
]

RIGHT_CLAIMS = [(spec, claim) for spec, claim, _ in RECOGNISED]

# Wrong under every convention: refuted in symgrad's, with the same diagnosis as ever
# (spec, claim, a phrase the diagnosis must contain, or None)
WRONG_CLAIMS = [
    ("logistic_regression", "dw = 2 * X @ dZ.T / m", "twice the correct one"),
    ("logistic_regression", "dZ = Y - A", "sign error"),
    ("logistic_regression", "dZ = (A - Y) * m", "m times the correct one"),
    ("shallow_network", "dZ1 = W2.T @ dZ2", "chain-rule factor dA1/dZ1 = 1 - A1**2 left out"),
    ("shallow_network", "dW2 = dZ2 @ A2.T / m", "uses A2 where A1 belongs"),
    ("shallow_network", "db1 = sum(dZ1) / m", "wrong axis"),
    ("shallow_network", "dW1 = X @ dZ1.T / m", "transpose of the correct one"),
    ("shallow_network", "dZ1 = dZ2 @ W2.T * tanh(Z1)", None),
    ("softmax_regression", "dZ = Y - A", "sign error"),
    ("softmax_regression", "dW = dZ @ X / m", "with X.T in place of X"),
    ("softmax_regression", "dW = X.T @ Y / m", None),
]


@pytest.mark.parametrize("spec, claim, convention", RECOGNISED,
                         ids=[f"{s}: {c}" for s, c, _ in RECOGNISED])
def test_a_claim_in_another_convention_is_proven_with_a_note(spec, claim, convention):
    v = checker(spec).check(claim)
    if convention != "rows":  # undeclared, it could be a slip of 1/m: named, not proven
        assert v.status == REFUTED and v.convention == "course", v.text()
        said = [d for d in v.diagnosis if d.startswith("Right under the convention that ")]
        assert said and NOTE[convention] in said[0], v.text()
        assert f"declare it (--convention {convention})" in said[0]
        v = checker(spec, convention).check(claim)
    assert v.status == PROVEN, v.text()
    assert v.convention == convention
    assert v.reason.startswith("Proven under the convention that ") and NOTE[convention] in v.reason
    assert v.to_json()["convention"] == convention
    # it is a different convention: symgrad's own refutes the claim
    assert checker(spec, "course").check(claim).status == REFUTED


@pytest.mark.parametrize("spec, claim, phrase", WRONG_CLAIMS,
                         ids=[f"{s}: {c}" for s, c, _ in WRONG_CLAIMS])
def test_a_claim_wrong_in_every_convention_is_refuted_as_before(spec, claim, phrase):
    v = checker(spec).check(claim)
    assert v.status == REFUTED and v.convention == "course", v.text()
    course = checker(spec, "course").check(claim)
    assert v.diagnosis == course.diagnosis and v.reason == course.reason
    if phrase is not None:
        assert any(phrase in d for d in v.diagnosis), v.text()


def test_the_notes_name_both_conventions():
    v = checker("shallow_network", "cost").check("dW2 = dZ2 @ A1.T")
    assert v.reason == (
        "Proven under the convention that dZ2 = dJ/dZ2 = (A2 - Y)/m, 1/m included; symgrad "
        "writes dZ2 = dL/dZ2 per example, stacked: dZ2 = A2 - Y, and puts the 1/m in the "
        "parameters' derivatives (with dZ2 = A2 - Y, your claim lacks the factor 1/m).")
    v = checker("shallow_network").check("dW1 = X.T @ dZ1 / m")
    assert "your X, dW1, dZ1 are symgrad's X.T, dW1.T, dZ1.T" in v.reason
    v = checker("logistic_regression").check("dw = X.T @ (A - Y) / m")
    assert "your A, X, Y are symgrad's A.T, X.T, Y.T (dw the same in both)" in v.reason
    v = checker("softmax_regression", "summed").check("dW = (A - Y) @ X.T")
    assert "so it writes dW = (dZ @ X.T)/m" in v.reason and "lacks the factor 1/m" in v.reason


@pytest.mark.parametrize("claim, status, convention", [
    ("dW[l] = dZ[l] @ A[l-1].T", REFUTED, "course"),  # right under cost, if declared
    ("dZ[l] = dA[l] * heaviside(Z[l])", PROVEN, "course"),  # the same in both
    # dZ[l] = dJ/dZ[l] needs dA[l] = dJ/dA[l]: a second 1/m is one too many
    ("dZ[l] = dA[l] * heaviside(Z[l]) / m", REFUTED, "course"),
    ("dW[l] = A[l-1].T @ dZ[l] / m", PROVEN, "rows"),
    ("dA[l-1] = dZ[l] @ W[l].T", PROVEN, "rows"),
])
def test_conventions_in_layer_notation(claim, status, convention):
    v = checker("deep_network").check(claim)
    assert (v.status, v.convention) == (status, convention), v.text()


def test_per_example_claims_have_one_convention():
    v = checker("logistic_regression").check("dz = (a - y) / m")
    assert v.status == REFUTED and v.convention == "course"
    assert any("extra factor 1/m" in d for d in v.diagnosis)


# ----- a declared convention is the only one tried -----

DECLARED = [  # (spec, convention, claim, verdict)
    ("logistic_regression", "course", "dZ = (A - Y) / m", REFUTED),
    ("logistic_regression", "course", "dZ = A - Y", PROVEN),
    ("logistic_regression", "cost", "dZ = (A - Y) / m", PROVEN),
    ("logistic_regression", "cost", "dZ = A - Y", REFUTED),
    ("shallow_network", "cost", "dW2 = dZ2 @ A1.T", PROVEN),
    ("shallow_network", "cost", "dW2 = dZ2 @ A1.T / m", REFUTED),
    ("shallow_network", "summed", "dW2 = dZ2 @ A1.T", PROVEN),
    ("shallow_network", "summed", "dZ1 = W2.T @ dZ2 * (1 - A1**2)", PROVEN),
    ("shallow_network", "rows", "dW2 = A1.T @ dZ2 / m", PROVEN),
    ("shallow_network", "rows", "dW2 = dZ2 @ A1.T / m", REFUTED),
    ("softmax_regression", "rows", "db = sum(dZ, axis=0) / m", PROVEN),
    ("softmax_regression", "rows", "db = sum(dZ, axis=1) / m", REFUTED),
    ("softmax_regression", "rows+cost", "dW = X.T @ dZ", PROVEN),
    ("softmax_regression", "rows+cost", "dW = X.T @ dZ / m", REFUTED),
    ("softmax_regression", "summed", "dW = X.T @ (A - Y)", REFUTED),
]


@pytest.mark.parametrize("spec, convention, claim, status", DECLARED,
                         ids=[f"{s} {v}: {c}" for s, v, c, _ in DECLARED])
def test_a_declared_convention_is_the_only_one_tried(spec, convention, claim, status):
    v = checker(spec, convention).check(claim)
    assert v.status == status, v.text()
    assert v.convention == convention
    if convention != "course" and status == PROVEN:
        assert NOTE[convention] in v.reason
    if convention != "course" and status == REFUTED:
        assert v.reason.startswith(f"Judged under the declared convention {convention}: in "
                                   "symgrad's convention your claim reads ")


def test_a_refuted_claim_in_a_declared_convention_is_shown_in_symgrads():
    v = checker("logistic_regression", "cost").check("dZ = A - Y")
    assert v.reason == ("Judged under the declared convention cost: in symgrad's convention "
                        "your claim reads dZ = m*(A - Y).")
    assert any("m times the correct one" in d for d in v.diagnosis)


@pytest.mark.parametrize("text", ["rows", "cost", "summed", "course", "rows+cost", "Cost+Rows"])
def test_convention_names(text):
    assert read(text).name in ("rows", "cost", "summed", "course", "rows+cost")


@pytest.mark.parametrize("text", ["row", "cost+summed", "course+rows", "rows+rows", ""])
def test_unknown_conventions_are_refused(text):
    with pytest.raises(SpecError, match="expected one of course, cost, rows, summed"):
        read(text)


# ----- the left side names the output -----

def test_a_left_side_dJ_is_the_cost_derivative():
    # dJ/dZ2 = (A2 - Y)/m: the course notebook's first equation (source above)
    v = checker("shallow_network").check(Claim("dZ2", "(A2 - Y) / m", output="J"))
    assert v.status == PROVEN and v.convention == "course"
    assert v.reason == "Judged as dJ/dZ2 = dZ2/m: symgrad's dZ2 is dL/dZ2 per example, stacked."
    # dJ/dW2 = dJ/dZ2 @ A1.T: the right side's dZ2 is dJ/dZ2 too
    v = checker("shallow_network").check(Claim("dW2", "dZ2 @ A1.T", output="J"))
    assert v.status == PROVEN and v.convention == "cost"
    v = checker("shallow_network").check(Claim("dW2", "dZ2 @ A1.T / m", output="J"))
    assert v.status == PROVEN and v.convention == "course" and v.reason == ""


def test_a_left_side_dJ_without_the_mean_is_wrong_in_symgrads_convention():
    v = checker("shallow_network", "course").check(Claim("dZ2", "A2 - Y", output="J"))
    assert v.status == REFUTED and any("factor 1/m is missing" in d for d in v.diagnosis)
    v = checker("shallow_network").check(Claim("dZ2", "A2 - Y", output="J"))
    assert v.status == REFUTED, v.text()  # a summed cost, or the 1/m forgotten
    assert any("so dJ/dZ2 = dZ2; symgrad's cost is the mean" in d for d in v.diagnosis)
    v = checker("shallow_network", "summed").check(Claim("dZ2", "A2 - Y", output="J"))
    assert v.status == PROVEN and v.convention == "summed"
    v = checker("shallow_network").check(Claim("dZ2", "A2 - Y", output="L"))
    assert v.status == PROVEN and v.convention == "course"


def test_no_convention_proves_what_the_numbers_refute():
    """Every verdict under a convention rests on numbers: a claim right in none is not proven
    in any, whatever it is close to."""
    for spec, claim in [("logistic_regression", "dw = X.T @ dZ.T / m"),
                        ("shallow_network", "dW2 = dZ2 @ A1.T / m**2"),
                        ("softmax_regression", "dW = X.T @ dZ.T")]:
        v = checker(spec).check(claim)
        assert v.status in (REFUTED,), v.text()
        assert v.status != NOT_PROVEN


# ----- command line and claims files -----

def test_cli_convention_flag(capsys):
    assert main(["check", "shallow_network", "--claim", "dW2 = A1.T @ dZ2 / m",
                 "--convention", "rows"]) == 0
    assert "Proven under the convention that examples are rows" in capsys.readouterr().out
    assert main(["check", "shallow_network", "--claim", "dW2 = dZ2 @ A1.T",
                 "--convention", "course"]) == 1
    assert "factor 1/m is missing" in capsys.readouterr().out


def test_cli_refuses_an_unknown_convention(capsys):
    assert main(["check", "shallow_network", "--claim", "dW2 = A1.T @ dZ2 / m",
                 "--convention", "columns"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown convention 'columns'" in err


def test_cli_json_names_the_convention(capsys):
    assert main(["check", "softmax_regression", "--format", "json",
                 "--claim", "db = sum(dZ, axis=0) / m",
                 "--claim", "db = sum(A - Y, axis=1) / m"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["convention"] for c in out["claims"]] == ["rows", "course"]
    assert out["claims"][0]["reason"].startswith("Proven under the convention that examples")


def test_claims_file_declares_a_convention(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text('convention = "rows"\n[batch]\ndW1 = "X.T @ dZ1 / m"\n'
                    'db1 = "sum(dZ1, axis=0) / m"\n')
    claims = read_claims(path)
    assert [c.convention for c in claims] == ["rows", "rows"]
    assert main(["check", "shallow_network", "--claims", str(path)]) == 0
    path.write_text('convention = "rows"\n[batch]\ndW1 = "dZ1 @ X.T / m"\n')
    assert main(["check", "shallow_network", "--claims", str(path)]) == 1
    assert "Judged under the declared convention rows" in capsys.readouterr().out


def test_claims_file_with_a_bad_convention(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text('convention = 3\n[batch]\ndW1 = "X.T @ dZ1 / m"\n')
    assert main(["check", "shallow_network", "--claims", str(path)]) == 2
    err = capsys.readouterr().err
    assert "mine.toml:1: convention: expected a convention as a string, found int" in err
