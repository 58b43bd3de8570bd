# Course 1 week 3, "Planar data classification with one hidden layer", backward_propagation().
# Source: Silva-6/deeplearning.AI-deep_learning 0-neural_networks-nd-deep_learning/
#   2-Planar_data_classification_with_one_hidden_layer/4-backward_propagation.py
# Data for tests/claims/test_homework.py: read statically, never imported or run.
import numpy as np


def backward_propagation(parameters, cache, X, Y):
    """Implement the backward propagation using the instructions above."""
    m = X.shape[1]
    W1 = parameters['W1']
    W2 = parameters['W2']
    A1 = cache['A1']
    A2 = cache['A2']
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - A1)  # planted slip: tanh derivative
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    grads = {"dW1": dW1,
             "db1": db1,
             "dW2": dW2,
             "db2": db2}
    return grads
