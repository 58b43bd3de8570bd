"""The course's seeded initialisations and cost tables, from the generated modules.

Deep Learning Specialization (deeplearning.ai), as mirrored on GitHub in the repository
amanchadha/coursera-deep-learning-specialization (paths below under "C1 - Neural Networks and
Deep Learning/" or "C2 - Improving Deep Neural Networks Hyperparameter tuning, Regularization
and Optimization/"). Every initialisation draws from np.random.RandomState(seed), the stream of
the course's np.random.seed(seed) followed by np.random.randn, one weight after the other:

- course 1, week 3 (shallow network), "Week 3/Planar data classification with one hidden
  layer/Planar_data_classification_with_onehidden_layer_v6c.ipynb": initialize_parameters(2, 4, 1)
  with np.random.seed(2), randn * 0.01; the planar data set of planar_utils.py in the same folder
  (load_planar_dataset, np.random.seed(1)); nn_model(X, Y, 4, 1.2, 10000) prints "Cost after
  iteration 0: 0.693048" ... "7000: 0.217504", and the notebook's expected output is
  "Cost after iteration 9000: 0.218607";
- course 1, week 4, public_tests.py initialize_parameters_deep_test (layer_dims [5, 4, 3],
  np.random.seed(3), randn * 0.01), also printed in "Week 4/Building your Deep Neural Network -
  Step by Step/Building_your_Deep_Neural_Network_Step_by_Step_v8a.ipynb";
- course 2, week 1, "Week 1/Initialization/Initialization.ipynb": initialize_parameters_zeros,
  initialize_parameters_random([3, 2, 1]) (np.random.seed(3), randn * 10) and
  initialize_parameters_he([2, 4, 1]) (np.random.seed(3), randn * sqrt(2 / n_prev)); its model()
  (layers [2, 10, 5, 1], learning rate 0.01) on init_utils.py's load_dataset (make_circles,
  np.random.seed(1)) prints the cost tables compared below.
"""

import numpy as np
import pytest

from symgrad.code.verify import load_module

PLANAR_COSTS = {  # Cost after iteration i, as the week 3 notebook prints them (6 decimals)
    0: 0.693048, 1000: 0.288083, 2000: 0.254385, 3000: 0.233864, 4000: 0.226792,
    5000: 0.222644, 6000: 0.219731, 7000: 0.217504,
}
HE_COSTS = {  # course 2's model(train_X, train_Y, initialization="he"), as printed
    0: 0.8830537463419761, 1000: 0.6879825919728063, 2000: 0.6751286264523371,
    5000: 0.5304944491717495, 9000: 0.18597287209206836, 14000: 0.07357895962677362,
}
# initialization="random" (x 10), as printed: the course's cost at iteration 0 is inf. With
# weights this large the sigmoid saturates and the path is sensitive to rounding: the course's
# own init_utils.py, run today from the same initial weights, prints 0.6244196 at iteration
# 1000, the module 0.6251516; the accuracy on the training set is the notebook's, 0.83.
RANDOM_COSTS = {1000: 0.6239567039908781, 5000: 0.5443417928662615, 14000: 0.38275100578285265}


@pytest.fixture(scope="module")
def shallow(generated_script):
    return load_module(generated_script("shallow_network"))


def planar_dataset():
    """load_planar_dataset() of the course's planar_utils.py: 400 points of a flower."""
    rng = np.random.RandomState(1)
    m, a = 400, 4
    X, Y = np.zeros((m, 2)), np.zeros((m, 1))
    for j in range(2):
        ix = range(200 * j, 200 * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 200) + rng.randn(200) * 0.2
        r = a * np.sin(4 * t) + rng.randn(200) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


def circles():
    """load_dataset() of course 2's init_utils.py: the training set of 300 circles."""
    datasets = pytest.importorskip("sklearn.datasets")
    state = np.random.get_state()
    try:
        np.random.seed(1)
        X, y = datasets.make_circles(n_samples=300, noise=0.05)
    finally:
        np.random.set_state(state)
    return X.T, y.reshape(1, -1).astype(float)


def test_the_shallow_networks_seeded_initialisation(shallow):
    params = shallow.initialize_parameters({"n_x": 2, "n_h": 4}, "course", seed=2)
    same = shallow.initialize_parameters({"n_x": 2, "n_h": 4}, "random", seed=2)
    assert all(np.array_equal(params[k], same[k]) for k in params)  # course 1: randn * 0.01
    assert np.allclose(params["W1"], [[-0.00416758, -0.00056267], [-0.02136196, 0.01640271],
                                      [-0.01793436, -0.00841747], [0.00502881, -0.01245288]],
                       rtol=0, atol=1e-8)
    assert np.allclose(params["W2"], [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]],
                       rtol=0, atol=1e-8)
    assert params["b1"].shape == (4, 1) and not params["b1"].any() and params["b2"] == 0


def test_the_shallow_networks_cost_table_on_the_planar_data(shallow):
    X, Y = planar_dataset()
    params, costs = shallow.train(X, Y, num_iterations=10000, learning_rate=1.2, seed=2,
                                  dims={"n_h": 4}, method="course")
    for i, published in PLANAR_COSTS.items():
        assert costs[i // 100] == pytest.approx(published, abs=5e-7), i
    assert costs[90] == pytest.approx(0.218607, abs=2e-6)  # the notebook's expected output
    assert shallow.scores(params, X, Y)["accuracy"] == pytest.approx(0.905)  # "Accuracy: 90%"


def test_hidden_sizes_from_python(shallow):
    X, Y = planar_dataset()
    params, _ = shallow.train(X, Y, num_iterations=1, dims={"n_h": 16})
    assert params["W1"].shape == (16, 2) and params["W2"].shape == (1, 16)


def test_the_deep_networks_seeded_initialisation(deep):
    params = deep.initialize_parameters([5, 4, 3], "random", seed=3)
    assert np.allclose(params["W1"], [
        [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
        [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
        [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
        [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068]], rtol=0, atol=1e-8)
    assert np.allclose(params["W2"], [
        [-0.01185047, -0.0020565, 0.01486148, 0.00236716],
        [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
        [-0.00768836, -0.00230031, 0.00745056, 0.01976111]], rtol=0, atol=1e-8)
    assert [params[f"b{l}"].shape for l in (1, 2)] == [(4, 1), (3, 1)]
    assert not params["b1"].any() and not params["b2"].any()


def test_course_2s_zeros_random_and_he(deep):
    zeros = deep.initialize_parameters([3, 2, 1], "zeros")
    assert [zeros[k].shape for k in ("W1", "b1", "W2", "b2")] == [(2, 3), (2, 1), (1, 2), (1, 1)]
    assert not any(value.any() for value in zeros.values())
    random = deep.initialize_parameters([3, 2, 1], "random", seed=3, scale=10)
    assert np.allclose(random["W1"], [[17.88628473, 4.36509851, 0.96497468],
                                      [-18.63492703, -2.77388203, -3.54758979]],
                       rtol=0, atol=1e-7)
    assert np.allclose(random["W2"], [[-0.82741481, -6.27000677]], rtol=0, atol=1e-7)
    he = deep.initialize_parameters([2, 4, 1], "he", seed=3)
    assert np.allclose(he["W1"], [[1.78862847, 0.43650985], [0.09649747, -1.8634927],
                                  [-0.2773882, -0.35475898], [-0.08274148, -0.62700068]],
                       rtol=0, atol=1e-8)
    assert np.allclose(he["W2"], [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]],
                       rtol=0, atol=1e-8)
    xavier = deep.initialize_parameters([2, 4, 1], "xavier", seed=3)  # the same draws
    assert np.allclose(xavier["W2"], he["W2"] / np.sqrt(2), rtol=1e-15, atol=0)


def test_course_2s_cost_tables_with_he_and_large_random_weights(deep):
    X, Y = circles()
    _, costs = deep.train(X, Y, num_iterations=14001, learning_rate=0.01,
                          layer_dims=[2, 10, 5, 1], method="he", seed=3)
    for i, published in HE_COSTS.items():
        assert costs[i // 100] == pytest.approx(published, rel=1e-9), i
    params = deep.initialize_parameters([2, 10, 5, 1], "random", seed=3, scale=10)
    params, costs = deep.train(X, Y, num_iterations=14001, learning_rate=0.01, params=params)
    for i, published in RANDOM_COSTS.items():
        assert costs[i // 100] == pytest.approx(published, abs=2e-3), i
    assert deep.scores(params, X, Y)["accuracy"] == pytest.approx(0.83)
    assert np.isfinite(costs[0])  # the stable cost stays finite where the course's log(0) is inf
    _, costs = deep.train(X, Y, num_iterations=1001, learning_rate=0.01,
                          layer_dims=[2, 10, 5, 1], method="zeros")
    assert costs[0] == costs[10] == pytest.approx(np.log(2), rel=1e-15)  # the course: stuck


def test_an_unknown_method_is_refused(deep, shallow):
    for call in (lambda: deep.initialize_parameters([2, 3, 1], "normal"),
                 lambda: shallow.initialize_parameters({"n_x": 2, "n_h": 3}, "uniform")):
        with pytest.raises(ValueError, match="one of zeros, random, he, xavier, course, not"):
            call()


def test_the_l_layer_applications_initialisation(deep):
    """Course 1, week 4, "Deep Neural Network Application_ Image Classification/
    dnn_app_utils_v3.py", initialize_parameters_deep: np.random.seed(1), then for each layer
    randn(n_l, n_prev) / np.sqrt(n_prev) and zeros; its notebook prints no initial values
    (its cost table needs the cat images), so the recipe itself is run here."""
    layer_dims = [12288, 20, 7, 5, 1]
    rng = np.random.RandomState(1)
    params = deep.initialize_parameters(layer_dims, "course", seed=1)  # "xavier" for a stack
    for l in range(1, len(layer_dims)):
        expected = rng.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
        assert np.allclose(params[f"W{l}"], expected, rtol=1e-15, atol=0)
        assert params[f"b{l}"].shape == (layer_dims[l], 1) and not params[f"b{l}"].any()


def test_logistic_regressions_course_initialisation_is_zeros(generated_script):
    """Course 1, week 2, initialize_with_zeros(dim): w = np.zeros((dim, 1)), b = 0."""
    logistic = load_module(generated_script("logistic_regression"))
    params = logistic.initialize_parameters({"n_x": 3}, "course", seed=5)
    assert params["w"].shape == (3, 1) and not params["w"].any() and params["b"] == 0
