# Data for tests/claims/test_homework.py: read statically, never imported or run.
# The flow through a function: reassignment, an unknown helper, a loop, an attribute.
import numpy as np


def reassigned(w, b, X, Y):
    """dZ written twice: the first value is replaced before it is used."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    dZ = Y - A
    dZ = A - Y
    dw = np.dot(X, dZ.T) / m
    db = np.sum(dZ) / m
    return dw, db


def unknown_helper(w, b, X, Y):
    """A helper whose code is not here: what depends on it is not checked."""
    m = X.shape[1]
    A = my_sigmoid(np.dot(w.T, X) + b)
    dZ = A - Y
    dw = np.dot(X, dZ.T) / m
    db = np.sum(dZ) / m
    return dw, db


def in_a_loop(w, b, X, Y, iterations):
    """Gradients inside a loop are not followed; the line before it is checked."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    dZ = A - Y
    for i in range(iterations):
        dw = np.dot(X, dZ.T) / m
        w = w - 0.1 * dw
    db = np.sum(dZ) / m
    return w, db


def attribute(self, X, Y):
    """An attribute of an object: unknown."""
    m = X.shape[1]
    A = sigmoid(np.dot(self.w.T, X) + self.b)
    dZ = A - Y
    db = np.sum(dZ) / m
    return db


def no_gradient(X):
    return X.shape[1]


def in_place(w, b, X, Y):
    """dZ changed in place by a method: what the code computes is not what was assigned."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    dZ = A - Y
    dZ.fill(0)
    dw = np.dot(X, dZ.T) / m
    np.multiply(A, 2, out=A)
    db = np.sum(A - Y) / m
    return dw, db


def relu_backward_no_copy(dA, cache, dA_used):
    """dZ = dA without a copy: the mask changes dA too (the course warns of it)."""
    Z = cache
    dZ = dA
    dZ[Z <= 0] = 0
    dA_prev = dA
    return dZ, dA_prev


def relu_backward_copy(dA, cache):
    """dA.copy(): the mask changes dZ only."""
    Z = cache
    dZ = dA.copy()
    dZ[Z <= 0] = 0
    return dZ
