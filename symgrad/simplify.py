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

from .ops import colsum, mask, total


def to_node_variables(expr, nodes):
    """Replace each node's forward expression in ``expr`` by the node's symbol.

    >>> a, z = sp.symbols("a z")
    >>> from symgrad.ops import sigmoid
    >>> to_node_variables(sigmoid(z) * (1 - sigmoid(z)), [(a, sigmoid(z))])
    a*(1 - a)
    """
    names = {forward: symbol for symbol, forward in nodes
             if not (isinstance(forward, sp.Symbol) or forward.is_Number)}
    return expr.xreplace(names)


def apply_assumptions(expr, binary=frozenset(), onehot=frozenset()):
    if binary:
        expr = expr.replace(lambda e: e.is_Pow and e.base in binary and e.exp.is_Integer
                            and e.exp > 0, lambda e: e.base)
    if onehot:
        expr = expr.replace(lambda e: isinstance(e, (colsum, total)) and e.args[0] in onehot,
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
