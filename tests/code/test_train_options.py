"""train()'s options in the generated module (optimizers, mini-batches, learning-rate decay,
validation, early stopping, progress, Ctrl-C) and the command line's: on a plain model (the
shallow network) and a model of named inputs (the catalogue's weighted least squares)."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from symgrad.code.render import render_spec
from symgrad.code.verify import load_module

from .conftest import ROOT

OPTIMIZERS = {"gd": 1.0, "momentum": 1.0, "rmsprop": 0.01, "adam": 0.01}  # learning rates


@pytest.fixture(scope="module")
def shallow(generated_script):
    return load_module(generated_script("shallow_network"))


@pytest.fixture(scope="module")
def wls(tmp_path_factory):
    path = tmp_path_factory.mktemp("named") / "weighted_least_squares.py"
    spec = ROOT / "tests" / "catalogue" / "weighted_least_squares.toml"
    path.write_text(render_spec(spec), encoding="utf-8")
    return load_module(path)


def circles(m=240, seed=0):
    """Two classes that no line separates: the inside and the outside of a circle."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2, m))
    return X, (np.sum(X**2, axis=0, keepdims=True) > 1.4).astype(float)


def weighted(m=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, m))
    inputs = {"x": x, "wt": rng.uniform(0.5, 2.0, size=(1, m))}
    return inputs, {"y": np.array([[1.5, -2.0, 0.5]]) @ x + 0.3}


@pytest.mark.parametrize("mini_batch_size", [None, 32])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_lowers_the_cost(shallow, optimizer, mini_batch_size):
    X, Y = circles()
    params, costs = shallow.train(X, Y, num_iterations=201, learning_rate=OPTIMIZERS[optimizer],
                                  optimizer=optimizer, mini_batch_size=mini_batch_size,
                                  cost_every=50)
    assert len(costs) == 5
    assert shallow.compute_cost(params, X, Y) < 0.92 * costs[0]


@pytest.mark.parametrize("mini_batch_size", [None, 16])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_lowers_the_cost_of_named_inputs(wls, optimizer, mini_batch_size):
    inputs, labels = weighted()
    rate = {"gd": 0.1, "momentum": 0.1}.get(optimizer, 0.05)
    params, costs = wls.train(inputs, labels, num_iterations=101, learning_rate=rate,
                              optimizer=optimizer, mini_batch_size=mini_batch_size)
    assert isinstance(params["b"], float) or np.ndim(params["b"]) == 0
    assert wls.compute_cost(params, inputs, labels) < 0.05 * costs[0]


def test_named_mini_batches_take_the_same_examples_of_every_array(wls):
    inputs, labels = weighted(m=23)
    inputs["wt"] = np.arange(23.0).reshape(1, -1)
    labels = {"y": 100 + inputs["wt"]}
    batches = wls.random_mini_batches(inputs, labels, 5, seed=3)
    assert [b[0]["x"].shape[1] for b in batches] == [5, 5, 5, 5, 3]
    columns = np.concatenate([b[0]["wt"][0] for b in batches]).astype(int)
    assert sorted(columns) == list(range(23))
    for batch_inputs, batch_labels in batches:
        index = batch_inputs["wt"][0].astype(int)
        assert (batch_inputs["x"] == inputs["x"][:, index]).all()
        assert (batch_labels["y"] == 100 + batch_inputs["wt"]).all()


def test_gradient_descent_is_unchanged(shallow):
    """Without options, train() is the gradient descent it was: propagate, then
    update_parameters, the cost recorded every 100 iterations before the update."""
    X, Y = circles(m=50)
    start = shallow.initialize_parameters({"n_x": 2, "n_h": 4}, "random", seed=1)
    params, costs = shallow.train(X, Y, num_iterations=201, learning_rate=0.5, params=start)
    expected, expected_costs = start, []
    for i in range(201):
        grads, cost = shallow.propagate(expected, X, Y)
        if i % 100 == 0:
            expected_costs.append(cost)
        expected = shallow.update_parameters(expected, grads, 0.5)
    assert costs == expected_costs
    assert all((params[k] == expected[k]).all() for k in params)


@pytest.mark.parametrize("optimizer", ["momentum", "rmsprop", "adam"])
def test_a_step_for_each_mini_batch_and_adams_t_counts_the_steps(shallow, optimizer):
    """train() is the course's model(): random_mini_batches(X, Y, size, seed + epoch), then a
    step of the optimizer for each mini-batch, Adam's t counting every step."""
    X, Y = circles(m=50)
    start = shallow.initialize_parameters({"n_x": 2, "n_h": 4}, "random", seed=1)
    params, _ = shallow.train(X, Y, num_iterations=3, learning_rate=0.05, params=start,
                              seed=7, optimizer=optimizer, mini_batch_size=20, beta=0.8,
                              beta1=0.85, beta2=0.99, epsilon=1e-6)
    expected, t = start, 0
    v, s = shallow.initialize_adam(start)
    for epoch in range(3):
        for X_batch, Y_batch in shallow.random_mini_batches(X, Y, 20, seed=7 + epoch):
            grads, _ = shallow.propagate(expected, X_batch, Y_batch)
            if optimizer == "momentum":
                expected, v = shallow.update_parameters_with_momentum(expected, grads, v, 0.8,
                                                                      0.05)
            elif optimizer == "rmsprop":
                expected, s = shallow.update_parameters_with_rmsprop(expected, grads, s, 0.99,
                                                                     0.05, 1e-6)
            else:
                t += 1
                expected, v, s, _, _ = shallow.update_parameters_with_adam(
                    expected, grads, v, s, t, 0.05, 0.85, 0.99, 1e-6)
    assert t in (0, 9)
    assert all((params[k] == expected[k]).all() for k in params)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_train_updates_its_own_copies_in_place(shallow, optimizer):
    """train() updates the parameters in place (gd_step, momentum_step, ...) on copies made
    once: the params given are left as they were, the course's functions return new arrays,
    and the in-place step is the course's function's step, number for number."""
    X, Y = circles(m=50)
    start = shallow.initialize_parameters({"n_x": 2, "n_h": 4}, "random", seed=1)
    before = {k: np.copy(v) for k, v in start.items()}
    params, _ = shallow.train(X, Y, num_iterations=2, learning_rate=OPTIMIZERS[optimizer],
                              params=start, optimizer=optimizer, mini_batch_size=20)
    assert all((start[k] == before[k]).all() and params[k] is not start[k] for k in start)
    assert any((params[k] != before[k]).any() for k in start)
    grads, _ = shallow.propagate(start, X, Y)
    v, s = shallow.initialize_adam(start)
    course = {"gd": lambda: (shallow.update_parameters_with_gd(start, grads, 0.1),),
              "momentum": lambda: shallow.update_parameters_with_momentum(start, grads, v,
                                                                          0.9, 0.1),
              "rmsprop": lambda: shallow.update_parameters_with_rmsprop(start, grads, s,
                                                                        0.99, 0.1, 1e-8),
              "adam": lambda: shallow.update_parameters_with_adam(start, grads, v, s, 1, 0.1)}
    expected = course[optimizer]()[0]
    assert all((start[k] == before[k]).all() and not v[f"d{k}"].any() for k in start)
    own, v, s = shallow.copy_arrays(start), *shallow.initialize_adam(start)
    step = {"gd": lambda: shallow.gd_step(own, grads, 0.1),
            "momentum": lambda: shallow.momentum_step(own, grads, v, 0.9, 0.1),
            "rmsprop": lambda: shallow.rmsprop_step(own, grads, s, 0.99, 0.1, 1e-8),
            "adam": lambda: shallow.adam_step(own, grads, v, s, 1, 0.1, 0.9, 0.999, 1e-8)}
    arrays = {k: own[k] for k in own}
    assert step[optimizer]() is None
    assert all(own[k] is arrays[k] and (own[k] == expected[k]).all() for k in own)


def test_rmsprop_step_by_hand(shallow):
    grads = {"dW1": np.array([[2.0, -1.0]]), "db1": np.array([[0.5]])}
    params = {"W1": np.array([[1.0, 1.0]]), "b1": np.array([[0.0]])}
    s = {"dW1": np.array([[1.0, 0.0]]), "db1": np.array([[0.25]])}
    new, s2 = shallow.update_parameters_with_rmsprop(params, grads, s, 0.9, 0.1, 0.0)
    np.testing.assert_allclose(s2["dW1"], [[0.9 + 0.4, 0.1]])
    np.testing.assert_allclose(new["W1"], [[1 - 0.1 * 2 / np.sqrt(1.3),
                                            1 + 0.1 / np.sqrt(0.1)]])
    np.testing.assert_allclose(new["b1"], [[-0.1 * 0.5 / np.sqrt(0.225 + 0.025)]])
    assert s["dW1"][0, 0] == 1.0  # its inputs left as they were


def test_learning_rate_decay(shallow):
    X, Y = circles(m=50)
    start = shallow.initialize_parameters({"n_x": 2, "n_h": 4}, "random", seed=1)
    seen = []

    def schedule(learning_rate0, epoch_num, decay_rate):
        seen.append((learning_rate0, epoch_num, decay_rate))
        return shallow.update_lr(learning_rate0, epoch_num, decay_rate)

    by_function, _ = shallow.train(X, Y, num_iterations=4, learning_rate=0.5, params=start,
                                   learning_rate_decay=schedule, decay_rate=0.3)
    assert seen == [(0.5, i, 0.3) for i in range(4)]
    by_name, _ = shallow.train(X, Y, num_iterations=4, learning_rate=0.5, params=start,
                               learning_rate_decay="inverse_time", decay_rate=0.3,
                               time_interval=1)
    expected = start
    for i in range(4):
        grads, _ = shallow.propagate(expected, X, Y)
        expected = shallow.update_parameters(expected, grads, 0.5 / (1 + 0.3 * i))
    for params in (by_function, by_name):
        assert all(np.allclose(params[k], expected[k], rtol=1e-15, atol=0) for k in params)
    assert shallow.exponential_lr_decay(0.5, 250, 0.5, 100) == 0.125
    with pytest.raises(ValueError, match="learning_rate_decay"):
        shallow.train(X, Y, num_iterations=1, learning_rate_decay="cosine")
    with pytest.raises(ValueError, match="optimizer"):
        shallow.train(X, Y, num_iterations=1, optimizer="sgd")


def test_validation_cost_and_early_stopping(shallow, capsys):
    X, Y = circles(m=200)
    history = {}
    params, costs = shallow.train(X[:, :150], Y[:, :150], num_iterations=21, learning_rate=1.0,
                                  print_cost=True, validation=(X[:, 150:], Y[:, 150:]),
                                  cost_every=10, history=history)
    assert history["iterations"] == [0, 10, 20] and history["costs"] == costs
    assert history["stopped"] == "completed"
    # the validation cost after the recorded epoch: for the last, the parameters returned
    assert history["validation_costs"][-1] == shallow.compute_cost(params, X[:, 150:],
                                                                   Y[:, 150:])
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"Cost after iteration 20: {costs[-1]:f}, validation " \
                      f"{history['validation_costs'][-1]:f}"
    # stopped once 2 recorded costs in a row have not improved by tol
    history = {}
    _, costs = shallow.train(X, Y, num_iterations=1000, learning_rate=1.0, cost_every=10,
                             early_stopping=2, tol=10.0, history=history)
    assert history["stopped"] == "early stopping" and history["iterations"] == [0, 10, 20]
    _, costs = shallow.train(X, Y, num_iterations=100, learning_rate=1.0, cost_every=10,
                             early_stopping=2, tol=0.0, history=history)
    assert history["stopped"] == "completed" and len(costs) == 10


def test_progress_line(shallow):
    assert shallow.progress_line(50, 200, 0.5, 10.0) == \
        "iteration 50/200: cost 0.5, 10 s elapsed, about 30 s left"


# ----- the command line


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("options")
    X, Y = circles(m=300)
    np.savez(folder / "train.npz", X=X[:, :200], Y=Y[:, :200])
    np.savez(folder / "valid.npz", X=X[:, 200:], Y=Y[:, 200:])
    np.savez(folder / "wide.npz", X=np.ones((3, 10)), Y=np.ones((1, 10)))
    return folder


def command(script, *argv, **kwargs):
    return subprocess.run([sys.executable, str(script), *map(str, argv)], capture_output=True,
                          text=True, timeout=300, **kwargs)


def test_the_command_line_options(generated_script, shallow, data):
    script = generated_script("shallow_network")
    result = command(script, "train", "--data", data / "train.npz", "--validation",
                     data / "valid.npz", "--optimizer", "adam", "--mini-batch-size", 32,
                     "--learning-rate", 0.01, "--iterations", 301, "--early-stopping", 5,
                     "--save", data / "params.npz")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Cost after iteration 0: ") and ", validation " in lines[0]
    assert lines[-3].startswith("train: accuracy ")
    assert lines[-2].startswith("validation: accuracy ")
    params = shallow.load_parameters(data / "params.npz")
    X, Y = circles(m=300)
    assert shallow.compute_cost(params, X[:, 200:], Y[:, 200:]) < 0.3


def test_the_schedule_and_cost_options_reach_train(generated_script, shallow, data):
    """--learning-rate-decay, --decay-rate, --time-interval, --cost-every and --tol train
    exactly as train() does with the same keywords."""
    script, save = generated_script("shallow_network"), data / "decayed.npz"
    result = command(script, "train", "--data", data / "train.npz", "--iterations", 101,
                     "--learning-rate", 0.5, "--learning-rate-decay", "exponential",
                     "--decay-rate", 0.5, "--time-interval", 10, "--cost-every", 50,
                     "--tol", 0, "--save", save)
    assert result.returncode == 0, result.stderr
    printed = [line for line in result.stdout.splitlines() if line.startswith("Cost after")]
    assert [line.split(":")[0] for line in printed] == [
        f"Cost after iteration {i}" for i in (0, 50, 100)]
    X, Y = circles(m=300)
    expected, costs = shallow.train(X[:, :200], Y[:, :200], num_iterations=101,
                                    learning_rate=0.5, seed=0,
                                    learning_rate_decay="exponential", decay_rate=0.5,
                                    time_interval=10, cost_every=50, tol=0)
    assert len(costs) == 3
    saved = shallow.load_parameters(save)
    for name, value in expected.items():
        np.testing.assert_allclose(saved[name], value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("argv", "message"), [
    (["--optimizer", "sgd"], "argument --optimizer: invalid choice: 'sgd'"),
    (["--learning-rate-decay", "step"], "argument --learning-rate-decay: invalid choice"),
    (["--decay-rate", "0"], "argument --decay-rate: expected a number > 0"),
    (["--cost-every", "0"], "argument --cost-every: expected a whole number >= 1"),
    (["--tol", "-1"], "argument --tol: expected a number >= 0"),
    (["--mini-batch-size", "0"], "argument --mini-batch-size: expected a whole number >= 1"),
    (["--early-stopping", "x"], "argument --early-stopping: expected a whole number >= 1"),
    (["--validation", "{folder}/wide.npz"], "the examples' sizes differ from those of --data"),
    (["--validation", "{folder}/none.npz"], "none.npz: no such file"),
])
def test_the_command_line_refuses_bad_options(generated_script, data, argv, message):
    argv = [a.format(folder=data) for a in argv]
    result = command(generated_script("shallow_network"), "train", "--data",
                     data / "train.npz", "--save", data / "refused.npz", *argv)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (data / "refused.npz").exists()


def test_ctrl_c_saves_what_was_learned(generated_script, shallow, data):
    script, save = generated_script("shallow_network"), data / "interrupted.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, str(script), "train", "--data", str(data / "train.npz"),
            "--iterations", "100000000", "--save", str(save)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as process:
        try:
            first = process.stdout.readline()  # training has started
            assert first.startswith("Cost after iteration 0: ")
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=120)
        finally:
            process.kill()
    assert process.returncode == 130, err
    assert "training interrupted at iteration " in err and "Traceback" not in err
    assert out.splitlines()[-1] == f"saved the parameters learned so far to {save}"
    params = shallow.load_parameters(save)
    assert sorted(params) == ["W1", "W2", "b1", "b2"]
    assert [f.name for f in data.iterdir() if f.name.startswith(".interrupted")] == []


def test_a_reseeded_shuffler_draws_the_courses_permutation(shallow):
    """random_mini_batches(..., shuffler): a RandomState re-seeded with seed, as train()
    passes it once per training, cuts the same mini-batches as a new RandomState(seed)."""
    X, Y = circles(m=50)
    shuffler = np.random.RandomState(123)
    for seed in (0, 7, 7, 1):
        expected = shallow.random_mini_batches(X, Y, 16, seed)
        got = shallow.random_mini_batches(X, Y, 16, seed, shuffler)
        assert len(got) == len(expected) == 4
        assert all((a == b).all() for pair in zip(got, expected, strict=True)
                   for a, b in zip(*pair, strict=True))
