"""Checking every displayed equality of a proof before it is written.

A line of a proof is a SymPy equation whose symbols mean something in a graph (one example's,
or the graph over m examples). :class:`Scope` says what:

* a node stands for its definition, written out down to the leaves (``a = sigmoid(w^T x + b)``):
  an equality between node variables holds only with the nodes tied to their definitions;
* an adjoint symbol ``dv`` stands for the derivative of the output with respect to v, taken in
  one go from the output written out in v and the leaves (``rules.backprop`` on the composite,
  not the node-by-node sweep that the proof shows);
* ``∂u/∂v`` and ``∂/∂v[e]`` stand for the derivative taken by the same rules;
* ``Σ_i e^(i)`` stands for the sum over the columns of e stacked over the examples.

Two sides are equal when their difference, put in the canonical form of
:mod:`symgrad.calculus.canonical_form` (linear operations split and constants taken out of them,
rational
functions cancelled, the labels' assumptions applied; the claim checker uses the same), is 0.
Where that cannot decide, the two sides must agree at random points (a forward pass with random
leaves); such a line is marked ``numeric``. Any other line raises :class:`ProofError`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..calculus import numeric
from ..calculus.canonical_form import Canonical
from ..calculus.chain import adjoint_symbol
from ..calculus.rules import backprop
from ..model.graph import M
from ..model.ops import as_expr, matmul, rowsum, transpose
from ..printing.printers import batch_str
from .steps import AtExample, ExampleSum, Partial, PartialOf, Times, Total


class ProofError(Exception):
    """A displayed equality that does not hold: a bug in symgrad, never bad input."""


class Scope:
    """What the symbols of a line mean in ``graph``; ``example`` and ``stacked`` give the
    per-example scope and the stacked names (x -> X), for sums over the examples."""

    def __init__(self, graph, example: Scope | None = None, stacked: dict | None = None):
        self.graph = graph
        self.defs = dict(graph.nodes)
        self.example = example
        self.stacked = stacked or {}
        self.shapes = dict(graph.shapes)
        self.names: dict = {}  # a symbol with its layer's index -> the graph's own (z[l] -> z)
        self.adjoints = {}
        for var in [s for s, _ in graph.nodes] + list(graph.leaves) + list(graph.inputs):
            self.adjoints[adjoint_symbol(var)] = var
            self.shapes[adjoint_symbol(var)] = self.shapes[var]
        self._truths: dict = {}
        self.form = Canonical(self.shapes, graph.binary, graph.onehot)

    # ----- meanings -----

    def truth(self, var):
        """d output / d var, from the output written out in var and the leaves."""
        if var not in self._truths:
            g = self.graph
            if var == g.output:
                value = g.seed
            else:
                expr = self.defs[g.output]
                for sym, fwd in reversed(g.nodes):
                    if sym not in (var, g.output):
                        expr = expr.xreplace({sym: fwd})
                value = self.derivative(expr, var, g.seed)
                if var in g.leaves:
                    value = value * g.leaf_scale
            self._truths[var] = value
        return self._truths[var]

    def derivative(self, expr, var, seed=1):
        return sp.Add(*[c.expr for c in backprop(expr, as_expr(seed), self.shapes)
                        if c.var == var])

    def tie(self, expr):
        for sym, fwd in reversed(self.graph.nodes):
            expr = expr.xreplace({sym: fwd})
        return expr

    def meaning(self, expr):
        """``expr`` in the leaves alone: notation taken, adjoints and nodes written out."""

        def walk(e):
            if isinstance(e, ExampleSum):
                return self.sum_over_examples(e.args[0])
            if isinstance(e, Partial):
                u, v = e.args
                return self.derivative(self.defs[u], v)
            if isinstance(e, PartialOf):
                body, v = e.args
                return self.derivative(walk(body), v)
            if isinstance(e, Times):
                return sp.Mul(*[walk(a) for a in e.args])
            if isinstance(e, (AtExample, Total)):
                raise ProofError(f"{type(e).__name__} is notation for prose, not equations")
            if e in self.adjoints:
                return self.truth(self.adjoints[e])
            if e.is_Atom or not e.args:
                return e
            return e.func(*[walk(a) for a in e.args])

        return self.tie(walk(expr))

    def sum_over_examples(self, body):
        """Σ_i body^(i), in this (the batch) scope's symbols."""
        if self.example is None:
            raise ProofError("a sum over the examples in a model without examples")
        per_example = self.example.canonical(self.example.meaning(body))
        stacked = per_example.xreplace(self.stacked)
        columns = set(self.stacked.values())
        out = []
        for term in sp.Add.make_args(sp.expand(stacked, deep=False)):
            const, dep = [], []
            for f in sp.Mul.make_args(term):
                (dep if f.free_symbols & columns else const).append(f)
            if not dep:  # the same for every example
                out.append(M * term)
                continue
            # an outer product per example, u^(i) v^(i)T, sums to U V^T
            outer = [f for f in dep if isinstance(f, transpose) or (
                isinstance(f, matmul) and isinstance(f.args[1], transpose))]
            rest = sp.Mul(*[f for f in dep if f not in outer])
            if len(outer) == 1 and isinstance(outer[0], transpose):
                summed = matmul(rest, outer[0])
            elif len(outer) == 1:
                left, right = outer[0].args
                summed = matmul(rest * left, right)
            else:
                summed = rowsum(sp.Mul(*dep))
            out.append(sp.Mul(*const) * summed)
        return sp.Add(*out)

    # ----- the check -----

    def canonical(self, expr):
        return self.form.of(expr)

    def is_zero(self, expr) -> bool:
        return self.form.is_zero(expr)

    def agrees(self, left, right, trials=3) -> bool:
        rng = np.random.default_rng(0)
        for _ in range(trials):
            sizes = numeric.sizes_for(self.shapes, rng)
            env = {**numeric.random_leaves(self.graph, rng, sizes), **sizes}
            for seed in self.graph.seed.free_symbols - set(env):  # a block's da, from above
                env[seed] = rng.normal(size=numeric.concrete(self.shapes[seed], sizes))
            with np.errstate(all="ignore"):
                try:
                    lv = numeric.evaluate(left, env)
                    rv = numeric.evaluate(right, env)
                    if lv.shape != rv.shape and 1 not in (lv.size, rv.size):
                        return False
                    if not np.allclose(lv, rv, rtol=1e-7, atol=1e-9):
                        return False
                except (KeyError, ValueError, TypeError, ZeroDivisionError):
                    return False
        return True

    def check(self, left, right) -> str:
        """"symbolic" or "numeric": how ``left = right`` was found to hold; else ProofError."""
        lhs = self.meaning(left.xreplace(self.names))
        rhs = self.meaning(right.xreplace(self.names))
        if self.is_zero(lhs - rhs):
            return "symbolic"
        if self.agrees(lhs, rhs):
            return "numeric"
        raise ProofError(f"{batch_str(_plain(left))} = {batch_str(_plain(right))} does not hold")


def _plain(expr):
    """For messages: the proof's notation as plain SymPy."""
    return expr.replace(lambda e: isinstance(e, Times), lambda e: sp.Mul(*e.args))


def scopes(derivation) -> dict[str, Scope]:
    """The scopes of a proof's lines: "example" and "batch", and for a model with repeated
    layers "layer" and "layer batch" (hidden layer l: its output's adjoint comes from above)."""
    example = Scope(derivation.per_example_graph)
    out = {"example": example}
    if derivation.batch_graph is not None:
        stacked = {sp.Symbol(k, real=True): sp.Symbol(v, real=True)
                   for k, v in derivation.model.stacked_names().items()}
        out["batch"] = Scope(derivation.batch_graph, example, stacked)
    if derivation.layer is not None:
        layer = scopes(derivation.layer)
        out["layer"] = layer["example"]
        seed = derivation.layer.batch_graph.seed  # dA: column i is example i's da
        layer["batch"].stacked[derivation.layer.per_example_graph.seed] = seed
        out["layer batch"] = layer["batch"]
    from .layer_steps import index_names

    for scope, names in index_names(derivation).items():
        out[scope].names = {v: k for k, v in names.items()}
    return out


def check(proof) -> dict[str, int]:
    """Check every ``=`` line of ``proof`` (marking each line ``checked``); return the counts.

    Raises :class:`ProofError` naming the first line that does not hold.
    """
    found = scopes(proof.derivation)
    counts = {"symbolic": 0, "numeric": 0}
    for section, block in proof.equations():
        scope = found[block.scope]
        previous = None
        for number, line in enumerate(block.lines, 1):
            left = line.lhs if line.lhs is not None else previous
            previous = line.rhs
            if line.relation != "=":
                continue
            if left is None:
                raise ProofError(f"{_where(section)}, line {number}: nothing on the left")
            try:
                line.checked = scope.check(left, line.rhs)
            except ProofError as err:
                raise ProofError(f"{_where(section)}, line {number}: {err}") from None
            counts[line.checked] += 1
    return counts


def _where(section) -> str:
    return "section '" + "".join(str(p) for p in section.title) + "'"
