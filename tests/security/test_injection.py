"""Spec files and claims come from strangers: their text is data in every output, never code.

Each attack is a spec whose free text (its title, a description, a comment inside an
expression, its file's own name) carries a payload that creates the file MARKER where it runs.
No command may run it: not codegen and an import of the module, not verify (which imports the
module), not prove (LaTeX and Markdown) nor graph (DOT and SVG). A model's name is an
identifier, and names that collide with what the derivation or the module makes are refused:
one line on stderr naming the key, exit code 2. Control characters never reach a terminal raw.
"""

import json

import pytest

from symgrad.cli.main import main
from symgrad.code.context import TEMPLATE_NAMES
from symgrad.code.verify import load_module
from symgrad.model import naming
from symgrad.model.escape import latex_text, markdown_text

MARKER = "pwned"
RUN = f'__import__("pathlib").Path("{MARKER}").touch()'
BREAKOUT = f'x""";{RUN};"""'  # ends the docstring, runs the payload, opens another
TEX = r"\immediate\write18{touch pwned}\input{/etc/passwd} $x$ % # & _ ^ ~"
MARKDOWN = "<script>alert(1)</script> [a](javascript:alert(1)) | *b* `c`"
CONTROL = "\x1b[2J\x1b]0;title\x07\r\u202e"  # clear, set the title, bell, return, bidi
RAW = "\x1b\x07\r\u202e"  # its characters that must never be written raw


def raw(text) -> bool:
    return any(ch in text for ch in RAW)

ATTACKS = {
    "title": {"title": BREAKOUT},
    "title with newlines": {"title": f'x\n""";\n{RUN};\n"""\n{CONTROL}'},
    "model description": {"description": f'x\n""";\n{RUN};\n"""\n{CONTROL}'},
    "hyperparameter description": {"lambd": f'{BREAKOUT}\n");{RUN};("\\'},
    "dimension description": {"n_x": f'{BREAKOUT}\n{RUN}\n{TEX}'},
    "comment in an expression": {"z": f'w @ x + b  # """;{RUN};"""'},
}
EVERYTHING = {"title": f"{BREAKOUT} {TEX} {MARKDOWN} {CONTROL}",
              "description": f"{TEX} {MARKDOWN} {BREAKOUT} {CONTROL}",
              "n_x": f"{BREAKOUT} {TEX} {MARKDOWN}",
              "lambd": f'x");{RUN};(" {TEX} {MARKDOWN}',
              "z": f'w @ x + b  # """;{RUN};""" {TEX} the comment'}
FILE_NAMES = (f'x"""; {RUN}; """', "it's \"quoted\"\nand\rnew'''lined")


def spec_text(**fields) -> str:
    """Regularised logistic regression, with ``fields`` replaced (name=None: no name)."""
    v = {"name": "lr", "title": "Logistic regression", "description": "A single neuron.",
         "n_x": "number of features",
         "lambd": "regularisation strength", "z": "w @ x + b", **fields}
    q = json.dumps  # a TOML basic string, whatever the text
    name = "" if v["name"] is None else f"name = {q(v['name'])}\n"
    return f"""{name}title = {q(v["title"])}
description = {q(v["description"])}
[dims]
n_x = {q(v["n_x"])}
[inputs]
x = "vector(n_x)"
y = "binary"
[parameters]
w = "vector(n_x)"
b = "scalar"
[hyperparameters]
lambd = {q(v["lambd"])}
[graph]
z = {q(v["z"])}
a = "sigmoid(z)"
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L) + lambd/(2*m) * sum(w**2)"
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    """The commands run in tmp_path, where the payload would leave its MARKER."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def untouched(folder) -> bool:
    return not (folder / MARKER).exists()


# ----- the payloads: codegen and import, verify, prove, graph


@pytest.mark.parametrize("attack", ATTACKS)
def test_codegen_and_importing_the_module_run_no_payload(attack, here, capsys):
    (here / "spec.toml").write_text(spec_text(**ATTACKS[attack]), encoding="utf-8")
    assert run(capsys, "codegen", "spec.toml", "-o", "model.py")[0] == 0
    text = (here / "model.py").read_text(encoding="utf-8")
    module = load_module(here / "model.py")
    assert untouched(here)
    assert not raw(text), "a control character written raw"
    if attack == "title":
        assert module.__doc__.startswith(f"{BREAKOUT}.")  # the text, as text
    if attack == "comment in an expression":
        assert "#" not in module.__doc__ and RUN not in text  # printed from the parsed tree
        assert "z = b + w.T @ x" in module.__doc__


@pytest.mark.slow
@pytest.mark.parametrize("attack", ATTACKS)
def test_verify_runs_no_payload(attack, here, capsys):
    (here / "spec.toml").write_text(spec_text(**ATTACKS[attack]), encoding="utf-8")
    code, out, _ = run(capsys, "verify", "spec.toml", "--trials", "1")
    assert code == 0, out
    assert untouched(here)


@pytest.mark.slow
def test_prove_and_graph_run_no_payload_and_show_the_text_escaped(here, capsys):
    (here / "spec.toml").write_text(spec_text(**EVERYTHING), encoding="utf-8")
    for output in ("proof.tex", "proof.md", "graph.dot", "graph.svg"):
        command = "prove" if output.startswith("proof") else "graph"
        assert run(capsys, command, "spec.toml", "-o", output)[0] == 0, output
    assert untouched(here)
    tex = (here / "proof.tex").read_text(encoding="utf-8")
    md = (here / "proof.md").read_text(encoding="utf-8")
    for text in (EVERYTHING["title"], EVERYTHING["description"], EVERYTHING["n_x"]):
        assert latex_text(text) in tex and markdown_text(text) in md
    assert r"\write18" not in tex and r"\input{/etc" not in tex
    assert "<script>" not in md and "[a](javascript" not in md
    for output in (tex, md, (here / "graph.dot").read_text(encoding="utf-8")):
        assert not raw(output)
        assert "the comment" not in output  # printed from the parsed tree, not as typed
    assert r"\textbackslash{}x1b" in tex and r"\\x1b" in md  # shown, not obeyed


@pytest.mark.parametrize("file_name", FILE_NAMES, ids=["triple quotes", "quotes and newlines"])
@pytest.mark.parametrize("named", [True, False], ids=["name", "no name"])
def test_a_spec_file_name_runs_no_payload(file_name, named, here, capsys):
    spec = here / f"{file_name}.toml"
    spec.write_text(spec_text(**({} if named else {"name": None})), encoding="utf-8")
    assert run(capsys, "codegen", spec, "-o", "model.py")[0] == 0
    load_module(here / "model.py")
    assert untouched(here)


@pytest.mark.slow
@pytest.mark.parametrize("file_name", FILE_NAMES, ids=["triple quotes", "quotes and newlines"])
def test_verify_prove_and_graph_of_a_strange_file_name(file_name, here, capsys):
    spec = here / f"{file_name}.toml"
    spec.write_text(spec_text(name=None), encoding="utf-8")
    assert run(capsys, "verify", spec, "--trials", "1")[0] == 0
    code, out, _ = run(capsys, "prove", spec)  # the default output: <name>.tex, here
    assert code == 0
    assert out.strip() == f"{naming.identifier(file_name)}.tex"
    assert (here / out.strip()).is_file()
    for output in ("proof.md", "graph.svg"):
        command = "prove" if output.startswith("proof") else "graph"
        assert run(capsys, command, spec, "-o", output)[0] == 0, output
    assert untouched(here)
    tex = (here / out.strip()).read_text(encoding="utf-8")
    assert latex_text(str(spec)) in tex


# ----- names: identifiers, and no collision with what symgrad makes of them


def refused(capsys, key, *argv) -> str:
    """stderr of a command refused with exit code 2: one line, naming ``key``."""
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert key is None or f": {key}: " in err, err
    return err


@pytest.mark.parametrize("value", ["42", '""', "[1, 2]", '"../../x"', '"J\\n"', '"x\\"\\"\\""',
                                   "true", '"lambda"', '"a b"'])
def test_a_name_that_is_no_identifier_is_refused(value, here, capsys):
    text = spec_text().replace('name = "lr"', f"name = {value}")
    (here / "spec.toml").write_text(text, encoding="utf-8")
    refused(capsys, "name", "prove", "spec.toml")  # which would write <name>.tex
    assert sorted(p.name for p in here.iterdir()) == ["spec.toml"]


def test_a_file_name_makes_a_valid_name_where_the_spec_has_none():
    assert naming.identifier('x"""; __import__("os")') == "x___import___os"
    assert naming.identifier("../../x") == "x" and naming.identifier("2nd") == "model_2nd"
    assert all(naming.is_valid(naming.identifier(n)) for n in FILE_NAMES + ("", "é", "class"))


COLLISIONS = {  # what is renamed in the spec -> the key the error names
    "a node named after a derivative": (("a = ", "dz = "), ("log(a)", "log(dz)"),
                                        ("log(1 - a)", "log(1 - dz)"), ("graph.dz",)),
    "a parameter named after a stacked derivative": (('b = "scalar"', 'dZ = "scalar"'),
                                                     (" + b", " + dZ"), ("graph.z",)),
    "a derivative named like a SymPy function": (("z = ", "iff = "), ("sigmoid(z)", "sigmoid(iff)"),
                                                 ("graph.iff",)),
    "a dimension named m": (("n_x = ", "m = "), ("(n_x)", "(m)"), ("dims.m",)),
}


@pytest.mark.parametrize("case", COLLISIONS)
def test_names_that_collide_with_derivatives_are_refused(case, here, capsys):
    *edits, (key,) = COLLISIONS[case]
    text = spec_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    (here / "spec.toml").write_text(text, encoding="utf-8")
    refused(capsys, key, "derive", "spec.toml")


@pytest.mark.parametrize("name", ["E", "I", "S", "N", "O", "Q", "pi", "oo", "zoo", "nan", "beta",
                                  "gamma", "zeta", "ln", "re", "im", "max", "input"])
def test_names_that_sympy_reads_as_its_own_are_refused(name, here, capsys):
    text = spec_text().replace("lambd", name)
    (here / "spec.toml").write_text(text, encoding="utf-8")
    refused(capsys, f"hyperparameters.{name}", "derive", "spec.toml")


TAKEN = ["learning_rate", "num_iterations", "print_cost", "seed", "data", "save", "iterations",
         "command", "costs", "grads", "params", "np"]


def test_the_names_the_module_takes_are_one_list():
    assert set(TAKEN) <= TEMPLATE_NAMES


@pytest.mark.parametrize("name", [pytest.param(n, marks=[] if n in ("seed", "data") else
                                               [pytest.mark.slow]) for n in TAKEN])
def test_hyperparameters_named_like_the_modules_own_names_are_refused(name, here, capsys):
    text = spec_text().replace("lambd", name)
    (here / "spec.toml").write_text(text, encoding="utf-8")
    refused(capsys, f"hyperparameters.{name}", "codegen", "spec.toml", "-o", "model.py")
    assert not (here / "model.py").exists()


def test_a_hidden_size_named_like_an_option_of_the_module_is_refused(here, capsys):
    text = spec_text().replace('w = "vector(n_x)"', 'w = "vector(n_x)"\nv = "vector(seed)"')
    text = text.replace("[dims]\n", '[dims]\nseed = "a size that becomes the option --seed"\n')
    text = text.replace("+ b", "+ b + sum(v)")
    (here / "spec.toml").write_text(text, encoding="utf-8")
    refused(capsys, "dims.seed", "codegen", "spec.toml", "-o", "model.py")


# ----- terminals: control characters are shown, never obeyed


def test_no_raw_control_character_reaches_stderr(here, capsys):
    spec = here / f"evil{CONTROL}.toml"
    spec.write_text(spec_text(z=f"w @ x + q{CONTROL}"), encoding="utf-8")
    err = refused(capsys, "graph.z", "derive", spec)
    assert not raw(err), repr(err)
    assert "\\x1b[2J" in err and "\\u202e" in err


@pytest.mark.parametrize("argv", [
    ["derive"],
    pytest.param(["check", "--claim", f"dz = a - y  # {CONTROL}"], marks=pytest.mark.slow)])
def test_no_raw_control_character_reaches_stdout(argv, here, capsys):
    (here / "spec.toml").write_text(spec_text(title=f"T{CONTROL}"), encoding="utf-8")
    code, out, err = run(capsys, argv[0], "spec.toml", *argv[1:])
    assert code == 0, err
    assert not raw(out + err), repr(out)
    assert "\\x1b" in out


def test_a_missing_file_with_control_characters_is_one_escaped_line(here, capsys):
    err = refused(capsys, None, "derive", f"no\nsuch{CONTROL}.toml").rstrip("\n")
    assert not raw(err) and "\n" not in err
