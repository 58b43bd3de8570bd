"""Local derivatives: how an adjoint flows from a node back into what the node uses.

The contract: :func:`backprop` receives a node's forward expression, the node's adjoint (a
symbol such as ``dz``) and the shapes, and returns each used symbol's contribution. Nothing here
knows a final answer; the derivatives themselves come from SymPy:

* elementwise parts: ``sympy.diff`` of the forward expression (structural subexpressions are
  masked by placeholder symbols first), then summed over any broadcast axes;
* structural parts (``matmul``, ``transpose``, the sums): SymPy's matrix calculus,
  ``Trace(G.T * F(P, ...)).diff(P)``, on matrix symbols of the right shapes.

Each contribution is recorded as a :class:`Contribution` so that proofs can show it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions import MatAdd, MatMul, MatrixSymbol, OneMatrix, Trace, Transpose

from ..model.errors import SpecError
from ..model.ops import Structural, colsum, mask, matmul, rowsum, total, transpose
from ..model.shapes import SCALAR, broadcast, shape_of


@dataclass(frozen=True)
class Contribution:
    """The part of ``d<var>`` that flows back from one consumer node."""

    consumer: sp.Symbol  # the node whose adjoint flows back
    var: sp.Symbol  # the symbol it flows into
    expr: sp.Expr  # the contribution, in terms of the consumer's adjoint symbol
    local: sp.Expr | None  # d consumer / d var when the dependence is elementwise, else None
    via: str  # "elementwise", or the structural operations it passed through


def backprop(expr, adjoint, shapes, consumer=None) -> list[Contribution]:
    """Contributions of ``adjoint`` (the adjoint of ``expr``) to each symbol of ``expr``."""
    out: list[Contribution] = []
    _backprop(expr, adjoint, shapes, consumer, out, path=())
    merged: dict[sp.Symbol, Contribution] = {}
    for c in out:  # a symbol reached along several paths gets one summed contribution
        if c.var in merged:
            old = merged[c.var]
            local = old.local + c.local if old.local is not None and c.local is not None else None
            via = old.via if old.via == c.via else "elementwise + structural"
            c = Contribution(consumer, c.var, old.expr + c.expr, local, via)
        merged[c.var] = c
    return list(merged.values())


def _backprop(expr, g, shapes, consumer, out, path):
    if isinstance(expr, sp.Symbol):
        out.append(Contribution(consumer, expr, g, sp.Integer(1) if not path else None,
                                " . ".join(path) or "elementwise"))
        return
    if hasattr(expr, "definition"):  # e.g. softmax: differentiate what it stands for
        _backprop(expr.definition(), g, shapes, consumer, out, path + (type(expr).__name__,))
        return
    if isinstance(expr, Structural):
        for leaf, contribution in structural_vjp(expr, g, shapes):
            _backprop(leaf, contribution, shapes, consumer, out, path + (type(expr).__name__,))
        return
    masked, unmask = mask(expr, "t")
    env = dict(shapes)
    env.update({v: shape_of(k, shapes) for v, k in unmask.items()})
    g_shape = shape_of(g, env) if g.free_symbols else SCALAR
    out_shape = broadcast(shape_of(expr, shapes), g_shape)
    for s in sorted(masked.free_symbols, key=str):
        local = sp.diff(masked, s).xreplace(unmask)
        if local == 0:
            continue
        local_shape = shape_of(local, shapes)
        contribution = unbroadcast(g * local, broadcast(out_shape, local_shape), env[s],
                                   own=broadcast(g_shape, local_shape))
        if s in unmask:
            _backprop(unmask[s], contribution, shapes, consumer, out, path)
        else:
            out.append(Contribution(consumer, s, contribution, local if not path else None,
                                    " . ".join(path) or "elementwise"))


def unbroadcast(expr, shape, target, own=None):
    """Sum ``expr`` (of ``shape``) over the axes along which ``target`` was broadcast.

    ``own`` is the shape ``expr`` has by itself, where it stands for an array of ``shape``
    constant along some axis (a seed of 1 for a row of m ones): its sum along such an axis is
    a count times it, not the sum of its one entry."""
    if own is not None:
        count = sp.Integer(1)
        rows, cols = shape
        if own[0] == 1 and rows != 1 and target[0] == 1:
            count, rows = count * rows, sp.Integer(1)
        if own[1] == 1 and cols != 1 and target[1] == 1:
            count, cols = count * cols, sp.Integer(1)
        return count * unbroadcast(expr, (rows, cols), target)
    if tuple(target) == SCALAR and tuple(shape) != SCALAR:
        # a column's sum is colsum, so that a one-hot column is known to sum to 1
        return colsum(expr) if shape[1] == 1 else total(expr)
    rows = target[0] == 1 and shape[0] != 1
    cols = target[1] == 1 and shape[1] != 1
    if rows and cols:
        return total(expr)
    if rows:
        return colsum(expr)
    if cols:
        return rowsum(expr)
    return expr


# ----- structural operations: adjoints by SymPy's matrix calculus -----

def _as_matrix(expr, shapes, leaves):
    """``expr`` as a SymPy matrix expression; non-structural parts become matrix symbols."""
    if isinstance(expr, matmul):
        return MatMul(_as_matrix(expr.args[0], shapes, leaves),
                      _as_matrix(expr.args[1], shapes, leaves))
    if isinstance(expr, transpose):
        return Transpose(_as_matrix(expr.args[0], shapes, leaves))
    if isinstance(expr, (colsum, rowsum, total)):
        inner = _as_matrix(expr.args[0], shapes, leaves)
        r, c = inner.shape
        if isinstance(expr, colsum):
            return MatMul(OneMatrix(1, r), inner)
        if isinstance(expr, rowsum):
            return MatMul(inner, OneMatrix(c, 1))
        return MatMul(OneMatrix(1, r), inner, OneMatrix(c, 1))
    if isinstance(expr, Structural):
        raise SpecError(f"no adjoint rule for the operation '{type(expr).__name__}'")
    if expr not in leaves:
        leaves[expr] = MatrixSymbol(f"P{len(leaves)}", *shape_of(expr, shapes))
    return leaves[expr]


def structural_vjp(expr, g, shapes):
    """(leaf, contribution) pairs for a structural expression with adjoint ``g``."""
    leaves: dict = {}
    matrix = _as_matrix(expr, shapes, leaves)
    back = {MatrixSymbol("G", *matrix.shape): g, **{v: k for k, v in leaves.items()}}
    derivatives = matrix_vjps(matrix, tuple(leaves.values()))
    return [(leaf, from_matrix(derivative, back, shapes))
            for leaf, derivative in zip(leaves, derivatives, strict=True)]


@functools.lru_cache(maxsize=4096)
def matrix_vjps(matrix, symbols) -> tuple:
    """d trace(G.T @ ``matrix``) / dP for each matrix symbol P in ``symbols``, G of
    ``matrix``'s shape.

    A pure function of the matrix expression (its symbols carry their shapes), kept: the same
    products and sums recur node after node, in the derivation and again in every line of its
    proof, and SymPy's matrix calculus is slow."""
    G = MatrixSymbol("G", *matrix.shape)
    scalar = Trace(MatMul(Transpose(G), matrix))
    return tuple(scalar.diff(symbol) for symbol in symbols)


def from_matrix(expr, back, shapes):
    """A SymPy matrix expression (from matrix calculus) back into symgrad's notation."""
    if isinstance(expr, MatrixSymbol):
        return back[expr]
    if isinstance(expr, Transpose):
        return tidy(transpose(from_matrix(expr.arg, back, shapes)), shapes)
    if isinstance(expr, MatAdd):
        return sp.Add(*[from_matrix(a, back, shapes) for a in expr.args])
    if isinstance(expr, MatMul):
        scalars = [a for a in expr.args if not a.is_Matrix]
        factors = [a for a in expr.args if a.is_Matrix]
        # a ones vector sums what it multiplies (A @ ones(k, 1) = sum(A, axis=1), ones(1, r) @ B
        # = sum(B, axis=0)), and only broadcasts in an outer product at either end
        # (ones(r, 1) @ g, with g one row; u @ ones(1, c), with u one column)
        result, pending = None, False
        for i, f in enumerate(factors):
            if isinstance(f, OneMatrix):
                rows, cols = f.shape
                if (rows, cols) == (1, 1):
                    continue
                if cols == 1 and rows != 1:
                    if result is not None:
                        result = rowsum(result)
                    continue
                if rows == 1 and cols != 1:
                    if i < len(factors) - 1 and not pending:
                        pending = True
                    elif i < len(factors) - 1 or result is None:
                        raise SpecError(f"unexpected sum in the adjoint {expr}")
                    continue
                raise SpecError(f"unexpected sum in the adjoint {expr}")
            part = from_matrix(f, back, shapes)
            if pending:
                part, pending = colsum(part), False
            result = part if result is None else tidy(matmul(result, part), shapes)
        if result is None:
            raise SpecError(f"unexpected sum in the adjoint {expr}")
        return sp.Mul(*scalars) * result
    if not expr.is_Matrix:
        return expr
    raise SpecError(f"cannot read the matrix expression {expr} ({type(expr).__name__})")


def tidy(expr, shapes):
    """Structural identities: transpose of a scalar, double transpose, product with a scalar."""
    if isinstance(expr, transpose):
        (inner,) = expr.args
        if isinstance(inner, transpose):
            return inner.args[0]
        if shape_of(inner, shapes) == SCALAR:
            return inner
        return expr
    if isinstance(expr, matmul):
        left, right = expr.args
        if SCALAR in (shape_of(left, shapes), shape_of(right, shapes)):
            return left * right
    return expr
