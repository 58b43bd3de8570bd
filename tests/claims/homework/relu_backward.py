# Course 1 week 4, the assignment's helper relu_backward() (dnn_utils.py).
# Source: Dictria/MNIST layer_utils.py (the same statements as the course's dnn_utils)
# Data for tests/claims/test_homework.py: read statically, never imported or run.
import numpy as np


def relu_backward(dA, cache):
    """Implement the backward propagation for a single RELU unit."""
    Z = cache
    dZ = np.array(dA, copy=True)  # just converting dz to a correct object.
    # When z <= 0, you should set dz to 0 as well.
    dZ[Z <= 0] = 0
    assert (dZ.shape == Z.shape)
    return dZ
