"""clip(u, lo, hi): its bounds are numbers or hyperparameters, in order (issue 12). A spec that
breaks this is refused with one line naming the file, the line and the key; the generated
module refuses hyperparameter values that put lo above hi."""

import pytest

import symgrad
from symgrad.cli.main import main

SPEC = """name = "clipped"
[dims]
n_x = "number of input features"
[inputs]
x = "vector(n_x)"
[labels]
y = "real"
[parameters]
w = "vector(n_x)"
b = "scalar"
[hyperparameters]
c = {{ default = 1.0, domain = "positive", description = "the bound" }}
lo = "lower bound"
[graph]
z = "w @ x + b"
a = "{clip}"
L = "(a - y)**2/2"
[cost]
J = "mean(L)"
"""


def write(tmp_path, clip):
    path = tmp_path / "clipped.toml"
    path.write_text(SPEC.format(clip=clip), encoding="utf-8")
    return path


@pytest.mark.parametrize("clip, message", [
    ("clip(z, 1, -1)", "clip's bounds are in the wrong order: lo = 1 is above hi = -1; "
                       "expected lo <= hi"),
    ("clip(z, 0.5, 1/4)", "lo = 1/2 is above hi = 1/4"),
    ("clip(z, x, 1)", "clip's bound lo depends on 'x'; expected a number or an expression of "
                      "the hyperparameters"),
    ("clip(z, -1, y)", "clip's bound hi depends on 'y'"),
    ("clip(z, -c, w @ x)", "clip's bound hi depends on 'w'"),
    ("clip(z, z, 1)", "clip's bound lo depends on 'z'"),
])
def test_bad_bounds_are_refused(tmp_path, capsys, clip, message):
    path = write(tmp_path, clip)
    with pytest.raises(symgrad.SpecError) as err:
        symgrad.load(path)
    assert str(err.value).startswith(f"{path}:16: graph.a: "), str(err.value)
    assert message in str(err.value)
    assert main(["derive", str(path)]) == 2
    out = capsys.readouterr()
    assert out.err.count("\n") == 1 and message in out.err and "Traceback" not in out.err


@pytest.mark.parametrize("clip", ["clip(z, -1, 1)", "clip(z, 2, 2)", "clip(z, -c, c)",
                                  "clip(z, lo, c + 1)"])
def test_numbers_and_hyperparameters_are_bounds(tmp_path, clip):
    assert symgrad.load(write(tmp_path, clip)).derive().per_example["dz"] is not None
