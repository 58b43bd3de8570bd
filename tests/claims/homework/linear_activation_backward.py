# Course 1 week 4, linear_activation_backward(): branches on the activation and calls helpers.
# Source: Silva-6/deeplearning.AI-deep_learning
#   0-neural_networks-nd-deep_learning/3-step_by_step-build_your_DNN/7-linear_activation_backward.py
# Data for tests/claims/test_homework.py: read statically, never imported or run.


def linear_activation_backward(dA, cache, activation):
    """Implement the backward propagation for the LINEAR->ACTIVATION layer."""
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
        dA_prev, dW, db = linear_backward(dZ, linear_cache)
    elif activation == "sigmoid":
        dZ = sigmoid_backward(dA, activation_cache)
        dA_prev, dW, db = linear_backward(dZ, linear_cache)
    return dA_prev, dW, db


def relu_layer_backward(dA, cache):
    """The relu branch alone (the if above removed)."""
    linear_cache, activation_cache = cache
    dZ = relu_backward(dA, activation_cache)
    dA_prev, dW, db = linear_backward(dZ, linear_cache)
    return dA_prev, dW, db
