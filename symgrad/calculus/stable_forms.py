"""Numerically stable forms, found symbolically.

A naive formula can overflow where the quantity it computes is perfectly finite: the binary
cross-entropy ``-(y*log(a) + (1 - y)*log(1 - a))`` with ``a = sigmoid(z)`` gives ``log(0)`` once
``|z|`` passes about 37, and ``log(softmax(z))`` does the same once a column's entries lie far
apart. The code generator therefore writes each node of the cost through
:func:`stable_form`:

1. inside the functions that the rules start with (``log``), the nodes' definitions are
   written in (``log(a)`` -> ``log(sigmoid(z))``), so that the rules can see through the node
   names;
2. each rule of :data:`RULES` is applied with ``replace``; a rule is an identity that SymPy proves
   (:func:`check_rule`) before it is ever used;
3. what remains is written back in node variables.

If no rule applies, the node's own expression is kept. Nothing here knows a particular model:
a rule is matched wherever its left side occurs.

>>> import sympy as sp
>>> from symgrad.model.ops import sigmoid
>>> z, a, y = sp.symbols("z a y", real=True)
>>> stable_form(-(y*sp.log(a) + (1 - y)*sp.log(1 - a)), [(z, z), (a, sigmoid(z))])[0]
y*softplus(-z) + (1 - y)*softplus(z)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from ..model.ops import Structural, colsum, rowsum, sigmoid, softmax, softplus, total
from .simplify import to_node_variables

_u = sp.Wild("u")


class logsumexp(Structural):
    """log(sum(exp(z))) down each column: (r, c) -> (1, c); printed as a call of a helper that
    subtracts each column's maximum first."""

    nargs = 1

    def definition(self):
        (z,) = self.args
        return sp.log(colsum(sp.exp(z)))


@dataclass(frozen=True)
class Rule:
    name: str
    lhs: sp.Expr  # pattern in the wildcard _u
    rhs: sp.Expr


# In the order they are tried: the more specific pattern first.
RULES = (
    Rule("log(1 - sigmoid(u)) = -softplus(u)", sp.log(1 - sigmoid(_u)), -softplus(_u)),
    Rule("log(sigmoid(u)) = -softplus(-u)", sp.log(sigmoid(_u)), -softplus(-_u)),
    Rule("log(softmax(u)) = u - logsumexp(u)", sp.log(softmax(_u)), _u - logsumexp(_u)),
)


@functools.cache
def check_rule(rule: Rule) -> bool:
    """True when SymPy proves ``lhs = rhs`` for every real ``u``."""
    u = sp.Symbol("u", real=True)
    difference = _written_out((rule.lhs - rule.rhs).xreplace({_u: u}))
    return sp.simplify(difference) == 0


def _written_out(expr):
    """``expr`` with symgrad's functions replaced by their definitions; a sum of exponentials
    becomes a positive symbol (it is one), so that SymPy may split its logarithm."""
    for _ in range(8):
        after = expr.replace(lambda e: hasattr(e, "definition"), lambda e: e.definition())
        if after == expr:
            break
        expr = after
    expr = expr.rewrite(sp.exp)
    positive = {}

    def hole(e):
        return positive.setdefault(e, sp.Dummy(f"s{len(positive)}", positive=True))

    return expr.replace(lambda e: isinstance(e, (colsum, rowsum, total))
                        and isinstance(e.args[0], sp.exp), hole)


def stable_form(expr, nodes) -> tuple[sp.Expr, tuple[str, ...]]:
    """``expr`` rewritten by the stable rules, and the names of the rules that applied.

    ``nodes`` is the graph's ``[(symbol, forward expression)]`` in forward order.
    """
    inlined = _inline(expr, nodes)
    used = []
    rewritten = inlined
    for rule in RULES:
        after = rewritten.replace(rule.lhs, rule.rhs)
        if after != rewritten:
            if not check_rule(rule):
                raise AssertionError(f"the stable rule '{rule.name}' is not an identity")
            used.append(rule.name)
            rewritten = after
    if not used:
        return expr, ()
    return to_node_variables(rewritten, nodes), tuple(used)


def _inline(expr, nodes):
    """Inside the rules' head functions, write in the nodes' definitions (one level)."""
    definitions = {s: e for s, e in nodes if e != s}
    heads = tuple({type(rule.lhs) for rule in RULES})
    return expr.replace(lambda e: isinstance(e, heads),
                        lambda e: e.func(*[a.xreplace(definitions) for a in e.args]))
