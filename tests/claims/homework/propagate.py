# Course 1 week 2, "Logistic Regression with a Neural Network mindset", propagate().
# Source: Silva-6/deeplearning.AI-deep_learning
#   0-neural_networks-nd-deep_learning/1-logistic_regression_with_a_NN_mindset/1-propagate.py
# Data for tests/claims/test_homework.py: read statically, never imported or run.
import numpy as np


def propagate(w, b, X, Y):
    """Implement the cost function and its gradient for the propagation."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)  # compute activation
    cost = (- 1 / m) * np.sum(Y * np.log(A) + (1 - Y) * (np.log(1 - A)))  # compute cost
    dw = (1 / m) * np.dot(X, (A - Y).T)
    db = (1 / m) * np.sum(A - Y)
    cost = np.squeeze(np.array(cost))
    grads = {"dw": dw,
             "db": db}
    return grads, cost
