"""``symgrad check SPEC homework.py --function NAME``: the course's own functions read statically,
each gradient line proven, or refuted on its line with the slip named.

The functions are in tests/claims/homework/*.py (data: never collected, never imported; each
file names the course assignment and the GitHub mirror it is taken from).
"""

import json
import sys
from functools import cache
from pathlib import Path

import pytest

import symgrad
from symgrad.claims.checker import PROVEN, REFUTED, Checker
from symgrad.claims.homework import (
    NOT_CHECKED,
    NOT_FOLLOWED,
    STEP,
    check_homework,
    read_module,
)
from symgrad.cli.main import main
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
HOMEWORK = ROOT / "tests" / "claims" / "homework"


@cache
def checker(spec) -> Checker:
    path = ROOT / "derivations" / f"{spec}.toml"
    if not path.exists():
        path = ROOT / "tests" / "catalogue" / f"{spec}.toml"
    return Checker(symgrad.load(path))


def report(spec, file, function):
    c = checker(spec)
    return check_homework(c.model, HOMEWORK / f"{file}.py", function, checker=c)


def statuses(rep) -> dict:
    return {(line.line, line.name): line.status for line in rep.lines}


# ----- right functions: every gradient line proven -----

# (spec, file, function, the gradient lines that must be proven: (line, name) in order)
RIGHT = [
    # course 1 week 2, propagate()
    ("logistic_regression", "propagate", "propagate", [(13, "dw"), (14, "db")]),
    # course 1 week 3, backward_propagation() of the planar network
    ("shallow_network", "backward_propagation", "backward_propagation",
     [(15, "dZ2"), (16, "dW2"), (17, "db2"), (18, "dZ1"), (19, "dW1"), (20, "db1")]),
    # course 1 week 4, linear_backward() in layer l (cache[0] is A_prev, cache[1] is W)
    ("deep_network", "linear_backward", "linear_backward",
     [(13, "dW"), (14, "db"), (15, "dA_prev")]),
    # course 1 week 4, relu_backward(): np.array(dA, copy=True), then the mask dZ[Z <= 0] = 0
    ("deep_network", "relu_backward", "relu_backward", [(12, "dZ")]),
    # course 2 week 1, backward_propagation_with_regularization() (the three-layer network)
    ("deep_network_l2", "backward_propagation_with_regularization",
     "backward_propagation_with_regularization",
     [(12, "dZ3"), (13, "dW3"), (14, "db3"), (15, "dA2"), (16, "dZ2"), (17, "dW2"),
      (18, "db2"), (19, "dA1"), (20, "dZ1"), (21, "dW1"), (22, "db1")]),
    # course 2 week 1, backward_propagation_n() with its two planted bugs fixed
    ("deep_network", "backward_propagation_n_fixed", "backward_propagation_n",
     [(13, "dZ3"), (14, "dW3"), (15, "db3"), (16, "dA2"), (17, "dZ2"), (18, "dW2"),
      (19, "db2"), (20, "dA1"), (21, "dZ1"), (22, "dW1"), (23, "db1")]),
    # course 2 week 1, backward_propagation_with_dropout(): dA1 = dA1 * D1; dA1 = dA1 /
    # keep_prob followed into dZ1
    ("dropout_network", "backward_propagation_with_dropout", "backward_propagation_with_dropout",
     [(14, "dZ2"), (15, "dW2"), (16, "db2"), (20, "dZ1"), (21, "dW1"), (22, "db1")]),
]


@pytest.mark.parametrize("spec, file, function, proven", RIGHT,
                         ids=[r[1] for r in RIGHT])
def test_right_functions_are_proven_line_by_line(spec, file, function, proven):
    rep = report(spec, file, function)
    checked = [(line.line, line.name) for line in rep.lines if line.checked]
    assert checked == proven
    assert all(line.status == PROVEN for line in rep.lines if line.checked), rep.text()
    assert rep.all_proven


# ----- one slip each: the report names the wrong line and the slip -----

# (spec, file, function, the wrong line, its name, a phrase of the diagnosis or None)
SLIPS = [
    ("logistic_regression", "propagate_sign_slip", "propagate", 14, "db", "sign error"),
    ("shallow_network", "backward_propagation_tanh_slip", "backward_propagation", 18, "dZ1",
     None),
    # the course's own solution mirrored with np.squeeze on db (a 1-D array, a real bug)
    ("deep_network", "linear_backward_squeeze", "linear_backward", 14, "db",
     "leave out np.squeeze"),
    ("deep_network", "relu_backward_mask_slip", "relu_backward", 12, "dZ",
     "mask is the wrong way round"),
    ("deep_network_l2", "backward_propagation_with_regularization_sign_slip",
     "backward_propagation_with_regularization", 17, "dW2", None),
    ("dropout_network", "backward_propagation_with_dropout_keep_prob_slip",
     "backward_propagation_with_dropout", 19, "dZ1", None),
]


@pytest.mark.parametrize("spec, file, function, line, name, phrase", SLIPS,
                         ids=[s[1] for s in SLIPS])
def test_one_slip_is_refuted_on_its_line(spec, file, function, line, name, phrase):
    rep = report(spec, file, function)
    refuted = [(x.line, x.name) for x in rep.lines if x.status == REFUTED]
    assert refuted == [(line, name)], rep.text()
    others = [x for x in rep.lines if x.checked and x.line != line]
    assert all(x.status == PROVEN for x in others)
    assert not rep.all_proven
    wrong = next(x for x in rep.lines if x.line == line)
    assert f"line {line}:" in wrong.text()
    assert wrong.verdict.counterexample is not None or "Wrong shape" in wrong.verdict.text()
    if phrase:
        assert any(phrase in d for d in wrong.verdict.diagnosis), wrong.text()


def test_the_gradient_checking_assignments_two_planted_bugs_are_named():
    # Silva-6/deeplearning.AI-deep_learning
    #   1-improving_deep_neural_networks/2-gradient_checking/4-backward_propagation_n.py
    rep = report("deep_network", "backward_propagation_n", "backward_propagation_n")
    wrong = {x.line: x for x in rep.lines if x.status == REFUTED}
    assert sorted(wrong) == [18, 23]
    assert "twice the correct one" in " ".join(wrong[18].verdict.diagnosis)
    assert "4 times the correct one" in " ".join(wrong[23].verdict.diagnosis)
    assert sum(x.status == PROVEN for x in rep.lines) == 9


# ----- the flow through a function -----

def test_a_reassignment_replaces_the_earlier_value():
    rep = report("logistic_regression", "flow", "reassigned")
    assert statuses(rep) == {(10, "dZ"): NOT_CHECKED, (11, "dZ"): PROVEN, (12, "dw"): PROVEN,
                             (13, "db"): PROVEN}
    assert "replaced on line 11" in rep.lines[0].reason


def test_local_names_are_substituted_into_the_claim():
    rep = report("logistic_regression", "propagate", "propagate")
    assert rep.lines[0].claim == "1 / X.shape[1] * np.dot(X, (sigmoid(np.dot(w.T, X) + b) - Y).T)"


def test_a_step_that_the_next_line_changes_is_checked_where_it_ends():
    rep = report("deep_network", "relu_backward", "relu_backward")
    assert [(x.line, x.status) for x in rep.lines] == [(10, STEP), (12, PROVEN)]
    assert rep.lines[1].claim == "dA[l] * (Z[l] > 0)"  # dZ[Z <= 0] = 0 keeps dZ where Z > 0


def test_an_unknown_helper_makes_what_depends_on_it_not_checked():
    rep = report("logistic_regression", "flow", "unknown_helper")
    assert [x.status for x in rep.lines] == [NOT_CHECKED] * 3
    assert all("uses my_sigmoid(), which could not be read" in x.reason for x in rep.lines)
    assert not rep.all_proven  # nothing checked: not a pass


def test_an_attribute_of_an_object_is_unknown():
    rep = report("logistic_regression", "flow", "attribute")
    assert [x.status for x in rep.lines] == [NOT_CHECKED] * 2
    assert "self.w" in rep.lines[0].reason


def test_an_array_changed_in_place_is_not_taken_for_its_assignment():
    rep = report("logistic_regression", "flow", "in_place")  # dZ.fill(0); out=A
    assert [(x.line, x.status) for x in rep.lines] == [(56, NOT_CHECKED), (58, NOT_CHECKED),
                                                       (60, NOT_CHECKED)]
    assert "changed in place on line 57" in rep.lines[0].reason
    assert "uses A (changed in place on line 59)" in rep.lines[2].reason


def test_a_mask_on_an_array_shared_without_a_copy_changes_both_names():
    rep = report("deep_network", "flow", "relu_backward_no_copy")  # dZ = dA; dZ[Z <= 0] = 0
    assert [(x.line, x.name, x.status) for x in rep.lines] == [
        (67, "dZ", STEP), (68, "dZ", PROVEN), (69, "dA_prev", NOT_CHECKED)]
    assert "uses dA (changed in place on line 68, through dZ)" in rep.lines[2].reason
    rep = report("deep_network", "flow", "relu_backward_copy")  # dZ = dA.copy()
    assert [(x.line, x.status) for x in rep.lines] == [(76, STEP), (77, PROVEN)]


def test_a_gradient_inside_a_loop_is_reported_not_followed():
    rep = report("logistic_regression", "flow", "in_a_loop")
    assert statuses(rep) == {(31, "dZ"): PROVEN, (33, "dw"): NOT_FOLLOWED, (35, "db"): PROVEN}
    assert "inside a loop" in rep.lines[1].text()


def test_L_model_backward_checks_dAL_and_reports_the_loop():
    # Silva-6/deeplearning.AI-deep_learning
    #   0-neural_networks-nd-deep_learning/3-step_by_step-build_your_DNN/8-L_model_backward.py
    rep = report("deep_network", "L_model_backward", "L_model_backward")
    assert [(x.line, x.name, x.status) for x in rep.lines] == [
        (13, "dAL", PROVEN), (21, "dA_prev", NOT_FOLLOWED), (21, "dW", NOT_FOLLOWED),
        (21, "db", NOT_FOLLOWED)]


def test_branches_and_calls_of_helpers_not_in_the_function_are_said():
    rep = report("deep_network", "linear_activation_backward", "linear_activation_backward")
    assert {x.status for x in rep.lines} == {NOT_FOLLOWED}
    assert [x.line for x in rep.lines] == [11, 12, 12, 12, 14, 15, 15, 15]
    rep = report("deep_network", "linear_activation_backward", "relu_layer_backward")
    assert [(x.line, x.name, x.status) for x in rep.lines] == [
        (22, "dZ", PROVEN), (23, "dA_prev", NOT_CHECKED), (23, "dW", NOT_CHECKED),
        (23, "db", NOT_CHECKED)]
    assert "linear_backward(dZ, linear_cache)" in rep.lines[1].reason


# ----- the file is read, never imported or run -----

def test_the_file_is_never_imported_or_run():
    marker = Path("/tmp/symgrad_homework_was_run")  # what not_imported.py's os.system touches
    marker.unlink(missing_ok=True)
    rep = report("logistic_regression", "not_imported", "propagate")  # raise SystemExit at top
    assert [x.status for x in rep.lines] == [PROVEN, PROVEN]
    assert not marker.exists()
    assert not any("not_imported" in name for name in sys.modules)


def test_a_syntax_error_is_one_line_with_file_and_line(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("def propagate(w, b, X, Y):\n    dw = np.dot(X, (A - Y).T\n")
    with pytest.raises(SpecError) as err:
        read_module(path)
    assert str(err.value).startswith(f"{path}:2: syntax error")
    assert "\n" not in str(err.value)


def test_a_large_or_deep_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 40_000)
    with pytest.raises(SpecError, match="larger than 200 kB"):
        read_module(big)
    deep = tmp_path / "deep.py"
    deep.write_text("x = " + "-" * 5000 + "1\n")
    with pytest.raises(SpecError, match="deep"):
        read_module(deep)


def test_an_expression_that_doubles_on_each_line_is_cut_short(tmp_path):
    path = tmp_path / "grow.py"
    path.write_text("def f(w, b, X, Y):\n    a = X\n" + "    a = a + a\n" * 40
                    + "    dw = np.dot(a, Y.T) / X.shape[1]\n")
    c = checker("logistic_regression")
    rep = check_homework(c.model, path, "f", checker=c)
    assert [(x.line, x.status) for x in rep.lines] == [(43, NOT_CHECKED)]
    assert "grows past 1000 terms" in rep.lines[0].reason


def test_a_missing_function_lists_those_found():
    with pytest.raises(SpecError) as err:
        report("logistic_regression", "flow", "propagate")
    message = str(err.value)
    assert "no function 'propagate'" in message
    assert ("reassigned, unknown_helper, in_a_loop, attribute, in_place, "
            "relu_backward_no_copy, relu_backward_copy") in message
    assert "no_gradient" not in message  # it assigns no gradient


# ----- the command line -----

def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_codes(capsys):
    spec = str(ROOT / "derivations" / "logistic_regression.toml")
    code, out, _ = run(capsys, "check", spec, str(HOMEWORK / "propagate.py"),
                       "--function", "propagate")
    assert code == 0
    assert "2 of 2 checked gradient lines proven." in out
    code, out, _ = run(capsys, "check", spec, str(HOMEWORK / "propagate_sign_slip.py"),
                       "--function", "propagate")
    assert code == 1
    assert "✗ line 14: db = (1 / m) * np.sum(Y - A)" in out
    code, out, err = run(capsys, "check", spec, str(HOMEWORK / "flow.py"))
    assert code == 2 and not out
    assert err.count("\n") == 1
    assert "expected --function NAME" in err and "reassigned" in err
    code, out, err = run(capsys, "check", spec, str(HOMEWORK / "flow.py"), "--function", "x")
    assert code == 2 and err.count("\n") == 1 and "no function 'x'" in err
    code, out, err = run(capsys, "check", spec, str(HOMEWORK / "nothing_here.py"),
                         "--function", "propagate")
    assert code == 2 and "no such file" in err


def test_cli_json(capsys):
    spec = str(ROOT / "derivations" / "shallow_network.toml")
    code, out, _ = run(capsys, "check", spec, str(HOMEWORK / "backward_propagation_tanh_slip.py"),
                       "--function", "backward_propagation", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["model"] == "shallow_network" and data["function"] == "backward_propagation"
    assert data["all_proven"] is False
    wrong = [x for x in data["lines"] if x["status"] == REFUTED]
    assert [(x["line"], x["name"]) for x in wrong] == [(18, "dZ1")]
    assert wrong[0]["verdict"]["counterexample"]
    assert len(data["lines"]) == 6


def test_cli_escapes_the_line_as_written(capsys, tmp_path):
    path = tmp_path / "escape.py"
    path.write_text("def f(w, b, X, Y):\n    db = np.sum(A - Y) / X.shape[1]  # \x1b[31m\n")
    spec = str(ROOT / "derivations" / "logistic_regression.toml")
    code, out, _ = run(capsys, "check", spec, str(path), "--function", "f")
    assert "\x1b" not in out
    assert "\\x1b" in out
