"""Course 1, week 4, "Deep Neural Network - Application": the cost tables of the 2-layer and
the L-layer model on the cat images, from the generated deep_network module.

Published values: the notebook "neuralnetworks/week4/Deep+Neural+Network+-+Application+v3.ipynb"
of the GitHub repository ramakris/coursera-deeplearning (commit c79617eb), run with
dnn_app_utils_v2.py of the same folder; its data set is tests/data/catvnoncat.npz (see
tests/data/README.md). The notebook flattens each image the course's way,
train_x_orig.reshape(m, -1).T / 255, and trains by full-batch gradient descent at learning
rate 0.0075, printing the cost every 100 iterations before that iteration's update:

- two_layer_model, layers_dims (12288, 7, 1), LINEAR -> RELU -> LINEAR -> SIGMOID,
  initialize_parameters: np.random.seed(1), randn * 0.01 (the module's method "random");
  printed in full ("Cost after iteration 0: 0.6930497356599888");
- L_layer_model, layers_dims [12288, 20, 7, 5, 1], initialize_parameters_deep: np.random.seed(1),
  randn / sqrt(n_prev) (the module's method "course" for a stack of layers); printed to six
  decimals ("Cost after iteration 0: 0.771749").

Only the first 200 iterations run here, on one BLAS thread (about 3 s for both models; on 2
busy cores OpenBLAS's own threads made them take a minute); the notebook's accuracies (train
0.985645933014, test 0.8) need all 2500 iterations and are not checked.
"""

import contextlib
from pathlib import Path

import numpy as np
import pytest

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # scikit-learn's dependency (test extra); else BLAS's own threads
    threadpool_limits = None

DATA = Path(__file__).resolve().parents[1] / "data" / "catvnoncat.npz"


def one_blas_thread():
    return threadpool_limits(1, "blas") if threadpool_limits else contextlib.nullcontext()


TWO_LAYER_COSTS = {0: 0.6930497356599888, 100: 0.6464320953428849, 200: 0.6325140647912677}
L_LAYER_COSTS = {0: 0.771749, 100: 0.672053, 200: 0.648263}


@pytest.fixture(scope="module")
def cats():
    """(train_x, train_y) as the notebook builds them: (12288, 209) in [0, 1], (1, 209)."""
    with np.load(DATA) as data:
        images, labels = data["train_set_x"], data["train_set_y"]
    assert images.shape == (209, 64, 64, 3) and images.dtype == np.uint8
    assert labels.sum() == 72  # 72 cats, 137 non-cats
    return images.reshape(images.shape[0], -1).T / 255, labels.reshape(1, -1).astype(float)


def test_the_two_layer_models_cost_table(deep, cats):
    X, Y = cats
    with one_blas_thread():
        _, costs = deep.train(X, Y, num_iterations=201, learning_rate=0.0075,
                              layer_dims=[12288, 7, 1], method="random", seed=1)
    for i, published in TWO_LAYER_COSTS.items():
        assert costs[i // 100] == pytest.approx(published, rel=1e-12), i


def test_the_l_layer_models_cost_table(deep, cats):
    X, Y = cats
    with one_blas_thread():
        _, costs = deep.train(X, Y, num_iterations=201, learning_rate=0.0075,
                              layer_dims=[12288, 20, 7, 5, 1], method="course", seed=1)
    for i, published in L_LAYER_COSTS.items():
        assert costs[i // 100] == pytest.approx(published, abs=5e-7), i
