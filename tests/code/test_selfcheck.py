"""codegen's self-check: a generated module that does not compile, reads a name nothing
defines, fails to run or disagrees with finite differences is never handed out."""

import functools
from pathlib import Path

import pytest

import symgrad
import symgrad.code.render
from symgrad.cli.main import main
from symgrad.code.render import render
from symgrad.code.selfcheck import self_check, undefined_names
from symgrad.model.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
SPECS = {"logistic_regression": ROOT / "derivations" / "logistic_regression.toml",
         "dropout_mask": ROOT / "tests" / "catalogue" / "dropout_mask.toml"}


@functools.cache
def derivation(name):
    return symgrad.loads(SPECS[name].read_text(encoding="utf-8"), source=f"{name}.toml").derive()


@functools.cache
def unchecked(name):
    return render(derivation(name), check=False)


# ----- undefined_names -----


def test_a_name_defined_nowhere_is_found():
    assert undefined_names("def f(x):\n    return x + y\n") == ["y (line 2, in f)"]
    assert undefined_names("def f():\n    def g():\n        return q\n    return g\n") == [
        "q (line 3, in g)"]
    assert undefined_names("def f():\n    return [a for a in b]\n") == ["b (line 2, in f)"]


@pytest.mark.parametrize("source", [
    "def f(x, *args, y=1, **kw):\n    return x, args, y, kw\n",  # arguments
    "import numpy as np\nfrom os import path\n\n\ndef f():\n    return np, path\n",  # imports
    "def f():\n    import math\n    return math.pi\n",  # an import inside
    "def f():\n    return len(range(3)), ValueError, print\n",  # builtins
    "N = 3\n\n\ndef f():\n    return N + g()\n\n\ndef g():\n    return 1\n",  # the module's
    "def f(x):\n    def g(z):\n        return x + z + h\n    h = 1\n    return g(1)\n",  # nested
    "def f(xs):\n    return [x * y for x in xs for y in xs], {k: v for k, v in xs}\n",
    "def f():\n    return (lambda u, v=2: u + v)(1)\n",  # a lambda's arguments
    "def f():\n    try:\n        pass\n    except ValueError as err:\n        return err\n",
    "def f(a):\n    for i, (j, k) in a:\n        total = i + j + k\n    return total\n",
    "def f():\n    with open('x') as handle:\n        return handle\n",
    "class C:\n    def f(self):\n        return self, C\n",  # a class and its methods
])
def test_names_that_are_defined_are_not_reported(source):
    assert undefined_names(source) == []


# ----- self_check -----


def refusal(name, text):
    with pytest.raises(SpecError) as error:
        self_check(derivation(name), text)
    message = str(error.value)
    assert message.startswith(f"{name}.toml: codegen's self-check of the generated module "
                              "failed: ") and "\n" not in message, message
    assert message.endswith("; no file was written (please report this as a symgrad bug)")
    return message


def test_a_real_module_passes():
    for name in SPECS:
        self_check(derivation(name), unchecked(name))


DZ = "    dZ = A - Y\n"  # backward's first line (the docstring has it too, 4 columns in)


@pytest.mark.parametrize("old, new, message", [
    (DZ, "    dZ = A - Y +\n", "it does not compile (invalid syntax, line "),
    (DZ, "    dZ = A - Y_\n", "name Y_ (line "),
    (DZ, "    dZ = A - Y[0, 999]\n",
     "forward, backward or compute_cost raised IndexError: index 999 is out of bounds"),
    (DZ, "    dZ = A + Y\n", "backward()'s dw differs from finite differences of compute_cost "
                           "(relative error "),
    ("    db = xp.sum(dZ) / m\n", "    db = xp.sum(dZ) / m * 2\n",
     "backward()'s db differs from finite differences"),
    ('        "db": db,\n', "", "backward() returns no db"),
    ("import numpy as np\n", "import numpy as np\n\nnp.seterr(all='raise')\nraise OSError\n",
     "importing it raised OSError"),
])
def test_a_broken_module_is_refused_in_one_line(old, new, message):
    text = unchecked("logistic_regression")
    start = text.index("def backward(") if old == DZ else 0
    assert text.count(old, start) == 1
    text = text[:start] + text[start:].replace(old, new)
    assert message in refusal("logistic_regression", text)


def test_a_wrong_gradient_of_a_named_module_is_refused():
    text = unchecked("dropout_mask")
    old = "    dZ1 = D * astype(Z1 > 0, Z1.dtype) * (W2.T @ dZ2)\n"  # the mask forgotten
    assert text.count(old) == 1
    message = refusal("dropout_mask", text.replace(old, old.replace("D * ", "")))
    assert "backward()'s dW1 differs from finite differences" in message


# ----- the command -----


class Broken:
    """A Jinja environment whose every template renders a module that does not compile."""

    def get_template(self, name):
        return self

    def render(self, **context):
        return "def forward(params, X:\n"


def test_codegen_writes_nothing_where_the_self_check_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(symgrad.code.render, "environment", Broken)
    spec = SPECS["logistic_regression"]
    out = tmp_path / "train.py"
    assert main(["codegen", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad: error: ") and err.count("\n") == 1, err
    assert "self-check of the generated module failed: it does not compile" in err
    assert not out.exists()
    out.write_text("# mine\n")
    assert main(["codegen", str(spec), "-o", str(out)]) == 2
    assert main(["codegen", str(spec)]) == 2  # nor to stdout
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 2
    assert out.read_text() == "# mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]


def test_codegen_refuses_a_module_whose_gradient_is_wrong(tmp_path, capsys, monkeypatch):
    original = symgrad.code.render.environment

    class Wrong:
        def get_template(self, name):
            template = original().get_template(name)
            return type("T", (), {"render": lambda _, **c: template.render(**c).replace(
                "    dZ = A - Y\n", "    dZ = 2 * (A - Y)\n")})()

    monkeypatch.setattr(symgrad.code.render, "environment", Wrong)
    out = tmp_path / "train.py"
    assert main(["codegen", str(SPECS["logistic_regression"]), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "differs from finite differences" in err, err
    assert not out.exists()
