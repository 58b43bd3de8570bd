"""The reverse sweep: from the output back, each adjoint is the sum over the consumers of
(local partial) x (consumer's adjoint), then simplified. Every step is recorded in a
:class:`Step` for the proof writer and the claim checker.

A step's rule is a tuple of pieces, words (``str``) and SymPy expressions
(``("write in node variables: ", Eq(tanh(z), 2*a - 1), ...)``): the proof typesets the expressions
as math and escapes the words; :func:`said` gives it as plain text.

A consumer's adjoint is written into the sum by its result (``da`` -> ``-y/a + ...``) where it
stands in an elementwise position and its result is small; inside a matrix product it stays a
name (``dw = X @ dZ.T / m``), as in the course's notation. Either way no expression grows
without bound, so deriving costs time linear in the size of the graph.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sympy as sp

from ..model import naming
from ..model.ops import colsum, mask, rowsum, total
from ..model.shapes import SCALAR
from .budget import checkpoint
from .rules import Contribution, backprop
from .simplify import (
    apply_assumptions,
    identities,
    products_through_nodes,
    shortest,
    size,
    sums_to_one,
    through_nodes,
    tidy_sums,
    to_node_variables,
)

INLINE_LIMIT = 12  # operations: a consumer's result is written in only while this small


@dataclass
class Step:
    """How one adjoint was derived."""

    var: sp.Symbol  # the variable (node or parameter)
    adjoint: sp.Symbol  # its adjoint symbol, d<var>
    contributions: list[Contribution]  # one per consumer
    chain: sp.Expr  # sum of the contributions, consumers' adjoints as symbols
    steps: list[tuple[tuple, sp.Expr]] = field(default_factory=list)  # (rule's pieces, expr)

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1][1] if self.steps else self.chain


def said(rule: tuple) -> str:
    """A rule's pieces as plain text.

    >>> z, a = sp.symbols("z a")
    >>> said(("write in node variables: ", sp.Eq(sp.tanh(z), 2*a - 1, evaluate=False)))
    'write in node variables: Eq(tanh(z), 2*a - 1)'
    """
    return "".join(p if isinstance(p, str) else str(p) for p in rule)


def adjoint_symbol(var: sp.Symbol) -> sp.Symbol:
    return sp.Symbol(naming.adjoint(var.name), real=True)


def sweep(graph) -> dict[sp.Symbol, Step]:
    """Run the reverse sweep over ``graph``; return the steps in backward order."""
    shapes = dict(graph.shapes)
    for var, _ in graph.nodes:
        shapes[adjoint_symbol(var)] = shapes[var]
    for var in graph.leaves + graph.inputs:
        shapes[adjoint_symbol(var)] = shapes[var]
    flowing: dict[sp.Symbol, list[Contribution]] = defaultdict(list)
    steps: dict[sp.Symbol, Step] = {}
    results: dict[sp.Symbol, sp.Expr] = {adjoint_symbol(graph.output): graph.seed}
    shapes[adjoint_symbol(graph.output)] = shapes[graph.output]
    normalised = sums_to_one(graph.nodes, shapes, graph.onehot)
    for var, forward in reversed(graph.nodes):
        if var in graph.coupled:  # read by a batch statistic: no derivative of one example's
            continue
        if var != graph.output:
            if var not in flowing:
                continue
            step = _combine(var, flowing[var], results, graph, shapes, sp.Integer(1),
                            normalised)
            steps[var] = step
            results[step.adjoint] = step.result
        for c in backprop(forward, adjoint_symbol(var), shapes, consumer=var):
            flowing[c.var].append(c)
    for var in graph.leaves + graph.inputs:
        if var in flowing and var not in graph.coupled:
            scale = graph.leaf_scale if var in graph.leaves else sp.Integer(1)
            steps[var] = _combine(var, flowing[var], results, graph, shapes, scale,
                                  normalised)
    return steps


def _combine(var, contributions, results, graph, shapes, scale, normalised) -> Step:
    """``var``'s adjoint: the chain rule, then each rewrite recorded; ``normalised`` are the
    nodes whose columns sum to 1 (:func:`sums_to_one`)."""
    checkpoint()
    chain = scale * sp.Add(*[c.expr for c in contributions])
    step = Step(var, adjoint_symbol(var), contributions, chain)
    current = chain

    def record(rule, expr):
        nonlocal current
        if expr != current:
            step.steps.append(((rule,) if isinstance(rule, str) else tuple(rule), expr))
            current = expr

    record("substitute the consumers' derivatives", _inline(chain, results, graph, shapes))
    record("write in node variables",
           to_node_variables(products_through_nodes(current, graph.nodes), graph.nodes))
    record("linearity of sums", to_node_variables(tidy_sums(current, shapes), graph.nodes))
    if graph.onehot:
        record(_sums_to_one(graph), apply_assumptions(current, onehot=graph.onehot))
    if normalised and current.has(*normalised):
        record(("each column of ", *listed(sorted(normalised, key=str), " and "),
                " sums to 1 (by its definition)"),
               apply_assumptions(current, onehot=normalised))
    record(*identities(current))
    onehot = graph.onehot | normalised
    simplest, how = shortest(current, graph.binary, onehot)
    rewritten, gone, rule = through_nodes(current, graph.nodes, _variables(graph), shapes)
    if gone:  # kept only where it pays: shorter, and the input gone from the result
        shorter, how_shorter = shortest(rewritten, graph.binary, onehot)
        if size(shorter) < size(simplest) and not shorter.has(*gone):
            record(rule, rewritten)
            simplest, how = shorter, how_shorter
    record(f"simplify ({how})", simplest)
    return step


def _variables(graph) -> frozenset:
    """The graph's nodes and parameters: what a result in node variables is free of."""
    return frozenset([s for s, _ in graph.nodes] + list(graph.leaves) + list(graph.inputs))


def listed(items, last=", ") -> list:
    """Pieces of a rule listing ``items``: a, b and c (with ``last=" and "``)."""
    out: list = []
    for n, item in enumerate(items):
        if n:
            out.append(", " if n < len(items) - 1 else last)
        out.append(item)
    return out


def _sums_to_one(graph) -> str:
    """Why a label's column sums are 1, in words: it is one-hot, or a probability vector."""
    kinds = {graph.domains[s].columns for s in graph.onehot if s in graph.domains}
    what = {"onehot": "one-hot", "probability": "a probability vector"}
    if len(kinds) == 1:
        return f"the label is {what[kinds.pop()]}: each column sums to 1"
    return "each column of the labels sums to 1"


def _sums(expr) -> int:
    return sum(1 for n in sp.preorder_traversal(expr) if isinstance(n, (colsum, rowsum, total)))


def _inline(expr, results, graph, shapes):
    """Write small consumer results in for their adjoint symbols, outside matrix products.

    Inside a sum a result is written in only where the sum then disappears (a one-hot label's
    entries sum to 1, say) or gets no larger, so that dZ stays a name in db = sum(dZ)/m. The
    label's assumption itself is applied later, as a step of its own.
    """
    masked, unmask = mask(expr)
    subs = {s: results[s] for s in masked.free_symbols
            if s in results and size(results[s])[0] <= INLINE_LIMIT}
    for hole, structural in unmask.items():
        if isinstance(structural, (colsum, rowsum, total)):
            broadcast = _broadcast_constants(structural, results, shapes)
            opened = structural.xreplace({s: c * ones for s, (c, ones) in broadcast.items()})
            ones_shapes = {**shapes, **{ones: shapes[s] for s, (_, ones) in broadcast.items()}}
            opened = tidy_sums(to_node_variables(opened.xreplace(results), graph.nodes),
                               ones_shapes)
            opened = _count_ones(opened, [ones for _, ones in broadcast.values()], ones_shapes)
            assumed = apply_assumptions(opened, graph.binary, graph.onehot)
            if broadcast or _sums(assumed) < _sums(structural) or \
                    size(assumed) <= size(structural):
                unmask[hole] = opened
    # a name that stays inside a sum stays a name beside it too: dZ1 = (dZhat1 -
    # sum(dZhat1, axis=1)/m - ...)/..., not dZhat1's result beside its own name
    named = {s for e in (*unmask.values(), *subs.values())
             for part in sp.preorder_traversal(e) if isinstance(part, (colsum, rowsum, total))
             for s in part.free_symbols}
    subs = {s: value for s, value in subs.items() if s not in named}
    return masked.xreplace(subs).xreplace(unmask)


def _broadcast_constants(expr, results, shapes) -> dict:
    """The adjoints in ``expr`` whose result is a number standing for an array (over m
    examples, dL = 1 is a row of m ones): symbol -> (the number, a placeholder for the array
    of ones), so that a sum over it counts its entries (sum(lambd*dL) = m*lambd, not lambd)."""
    return {s: (results[s], sp.Dummy(f"ones_{s.name}", real=True))
            for s in sorted(expr.free_symbols, key=str)
            if s in results and results[s].is_number and shapes.get(s, SCALAR) != SCALAR}


def _count_ones(expr, ones, shapes):
    """Sums of the placeholders of :func:`_broadcast_constants` as counts; then each is 1."""
    if not ones:
        return expr
    counted = expr.replace(
        lambda e: isinstance(e, (colsum, rowsum, total)) and e.args[0] in ones,
        lambda e: _constant_count(e, shapes))
    return counted.xreplace({o: sp.Integer(1) for o in ones})


def _constant_count(sum_, shapes):
    r, c = shapes[sum_.args[0]]
    return r if isinstance(sum_, colsum) else c if isinstance(sum_, rowsum) else r * c
