"""The hard steps at index level: a matrix product and a softmax, entry by entry.

A matrix product ``z = W x + b`` hides its derivative in a sum: ``z_j = Σ_k W_jk x_k + b_j``, so
``∂z_j/∂W_jk = x_k`` and, summing over the entries of z that W_jk reaches, ``dW_jk = dz_j x_k``,
which is ``dW = dz xᵀ``; the input's ``da_k = Σ_j dz_j W_jk`` is ``da = Wᵀ dz``. A softmax
couples its entries: ``∂a_j/∂z_i = a_j(δ_ij − a_i)``, and the sum over j of the chain rule gives
``dz_i``. This module writes those lines (:func:`matmul_lines`, :func:`softmax_lines`,
:func:`sum_lines`) from the graph's own formulas, and :class:`EntryScope` checks them.

How an index line is checked: at concrete small sizes (each dimension its own size, 2, 3, 4, ...)
every array becomes a matrix of scalar symbols, a node's entry stands for its definition entry
by entry, a sum is carried out, a local partial is differentiated, and an adjoint ``dv_j``
stands for the derivative of the block's output (a linear form ``Σ_q du_q u_q`` with the
upstream ``du`` arbitrary, or the loss itself) with respect to v's entry j. Both sides must be
equal (the zero test of :class:`~symgrad.calculus.canonical_form.Canonical`) for every value of
the free indices; the labels' premises (a one-hot y sums to 1) are applied. These are scalar
identities at those sizes, not a proof for every size: the matrix-form lines beside them are
checked for every size by :mod:`symgrad.proof.line_check`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import product

import sympy as sp

from ..calculus.canonical_form import Canonical
from ..calculus.chain import adjoint_symbol
from ..model.ops import Structural, colsum, matmul, rowsum, softmax, total, transpose
from ..model.shapes import SCALAR
from .blocks import Line, Partial, ProofError

# the indices, as the course writes them: j, k for entries, q for the chain rule's sum
J, K, Q = (sp.Symbol(n, integer=True, positive=True) for n in ("j", "k", "q"))
_P = sp.Symbol("p", integer=True, positive=True)  # a summation index never shown
INDICES = (J, K, Q)


class EntryError(Exception):
    """An expression with no entry-by-entry form here (an operation this module does not
    write out)."""


def entry(expr, shapes, row, col, inner=None):
    """Entry (row, col) of ``expr`` in index notation; an index is None along a dimension 1.

    >>> import sympy as sp
    >>> W, x = sp.symbols("W x"); n, p = sp.symbols("n p")
    >>> entry(matmul(W, x), {W: (n, p), x: (p, 1)}, J, None)
    Sum(W[j, k]*x[k], (k, 1, p))
    """
    if expr.is_Number:
        return expr
    if isinstance(expr, sp.Symbol):
        if expr not in shapes:
            return expr
        r, c = shapes[expr]
        if (r, c) == SCALAR:
            return expr
        base = sp.IndexedBase(expr)
        if c == 1:
            return base[row]
        if r == 1:
            return base[col]
        return base[row, col]
    if isinstance(expr, transpose):
        return entry(expr.args[0], shapes, col, row, inner)
    if isinstance(expr, matmul):
        a, b = expr.args
        size = _shape(a, shapes)[1]
        if size == 1:
            return entry(a, shapes, row, None) * entry(b, shapes, None, col)
        k = inner or next(i for i in (K, Q) if i not in (row, col))
        return sp.Sum(entry(a, shapes, row, k) * entry(b, shapes, k, col), (k, 1, size))
    if isinstance(expr, Structural):
        raise EntryError(type(expr).__name__)
    if expr.is_Add or expr.is_Mul or expr.is_Pow or isinstance(expr, sp.Function):
        return expr.func(*[entry(a, shapes, row, col, inner) for a in expr.args])
    raise EntryError(type(expr).__name__)


def _shape(expr, shapes):
    from ..model.shapes import shape_of

    return shape_of(expr, shapes)


def _at(symbol, shapes, index):
    """v's entry at ``index`` (a column or a row vector), or v itself for a scalar."""
    r, c = shapes[symbol]
    if (r, c) == SCALAR:
        return symbol
    return sp.IndexedBase(symbol)[index]


# ----- the check -----


@dataclass
class Entries:
    """What an index block's symbols mean: the graph's definitions and shapes, and the block's
    output (``seed``: an expression in the graph's symbols whose derivative the adjoints are;
    ``free``: upstream adjoints that are arbitrary)."""

    nodes: list  # (symbol, definition) in order
    shapes: dict
    seed: sp.Basic
    free: tuple = ()
    onehot: tuple = ()  # labels whose entries sum to 1
    adjoints: dict = field(default_factory=dict)  # adjoint symbol -> variable
    # lines (left, right) found to hold: the proof's builder checks a block before showing
    # it, and the proof's check then need not do the same work again
    held: set = field(default_factory=set, compare=False, repr=False)


class EntryScope:
    """Checks a line of index notation at concrete sizes (see the module docstring)."""

    def __init__(self, entries: Entries):
        self.e = entries
        dims = sorted({d for s in entries.shapes.values() for x in s
                       for d in getattr(x, "free_symbols", ())}, key=str)
        self.sizes = {d: n + 2 for n, d in enumerate(dims)}
        self.defs = dict(entries.nodes)
        self.order = [s for s, _ in entries.nodes]
        variables = set(entries.adjoints.values())
        roots = {v for v in variables if not any(v in self.below(u) for u in variables)}
        self.written = self.below(*roots)  # what a side is written in: the rest stays a symbol
        self.zero = Canonical({})  # the scalar zero test of every line check
        self._own: dict = {}
        self._truths: dict = {}
        self._splits: dict = {}

    def below(self, *variables) -> set:
        """The nodes that depend on any of ``variables`` (through the graph), not themselves.

        Only these are written out in a check: a node that does not depend on the block's
        variables is a constant to every derivative here, and an identity that holds for every
        value of its entries holds for the node's own. Writing every node down to the leaves
        (an unrolled RNN: tanh inside tanh inside tanh) made the checks take minutes."""
        reached = set(variables)
        out = set()
        for s in self.order:
            if self.defs[s].free_symbols & reached:
                reached.add(s)
                out.add(s)
        return out - set(variables)

    def size(self, d):
        return int(sp.sympify(d).subs(self.sizes))

    def concrete(self, symbol, idx):
        return sp.Symbol(f"{symbol.name}_{'_'.join(str(i) for i in idx)}" if idx
                         else symbol.name, real=True)

    def _index_values(self, expr, env):
        return tuple(int(sp.sympify(i).subs(env)) for i in expr)

    def value(self, expr, env):
        """``expr`` at index values ``env`` as an expression in concrete scalar symbols, nodes
        and adjoints not yet written out."""
        if isinstance(expr, sp.Indexed):
            return self.concrete(expr.base.label, self._index_values(expr.indices, env))
        if isinstance(expr, sp.Sum):
            body, (i, lo, hi) = expr.args[0], expr.args[1]
            return sp.Add(*[self.value(body, {**env, i: n})
                            for n in range(int(lo), self.size(hi) + 1)])
        if isinstance(expr, sp.KroneckerDelta):
            a, b = self._index_values(expr.args, env)
            return sp.Integer(int(a == b))
        if type(expr).__name__ == "Partial":
            u, v = (self.value(a, env) for a in expr.args)
            return sp.diff(self.own(u), v)
        if expr in env:
            return env[expr]
        if isinstance(expr, sp.Symbol) and expr in self.e.shapes:
            if self.e.shapes[expr] == SCALAR:
                return self.concrete(expr, ())
            raise EntryError(f"{expr} without its indices")
        if expr.is_Atom or not expr.args:
            return expr
        return expr.func(*[self.value(a, env) for a in expr.args])

    def _split(self, conc):
        """(graph symbol, index values) of a concrete symbol."""
        if conc not in self._splits:
            self._splits[conc] = self._split_name(conc)
        return self._splits[conc]

    def _split_name(self, conc):
        for s in self.e.shapes:
            if conc.name == s.name:
                return s, ()
            if conc.name.startswith(s.name + "_"):
                rest = conc.name[len(s.name) + 1:].split("_")
                if all(p.isdigit() for p in rest):
                    return s, tuple(int(p) for p in rest)
        return None, ()

    def _entry_env(self, symbol, idx):
        r, c = self.e.shapes[symbol]
        if (r, c) == SCALAR:
            return None, None, {}
        if c == 1:
            return J, None, {J: idx[0]}
        if r == 1:
            return None, K, {K: idx[0]}
        return J, K, {J: idx[0], K: idx[1]}

    def own(self, conc):
        """A node entry's own definition, in the concrete entries of its inputs."""
        if conc not in self._own:
            self._own[conc] = self._own_entry(conc)
        return self._own[conc]

    def _own_entry(self, conc):
        symbol, idx = self._split(conc)
        if symbol not in self.defs:
            return conc
        row, col, env = self._entry_env(symbol, idx)
        fwd = self.defs[symbol]
        if isinstance(fwd, softmax):
            (z,) = fwd.args
            n = self.size(self.e.shapes[z][0])
            exps = [sp.exp(self.concrete(z, (p,))) for p in range(1, n + 1)]
            return exps[idx[0] - 1] / sp.Add(*exps)
        coeff, sums = fwd.as_coeff_Mul()
        if isinstance(sums, (total, colsum, rowsum)) and self.e.shapes[symbol] == SCALAR:
            body = coeff * sums.args[0]
            r, c = _shape(body, self.e.shapes)
            terms = [self.value(entry(body, self.e.shapes, J if r != 1 else None,
                                      K if c != 1 else None), {J: p, K: q})
                     for p in range(1, self.size(r) + 1) for q in range(1, self.size(c) + 1)]
            return sp.Add(*terms)
        return self.value(entry(fwd, self.e.shapes, row, col), env)

    def tie(self, expr, later=None):
        """The nodes in ``later`` (by default those a side is written in) written out down to
        the block's variables."""
        later = self.written if later is None else later
        for _ in range(len(self.order) + 1):
            subs = {}
            for s in expr.free_symbols:
                symbol, _ = self._split(s)
                if symbol in self.defs and symbol in later:
                    subs[s] = self.own(s)
            if not subs:
                break
            expr = expr.xreplace(subs)
        return expr

    def truth(self, adjoint, idx):
        if (adjoint, idx) not in self._truths:
            self._truths[adjoint, idx] = self._truth(adjoint, idx)
        return self._truths[adjoint, idx]

    def _truth(self, adjoint, idx):
        var = self.e.adjoints[adjoint]
        target = self.concrete(var, idx)
        seed = self.value_seed()
        return sp.diff(self.tie(seed, self.below(var)), target)

    def value_seed(self):
        seed = self.e.seed
        if isinstance(seed, sp.Symbol) and seed in self.e.shapes:
            return self.concrete(seed, ())
        return self.value(seed, {})

    def meaning(self, expr, env):
        v = self.value(expr, env)
        subs = {}
        for s in v.free_symbols:
            symbol, idx = self._split(s)
            if symbol in self.e.adjoints and symbol not in self.e.free:
                subs[s] = self.truth(symbol, idx)
        v = self.tie(v.xreplace(subs))
        for y in self.e.onehot:  # its entries sum to 1: the last is 1 minus the others
            n = self.size(self.e.shapes[y][0])
            others = [self.concrete(y, (p,)) for p in range(1, n)]
            v = v.xreplace({self.concrete(y, (n,)): 1 - sp.Add(*others)})
        return v

    def ranges(self, exprs):
        """Each free index and its values, from the arrays it indexes."""
        found = {}
        for e in exprs:
            bound = set()
            for s in sp.preorder_traversal(e):
                if isinstance(s, sp.Sum):
                    bound.add(s.args[1][0])
            for ix in sp.preorder_traversal(e):
                if isinstance(ix, sp.Indexed):
                    shape = self.e.shapes[ix.base.label]
                    dims = [d for d in shape if d != 1] if len(ix.indices) == 1 else shape
                    for i, d in zip(ix.indices, dims, strict=False):
                        if i in INDICES and i not in bound:
                            found[i] = range(1, self.size(d) + 1)
        return found

    def check(self, left, right) -> str:
        if (left, right) in self.e.held:
            return "entries"
        found = self.ranges([left, right])
        names = list(found)
        for values in product(*(found[n] for n in names)):
            env = dict(zip(names, values, strict=True))
            diff = self.meaning(left, env) - self.meaning(right, env)
            if diff != 0 and (_clearly_nonzero(diff) or not self.zero.is_zero(diff)):
                raise ProofError(f"{left} = {right} does not hold at {env}")
        self.e.held.add((left, right))
        return "entries"


def _clearly_nonzero(expr) -> bool:
    """Whether ``expr`` is far from 0 at a random real point (entries in (0.1, 0.9)): then the
    identity fails at that point, and no simplification need be tried. A point where it cannot
    be evaluated (a pole, a complex value) says nothing."""
    rng = random.Random(0)
    point = {s: sp.Rational(rng.randint(10, 90), 100) + sp.Rational(rng.randint(1, 99), 9973)
             for s in sorted(expr.free_symbols, key=str)}
    try:
        value = sp.N(expr.xreplace(point), 30)
    except (ArithmeticError, TypeError, ValueError):
        return False
    return bool(value.is_real and value.is_finite and abs(value) > 1e-12)


# ----- the blocks -----


def matmul_lines(graph, consumer, var, shapes):
    """The index-level lines for ``var`` through the matrix product in ``consumer``'s
    definition: the definition entry by entry, the local partial, and the chain rule's sum.
    Returns (definition line, lines for the adjoint, Entries) or None where there is no
    entry form."""
    fwd = dict(graph.nodes)[consumer]
    r = shapes[consumer][0]
    row = J if r != 1 else None
    try:
        z_entry = entry(fwd, shapes, row, None)
    except EntryError:
        return None
    z_at = _at(consumer, shapes, J) if r != 1 else consumer
    dz = adjoint_symbol(consumer)
    dv = adjoint_symbol(var)
    # the entry of v: W_jk for a matrix, w_k / a_k for a vector
    vr, vc = shapes[var]
    if (vr, vc) == SCALAR:
        return None
    if vc == 1 or vr == 1:
        v_idx = (K,)
    else:
        v_idx = (J, K)
    v_at = sp.IndexedBase(var)[v_idx]
    dv_at = sp.IndexedBase(dv)[v_idx]
    q = Q if len(v_idx) == 2 else J  # the chain rule's sum: over j, unless j indexes v
    q_at = _at(consumer, shapes, q) if r != 1 else consumer
    dq_at = _at(dz, {**shapes, dz: shapes[consumer]}, q) if r != 1 else dz
    local = _collapse(sp.diff(entry(fwd, shapes, row, None, _P), v_at))
    lines = [Line(z_at, z_entry, ("definition of ", consumer, ", entry by entry"))]
    chain = [Line(Partial(z_at, v_at), local,
                  ("only the term with ", v_at, " depends on it"))]
    if r != 1:
        summed = sp.Sum(dq_at * Partial(q_at, v_at), (q, 1, r))
        each = _collapse(sp.diff(entry(fwd, shapes, q, None, _P), v_at))
        chain.append(Line(dv_at, summed, ("chain rule, summed over the entries ", q_at, " of ",
                                          consumer, " that depend on ", v_at)))
        chain.append(Line(None, sp.Sum(dq_at * each, (q, 1, r)),
                          ("substitute ", sp.Eq(Partial(q_at, v_at), each, evaluate=False))))
        if each.has(sp.KroneckerDelta):
            chain.append(Line(None, (dq_at * each).xreplace({q: J}).xreplace(
                {sp.KroneckerDelta(J, J): 1}), ("only ", sp.Eq(q, J), " contributes")))
    else:
        chain.append(Line(dv_at, dz * Partial(z_at, v_at), ("chain rule",)))
        chain.append(Line(None, dz * local, ("substitute ",
                                            sp.Eq(Partial(z_at, v_at), local, evaluate=False))))
    entries = Entries(list(graph.nodes), {**shapes, dz: shapes[consumer],
                                          dv: shapes[var]},
                      seed=_linear_seed(dz, consumer, shapes), free=(dz,),
                      adjoints={dz: consumer, dv: var})
    return lines, chain, entries


def _linear_seed(dz, z, shapes):
    """Σ_q dz_q z_q: an output whose derivative in z is the arbitrary upstream dz."""
    r, c = shapes[z]
    if (r, c) == SCALAR:
        return dz * z
    return sp.Sum(sp.IndexedBase(dz)[Q] * sp.IndexedBase(z)[Q], (Q, 1, r))


def _collapse(expr):
    """A derivative of a sum of entries carried out: Σ_k δ_jk x_k -> x_j, and Σ_k 0 -> 0.

    Only those sums are carried out, and nothing else is simplified: the rest of the
    expression (an activation's derivative, say) stays as differentiation left it."""
    out = expr.replace(lambda e: isinstance(e, sp.Sum) and (e.function == 0 or
                                                           e.function.has(sp.KroneckerDelta)),
                       lambda e: e.doit())
    out = out.replace(lambda e: isinstance(e, sp.Piecewise),
                      lambda e: e.args[0][0])  # the branch inside the range
    return out


def sum_lines(graph, consumer, var, shapes):
    """A loss that sums entries (L = -Σ_j y_j log a_j): its entry form and dL/da_j."""
    fwd = dict(graph.nodes)[consumer]
    coeff, sums = fwd.as_coeff_Mul()
    if not isinstance(sums, (total, colsum, rowsum)) or shapes[consumer] != SCALAR:
        return None
    (body,) = sums.args
    body = coeff * body
    r, c = _shape(body, shapes)
    if c != 1 or r == 1:
        return None
    try:
        terms = entry(body, shapes, J, None)
    except EntryError:
        return None
    v_at = sp.IndexedBase(var)[J]
    da = adjoint_symbol(var)
    local = sp.diff(terms, v_at)
    lines = [Line(consumer, sp.Sum(terms, (J, 1, r)), ("definition of ", consumer,
                                                     ", entry by entry")),
             ]
    chain = [Line(sp.IndexedBase(da)[J], Partial(consumer, v_at),
                  ("chain rule: ", consumer, " is the output")),
             Line(None, local, ("only the term ", J, " depends on ", v_at, "; ") +
                  _derivative_words(terms))]
    entries = Entries(list(graph.nodes), {**shapes, da: shapes[var]}, seed=graph.output,
                      adjoints={da: var})
    return lines, chain, entries, local


def _derivative_words(expr):
    if expr.has(sp.log):
        return ("derivative of log",)
    return ("rules of differentiation",)


def softmax_lines(graph, consumer, var, shapes, upstream=None, onehot=(), probability=()):
    """a = softmax(z) entry by entry: the Jacobian a_j(δ_ij − a_i) by the quotient rule, then
    the chain rule's sum over j, with ``upstream`` (dL/da_j in entries) where it is known."""
    n = shapes[consumer][0]
    i = K  # z's entry: k, so that a's entries keep j
    a_j, a_i = sp.IndexedBase(consumer)[J], sp.IndexedBase(consumer)[i]
    z_j, z_i = sp.IndexedBase(var)[J], sp.IndexedBase(var)[i]
    z_q = sp.IndexedBase(var)[Q]
    total_ = sp.Sum(sp.exp(z_q), (Q, 1, n))
    delta = sp.KroneckerDelta(J, i)
    definition = [Line(a_j, sp.exp(z_j) / total_, ("definition of the softmax, entry ", J))]
    quotient = (delta * sp.exp(z_j) * total_ - sp.exp(z_j) * sp.exp(z_i)) / total_ ** 2
    jac = a_j * (delta - a_i)
    local = [Line(Partial(a_j, z_i), quotient,
                  ("quotient rule: ", sp.Eq(Partial(sp.exp(z_j), z_i), delta * sp.exp(z_j),
                                            evaluate=False), ", ",
                   sp.Eq(Partial(total_, z_i), sp.exp(z_i), evaluate=False))),
             Line(None, jac, ("definition of ", a_j, " and ", a_i))]
    dz_i, da = sp.IndexedBase(adjoint_symbol(var))[i], adjoint_symbol(consumer)
    da_j = upstream if upstream is not None else sp.IndexedBase(da)[J]
    chain = [Line(dz_i, sp.Sum(sp.IndexedBase(da)[J] * Partial(a_j, z_i), (J, 1, n)),
                  ("chain rule, summed over the entries ", a_j, " of ", consumer,
                   ": each depends on ", z_i))]
    body = da_j * jac
    words = ("substitute ", sp.Eq(sp.IndexedBase(da)[J], upstream, evaluate=False),
             " and the Jacobian") if upstream is not None else ("substitute the Jacobian",)
    chain.append(Line(None, sp.Sum(body, (J, 1, n)), words))
    spread = _sum_out(sp.expand(body), J, n, i)
    chain.append(Line(None, spread, ("the term with ", delta, " is the one ", sp.Eq(J, i),
                                     "; take ", a_i, " out of the sum")))
    free = ()
    seed = graph.output
    if upstream is None:
        free = (da,)
        seed = sp.Sum(sp.IndexedBase(da)[Q] * sp.IndexedBase(consumer)[Q], (Q, 1, n))
    else:
        for y in onehot:
            s = sp.Sum(sp.IndexedBase(y)[J], (J, 1, n))
            if spread.has(s):
                said = ("the label's entries sum to 1: " if y in probability  # soft targets
                        else "the label is one-hot: ")
                chain.append(Line(None, spread.xreplace({s: 1}),
                                  (said, sp.Eq(s, 1, evaluate=False))))
    entries = Entries(list(graph.nodes), {**shapes, adjoint_symbol(var): shapes[var],
                                          da: shapes[consumer]},
                      seed=seed, free=free, onehot=tuple(onehot),
                      adjoints={adjoint_symbol(var): var, da: consumer})
    return definition, local, chain, entries


def _sum_out(expr, j, n, i):
    """Σ_j of the terms of ``expr``: a term with δ_ij is its value at j = i; the factors free
    of j go in front of the sum."""
    out = []
    for t in sp.Add.make_args(expr):
        deltas = [f for f in sp.Mul.make_args(t) if isinstance(f, sp.KroneckerDelta)]
        if deltas:
            rest = sp.Mul(*[f for f in sp.Mul.make_args(t) if f not in deltas])
            out.append(rest.xreplace({j: i}))
            continue
        free = [f for f in sp.Mul.make_args(t) if not f.has(j)]
        dep = [f for f in sp.Mul.make_args(t) if f.has(j)]
        out.append(sp.Mul(*free) * sp.Sum(sp.Mul(*dep), (j, 1, n)))
    return sp.Add(*out)
