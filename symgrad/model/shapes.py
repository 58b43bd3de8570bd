"""Shapes of expressions: every quantity is a 2-D array (r, c); a scalar is (1, 1).

Per example, a vector is a column (n, 1). Over m examples, per-example quantities are stacked as
columns: a scalar node becomes (1, m), a vector node (n, m). Elementwise operations broadcast as
NumPy does.
"""

from __future__ import annotations

import sympy as sp

from .errors import SpecError
from .ops import (
    BLOCKS,
    Structural,
    batch_mean,
    colsum,
    diag,
    eye,
    matmul,
    rowsum,
    softmax,
    total,
    transpose,
)

SCALAR = (sp.Integer(1), sp.Integer(1))


def describe(shape) -> str:
    r, c = shape
    if shape == SCALAR:
        return "scalar"
    if c == 1:
        return f"vector({r})"
    return f"matrix({r}, {c})"


def broadcast(a, b):
    out = []
    for x, y in zip(a, b, strict=True):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise SpecError(f"shape mismatch: {describe(a)} and {describe(b)} do not broadcast")
    return tuple(out)


def shape_of(expr, env) -> tuple:
    """The shape of ``expr`` given the shapes of its symbols (``env``: Symbol -> (r, c))."""
    if isinstance(expr, sp.Symbol):
        return env[expr]
    if isinstance(expr, BLOCKS):
        return tuple(expr.args)
    if isinstance(expr, eye):
        return (expr.args[0], expr.args[0])
    if isinstance(expr, diag):
        return (expr.args[1], expr.args[1])
    if expr.is_Number or expr is sp.pi or expr is sp.E or not expr.free_symbols:
        return SCALAR
    if isinstance(expr, Structural):
        args = [shape_of(a, env) for a in expr.args]
        if isinstance(expr, matmul):
            (r, k), (k2, c) = args
            if k != k2:
                raise SpecError(f"shape mismatch: {describe(args[0])} @ {describe(args[1])}")
            return (r, c)
        if isinstance(expr, transpose):
            return (args[0][1], args[0][0])
        if isinstance(expr, colsum):
            return (sp.Integer(1), args[0][1])
        if isinstance(expr, rowsum):
            return (args[0][0], sp.Integer(1))
        if isinstance(expr, total):
            return SCALAR
        if isinstance(expr, (softmax, batch_mean)):
            return args[0]
        raise SpecError(f"no shape rule for {type(expr).__name__}")
    shape = SCALAR
    for a in expr.args:
        shape = broadcast(shape, shape_of(a, env))
    return shape
