"""``symgrad list`` and shipped models named by their bare name, from any folder."""

import json
import shutil

import pytest

from symgrad.cli.common import resolve_spec, shipped
from symgrad.cli.main import main
from symgrad.printing.resources import shipped_specs


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_and_titles(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(p.stem for p in shipped_specs())
    assert "logistic_regression    Logistic regression as a single neuron" in lines
    starts = {line.index(line.split(maxsplit=1)[1]) for line in lines}
    assert len(starts) == 1  # titles aligned


def test_list_json(capsys):
    code, out, _ = run(capsys, "list", "--format", "json")
    data = json.loads(out)
    assert code == 0 and {"name": "softmax_regression"}.items() <= data[-1].items()
    assert all(set(row) == {"name", "title", "spec"} for row in data)


def test_list_title_escaped(capsys, monkeypatch, tmp_path):
    (tmp_path / "evil.toml").write_text('title = "bad \\u001b[31m red"\n')
    monkeypatch.setattr("symgrad.cli.common.shipped_specs", lambda: [tmp_path / "evil.toml"])
    code, out, _ = run(capsys, "list")
    assert code == 0 and "\x1b" not in out and "\\x1b" in out


@pytest.mark.parametrize("argv", [
    ("derive", "logistic_regression"),
    ("derive", "softmax_regression", "--format", "json"),
    ("check", "logistic_regression", "--claim", "dz = a - y"),
    ("graph", "computation_graph"),
])
def test_bare_name_from_another_folder(capsys, monkeypatch, tmp_path, argv):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == "" and out


def test_codegen_and_prove_by_name(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(capsys, "codegen", "logistic_regression", "-o", "cg.py")
    assert code == 0 and "def backward" in (tmp_path / "cg.py").read_text()
    code, _, _ = run(capsys, "prove", "computation_graph", "-o", "cg.md")
    assert code == 0 and (tmp_path / "cg.md").exists()


def test_a_file_wins_over_a_shipped_name(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    mine = shipped()["logistic_regression"].read_text().replace(
        'name = "logistic_regression"', 'name = "mine"')
    (tmp_path / "logistic_regression").write_text(mine)
    code, out, _ = run(capsys, "derive", "logistic_regression", "--format", "json")
    assert code == 0 and json.loads(out)["model"] == "mine"


def test_never_writes_over_the_shipped_spec(capsys, monkeypatch, tmp_path):
    copy = tmp_path / "derivations"
    shutil.copytree(shipped()["logistic_regression"].parent, copy)
    monkeypatch.setattr("symgrad.cli.common.shipped_specs", lambda: sorted(copy.glob("*.toml")))
    before = (copy / "logistic_regression.toml").read_text()
    code, out, err = run(capsys, "codegen", "logistic_regression",
                         "-o", str(copy / "logistic_regression.toml"))
    assert code == 2 and out == "" and "would write over the input file" in err
    assert (copy / "logistic_regression.toml").read_text() == before


@pytest.mark.parametrize("name", [
    "no_such_model", "../derivations/logistic_regression", "logistic_regression.toml",
    "derivations/logistic_regression", "/logistic_regression", "logistic_regression/",
    "..", "logistic regression", "logistic_regression\n"])
@pytest.mark.parametrize("command", ["derive", "codegen", "verify", "prove", "graph"])
def test_other_names_refused_in_one_line(capsys, monkeypatch, tmp_path, name, command):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, command, name)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "symgrad list" in err and "Traceback" not in err


def test_check_refuses_unknown_name(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "nope", "--claim", "dz = a - y")
    assert code == 2 and out == "" and "symgrad list" in err


def test_resolve_keeps_files_and_looks_names_up():
    assert resolve_spec("logistic_regression").endswith("logistic_regression.toml")
    with pytest.raises(Exception, match="symgrad list"):
        resolve_spec("../logistic_regression")
