"""Course 2 of the Deep Learning Specialization (Improving Deep Neural Networks), week 2,
"Optimization methods": the generated module's functions of the same names reproduce the
assignment's published values, to 1e-7 (the published values are printed to 8 significant
digits: they are compared at their own precision, and every other value exactly).

The functions come from the module that symgrad generates from derivations/deep_network.toml
(keys W1, b1, ... for the parameters and dW1, db1, ... for the gradients, v and s: the
course's), called as the notebook calls them.

Sources of the inputs and of the expected values:
- the test inputs (np.random.seed(1), then np.random.randn in the order below): the
  assignment's testCases.py, repository amanchadha/coursera-deep-learning-specialization,
  path "C2 - Improving Deep Neural Networks Hyperparameter tuning, Regularization and
  Optimization/Week 2/testCases.py" (update_parameters_with_gd_test_case,
  random_mini_batches_test_case, update_parameters_with_momentum_test_case,
  update_parameters_with_adam_test_case);
- the expected outputs printed in that version's notebook, same repository, path
  ".../Week 2/Optimization_methods_v1b.ipynb" (the mini-batches' shapes and "mini batch
  sanity check: [ 0.90085595 -0.7612069 0.2344157 ]"; momentum's W1 .. b2 and v; Adam's
  W1 .. b2, v and s with t = 2 and the default learning_rate, beta1, beta2, epsilon);
- the newer version's public_tests.py, repository greyhatguy007/deep-learning-specialization,
  path "C2-Improving Deep Neural Networks: Hyperparameter Tuning, Regularization and
  Optimization/week2/pogramming assignments/W2A1/public_tests.py"
  (update_parameters_with_gd_test, random_mini_batches_test on a 7 x 3 X,
  update_parameters_with_adam_test with t = 2, learning_rate 0.02, beta1 0.8, beta2 0.888,
  epsilon 1e-2 and its v_corrected and s_corrected, update_lr_test, schedule_lr_decay_test).
"""

import numpy as np
import pytest

from symgrad.code.render import render_spec
from symgrad.code.verify import load_module

from .conftest import ROOT

TOLERANCE = 1e-7
SHAPES = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 3), "b2": (3, 1)}


@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    path = tmp_path_factory.mktemp("course2") / "deep_network.py"
    path.write_text(render_spec(ROOT / "derivations" / "deep_network.toml"), encoding="utf-8")
    return load_module(path)


def parameters_and_grads():
    """The test case of update_parameters_with_gd and ..._with_momentum: np.random.seed(1),
    then W1, b1, W2, b2 and dW1, db1, dW2, db2 drawn in that order."""
    np.random.seed(1)
    parameters = {name: np.random.randn(*shape) for name, shape in SHAPES.items()}
    grads = {f"d{name}": np.random.randn(*shape) for name, shape in SHAPES.items()}
    return parameters, grads


def zeros():
    return {f"d{name}": np.zeros(shape) for name, shape in SHAPES.items()}


def assert_published(actual, expected):
    for key, value in expected.items():
        assert np.shape(actual[key]) == np.shape(value), key
        np.testing.assert_allclose(actual[key], value, rtol=0, atol=TOLERANCE, err_msg=key)


def test_update_parameters_with_gd(deep):
    parameters, grads = parameters_and_grads()
    updated = deep.update_parameters_with_gd(parameters, grads, 0.01)
    assert_published(updated, {
        "W1": [[1.63535156, -0.62320365, -0.53718766], [-1.07799357, 0.85639907, -2.29470142]],
        "b1": [[1.74604067], [-0.75184921]],
        "W2": [[0.32171798, -0.25467393, 1.46902454], [-2.05617317, -0.31554548, -0.3756023],
               [1.1404819, -1.09976462, -0.1612551]],
        "b2": [[-0.88020257], [0.02561572], [0.57539477]],
    })


def test_random_mini_batches_of_the_notebook(deep):
    np.random.seed(1)
    X = np.random.randn(12288, 148)
    Y = np.random.randn(1, 148) < 0.5
    mini_batches = deep.random_mini_batches(X, Y, 64)
    assert [(b[0].shape, b[1].shape) for b in mini_batches] == [
        ((12288, 64), (1, 64)), ((12288, 64), (1, 64)), ((12288, 20), (1, 20))]
    np.testing.assert_allclose(mini_batches[0][0][0][0:3], [0.90085595, -0.7612069, 0.2344157],
                               rtol=0, atol=TOLERANCE)
    # every example once, each with its own label
    order = np.concatenate([b[0][1] for b in mini_batches])
    labels = np.concatenate([b[1][0] for b in mini_batches])
    assert sorted(order) == sorted(X[1])
    assert (labels == Y[0, [list(X[1]).index(x) for x in order]]).all()


def test_random_mini_batches_of_the_public_tests(deep):
    np.random.seed(1)
    X = np.random.randn(7, 3)
    Y = np.random.randn(1, 3) < 0.5
    (X1, Y1), (X2, Y2) = deep.random_mini_batches(X, Y, 2)
    np.testing.assert_allclose(X1, [
        [-0.52817175, -0.61175641], [-2.3015387, 0.86540763], [0.3190391, -0.7612069],
        [-2.06014071, 1.46210794], [1.13376944, -0.38405435], [-0.87785842, -0.17242821],
        [-1.10061918, 0.58281521]], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(X2, [[1.62434536], [-1.07296862], [1.74481176], [-0.24937038],
                                    [-0.3224172], [-1.09989127], [0.04221375]],
                               rtol=0, atol=TOLERANCE)
    assert Y1.tolist() == [[False, False]] and Y2.tolist() == [[False]]


def test_random_mini_batches_leave_numpys_seed_alone(deep):
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    deep.random_mini_batches(np.ones((2, 10)), np.ones((1, 10)), 3, seed=7)
    assert np.random.rand() == expected


def test_initialize_velocity_and_adam(deep):
    parameters, _ = parameters_and_grads()
    v = deep.initialize_velocity(parameters)
    adam_v, adam_s = deep.initialize_adam(parameters)
    for state in (v, adam_v, adam_s):
        assert sorted(state) == ["dW1", "dW2", "db1", "db2"]
        assert_published(state, zeros())


def test_update_parameters_with_momentum(deep):
    parameters, grads = parameters_and_grads()
    updated, v = deep.update_parameters_with_momentum(parameters, grads, zeros(), 0.9, 0.01)
    assert_published(updated, {
        "W1": [[1.62544598, -0.61290114, -0.52907334], [-1.07347112, 0.86450677, -2.30085497]],
        "b1": [[1.74493465], [-0.76027113]],
        "W2": [[0.31930698, -0.24990073, 1.4627996], [-2.05974396, -0.32173003, -0.38320915],
               [1.13444069, -1.0998786, -0.1713109]],
        "b2": [[-0.87809283], [0.04055394], [0.58207317]],
    })
    assert_published(v, {
        "dW1": [[-0.11006192, 0.11447237, 0.09015907], [0.05024943, 0.09008559, -0.06837279]],
        "db1": [[-0.01228902], [-0.09357694]],
        "dW2": [[-0.02678881, 0.05303555, -0.06916608], [-0.03967535, -0.06871727, -0.08452056],
                [-0.06712461, -0.00126646, -0.11173103]],
        "db2": [[0.02344157], [0.16598022], [0.07420442]],
    })


def adam_test_case():
    """update_parameters_with_adam_test_case: v and s of zeros, then np.random.seed(1) and
    the parameters and gradients drawn as above."""
    parameters, grads = parameters_and_grads()
    return parameters, grads, zeros(), zeros()


def test_update_parameters_with_adam_of_the_notebook(deep):
    parameters, grads, v, s = adam_test_case()
    updated, v, s, _, _ = deep.update_parameters_with_adam(parameters, grads, v, s, t=2)
    assert_published(updated, {
        "W1": [[1.63178673, -0.61919778, -0.53561312], [-1.08040999, 0.85796626, -2.29409733]],
        "b1": [[1.75225313], [-0.75376553]],
        "W2": [[0.32648046, -0.25681174, 1.46954931], [-2.05269934, -0.31497584, -0.37661299],
               [1.14121081, -1.09244991, -0.16498684]],
        "b2": [[-0.88529979], [0.03477238], [0.57537385]],
    })
    assert_published(v, {
        "dW1": [[-0.11006192, 0.11447237, 0.09015907], [0.05024943, 0.09008559, -0.06837279]],
        "db1": [[-0.01228902], [-0.09357694]],
    })
    assert_published(s, {
        "dW1": [[0.00121136, 0.00131039, 0.00081287], [0.0002525, 0.00081154, 0.00046748]],
        "db1": [[1.51020075e-05], [8.75664434e-04]],
        "dW2": [[7.17640232e-05, 2.81276921e-04, 4.78394595e-04],
                [1.57413361e-04, 4.72206320e-04, 7.14372576e-04],
                [4.50571368e-04, 1.60392066e-07, 1.24838242e-03]],
        "db2": [[5.49507194e-05], [2.75494327e-03], [5.50629536e-04]],
    })


def test_update_parameters_with_adam_of_the_public_tests(deep):
    parameters, grads, v0, s0 = adam_test_case()
    t, beta1, beta2 = 2, 0.8, 0.888
    updated, v, s, v_corrected, s_corrected = deep.update_parameters_with_adam(
        parameters, grads, v0, s0, t, 0.02, beta1, beta2, 1e-2)
    first_rows = {  # the public test compares the first row of each array
        "v": {"dW1": [-0.22012384, 0.22894474, 0.18031814],
              "dW2": [-0.05357762, 0.10607109, -0.13833215],
              "db1": [-0.02457805], "db2": [0.04688314]},
        "s": {"dW1": [0.13567261, 0.14676395, 0.09104097],
              "dW2": [8.03757060e-03, 3.15030152e-02, 5.35801947e-02],
              "db1": [0.00169142], "db2": [0.00615448]},
        "parameters": {"W1": [1.63942428, -0.6268425, -0.54320974],
                       "W2": [0.33356139, -0.26425199, 1.47707772],
                       "b1": [1.75854357], "b2": [-0.89228024]},
    }
    for name, state in (("v", v), ("s", s), ("parameters", updated)):
        assert_published({key: value[0] for key, value in state.items()}, first_rows[name])
    for key in v:  # bias correction with t = 2 updates
        np.testing.assert_allclose(v_corrected[key][0], np.array(first_rows["v"][key])
                                   / (1 - beta1**t), rtol=0, atol=TOLERANCE * 10)
        np.testing.assert_allclose(s_corrected[key][0], np.array(first_rows["s"][key])
                                   / (1 - beta2**t), rtol=0, atol=TOLERANCE * 10)
    assert all(np.shape(v[k]) == np.shape(v0[k]) for k in v)
    assert all((v0[k] == 0).all() and (s0[k] == 0).all() for k in v0)  # inputs left alone


def test_update_lr(deep):
    assert deep.update_lr(0.5, 2, 1) == pytest.approx(0.16666666666666666, abs=TOLERANCE)


def test_schedule_lr_decay(deep):
    assert deep.schedule_lr_decay(0.5, 100, 1, 100) == pytest.approx(0.25, abs=TOLERANCE)
    assert deep.schedule_lr_decay(0.5, 10, 1, 100) == pytest.approx(0.5, abs=TOLERANCE)
    assert deep.schedule_lr_decay(0.3, 1000, 0.25, 100) == pytest.approx(0.085714285,
                                                                         abs=TOLERANCE)
    assert deep.schedule_lr_decay(0.3, 100, 0.25, 100) == pytest.approx(0.24, abs=TOLERANCE)
