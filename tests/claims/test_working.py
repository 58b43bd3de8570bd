"""Multi-line derivations (:mod:`symgrad.claims.working`): each file in ``workings/`` has a
planted first wrong line (or none), and the report must name it, its slip, and the later lines
that follow from it (error carried forward)."""

import json
from functools import cache
from pathlib import Path

import pytest

import symgrad
from symgrad.claims.checker import Checker
from symgrad.claims.working import FOLLOWS, RIGHT, WRONG, check_derivation, equalities
from symgrad.cli.main import main
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
WORKINGS = Path(__file__).resolve().parent / "workings"


@cache
def checker(spec) -> Checker:
    return Checker(symgrad.load(ROOT / "derivations" / f"{spec}.toml"))


def report(spec, name):
    return check_derivation(checker(spec).model, WORKINGS / name, checker(spec))


# (spec, file, first wrong line, a phrase of its reason or diagnosis, lines carried forward)
PLANTED = [
    ("logistic_regression", "logistic_sign.md", 6, "it is not da", {7, 8, 9, 15}),
    ("logistic_regression", "logistic_step.txt", 5, "line 5 does not follow from line 4",
     {6, 7}),
    ("logistic_regression", "one_line_chain.txt", 1, "missing chain-rule factor", {1, 2}),
    ("shallow_network", "shallow_batch.md", 7, "it is not dZ1", {8, 9}),
    ("shallow_network", "shallow_per_example.txt", 3, "a transpose is missing", {4, 5}),
    ("deep_network", "deep_layer.txt", 2, "the factor 1/m is missing", set()),
    ("deep_network", "deep_output.md", 4, "with W3.T in place of W3", {5}),
    ("softmax_regression", "softmax_chain.md", 11, "line 11 does not follow from line 8",
     {14}),
    ("regularized_logistic", "regularized.tex", 2, "the step on line 2 does not follow", set()),
    ("shallow_network", "shallow_tanh.tex", 6, "Your tanh'(Z1) is 1 - A1", {7, 8}),
]
ALL_RIGHT = [
    ("logistic_regression", "logistic_right.tex", 7),
    ("logistic_regression", "logistic_batch_sum.md", 3),
    ("shallow_network", "shallow_right.tex", 7),
]


@pytest.mark.parametrize("spec, name, first, phrase, carried", PLANTED)
def test_first_wrong_line_is_named(spec, name, first, phrase, carried):
    judged = report(spec, name)
    wrong = judged.first_wrong
    assert wrong is not None and wrong.number == first, judged.text()
    assert any(phrase in text for text in [wrong.reason, *wrong.verdict.diagnosis]), \
        judged.text()
    later = {line.number for line in judged.lines if line.status == FOLLOWS}
    assert later == carried, judged.text()
    assert all(line.status == RIGHT for line in judged.lines
               if line.number < first), judged.text()
    assert f"First wrong line: {first}" in judged.text()
    assert not judged.all_right


@pytest.mark.parametrize("spec, name, count", ALL_RIGHT)
def test_right_derivations_are_proven_line_by_line(spec, name, count):
    judged = report(spec, name)
    assert judged.all_right and len(judged.lines) == count, judged.text()
    assert all(line.verdict.proven for line in judged.lines)
    assert judged.text().endswith("Every line is right.")


def test_ten_derivations_at_least():
    assert len(PLANTED) + len(ALL_RIGHT) >= 10
    assert {Path(name).suffix for _, name, *_ in PLANTED} == {".md", ".tex", ".txt"}


def test_carried_forward_uses_the_students_value():
    # dz = da * a(1-a) is a right step, but da is the student's wrong one
    judged = report("logistic_regression", "logistic_sign.md")
    line = next(line for line in judged.lines if line.number == 7)
    assert line.status == FOLLOWS and "error carried forward" in line.reason
    assert line.verdict.status == "refuted"  # its value, with the student's da, is wrong


def test_a_wrong_step_after_a_wrong_line_is_wrong_again(tmp_path):
    path = tmp_path / "chain.txt"
    path.write_text("dz = a*(1 - a)\n= 2*a\n", encoding="utf-8")
    judged = report("logistic_regression", path)
    assert [line.status for line in judged.lines] == [WRONG, WRONG]
    assert judged.lines[1].reason.startswith("line 2 does not follow from line 1")


def test_reading_lines():
    assert equalities("$$ dz = a - y $$\n", ".md") == [(1, ["dz", "a - y"])]
    assert equalities("\\begin{align*}\ndz &= a - y \\\\\n&= -(y - a)\n\\end{align*}\n",
                      ".tex") == [(2, ["dz", "a - y"]), (3, ["", "-(y - a)"])]
    assert equalities("dz = a - y = sigmoid(z) - y\nnot an equality\n", ".txt") == \
        [(1, ["dz", "a - y", "sigmoid(z) - y"])]
    assert equalities("db = sum(dZ, axis=1) / m\n", ".txt") == [(1, ["db", "sum(dZ, axis=1) / m"])]
    assert equalities("text z = 1\n```math\ndz = a - y\n```\n", ".md") == [(3, ["dz", "a - y"])]


def test_forward_definitions_are_context(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("z = w^T x + b\na = σ(z)\ndz = a - y\n", encoding="utf-8")
    judged = check_derivation(checker("logistic_regression").model, path,
                              checker("logistic_regression"))
    assert [(line.number, line.status) for line in judged.lines] == [(3, RIGHT)]


@pytest.mark.parametrize("text, phrase", [
    ("= a - y\n", "d.txt:1: '= a - y' continues no derivative"),
    ("dq = a - y\n", "d.txt:1: symgrad derives no 'dq'"),
    ("dz = a ∈ y\n", "d.txt:1: character '∈' (U+2208)"),
    ("dz = \n", "d.txt:1: nothing after '=' for dz"),
    ("no math here\n", "no equalities found"),
])
def test_bad_derivations_exit_2_with_one_line(tmp_path, capsys, text, phrase):
    path = tmp_path / "d.txt"
    path.write_text(text, encoding="utf-8")
    spec = str(ROOT / "derivations" / "logistic_regression.toml")
    assert main(["check", spec, str(path)]) == 2
    err = capsys.readouterr().err
    assert phrase in err and err.count("\n") == 1, err


def test_cli_exit_codes_and_json(capsys):
    spec = str(ROOT / "derivations" / "logistic_regression.toml")
    assert main(["check", spec, str(WORKINGS / "logistic_right.tex")]) == 0
    assert "Every line is right." in capsys.readouterr().out
    assert main(["check", spec, str(WORKINGS / "logistic_step.txt"), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["first_wrong_line"] == 5 and data["all_right"] is False
    assert [line["status"] for line in data["lines"]] == [RIGHT] * 3 + [WRONG] + [FOLLOWS] * 2
    assert main(["check", spec, "mine.docx"]) == 2
    assert "expected a derivation" in capsys.readouterr().err


def test_echoed_text_is_escaped(tmp_path, capsys):
    path = tmp_path / "d.txt"
    path.write_text("dz = a + y\ndw = x dz \u202e\n", encoding="utf-8")
    spec = str(ROOT / "derivations" / "logistic_regression.toml")
    assert main(["check", spec, str(path)]) == 2
    err = capsys.readouterr().err
    assert "\u202e" not in err and "U+202E" in err
    path.write_text("dz = a + y\n", encoding="utf-8")
    assert main(["check", spec, str(path)]) == 1


def test_unknown_suffix_refused():
    with pytest.raises(SpecError, match="expected a file ending in"):
        check_derivation(checker("logistic_regression").model, "mine.docx")


def test_a_file_takes_the_claims_time_limit_and_convention(capsys):
    """--time-limit and --convention reach a derivation file's checker as they reach --claim."""
    file = str(WORKINGS / "logistic_right.tex")
    assert main(["check", "logistic_regression", file, "--time-limit", "0"]) == 2
    assert "--time-limit 0: expected a positive number" in capsys.readouterr().err
    assert main(["check", "logistic_regression", file, "--convention", "sideways"]) == 2
    assert "unknown convention 'sideways'" in capsys.readouterr().err
    assert main(["check", "logistic_regression", file, "--convention", "course"]) == 0
