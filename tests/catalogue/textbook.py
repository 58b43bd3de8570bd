"""The gradients of the catalogue's models as the textbooks write them, by hand, in NumPy.

Nothing here comes from symgrad or SymPy: these are the references the derivations are
compared with (``test_catalogue.py``). Each function takes

* ``params``: parameter name -> array (a scalar parameter as a float),
* ``arrays``: input or label name, as the spec names it -> array with one column per example,
  and constant name -> its array (the same for every example: K of attention_keys is (n_k, 4)),
* ``hyper``: hyperparameter name -> float,

and returns ``{"d<param>": dJ/d<param>}`` over the batch, each the parameter's shape. Examples are
columns (X is (n_x, m)); a vector parameter is a column (n, 1).
"""

from __future__ import annotations

import math

import numpy as np


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def relu(z):
    return np.maximum(z, 0.0)


def step(z):
    return (z > 0).astype(float)


def normal_pdf(z):
    return np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)


def normal_cdf(z):
    return 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in z.ravel()]).reshape(z.shape)


def erf(z):
    return np.array([math.erf(v) for v in z.ravel()]).reshape(z.shape)


def _net(dz1_of, params, arrays):
    """z1 = W1 x + b1, a1 = f(z1), z2 = w2^T a1 + b2, L = (z2 - y)^2/2: dz2 = z2 - y,
    dz1 = (w2 dz2) f'(z1), with f and f' from ``dz1_of(z1)`` -> (a1, f'(z1))."""
    X = arrays["x"]
    z1 = params["W1"] @ X + params["b1"]
    a1, slope = dz1_of(z1)
    dz2 = params["w2"].T @ a1 + params["b2"] - arrays["y"]
    dz1 = params["w2"] @ dz2 * slope
    m = X.shape[1]
    first = _Wb(dz1, X)
    return {"dW1": first["dW"], "db1": first["db"], "dw2": a1 @ dz2.T / m,
            "db2": float(np.sum(dz2) / m)}


def _linear(params, arrays):
    """z = w.T x + b for every example: (1, m)."""
    return params["w"].T @ arrays["x"] + params["b"]


def _wb(dz, arrays, params, hyper=None, penalty=""):
    """dw = X dZ^T / m (+ lambd w / m), db = sum(dZ) / m: the last layer of every linear model."""
    X = arrays["x"]
    m = X.shape[1]
    dw = X @ dz.T / m
    if penalty:
        dw = dw + hyper[penalty] * params["w"] / m
    return {"dw": dw, "db": float(np.sum(dz) / m)}


def _Wb(dz, inputs, params=None, hyper=None, penalty=""):
    """dW = dZ A^T / m (+ lambd W / m), db = row sums of dZ / m: a layer W a + b."""
    m = inputs.shape[1]
    dW = dz @ inputs.T / m
    if penalty:
        dW = dW + hyper[penalty] * params["W"] / m
    return {"dW": dW, "db": dz.sum(axis=1, keepdims=True) / m}


# ----- regression -----


def ridge_regression(params, arrays, hyper):
    # dz = z - y; dw = X dz^T / m + lambd w / m (ESL 3.4.1; Bishop PRML 3.1.4)
    dz = _linear(params, arrays) - arrays["y"]
    return _wb(dz, arrays, params, hyper, "lambd")


def pseudo_huber_regression(params, arrays, hyper):
    # dL/dr = r / sqrt(1 + (r/delta)^2) (Hartley & Zisserman A6; Charbonnier et al. 1997)
    r = _linear(params, arrays) - arrays["y"]
    return _wb(r / np.sqrt(1 + (r / hyper["delta"]) ** 2), arrays, params)


def mae_regression(params, arrays, hyper):
    # L = |r|: dr = sign(r) (ESL 10.6, absolute loss)
    r = _linear(params, arrays) - arrays["y"]
    return _wb(np.sign(r), arrays, params)


def huber_regression(params, arrays, hyper):
    # dL/dr = r for |r| <= delta, delta sign(r) beyond: clip(r, -delta, delta) (ESL 10.6)
    d = hyper["delta"]
    r = _linear(params, arrays) - arrays["y"]
    return _wb(np.clip(r, -d, d), arrays, params)


def epsilon_insensitive_svr(params, arrays, hyper):
    # V(r) = max(|r| - eps, 0): dr = sign(r) where |r| > eps, 0 inside the tube (ESL 12.3.6)
    r = _linear(params, arrays) - arrays["y"]
    dz = np.sign(r) * (np.abs(r) > hyper["eps"])
    return _wb(dz, arrays, params, hyper, penalty="lambd")


def probit_regression(params, arrays, hyper):
    # p = Phi(z): dz = phi(z) (p - y) / (p (1 - p)) (Murphy 9.4)
    z = _linear(params, arrays)
    p = normal_cdf(z)
    return _wb(normal_pdf(z) * (p - arrays["y"]) / (p * (1 - p)), arrays, params)


def msle_regression(params, arrays, hyper):
    # yhat = softplus(z), r = log(1 + yhat) - log(1 + y): dz = r / (1 + yhat) sigmoid(z)
    z = _linear(params, arrays)
    yhat = np.logaddexp(0.0, z)
    r = np.log1p(yhat) - np.log1p(arrays["y"])
    return _wb(r / (1 + yhat) * sigmoid(z), arrays, params)


def focal_loss_tunable(params, arrays, hyper):
    # focal_loss with g a hyperparameter (Lin et al. 2017, appendix)
    g = hyper["g"]
    y = arrays["y"]
    p = sigmoid(_linear(params, arrays))
    dz = (y * (1 - p) ** g * (g * p * np.log(p) + p - 1)
          + (1 - y) * p**g * (p - g * (1 - p) * np.log(1 - p)))
    return _wb(dz, arrays, params)


def gelu_network(params, arrays, hyper):
    # GELU(z) = z Phi(z): GELU'(z) = Phi(z) + z phi(z) (Hendrycks & Gimpel 2016)
    return _net(lambda z: (z * (1 + erf(z / np.sqrt(2))) / 2,
                           normal_cdf(z) + z * normal_pdf(z)), params, arrays)


def siren_network(params, arrays, hyper):
    # a = sin(z): a' = cos(z) (Sitzmann et al. 2020)
    return _net(lambda z: (np.sin(z), np.cos(z)), params, arrays)


def elu_network(params, arrays, hyper):
    # ELU(z) = z for z > 0, exp(z) - 1 otherwise: ELU'(z) = 1 or exp(z) (Clevert et al. 2016)
    return _net(lambda z: (np.where(z > 0, z, np.expm1(z)), np.where(z > 0, 1.0, np.exp(z))),
                params, arrays)


def tied_autoencoder(params, arrays, hyper):
    # rec = W^T h + c, h = sigmoid(W x + b): W gets both paths,
    # dW = h dR^T + dZ x^T (Goodfellow et al. ch. 14; Vincent et al. 2010, tied weights)
    X = arrays["x"]
    m = X.shape[1]
    W = params["W"]
    h = sigmoid(W @ X + params["b"])
    dr = W.T @ h + params["c"] - X
    dz = W @ dr * h * (1 - h)
    return {"dW": (h @ dr.T + dz @ X.T) / m, "db": dz.sum(axis=1, keepdims=True) / m,
            "dc": dr.sum(axis=1, keepdims=True) / m}


def log_cosh_regression(params, arrays, hyper):
    # d log(cosh r)/dr = tanh(r) (Saleh & Saleh 2022)
    r = _linear(params, arrays) - arrays["y"]
    return _wb(np.tanh(r), arrays, params)


def tanh_mse(params, arrays, hyper):
    # dz = (a - y)(1 - a^2) (LeCun et al., Efficient BackProp, 1998)
    a = np.tanh(_linear(params, arrays))
    return _wb((a - arrays["y"]) * (1 - a**2), arrays, params)


def cauchy_regression(params, arrays, hyper):
    # L = log(1 + (r/c)^2/2): dL/dr = r / (c^2 + r^2/2) (Barron 2019, the Cauchy loss)
    r = _linear(params, arrays) - arrays["y"]
    return _wb(r / (hyper["c"] ** 2 + r**2 / 2), arrays, params)


def weighted_least_squares(params, arrays, hyper):
    # dz_i = w_i (z_i - y_i) (Bishop PRML exercise 3.3)
    dz = arrays["wt"] * (_linear(params, arrays) - arrays["y"])
    return _wb(dz, arrays, params)


def multi_output_regression(params, arrays, hyper):
    # dZ = Z - Y, dW = dZ X^T / m (ESL 3.2.4)
    X = arrays["x"]
    dz = params["W"] @ X + params["b"] - arrays["y"]
    return _Wb(dz, X)


def gaussian_nll(params, arrays, hyper):
    # dmu = (mu - y) e^{-s}, ds = 1/2 - (y - mu)^2 e^{-s} / 2
    # (Nix & Weigend 1994; Kendall & Gal 2017)
    X, y = arrays["x"], arrays["y"]
    m = X.shape[1]
    mu = params["w"].T @ X + params["b"]
    s = params["v"].T @ X + params["c"]
    dmu = (mu - y) * np.exp(-s)
    ds = 0.5 - (y - mu) ** 2 * np.exp(-s) / 2
    return {"dw": X @ dmu.T / m, "db": float(dmu.sum() / m),
            "dv": X @ ds.T / m, "dc": float(ds.sum() / m)}


def factorization_machine(params, arrays, hyper):
    # dz/dw0 = 1, dz/dw_i = x_i, dz/dv_if = x_i (V x)_f - v_if x_i^2 (Rendle 2010, section III.A)
    X, y = arrays["x"], arrays["y"]
    m = X.shape[1]
    V, w = params["V"], params["w"]
    VX = V @ X
    z = params["w0"] + w.T @ X + (np.sum(VX**2, axis=0) - np.sum((V**2) @ (X**2), axis=0)) / 2
    dz = z - y
    dV = ((VX * dz) @ X.T - V * (dz @ (X**2).T)) / m
    return {"dw0": float(dz.sum() / m), "dw": X @ dz.T / m, "dV": dV}


# ----- GLMs -----


def poisson_glm(params, arrays, hyper):
    # dz = mu - y with mu = exp(z) (McCullagh & Nelder ch. 6)
    return _wb(np.exp(_linear(params, arrays)) - arrays["y"], arrays, params)


def gamma_glm(params, arrays, hyper):
    # d(y e^{-z} + z)/dz = 1 - y / mu (McCullagh & Nelder ch. 8)
    z = _linear(params, arrays)
    return _wb(1 - arrays["y"] * np.exp(-z), arrays, params)


def negative_binomial_glm(params, arrays, hyper):
    # NB2 score: dz = r (mu - y) / (r + mu) (Hilbe, Negative Binomial Regression, 2011)
    r = hyper["r"]
    mu = np.exp(_linear(params, arrays))
    return _wb(r * (mu - arrays["y"]) / (r + mu), arrays, params)


# ----- classification with one output -----


def weighted_logistic_regression(params, arrays, hyper):
    # dz = wp y (a - 1) + (1 - y) a (King & Zeng 2001, weighted likelihood)
    y = arrays["y"]
    a = sigmoid(_linear(params, arrays))
    return _wb(hyper["wp"] * y * (a - 1) + (1 - y) * a, arrays, params)


def hinge_svm(params, arrays, hyper):
    # subgradient: dz = -t [t z < 1], dw += lambd w / m (ESL 12.3.2)
    t = 2 * arrays["y"] - 1
    z = _linear(params, arrays)
    return _wb(-t * (t * z < 1), arrays, params, hyper, "lambd")


def squared_hinge_svm(params, arrays, hyper):
    # dz = -2 t max(0, 1 - t z) (Chang, Hsieh, Lin 2008, L2-loss SVM)
    t = 2 * arrays["y"] - 1
    z = _linear(params, arrays)
    return _wb(-2 * t * relu(1 - t * z), arrays, params, hyper, "lambd")


def logistic_margin(params, arrays, hyper):
    # d softplus(-t z)/dz = -t sigmoid(-t z) (ESL 10.6)
    t = 2 * arrays["y"] - 1
    z = _linear(params, arrays)
    return _wb(-t * sigmoid(-t * z), arrays, params)


def exponential_loss(params, arrays, hyper):
    # d exp(-t z)/dz = -t exp(-t z) (ESL 10.4)
    t = 2 * arrays["y"] - 1
    z = _linear(params, arrays)
    return _wb(-t * np.exp(-t * z), arrays, params)


def focal_loss(params, arrays, hyper):
    # FL = -(1 - p_t)^g log p_t, g = 2; for y = 1: dz = (1 - p)^g (g p log p + p - 1),
    # for y = 0: dz = p^g (p - g (1 - p) log(1 - p)) (Lin et al. 2017, appendix)
    g = 2.0
    y = arrays["y"]
    p = sigmoid(_linear(params, arrays))
    dz = (y * (1 - p) ** g * (g * p * np.log(p) + p - 1)
          + (1 - y) * p**g * (p - g * (1 - p) * np.log(1 - p)))
    return _wb(dz, arrays, params)


def logistic_temperature(params, arrays, hyper):
    # a = sigmoid(z / T): dz = (a - y) / T (Guo et al. 2017, temperature scaling)
    a = sigmoid(_linear(params, arrays) / hyper["T"])
    return _wb((a - arrays["y"]) / hyper["T"], arrays, params)


# ----- several outputs -----


def softmax_l2(params, arrays, hyper):
    # dZ = A - Y, dW = dZ X^T / m + lambd W / m (Bishop PRML 4.3.4)
    X = arrays["x"]
    a = softmax(params["W"] @ X + params["b"])
    return _Wb(a - arrays["y"], X, params, hyper, "lambd")


def multilabel_sigmoid(params, arrays, hyper):
    # one sigmoid per label: dZ = A - Y (Goodfellow et al. 6.2.2.2)
    X = arrays["x"]
    return _Wb(sigmoid(params["W"] @ X + params["b"]) - arrays["y"], X)


def soft_label_softmax(params, arrays, hyper):
    # cross-entropy against a probability vector: dZ = A - Y (Goodfellow et al. 6.2.2.3)
    X = arrays["x"]
    return _Wb(softmax(params["W"] @ X + params["b"]) - arrays["y"], X)


def label_smoothing(params, arrays, hyper):
    # target t = (1 - eps) y + eps / K, dZ = A - T (Szegedy et al. 2016, section 7)
    X, eps = arrays["x"], hyper["eps"]
    t = (1 - eps) * arrays["y"] + eps / 3
    return _Wb(softmax(params["W"] @ X + params["b"]) - t, X)


def distillation(params, arrays, hyper):
    # dL/dz_i = (q_i - p_i) / T (Hinton, Vinyals, Dean 2015, section 2)
    X, T = arrays["x"], hyper["T"]
    pt = softmax(arrays["zt"] / T)
    q = softmax((params["W"] @ X + params["b"]) / T)
    return _Wb((q - pt) / T, X)


def attention_scores(params, arrays, hyper):
    # s = softmax(K q / sqrt(d_k)), q = Wq x: de = s - y, dK = de q^T / 2, dq = K^T de / 2
    # (Vaswani et al. 2017, 3.2.1; softmax with cross-entropy as in Goodfellow et al. 6.2.2.3)
    X = arrays["x"]
    m = X.shape[1]
    K, Wq = params["K"], params["Wq"]
    q = Wq @ X
    de = softmax(K @ q / 2) - arrays["y"]
    dq = K.T @ de / 2
    return {"dK": de @ q.T / 2 / m, "dWq": dq @ X.T / m}


def attention_keys(params, arrays, hyper):
    # the same as attention_scores with the keys K given as data (a constant), not trained:
    # de = s - y, dq = K^T de / 2, dWq = dq x^T (Vaswani et al. 2017, 3.2.1)
    X, K = arrays["x"], arrays["K"]
    m = X.shape[1]
    q = params["Wq"] @ X
    de = softmax(K @ q / 2) - arrays["y"]
    return {"dWq": (K.T @ de / 2) @ X.T / m}


# ----- networks -----


def _bce_layer(params, a_prev, y, W, b):
    """A sigmoid output with cross-entropy: dZ = A - Y, and its dW, db, dA_prev."""
    m = a_prev.shape[1]
    dz = sigmoid(params[W] @ a_prev + params[b]) - y
    return {"d" + W: dz @ a_prev.T / m, "d" + b: dz.sum(axis=1, keepdims=True) / m}, \
        params[W].T @ dz


def two_layer_mixed(params, arrays, hyper):
    # dZ2 = A2 - Y; dZ1 = W2^T dZ2 * softplus'(Z1) = W2^T dZ2 * sigmoid(Z1) (Goodfellow 6.5)
    X = arrays["x"]
    m = X.shape[1]
    z1 = params["W1"] @ X + params["b1"]
    grads, da1 = _bce_layer(params, np.logaddexp(0.0, z1), arrays["y"], "W2", "b2")
    dz1 = da1 * sigmoid(z1)
    return {**grads, "dW1": dz1 @ X.T / m, "db1": dz1.sum(axis=1, keepdims=True) / m}


def three_layer_mixed(params, arrays, hyper):
    # dZ3 = A3 - Y; dZ2 = W3^T dZ3 * (1 - A2^2); dZ1 = W2^T dZ2 * [Z1 > 0] (Goodfellow 6.5)
    X = arrays["x"]
    m = X.shape[1]
    z1 = params["W1"] @ X + params["b1"]
    a1 = relu(z1)
    a2 = np.tanh(params["W2"] @ a1 + params["b2"])
    grads, da2 = _bce_layer(params, a2, arrays["y"], "W3", "b3")
    dz2 = da2 * (1 - a2**2)
    dz1 = params["W2"].T @ dz2 * step(z1)
    return {**grads, "dW2": dz2 @ a1.T / m, "db2": dz2.sum(axis=1, keepdims=True) / m,
            "dW1": dz1 @ X.T / m, "db1": dz1.sum(axis=1, keepdims=True) / m}


def leaky_relu_network(params, arrays, hyper):
    # dZ2 = A2 - Y; dZ1 = W2^T dZ2 * (1 if Z1 > 0 else 0.1) (Maas et al. 2013)
    X = arrays["x"]
    m = X.shape[1]
    z1 = params["W1"] @ X + params["b1"]
    a1 = np.where(z1 > 0, z1, 0.1 * z1)
    dz2 = softmax(params["W2"] @ a1 + params["b2"]) - arrays["y"]
    dz1 = params["W2"].T @ dz2 * np.where(z1 > 0, 1.0, 0.1)
    return {"dW2": dz2 @ a1.T / m, "db2": dz2.sum(axis=1, keepdims=True) / m,
            "dW1": dz1 @ X.T / m, "db1": dz1.sum(axis=1, keepdims=True) / m}


def dropout_mask(params, arrays, hyper):
    # h = d * relu(z1): dZ1 = (W2^T dZ2) * d * [z1 > 0] (Srivastava et al. 2014, section 5.1)
    X, d = arrays["x"], arrays["d"]
    m = X.shape[1]
    z1 = params["W1"] @ X + params["b1"]
    grads, dh = _bce_layer(params, d * relu(z1), arrays["y"], "W2", "b2")
    dz1 = dh * d * step(z1)
    return {**grads, "dW1": dz1 @ X.T / m, "db1": dz1.sum(axis=1, keepdims=True) / m}


def dropout_network(params, arrays, hyper):
    # h = d1 * relu(z1) / keep_prob: dZ1 = (W2^T dZ2) * d1 / keep_prob * [z1 > 0]
    # (course 2 week 1, backward_propagation_with_dropout: dA1 = dA1 * D1 / keep_prob)
    X, d, keep = arrays["x"], arrays["d1"], hyper["keep_prob"]
    m = X.shape[1]
    z1 = params["W1"] @ X + params["b1"]
    grads, dh = _bce_layer(params, d * relu(z1) / keep, arrays["y"], "W2", "b2")
    dz1 = dh * d / keep * step(z1)
    return {**grads, "dW1": dz1 @ X.T / m, "db1": dz1.sum(axis=1, keepdims=True) / m}


def autoencoder(params, arrays, hyper):
    # dR = R - X; dW2 = dR H^T / m; dZ1 = W2^T dR * H (1 - H) (Goodfellow et al. ch. 14, 6.5)
    X = arrays["x"]
    m = X.shape[1]
    h = sigmoid(params["W1"] @ X + params["b1"])
    dr = params["W2"] @ h + params["b2"] - X  # the target is the input itself
    dz1 = params["W2"].T @ dr * h * (1 - h)
    return {"dW2": dr @ h.T / m, "db2": dr.sum(axis=1, keepdims=True) / m,
            "dW1": dz1 @ X.T / m, "db1": dz1.sum(axis=1, keepdims=True) / m}


def rnn_cell(params, arrays, hyper):
    # h = tanh(Wh h_prev + Wx x + b); dh = V^T do; dpre = dh (1 - h^2);
    # dWh = dpre h_prev^T, dWx = dpre x^T (Goodfellow et al. 10.2.2)
    X, hp = arrays["x"], arrays["h_prev"]
    m = X.shape[1]
    h = np.tanh(params["Wh"] @ hp + params["Wx"] @ X + params["b"])
    do = sigmoid(params["V"] @ h + params["c"]) - arrays["y"]
    dpre = params["V"].T @ do * (1 - h**2)
    return {"dV": do @ h.T / m, "dc": do.sum(axis=1, keepdims=True) / m,
            "dWh": dpre @ hp.T / m, "dWx": dpre @ X.T / m,
            "db": dpre.sum(axis=1, keepdims=True) / m}


def rnn_unrolled(params, arrays, hyper):
    # back-propagation through time: dh_t = Wh^T dpre_{t+1} (+ V^T do at the last step),
    # dpre_t = dh_t (1 - h_t^2); shared weights sum over t (Goodfellow et al. 10.2.2)
    Wh, Wx, b = params["Wh"], params["Wx"], params["b"]
    xs = [arrays["x1"], arrays["x2"], arrays["x3"]]
    m = xs[0].shape[1]
    hs = [np.zeros((Wh.shape[0], m))]
    for t, x in enumerate(xs):
        recurrent = Wh @ hs[-1] if t else 0.0  # h1 has no recurrent term
        hs.append(np.tanh(recurrent + Wx @ x + b))
    do = softmax(params["V"] @ hs[-1] + params["c"]) - arrays["y"]
    grads = {"dV": do @ hs[-1].T / m, "dc": do.sum(axis=1, keepdims=True) / m,
             "dWh": np.zeros_like(Wh), "dWx": np.zeros_like(Wx), "db": np.zeros_like(b)}
    dh = params["V"].T @ do
    for t in (3, 2, 1):
        dpre = dh * (1 - hs[t] ** 2)
        grads["dWx"] += dpre @ xs[t - 1].T / m
        grads["db"] += dpre.sum(axis=1, keepdims=True) / m
        if t > 1:
            grads["dWh"] += dpre @ hs[t - 1].T / m
        dh = Wh.T @ dpre
    return grads


# ----- pairs and factors -----


def contrastive_pair(params, arrays, hyper):
    # D = |W (x1 - x2)|; dL/dW = y W dx dx^T - (1 - y) max(0, marg - D) W dx dx^T / D
    # (Hadsell, Chopra, LeCun 2006, section 2)
    W, y, marg = params["W"], arrays["y"], hyper["marg"]
    dx = arrays["x1"] - arrays["x2"]
    m = dx.shape[1]
    e = W @ dx
    dist = np.sqrt(np.sum(e**2, axis=0, keepdims=True))
    coef = y - (1 - y) * relu(marg - dist) / dist
    return {"dW": (coef * e) @ dx.T / m}


def matrix_factorization(params, arrays, hyper):
    # e = p.q - r; dp_u = e q_i + lambd p_u, dq_i = e p_u + lambd q_i, averaged over the ratings
    # (Koren, Bell, Volinsky 2009)
    Pu, Qv, u, v = params["Pu"], params["Qv"], arrays["u"], arrays["v"]
    m = u.shape[1]
    p, q = Pu @ u, Qv @ v
    err = np.sum(p * q, axis=0, keepdims=True) - arrays["rating"]
    lambd = hyper["lambd"]
    return {"dPu": ((err * q) @ u.T + lambd * Pu) / m, "dQv": ((err * p) @ v.T + lambd * Qv) / m}


def batchnorm_network(params, arrays, hyper):
    # z1 = W1 x normalized over the batch: zhat = (z1 - mu)/sqrt(var + eps), ztilde = gamma zhat
    # + beta, a1 = relu(ztilde), a2 = sigmoid(w2^T a1 + b2). dZ2 = A2 - Y; dZtilde = w2 dZ2 *
    # [Ztilde > 0]; dgamma = sum(dZtilde * Zhat)/m, dbeta = sum(dZtilde)/m (row sums), and the
    # three-term form dZ1 = gamma/(m sqrt(var + eps)) (m dZtilde - sum(dZtilde) - Zhat
    # sum(dZtilde * Zhat)) (Ioffe & Szegedy 2015, section 3, with dZtilde the cost's m-fold
    # derivative, as dZ is throughout)
    X, y, eps = arrays["x"], arrays["y"], hyper["eps"]
    m = X.shape[1]
    z1 = params["W1"] @ X
    mu = z1.mean(axis=1, keepdims=True)
    var = ((z1 - mu) ** 2).mean(axis=1, keepdims=True)
    zhat = (z1 - mu) / np.sqrt(var + eps)
    ztilde = params["gamma1"] * zhat + params["beta1"]
    a1 = relu(ztilde)
    dz2 = sigmoid(params["w2"].T @ a1 + params["b2"]) - y
    dztilde = params["w2"] @ dz2 * step(ztilde)
    dz1 = params["gamma1"] / (m * np.sqrt(var + eps)) * (
        m * dztilde - dztilde.sum(axis=1, keepdims=True)
        - zhat * (dztilde * zhat).sum(axis=1, keepdims=True))
    return {"dW1": dz1 @ X.T / m, "dgamma1": (dztilde * zhat).sum(axis=1, keepdims=True) / m,
            "dbeta1": dztilde.sum(axis=1, keepdims=True) / m, "dw2": a1 @ dz2.T / m,
            "db2": float(dz2.sum() / m)}


GRADIENTS = {f.__name__: f for f in (
    ridge_regression, pseudo_huber_regression, log_cosh_regression, tanh_mse, cauchy_regression,
    weighted_least_squares, multi_output_regression, gaussian_nll, factorization_machine,
    poisson_glm, gamma_glm, negative_binomial_glm, weighted_logistic_regression, hinge_svm,
    squared_hinge_svm, logistic_margin, exponential_loss, focal_loss, logistic_temperature,
    softmax_l2, multilabel_sigmoid, soft_label_softmax, label_smoothing, distillation,
    attention_scores, attention_keys, two_layer_mixed, three_layer_mixed, leaky_relu_network,
    dropout_mask, dropout_network, autoencoder, rnn_cell, rnn_unrolled, contrastive_pair,
    matrix_factorization,
    mae_regression, huber_regression, epsilon_insensitive_svr, probit_regression,
    msle_regression, focal_loss_tunable, gelu_network, siren_network, elu_network,
    tied_autoencoder, batchnorm_network,
)}
