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
3. a division by a function of :data:`QUOTIENT_RULES` (``Phi(u)``) is split into partial
   fractions in that function, and each fraction rewritten by a rule whose left side it is
   (up to a factor free of the function): ``(y - Phi)/(Phi (Phi - 1))`` times ``phi`` becomes
   ``-y mills(u) + (1 - y) mills(-u)``; where one fraction matches no rule, the expression is
   kept as it is;
4. what remains is written back in node variables.

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

from ..model.ops import Phi, Structural, colsum, rowsum, sigmoid, softmax, softplus, total
from .simplify import to_node_variables

_u = sp.Wild("u")


class logsumexp(Structural):
    """log(sum(exp(z))) down each column: (r, c) -> (1, c); printed as a call of a helper that
    subtracts each column's maximum first."""

    nargs = 1

    def definition(self):
        (z,) = self.args
        return sp.log(colsum(sp.exp(z)))


class log_Phi(sp.Function):
    """log(Phi(u)), printed as a call of a helper that stays finite and accurate far into the
    lower tail (where Phi(u) underflows) and near 1 (where 1 - Phi(-u) rounds to 1)."""

    nargs = 1

    def definition(self):
        return sp.log(Phi(self.args[0]))

    def _eval_is_real(self):
        return self.args[0].is_real


class mills(sp.Function):
    """phi(u)/Phi(u), phi the standard normal density: the inverse Mills ratio, printed as a
    call of a helper that divides no two underflowing numbers (about -u far below 0)."""

    nargs = 1

    def definition(self):
        u = self.args[0]
        return sp.exp(-u**2 / 2) / (sp.sqrt(2 * sp.pi) * Phi(u))

    def _eval_is_real(self):
        return self.args[0].is_real


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
    Rule("log(1 - Phi(u)) = log_Phi(-u)", sp.log(1 - Phi(_u)), log_Phi(-_u)),
    Rule("log(Phi(u)) = log_Phi(u)", sp.log(Phi(_u)), log_Phi(_u)),
)

# Fractions whose denominator holds a function of u (Phi(u)): matched after the expression is
# split into partial fractions in that function, so as the derivation's one combined fraction
# (y - Phi)/(Phi (Phi - 1)) is found to be two of them. Denominators as apart writes them (monic).
QUOTIENT_RULES = (
    Rule("exp(-u**2/2)/Phi(u) = sqrt(2*pi)*mills(u)", sp.exp(-_u**2 / 2) / Phi(_u),
         sp.sqrt(2 * sp.pi) * mills(_u)),
    Rule("exp(-u**2/2)/(Phi(u) - 1) = -sqrt(2*pi)*mills(-u)", sp.exp(-_u**2 / 2) / (Phi(_u) - 1),
         -sp.sqrt(2 * sp.pi) * mills(-_u)),
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
    expr = expr.rewrite(sp.exp).rewrite(sp.erf)  # Phi(u) = (1 + erf(u/sqrt(2)))/2
    positive = {}

    def hole(e):
        return positive.setdefault(e, sp.Dummy(f"s{len(positive)}", positive=True))

    return expr.replace(lambda e: isinstance(e, (colsum, rowsum, total))
                        and isinstance(e.args[0], sp.exp), hole)


def stable_form(expr, nodes, rules=RULES) -> tuple[sp.Expr, tuple[str, ...]]:
    """``expr`` rewritten by the stable rules, and the names of the rules that applied.

    ``nodes`` is the graph's ``[(symbol, forward expression)]`` in forward order; ``rules`` are
    those tried with ``replace`` (``()`` for a gradient: the quotient rules only).
    """
    inlined = _inline(expr, nodes)
    used = []
    rewritten = inlined
    for rule in rules:
        after = rewritten.replace(rule.lhs, rule.rhs)
        if after != rewritten:
            if not check_rule(rule):
                raise AssertionError(f"the stable rule '{rule.name}' is not an identity")
            used.append(rule.name)
            rewritten = after
    rewritten, quotients = _quotient_form(rewritten, nodes)
    used += quotients
    if not used:
        return expr, ()
    return to_node_variables(rewritten, nodes), tuple(used)


def _inline(expr, nodes):
    """Inside the rules' head functions, write in the nodes' definitions (one level)."""
    definitions = {s: e for s, e in nodes if e != s}
    heads = tuple({type(rule.lhs) for rule in RULES})
    return expr.replace(lambda e: isinstance(e, heads),
                        lambda e: e.func(*[a.xreplace(definitions) for a in e.args]))


def _divisor_heads():
    """The functions that the quotient rules divide by (Phi)."""
    return tuple({type(f) for rule in QUOTIENT_RULES
                  for f in sp.fraction(rule.lhs)[1].atoms(sp.Function)})


def _quotient_form(expr, nodes):
    """``expr`` with every division by ``f(u)`` (``f`` a head of :data:`QUOTIENT_RULES`) rewritten
    by those rules, and the rules' names; ``(expr, ())`` where none is divided by, or where a
    fraction in one of them matches no rule."""
    heads = _divisor_heads()
    definitions = {s: e for s, e in nodes if isinstance(e, heads)}
    written = expr.xreplace(definitions)
    divisors = {f for p in written.atoms(sp.Pow) if p.exp.is_negative
                for f in p.base.atoms(*heads)}
    used = []
    for call in sorted(divisors, key=sp.default_sort_key):
        written, names = _split(written, call)
        if names is None:
            return expr, ()
        used += names
    return written, tuple(rule.name for rule in QUOTIENT_RULES if rule.name in used)


def _split(expr, call):
    """``expr``, a rational function of ``call`` (``Phi(u)``), as a sum of partial fractions in
    it, each fraction rewritten by the first quotient rule it is a multiple of; ``(expr, None)``
    where the function sits inside another (a sum down a column) or a fraction matches no rule.
    """
    q = sp.Dummy("q")
    u = call.args[0]
    in_q = expr.xreplace({call: q})
    if not in_q.is_rational_function(q):
        return expr, None
    terms, names = [], []
    for term in sp.Add.make_args(in_q):
        outside, inside = term.as_independent(q, as_Add=False)
        for part in sp.Add.make_args(sp.apart(inside, q)):
            part = outside * part
            if not sp.fraction(sp.together(part))[1].has(q):
                terms.append(part)
                continue
            for rule in QUOTIENT_RULES:
                lhs = rule.lhs.xreplace({_u: u})
                if type(call) not in {type(f) for f in lhs.atoms(sp.Function)}:
                    continue
                rest = part / lhs.xreplace({call: q})
                # a multiple: nothing of the fraction is left, and nothing new came in
                if not rest.has(q) and rest.atoms(sp.Function) <= part.atoms(sp.Function):
                    if not check_rule(rule):
                        raise AssertionError(f"the stable rule '{rule.name}' is not an identity")
                    terms.append(rest * rule.rhs.xreplace({_u: u}))
                    names.append(rule.name)
                    break
            else:
                return expr, None
    return sp.Add(*terms).xreplace({q: call}), names
