"""dropout(u, keep_prob) in a spec: what it becomes, and each misuse refused with one line.

What it becomes: ``D*u/keep_prob`` with D a keep-mask named by symgrad (d1, d2, ...; d[l] in a
stack), a binary input that the derivation treats as a constant (course 2, week 1, inverted
dropout). Each refusal goes through the command line: exit code 2, one line naming the file,
the line and what was expected, no traceback.
"""

import subprocess
import sys

import pytest
import sympy as sp

import symgrad

HEAD = """\
name = "dropped"
[dims]
n_x = "features"
n_h = "hidden units"
[inputs]
x = "vector(n_x)"
y = "binary"
[parameters]
W1 = "matrix(n_h, n_x)"
W2 = "matrix(1, n_h)"
"""
GOOD_KEEP = '[hyperparameters]\nkeep_prob = { default = 0.8, domain = "(0, 1]" }\n'
TAIL = """\
z2 = "W2 @ h"
a = "sigmoid(z2)"
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L)"
"""


def spec(node, hyper=GOOD_KEEP, extra=""):
    return HEAD + hyper + extra + '[graph]\nz1 = "W1 @ x"\n' + f'h = "{node}"\n' + TAIL


def test_the_mask_is_an_input_and_the_derivative_comes_out_of_diff():
    model = symgrad.loads(spec("dropout(relu(z1), keep_prob)"))
    d1, keep, z1 = (sp.Symbol(n, real=True) for n in ("d1", "keep_prob", "z1"))
    assert [v.name for v in model.masks] == ["d1"]
    (node,) = [n for n in model.nodes if n.name == "h"]
    assert sp.simplify(node.expr - d1 * sp.Function("relu")(z1) / keep).has(d1)
    dz1 = model.derive().per_example["dz1"]
    # d h / d z1 = d1 * relu'(z1) / keep_prob: zero where the mask drops the unit
    assert dz1.subs(d1, 0) == 0
    assert dz1.has(keep) and dz1.has(d1)


@pytest.mark.parametrize("node, hyper, extra, expected", [
    ("dropout(relu(z1), 0.8)", GOOD_KEEP, "",
     "keep probability '0.8' must be a hyperparameter"),
    ("dropout(relu(z1), keep_prob)", '[hyperparameters]\nkeep_prob = "probability"\n', "",
     'domain "(0, 1]"'),
    ("dropout(relu(z1), keep_prob)", GOOD_KEEP, '[constants]\nc = "scalar"\n', None),
    ("2*dropout(relu(z1), keep_prob)", GOOD_KEEP, "", "must be the whole of its node"),
    ("dropout(W1, keep_prob)", GOOD_KEEP, "", "must be a per-example scalar or vector"),
    ("dropout(relu(z1), keep_prob)", GOOD_KEEP, '[labels]\nd1 = "binary"\n',
     "taken by the keep-mask 'd1'"),
])
def test_misuse_is_one_clear_line(tmp_path, node, hyper, extra, expected):
    path = tmp_path / "dropped.toml"
    text = spec(node, hyper, extra)
    if "[labels]" in extra:  # y moves to [labels], next to the clashing name
        text = text.replace('y = "binary"\n', "", 1).replace('d1 = "binary"\n',
                                                             'd1 = "binary"\ny = "binary"\n')
    path.write_text(text)
    run = subprocess.run([sys.executable, "-m", "symgrad.cli.main", "derive", str(path)],
                         capture_output=True, text=True, timeout=120)
    if expected is None:  # a well-formed spec with a constant besides: accepted
        assert run.returncode == 0, run.stderr
        return
    assert run.returncode == 2, run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert str(path) in lines[0] and expected in lines[0]
    assert "line" in lines[0]


def test_a_stack_takes_one_dropout_in_its_hidden_layer(tmp_path):
    path = tmp_path / "stack.toml"
    path.write_text("""\
name = "stack"
[dims]
n_x = "features"
[inputs]
x = "vector(n_x)"
y = "binary"
[hyperparameters]
keep_prob = { default = 0.8, domain = "(0, 1]" }
[layers]
input = "x"
depth = 3
output_size = 1
[layers.parameters]
W = "matrix(n_l, n_prev)"
[layers.hidden]
z = "W @ a_prev"
a = "dropout(relu(z), keep_prob)"
[layers.output]
z = "W @ a_prev"
a = "dropout(sigmoid(z), keep_prob)"
[graph]
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L)"
""")
    run = subprocess.run([sys.executable, "-m", "symgrad.cli.main", "derive", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "one dropout(...), in [layers.hidden]" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
