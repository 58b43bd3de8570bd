"""Numbers for symbolic results: evaluation, forward passes, random points, finite differences.

Used in the trusted process only (tests, ``symgrad verify``, the claim checker); expressions are
turned into NumPy functions with ``sympy.lambdify`` and
:class:`~symgrad.printing.printers.NumpyPrinter`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from ..printing.printers import NumpyPrinter


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def relu(z):
    return np.maximum(z, 0.0)


def softplus(z):
    return np.logaddexp(0.0, z)


def leaky_relu(z, alpha):
    return np.where(z > 0, z, alpha * z)


_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def erf(z):
    # math.erf on each entry: exact to the last bit (a rational approximation is not, to the
    # 1e-9 the checks ask); about 10x slower than a NumPy ufunc, fine for checks
    return np.asarray(_erf(z), dtype=float)


def Phi(z):
    # erfc(-z/sqrt(2))/2 rather than (1 + erf(z/sqrt(2)))/2: exact far into the lower tail
    return 0.5 * np.asarray(_erfc(-np.asarray(z, dtype=float) / math.sqrt(2.0)), dtype=float)


def softmax(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


# What the printed code calls beyond NumPy: the functions above, and math (a number's root
# prints as math.sqrt(2), a Python float, as in the generated module)
FUNCTIONS = {"sigmoid": sigmoid, "relu": relu, "softplus": softplus, "leaky_relu": leaky_relu,
             "softmax": softmax, "erf": erf, "Phi": Phi, "math": math}


def evaluate(expr, env: dict):
    """Value of ``expr`` with ``env`` (Symbol -> array or number) for its symbols."""
    symbols = sorted(expr.free_symbols, key=str)
    missing = [s for s in symbols if s not in env]
    if missing:
        raise KeyError(f"no value for {missing}")
    f = _compiled(tuple(symbols), expr)
    return np.asarray(f(*[env[s] for s in symbols]), dtype=float)


@functools.lru_cache(maxsize=1024)
def _compiled(symbols, expr):
    """``expr`` as a NumPy function of ``symbols``, kept: checks evaluate one expression at
    several random points, and printing and compiling it costs more than evaluating it."""
    return lambdify(symbols, expr, NumpyPrinter)


def lambdify(symbols, expr, printer):
    """``sympy.lambdify`` of ``expr`` over ``symbols``, renamed to plain identifiers that keep
    their assumptions.

    lambdify's own ``dummify`` rebuilds the expression over Dummy symbols without assumptions;
    rebuilding ``tanh(tanh(...))`` over a symbol not known to be real makes SymPy ask at each
    level whether the argument is real (``tanh._eval_is_real``, ``as_real_imag``), at a cost
    exponential in the depth.
    """
    plain = {s: sp.Symbol(f"_{i}", **s.assumptions0) for i, s in enumerate(symbols)}
    return sp.lambdify(list(plain.values()), expr.xreplace(plain),
                       modules=[FUNCTIONS, "numpy"], printer=printer)


def sizes_for(shapes, rng, low=2, high=5) -> dict:
    """A concrete size for every dimension symbol (m included)."""
    dims = set()
    for shape in shapes.values():
        for d in shape:
            dims |= getattr(d, "free_symbols", set())
    return {d: int(rng.integers(low, high + 1)) for d in sorted(dims, key=str)}


def concrete(shape, sizes):
    return tuple(int(sp.Integer(d).subs(sizes) if isinstance(d, int) else d.subs(sizes))
                 for d in shape)


def random_leaves(graph, rng, sizes, scale=1.0) -> dict:
    """Random values for the graph's free symbols, each inside its domain (a label's, an
    input's or a hyperparameter's: :mod:`symgrad.model.domains`); parameters from N(0, scale)."""
    defined = {s for s, _ in graph.nodes}
    leaves = set().union(graph.penalty.free_symbols,
                         *(e.free_symbols for _, e in graph.nodes)) - defined
    env = {d: n for d, n in sizes.items() if d.name == "m"}
    for s in sorted(leaves, key=str):
        if s.name == "m" or s.is_integer:
            env[s] = sizes.get(s, sizes.get(sp.Symbol("m", positive=True, integer=True)))
            continue
        shape = concrete(graph.shapes[s], sizes)
        domain = graph.domains.get(s)
        if domain is not None:  # a label, an input or a hyperparameter inside its domain
            env[s] = domain.draw(rng, shape, scale)
        else:
            env[s] = rng.normal(0.0, scale, size=shape)
    return env


def forward(graph, env: dict) -> dict:
    """Every node's value, computed in order from the leaves' values in ``env``."""
    env = dict(env)
    for symbol, expr in graph.nodes:
        env[symbol] = evaluate(expr, env)
    return env


def finite_difference(graph, env: dict, var, eps=1e-6):
    """Central finite differences of the graph's output with respect to ``var``."""
    base = np.array(env[var], dtype=float)
    grad = np.zeros_like(base)
    for index in np.ndindex(*base.shape):
        values = []
        for step in (eps, -eps):
            shifted = base.copy()
            shifted[index] += step
            out = forward(graph, {**env, var: shifted})[graph.output]
            values.append(float(np.sum(out)))
        grad[index] = (values[0] - values[1]) / (2 * eps)
    return grad


def with_adjoints(graph, steps, env: dict, sizes: dict) -> dict:
    """``env`` (a forward pass) plus the value of every derived adjoint, in sweep order."""
    from .chain import adjoint_symbol

    env = dict(env)
    env[adjoint_symbol(graph.output)] = float(sp.Integer(1) * graph.seed.subs(sizes))
    for step in steps.values():
        env[step.adjoint] = evaluate(step.result, env)
    return env


KINK_MARGIN = 1e-3  # finite differences step well inside this: no kink is crossed


def kinks(graph) -> list:
    """Arguments at which a node's derivative jumps (relu, abs, maximum, clip, Heaviside, ...:
    :data:`~symgrad.model.ops.KINKS`)."""
    from ..model.ops import KINKS

    out = []
    for _, expr in graph.nodes:
        for f in expr.atoms(*KINKS):
            out.extend(k for k in KINKS[f.func](*f.args) if k not in out)
    return out


def clip_bounds(graph) -> list:
    """The (lo, hi) of every clip whose bounds are expressions of the hyperparameters."""
    from ..model.ops import clip

    out = []
    for _, expr in graph.nodes:
        for f in expr.atoms(clip):
            bounds = tuple(f.args[1:])
            if not all(b.is_number for b in bounds) and bounds not in out:
                out.append(bounds)
    return out


def draw(graph, rng, sizes, tries=100) -> dict:
    """A forward pass at random leaves, redrawn until no kink argument is near zero and every
    clip's bounds are in order (lo <= hi, which the generated code insists on).

    Finite differences across a kink would disagree with any derivative; rather than loosen
    the tolerance, the checks stay away from the kinks.
    """
    points = kinks(graph)
    bounds = clip_bounds(graph)
    for _ in range(tries):
        env = forward(graph, random_leaves(graph, rng, sizes))
        if (all(np.min(np.abs(evaluate(k, env))) > KINK_MARGIN for k in points)
                and all(np.all(evaluate(lo, env) <= evaluate(hi, env)) for lo, hi in bounds)):
            return env
    raise RuntimeError("could not draw a point away from the kinks")
