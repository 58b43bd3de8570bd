"""No input hangs: deriving and checking finish within their time budgets, or say they gave up.

Nested activations (``tanh(tanh(...(z)...))``) and exponent towers (``((a - y)**64)**16``) once
took minutes: SymPy multiplied out products of 2**n terms and asked of every level of a nest
whether it was real. What is left of such work is bounded by :mod:`symgrad.calculus.budget`.
"""

import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.calculus import derivation, numeric
from symgrad.calculus.budget import OutOfTime, checkpoint, limit
from symgrad.calculus.chain import adjoint_symbol
from symgrad.claims.checker import NOT_PROVEN, PROVEN, REFUTED, Checker
from symgrad.cli.main import main
from symgrad.model.errors import SpecError
from symgrad.model.ops import matmul, transpose

ROOT = Path(__file__).resolve().parents[2]
LOGISTIC = str(ROOT / "derivations/logistic_regression.toml")


def nest(depth, inner="z"):
    for _ in range(depth):
        inner = f"tanh({inner})"
    return inner


def nested_tanh_spec(depth):
    return f"""
name = "nested_tanh"
[dims]
n_x = "number of input features"
[inputs]
x = "vector(n_x)"
y = "binary"
[parameters]
w = "vector(n_x)"
b = "scalar"
[graph]
z = "w @ x + b"
a = "{nest(depth)}"
L = "-(y*log(a) + (1 - y)*log(1 - a))"
[cost]
J = "mean(L)"
"""


@pytest.fixture(scope="module")
def logistic():
    return Checker(symgrad.load(LOGISTIC))


# ----- the budget itself -----


def test_a_limit_stops_work_that_never_reaches_a_checkpoint():
    start = time.monotonic()
    with pytest.raises(OutOfTime, match="gave up after 0.05 s"):
        with limit(0.05):
            while True:
                pass
    assert time.monotonic() - start < 2
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


def test_out_of_time_is_no_ordinary_exception():
    with pytest.raises(OutOfTime):
        with limit(0.05):
            try:
                while True:
                    pass
            except Exception:  # what a library may do with its own failures
                pass


def test_limits_nest_and_the_outer_timer_is_restored():
    with limit(30):
        with pytest.raises(OutOfTime, match="0.05 s"):
            with limit(0.05):
                while True:
                    pass
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20 < left <= 30
        with limit(60):  # a later deadline than the enclosing one: the enclosing one rules
            assert signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_off_the_main_thread_work_stops_at_a_checkpoint():
    caught = []

    def work():
        try:
            with limit(0.05):
                while True:
                    checkpoint()
        except OutOfTime as out:
            caught.append(out)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and len(caught) == 1


# ----- the causes, fixed -----


def test_structural_operations_of_real_arrays_are_real():
    x, w = sp.symbols("x w", real=True)
    assert transpose(x).is_real and matmul(w, x).is_real
    assert sp.tanh(sp.tanh(transpose(x))).is_real


def test_numbers_for_a_deep_nest_keep_the_symbols_real():
    z = sp.Symbol("z[l]", real=True)  # not a Python name: lambdify renames it
    expr = z
    for _ in range(12):
        expr = sp.tanh(expr)
    start = time.monotonic()
    value = numeric.evaluate(expr, {z: 0.5})
    assert time.monotonic() - start < 5
    assert value == pytest.approx(_tanh_nest(0.5, 12))


def _tanh_nest(v, depth):
    for _ in range(depth):
        v = np.tanh(v)
    return v


# ----- derive -----


def test_a_nest_of_12_tanh_derives_in_seconds_and_right():
    start = time.monotonic()
    d = symgrad.loads(nested_tanh_spec(12)).derive()
    assert time.monotonic() - start < 10
    dz = d.per_example["dz"]
    assert sum(1 for f in sp.Mul.make_args(dz) if f.is_Add) >= 12  # a product, not 2**12 terms
    graph, steps = d.per_example_graph, d.per_example_steps
    rng = np.random.default_rng(0)
    sizes = numeric.sizes_for(graph.shapes, rng)
    env = numeric.with_adjoints(graph, steps, numeric.draw(graph, rng, sizes), sizes)
    for leaf in graph.leaves:
        fd = numeric.finite_difference(graph, env, leaf)
        got = np.broadcast_to(env[adjoint_symbol(leaf)], fd.shape)
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7, err_msg=str(leaf))


def test_derive_past_its_budget_is_refused_with_one_line(monkeypatch, tmp_path, capsys):
    spec = tmp_path / "nested.toml"
    spec.write_text(nested_tanh_spec(4))
    monkeypatch.setattr(derivation, "DERIVE_LIMIT", 1e-6)
    with pytest.raises(SpecError, match="gave up after 1e-06 s"):
        symgrad.load(spec).derive()
    assert main(["derive", str(spec)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "deriving it gave up" in err


# ----- check -----


@pytest.mark.parametrize("claim, allowed", [
    (f"dz = {nest(8)}", {REFUTED}),
    (f"dz = a - y + ({nest(7)}**2 - 1)/({nest(7)} - 1) - {nest(7)} - 1", {PROVEN}),
    (f"dz = a - y + tanh(2*{nest(6)}) - 2*{nest(7)}/(1 + {nest(7)}**2)", {PROVEN, NOT_PROVEN}),
], ids=["8 tanh, wrong", "7 tanh, cancels", "6 tanh, an identity"])
def test_deep_claims_get_a_verdict_within_the_budget(logistic, claim, allowed):
    start = time.monotonic()
    verdict = logistic.check(claim)
    assert time.monotonic() - start < logistic.time_limit + 2
    assert verdict.status in allowed


def test_running_out_of_time_is_not_proven(logistic):
    hard = f"dz = a - y + tanh(2*{nest(2)}) - 2*{nest(3)}/(1 + {nest(3)}**2)"  # true; seconds
    checker = Checker(logistic.model, logistic.derivation, time_limit=0.2)
    start = time.monotonic()
    verdict = checker.check(hard)
    assert time.monotonic() - start < 2
    assert verdict.status == NOT_PROVEN and not verdict.proven
    assert "gave up after 0.2 s" in verdict.text() and verdict.text().startswith("?")
    assert verdict.to_json()["verdict"] == "not proven"
    assert checker.check("dz = a - y").proven  # the next claim gets its own budget


@pytest.mark.parametrize("tower", ["((a - y)**64)**16", "(((a - y)**64)**64)**64"])
def test_exponent_towers_are_refused_before_any_work(capsys, tower):
    start = time.monotonic()
    code = main(["check", LOGISTIC, "--claim", f"dz = a - y + {tower}"])
    out, err = capsys.readouterr()
    assert time.monotonic() - start < 5
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "expected an exponent of at most 64" in err


def test_the_command_line_says_it_gave_up(capsys):
    hard = f"dz = a - y + tanh(2*{nest(2)}) - 2*{nest(3)}/(1 + {nest(3)}**2)"  # true; seconds
    start = time.monotonic()
    code = main(["check", LOGISTIC, "--claim", hard, "--time-limit", "0.3"])
    out = capsys.readouterr().out
    assert time.monotonic() - start < 5
    assert code == 1 and out.startswith("? ") and "gave up after 0.3 s" in out


@pytest.mark.parametrize("seconds", ["0", "-1", "nan"])
def test_a_bad_time_limit_exits_2_with_one_line(capsys, seconds):
    code = main(["check", LOGISTIC, "--claim", "dz = a - y", "--time-limit", seconds])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "expected a positive number of seconds" in err


def test_prove_past_its_budget_is_refused_with_one_line(tmp_path):
    """A 12-deep tanh nest derives in seconds, but checking every line of its proof takes
    minutes: prove gives up within its budget, with one line."""
    from symgrad.proof.build import prove

    spec = tmp_path / "nest.toml"
    spec.write_text(nested_tanh_spec(12))
    derivation = symgrad.load(spec).derive()
    start = time.monotonic()
    with pytest.raises(SpecError, match="proving it gave up after 1 s"):
        prove(derivation, seconds=1)
    assert time.monotonic() - start < 5
