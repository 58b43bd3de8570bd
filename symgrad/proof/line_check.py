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
from ..model.ops import Structural, as_expr, colsum, mask, matmul, rowsum, total, transpose
from ..model.shapes import SCALAR, shape_of
from ..printing.printers import batch_str
from .blocks import AtExample, ExampleSum, Partial, PartialOf, ProofError, Times, Total


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
        self._derivatives: dict = {}
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
                    if g.penalty != 0:  # a cost term outside the graph: dJ/dW gains its own
                        value = value + self.derivative(g.penalty, var)
            self._truths[var] = value
        return self._truths[var]

    def derivative(self, expr, var, seed=1):
        key = (expr, as_expr(seed))  # one sweep gives every symbol's: kept for the next
        if key not in self._derivatives:
            self._derivatives[key] = {c.var: c.expr for c in backprop(*key, self.shapes)}
        return self._derivatives[key].get(var, sp.Integer(0))

    def partial(self, u, v):
        """∂u/∂v of u's own formula, entry by entry: where v is broadcast in it (a batch
        statistic, one column, in a node of m columns), each entry's derivative, not summed."""
        fwd = self.defs[u]
        masked, unmask = mask(fwd)
        if shape_of(v, self.shapes) != shape_of(u, self.shapes) and v in masked.free_symbols:
            return sp.diff(masked, v).xreplace(unmask)
        return self.derivative(fwd, v)

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
                return self.partial(*e.args)
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
        return _ExampleSum(self.example.shapes, self.stacked).of(self.example.meaning(body))

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


class _ExampleSum:
    """Σ_i e^(i) for a per-example expression e in the leaves (``shapes``: one example's),
    written over m examples (``stacked``: x -> X, whose column i is example i's x).

    The sum is linear, so it goes through sums of terms, factors the same for every example
    (Σ_i c e^(i) = c Σ_i e^(i)), matrix products with such a factor, transposes and axis sums.
    What is left is a product that varies with the example: a column (or scalar) u^(i) sums to
    the row sums of the stacked U, a row v^(i)T to the column sums of V.T, and an outer product
    u^(i) v^(i)T to the matrix product U @ V.T."""

    def __init__(self, shapes, stacked):
        self.shapes, self.stacked = shapes, stacked
        self.varies = set(stacked)

    def _shape(self, e):
        return shape_of(e, self.shapes)

    def of(self, e):
        if not e.free_symbols & self.varies:
            return M * e
        if e.is_Add:
            return sp.Add(*[self.of(t) for t in e.args])
        if e.is_Mul:
            const = [f for f in e.args if not f.free_symbols & self.varies]
            if const:
                return sp.Mul(*const) * self.of(sp.Mul(*[f for f in e.args if f not in const]))
        r, c = self._shape(e)
        if c == 1:  # a column or a scalar per example: the stacked columns' row sums
            return rowsum(self.column(e))
        scalars = [f for f in sp.Mul.make_args(e) if self._shape(f) == SCALAR]
        if r == 1 and not scalars:  # a row per example: the column sums of the rows stacked
            return colsum(self.rows(e))
        if isinstance(e, matmul):
            a, b = e.args
            if not a.free_symbols & self.varies:
                return matmul(a, self.of(b))
            if not b.free_symbols & self.varies:
                return matmul(self.of(a), b)
        if isinstance(e, transpose):
            return transpose(self.of(e.args[0]))
        columns, rows = [], []
        for f in sp.Mul.make_args(e):
            fr, fc = self._shape(f)
            if isinstance(f, matmul) and self._shape(f.args[0])[1] == 1:  # u v^T
                columns.append(f.args[0])
                rows.append(f.args[1])
            elif fc == 1:  # a column, or a scalar: s^(i) v^(i)T sums to S @ V.T
                columns.append(f)
            elif fr == 1:
                rows.append(f)
            else:
                raise ProofError(f"cannot sum {batch_str(e)} over the examples")
        return matmul(self.column(sp.Mul(*columns)), self.rows(sp.Mul(*rows)))

    def column(self, e):
        """A per-example column (or scalar) e stacked: (r, m), column i is e^(i)."""
        if not e.free_symbols & self.varies:
            return e
        if isinstance(e, sp.Symbol):
            return self.stacked[e]
        if isinstance(e, matmul):
            a, b = e.args
            if not a.free_symbols & self.varies:
                return matmul(a, self.column(b))
            if self._shape(a)[0] == 1:  # an inner product u^T v, example by example
                return colsum(self.column(_transposed(a, self.shapes)) * self.column(b))
            if self._shape(b) == SCALAR:  # a column times a 1 x 1 scalar: their product
                return self.column(a) * self.column(b)
        elif isinstance(e, (colsum, rowsum, total)):
            (a,) = e.args
            r, c = self._shape(a)
            if c == 1:
                return self.column(a) if isinstance(e, rowsum) else colsum(self.column(a))
            if r == 1 and not isinstance(e, colsum):
                return colsum(self.column(_transposed(a, self.shapes)))
        elif isinstance(e, transpose):
            if self._shape(e) == SCALAR:
                return self.column(e.args[0])
        elif not isinstance(e, Structural) or hasattr(e, "definition"):  # softmax: by column
            return e.func(*[self.column(a) for a in e.args])
        raise ProofError(f"cannot stack {batch_str(e)} over the examples")

    def rows(self, e):
        """A per-example row e stacked: (m, c), row i is e^(i)."""
        return transpose(self.column(_transposed(e, self.shapes)))


def _transposed(e, shapes):
    """``e.T`` with the transpose taken down to the symbols."""
    if shape_of(e, shapes) == SCALAR:
        return e
    if isinstance(e, sp.Symbol):
        return transpose(e)
    if isinstance(e, transpose):
        return e.args[0]
    if isinstance(e, matmul):
        a, b = e.args
        return matmul(_transposed(b, shapes), _transposed(a, shapes))
    if isinstance(e, (colsum, rowsum)):
        return (rowsum if isinstance(e, colsum) else colsum)(_transposed(e.args[0], shapes))
    if isinstance(e, Structural):
        return transpose(e)
    return e.func(*[_transposed(a, shapes) for a in e.args])


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
    counts = {"symbolic": 0, "numeric": 0, "entries": 0}
    for section, block in proof.equations():
        scope = found[block.scope]
        if hasattr(block.entries, "check"):  # scalar identities (symgrad.proof.teaching)
            scope = block.entries
        elif block.entries is not None:  # index notation, entry by entry at concrete sizes
            from .entries import EntryScope

            scope = _Entries(EntryScope(block.entries), scope.names)
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


class _Entries:
    """A block in index notation: its lines checked entry by entry, in the graph's own
    names."""

    def __init__(self, scope, names):
        self.scope, self.names = scope, names

    def check(self, left, right) -> str:
        return self.scope.check(left.xreplace(self.names), right.xreplace(self.names))


def _where(section) -> str:
    return "section '" + "".join(str(p) for p in section.title) + "'"
