"""Simplification into the graph's own variables; every rewrite is an equality that is recorded.

Two steps, each returning the expression and a label for the proof trace:

* :func:`to_node_variables`: a node's forward expression is replaced by the node's name
  (``sigmoid(z)`` -> ``a``), so results read like hand math;
* :func:`shortest`: SymPy's ``cancel``, ``factor``, ``together``, ``expand``; the form with the
  fewest operations wins (ties: the shorter text), after the model's assumptions are applied
  (a ``binary`` label has ``y**2 = y``; a ``onehot`` label sums to 1).
"""

from __future__ import annotations

import sympy as sp

from ..model.ops import Structural, colsum, mask, rowsum, total
from ..model.shapes import SCALAR, shape_of


def to_node_variables(expr, nodes):
    """Replace each node's forward expression in ``expr`` by the node's symbol.

    >>> a, z = sp.symbols("a z")
    >>> from symgrad.model.ops import sigmoid
    >>> to_node_variables(sigmoid(z) * (1 - sigmoid(z)), [(a, sigmoid(z))])
    a*(1 - a)
    """
    names = {forward: symbol for symbol, forward in nodes
             if not (isinstance(forward, sp.Symbol) or forward.is_Number)}
    expr = expr.xreplace(names)
    for symbol, forward in nodes:  # an operation written out by its definition (softmax)
        if hasattr(forward, "definition") and expr.has(*forward.definition().atoms(Structural)):
            expr = expr.subs(forward.definition(), symbol)
    return expr


def tidy_sums(expr, shapes):
    """Linearity of the sums: constants along the summed axis come out, sums of terms split.

    ``sum(a*s, axis=0) = s*sum(a, axis=0)`` where ``s`` has one row; likewise for the other
    sums. Each is an identity of linear algebra, so the result equals the input.
    """
    def keeps(sum_, factor):
        r, c = shape_of(factor, shapes)
        if isinstance(sum_, colsum):
            return r == 1
        if isinstance(sum_, rowsum):
            return c == 1
        return (r, c) == SCALAR

    def tidy(e):
        if not isinstance(e, (colsum, rowsum, total)):
            return e
        (arg,) = e.args
        arg = sp.expand(arg) if arg.is_Add or arg.is_Mul else arg
        terms = sp.Add.make_args(arg)
        out = []
        for term in terms:
            inside, outside = [], []
            for factor in sp.Mul.make_args(term):
                (outside if factor.is_Number or keeps(e, factor) else inside).append(factor)
            out.append(sp.Mul(*outside) * (e.func(sp.Mul(*inside)) if inside else
                                           _constant_sum(e, shapes)))
        return sp.Add(*out)

    return expr.replace(lambda e: isinstance(e, (colsum, rowsum, total)), tidy)


def _constant_sum(sum_, shapes):
    """The sum of a constant 1 broadcast to the summed argument's shape: its count."""
    r, c = shape_of(sum_.args[0], shapes)
    if isinstance(sum_, colsum):
        return r
    if isinstance(sum_, rowsum):
        return c
    return r * c


def apply_assumptions(expr, binary=frozenset(), onehot=frozenset()):
    if binary:
        expr = expr.replace(lambda e: e.is_Pow and e.base in binary and e.exp.is_Integer
                            and e.exp > 0, lambda e: e.base)
    if onehot:  # each column of a one-hot label sums to 1
        expr = expr.replace(lambda e: isinstance(e, colsum) and e.args[0] in onehot,
                            lambda e: sp.Integer(1))
    return expr


def size(expr):
    return (sp.count_ops(expr), len(str(expr)))


SIMPLIFIERS = (
    ("cancel", sp.cancel),
    ("factor", sp.factor),
    ("together", sp.together),
    ("expand", sp.expand),
)


def shortest(expr, binary=frozenset(), onehot=frozenset()):
    """The smallest of the simplifiers' results, and the name of the one that gave it."""
    expr = apply_assumptions(expr, binary, onehot)
    masked, unmask = mask(expr)
    best, label = masked, "as derived"
    for name, simplifier in SIMPLIFIERS:
        candidate = apply_assumptions(simplifier(masked), binary, onehot)
        if size(candidate) < size(best):
            best, label = candidate, name
    # a second pass: after expansion, cancelling or factoring may shorten further
    for name, simplifier in SIMPLIFIERS[:2]:
        candidate = apply_assumptions(simplifier(best), binary, onehot)
        if size(candidate) < size(best):
            best, label = candidate, f"{label}, then {name}"
    return best.xreplace(unmask), label
