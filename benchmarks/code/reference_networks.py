"""Hand-written NumPy networks, written the way the deep-learning course teaches them.

The baselines for the generated shallow and deep networks in ``bench_networks.py``.
Columns are examples: X is (n_x, m), Y is (1, m).
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ----- one hidden tanh layer -----


def shallow_step(params, X, Y, learning_rate):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = sigmoid(Z2)
    cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1**2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    params = {"W1": W1 - learning_rate * dW1, "b1": b1 - learning_rate * db1,
              "W2": W2 - learning_rate * dW2, "b2": b2 - learning_rate * db2}
    return params, cost


# ----- L layers: ReLU hidden layers, sigmoid output -----


def deep_step(params, X, Y, learning_rate):
    L = len(params) // 2
    m = X.shape[1]
    caches = []
    A = X
    for l in range(1, L):
        A_prev = A
        Z = params[f"W{l}"] @ A_prev + params[f"b{l}"]
        A = np.maximum(0, Z)
        caches.append((A_prev, Z))
    ZL = params[f"W{L}"] @ A + params[f"b{L}"]
    AL = sigmoid(ZL)
    caches.append((A, ZL))
    cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    grads = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev, _ = caches[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            dA_prev = params[f"W{l}"].T @ dZ
            dZ = dA_prev * (caches[l - 2][1] > 0)
    params = {k: v - learning_rate * grads["d" + k] for k, v in params.items()}
    return params, cost
