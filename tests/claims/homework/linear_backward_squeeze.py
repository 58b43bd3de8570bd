# Course 1 week 4, "Building your Deep Neural Network: Step by Step", linear_backward(), as
# the course's solution writes it. Source (with np.squeeze on db, kept in
# linear_backward_squeeze.py): Silva-6/deeplearning.AI-deep_learning
#   0-neural_networks-nd-deep_learning/3-step_by_step-build_your_DNN/6-linear_backward_prop.py
# Data for tests/claims/test_homework.py: read statically, never imported or run.
import numpy as np


def linear_backward(dZ, cache):
    """Implement the linear portion of backward propagation for a single layer (layer l)."""
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, cache[0].T) / m
    db = np.squeeze(np.sum(dZ, axis=1, keepdims=True)) / m
    dA_prev = np.dot(cache[1].T, dZ)
    assert (dA_prev.shape == A_prev.shape)
    return dA_prev, dW, db
