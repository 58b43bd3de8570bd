# Course 2 week 1, "Regularization", backward_propagation_with_dropout(), cut to the
# catalogue's dropout_network (one relu hidden layer with inverted dropout, its dropped-out
# output H, mask D1; a sigmoid output): the statements of the course's hidden layer as written.
# Source: Silva-6/deeplearning.AI-deep_learning
#   1-improving_deep_neural_networks/1-regularization/3-backward_propagation_with_dropout.py
# Data for tests/claims/test_homework.py: read statically, never imported or run.
import numpy as np


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    """Implements the backward propagation of our baseline model to which we added dropout."""
    m = X.shape[1]
    (Z1, D1, H, W1, b1, Z2, A, W2, b2) = cache
    dZ2 = A - Y
    dW2 = 1. / m * np.dot(dZ2, H.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dA1 = dA1 * D1
    dA1 = dA1 / keep_prob
    dZ1 = np.multiply(dA1, np.int64(Z1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    gradients = {"dZ2": dZ2, "dW2": dW2, "db2": db2,
                 "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
    return gradients
