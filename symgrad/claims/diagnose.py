"""Diagnoses: which common slip turns the correct derivative into a refuted claim.

Each kind of slip is a generator of candidate repairs, tried numerically: a repair that makes the
claim agree with the derivation at the diagnosis points names the slip. The kinds, in the order
they are tried:

* structure: a transpose missing or extra, the factors of ``@`` swapped, a sum along the wrong
  axis;
* factors: a flipped sign, a factor 1/m missing or extra, a factor 2 or 1/2;
* formulas: a wrong formula for an activation's derivative (sigma'(z) written ``a*(1 + a)``,
  tanh'(z) written ``1 - a``), read from the model's activations and their ``fdiff``;
* terms: one term of a sum with the wrong sign or factor (``-y/a - (1 - y)/(1 - a)``, the L2 term
  ``- lambd/m * W``), or missing the parameter (``+ lambd/m`` for ``+ lambd/m * W``);
* operators: ``@`` where ``*`` belongs, or the reverse;
* gradients: a gradient where its parameter belongs (``dW2.T @ dZ2`` for ``W2.T @ dZ2``);
* swaps: two names exchanged (``a`` and ``y``);
* chain: an activation g(Z) where its derivative g'(Z) belongs, a chain-rule factor left out or
  one too many (read from the derivation's recorded steps: ``dZ1 = W2.T @ dZ2`` lacks
  ``g'(Z1)``);
* other: the derivative with respect to another variable;
* names: one name where another belongs (``A2`` where ``A1`` belongs, ``A[l]`` for ``A[l-1]``),
  when nothing before explains the claim;
* sums: a sum over the examples missing;
* ratio: a constant multiple of the correct result, at every entry.
* the softmax Jacobian (:func:`softmax_jacobian_slips`, tried after the structure): its diagonal
  only (``a*(1 - a)*da``), or its ``-a @ a.T`` term left out (``diag(a) @ da``).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ..calculus.chain import adjoint_symbol
from ..calculus.simplify import to_node_variables
from ..model import naming
from ..model.errors import SpecError
from ..model.graph import M
from ..model.layers import PREVIOUS_UNITS, UNITS
from ..model.ops import (
    ELEMENTWISE,
    Structural,
    as_expr,
    colsum,
    matmul,
    rowsum,
    softmax,
    total,
    transpose,
)
from ..model.shapes import SCALAR
from .scope import squeezed, unkept

POINTS = 5  # random points at which a repair must agree
MAX_MESSAGES = 2
NAME_TRIES = 60  # candidate names tried in place of another
_ACTIVATIONS = {f for f in ELEMENTWISE.values() if isinstance(f, type) and f.nargs == {1}}

_FACTORS = (
    (-1, "Your claim is the negative of the correct one (sign error)."),
    (M, "Your claim is m times the correct one: the factor 1/m is missing."),
    (1 / M, "Your claim has an extra factor 1/m."),
    (2, "Your claim is twice the correct one: a stray factor 2."),
    (sp.Rational(1, 2), "Your claim is half the correct one: a factor 2 is missing (or a stray "
                        "1/2)."),
    (-M, "Your claim is -m times the correct one: sign error, and the factor 1/m is missing."),
    (-1 / M, "Your claim has the wrong sign and an extra factor 1/m."),
    (-2, "Your claim is -2 times the correct one: sign error and a stray factor 2."),
    (-sp.Rational(1, 2), "Your claim is -1/2 times the correct one: sign error, and a factor 2 "
                         "is missing."),
)


def diagnose(space, step, expr, broken=False) -> list[str]:
    """At most two messages naming the slips that explain ``expr`` (``broken``: its shapes do
    not fit, so only repairs of its structure and names are tried)."""
    notes, kept = _keepdims(space, expr)
    if not notes:
        return _Diagnosis(space, step, expr).run(broken)
    diagnosis = _Diagnosis(space, step, kept)
    if diagnosis.fits(kept) and diagnosis.same(kept, step.result):
        return notes  # keepdims=True is all that is missing
    return notes + diagnosis.run(not diagnosis.fits(kept))[:MAX_MESSAGES - 1]


def _keepdims(space, expr):
    """Messages for NumPy's sums along the rows without keepdims=True where that changes the
    shape (a 1-D array of n > 1 entries broadcasts as a row, not the column n x 1), and
    ``expr`` with keepdims=True."""
    notes, fixes = [], {}
    for part in expr.atoms(unkept):
        summed = part.args[0]
        try:
            rows = space.shape(summed)[0]
        except SpecError:
            continue
        if rows == 1:
            continue  # shape (1,) broadcasts as (1, 1): no difference
        fixes[part] = summed
        if space.layer:
            rows = str(rows).replace(PREVIOUS_UNITS, "n[l-1]").replace(UNITS, "n[l]")
        if isinstance(part, squeezed):
            notes.append(f"np.squeeze({space.show(summed)}) makes a 1-D array of {rows} "
                         f"entries, which NumPy broadcasts as a row (1, {rows}), not the column "
                         f"({rows}, 1): leave out np.squeeze.")
            continue
        shown = space.show(summed.args[0])
        notes.append(f"keepdims=True is missing: without it the sum (or mean) of {shown} "
                     f"along axis 1 is a 1-D array of {rows} entries, which NumPy broadcasts "
                     f"as a row (1, {rows}), not the column ({rows}, 1) that keepdims=True "
                     "keeps.")
    return notes[:1], expr.xreplace(fixes)


class _Diagnosis:
    def __init__(self, space, step, expr):
        self.space, self.step, self.expr = space, step, expr
        self.derived = step.result
        self.points = space.points(POINTS)
        self.show, self.label = space.show, space.label
        self.var = step.var

    def same(self, a, b) -> bool:
        """``a`` and ``b`` agree (and are defined) at the diagnosis points."""
        agreed = 0
        for env in self.points:
            u, v = self.values(a, b, env)
            if u is None:
                return False
            ok = np.isfinite(u) & np.isfinite(v)
            if not np.any(ok):
                continue
            scale = max(1.0, float(np.max(np.abs(v[ok]))))
            if not np.all(ok == np.isfinite(v)) or not np.allclose(u[ok], v[ok], rtol=1e-6,
                                                                   atol=1e-9 * scale):
                return False
            agreed += 1
        return agreed >= 2

    def values(self, a, b, env):
        """``a`` and ``b`` at ``env``, of one shape; (None, None) where they have no values."""
        u, v = self.space.value(a, env), self.space.value(b, env)
        if u is None or v is None or u.shape != v.shape and u.size != 1 and v.size != 1:
            return None, None
        return np.broadcast_arrays(u, v)

    def fits(self, expr) -> bool:
        """``expr`` has the derivative's shape."""
        try:
            return self.space.shape(expr) == self.space.shapes[self.var]
        except SpecError:
            return False

    def run(self, broken=False) -> list[str]:
        found, used = [], []
        if not broken and self.same(self.expr, self.derived):
            return found  # right at every diagnosis point: there is no slip to name
        kinds = [self.structure, self.operators, self.names] if broken else [
            self.structure, self.softmax_jacobian, self.masks, self.factors, self.formulas,
            self.terms, self.operators, self.gradients, self.swaps, self.chain, self.other,
            self.names, self.sums, self.ratio]
        for kind in kinds:
            if found and kind == self.swaps:
                break  # a transpose or a constant factor explains the claim: that is the slip
            if found and kind == self.names:
                continue  # a wrong name is a last guess
            if kind == self.terms and self.formulas in used:
                continue  # a wrong slope's sign is said as a wrong slope
            for message in kind():
                if message not in found:
                    found.append(message)
                    used.append(kind)
                break  # the first of each kind
            if len(found) == MAX_MESSAGES:
                break
        return found

    # each kind of slip: a generator of messages, most specific first

    def structure(self):
        """A transpose missing or extra, factors of @ swapped, a sum along the wrong axis."""
        expr, derived, show = self.expr, self.derived, self.show
        if not self.fits(expr) and self.fits(transpose(expr)) \
                and self.same(transpose(expr), derived):
            yield "Your claim is the transpose of the correct one (a transpose is missing)."
        for part in sp.preorder_traversal(expr):
            fixes = []
            if isinstance(part, transpose):
                u = part.args[0]
                fixes.append((u, f"The transpose on {show(u)} is one too many: with {show(u)} "
                                 f"in place of {show(part)} your claim is right."))
            elif isinstance(part, sp.Symbol) and self.space.shape(part) != SCALAR:
                fixes.append((transpose(part), f"A transpose is missing: with {show(part)}.T in "
                                               f"place of {show(part)} your claim is right."))
            elif isinstance(part, matmul):
                a, b = part.args
                for u in (a, b):
                    if not isinstance(u, (sp.Symbol, transpose)):
                        fixes.append((part.xreplace({u: transpose(u)}),
                                      f"A transpose is missing: with {show(transpose(u))} in "
                                      f"place of {show(u)} your claim is right."))
                fixes.append((matmul(b, a), f"The factors of {show(part)} are in the wrong "
                                            f"order: with {show(matmul(b, a))} your claim is "
                                            "right."))
            elif isinstance(part, (total, colsum, rowsum)):
                for kind in (total, colsum, rowsum):
                    if kind is not type(part):
                        fixes.append((kind(part.args[0]),
                                      f"The sum is along the wrong axis: with "
                                      f"{show(kind(part.args[0]))} in place of {show(part)} "
                                      "your claim is right."))
            for new, message in fixes:
                fixed = expr.xreplace({part: new})
                if self.fits(fixed) and self.same(fixed, derived):
                    yield message

    def masks(self):
        """A 0/1 mask the wrong way round: ``(Z < 0)`` or ``np.where(Z > 0, 0, dA)`` where
        ``(Z > 0)`` belongs (the complement of H(u, k) is H(-u, 1 - k))."""
        for step in sorted(self.expr.atoms(sp.Heaviside), key=sp.default_sort_key):
            u, at = step.args[0], (step.args[1] if len(step.args) > 1 else sp.Integer(0))
            flipped = sp.Heaviside(-u, 1 - at)
            fixed = self.expr.xreplace({step: flipped})
            if self.same(fixed, self.derived):
                yield (f"The mask is the wrong way round: with {self.show(flipped)} in place of "
                       f"{self.show(step)} your claim is right.")

    def softmax_jacobian(self):
        yield from softmax_jacobian_slips(self)

    def factors(self):
        for factor, message in _FACTORS:
            if as_expr(factor).has(M) and "m" not in self.space.names:
                continue
            if not self.space.batch and factor in (1 / M, -1 / M):
                message += " Per example there is no 1/m: it comes from averaging over m examples."
            if self.same(self.expr, factor * self.derived):
                yield message

    def right_with(self, part, new) -> bool:
        """The claim with ``new`` in place of its subexpression ``part`` is right (and that
        changes its value: a repair that changes nothing names no slip)."""
        fixed = self.expr.xreplace({part: new})
        return (fixed != self.expr and self.fits(fixed) and self.same(fixed, self.derived)
                and not self.same(fixed, self.expr))

    def formulas(self):
        """A wrong formula for an activation's derivative: sigma'(z) = a*(1 + a)."""
        space = self.space
        for sym, forward in space.nodes:
            if type(forward) not in _ACTIVATIONS or forward.func is sp.Heaviside:
                continue
            slope = to_node_variables(forward.fdiff(), space.nodes)
            own = {sym} | forward.free_symbols  # the node, and what its argument is made of
            name = _PRIME.get(forward.func, forward.func.__name__)
            for part, whole, new in _factor_groups(self.expr, own):
                if type(part) in _ACTIVATIONS or any(
                        sp.cancel(to_node_variables(part, space.nodes) - slope**k) == 0
                        for k in (0, 1, 2, 3)):
                    continue  # g(z) for g'(z), the right slope, or it twice: said by chain
                if self.right_with(whole, new(slope)):
                    arg = self.show(forward.args[0])
                    yield (f"Your {name}'({arg}) is {self.show(part)}; {name}'({arg}) = "
                           f"{self.show(slope)}.")

    def terms(self):
        """One term of a sum with the wrong sign or factor, or without the parameter."""
        var, show = self.var, self.show
        param = var in self.space.graph.leaves and self.space.shape(var) != SCALAR
        hyper = {self.space.names[n] for n in self.space.exponents if n in self.space.names}
        penalty = set()  # the hyperparameters of the derivation's L2 term (lambd*W/m)
        for term in sp.Add.make_args(sp.expand(self.derived)):
            if var in sp.Mul.make_args(term):
                penalty |= hyper & set(sp.Mul.make_args(term))
        for part in sp.preorder_traversal(self.expr):
            if not isinstance(part, sp.Add):
                continue
            for t in part.args:
                if t.is_Number:
                    continue
                others = [u for u in part.args if u is not t]
                kind = "L2 term" if t.free_symbols & penalty else "term"
                if part != self.expr and len(show(part)) <= 40:
                    kind += f" {show(t)} in"
                    t_shown = show(part)
                else:
                    t_shown = show(t)
                for factor, what in _TERM_FACTORS:
                    if as_expr(factor).has(M) and "m" not in self.space.names:
                        continue
                    new = factor * t
                    if self.right_with(part, sp.Add(*others, new)):
                        yield (f"The {kind} {t_shown} {what}: with {show(new)} in place of "
                               f"{show(t)} your claim is right.")
                if param and var not in t.free_symbols and t.free_symbols - {M}:
                    new = t * var
                    if self.right_with(part, sp.Add(*others, new)):
                        yield (f"The {kind} {t_shown} lacks {self.label(var)}: with "
                               f"{show(new)} in place of {show(t)} your claim is right.")

    def operators(self):
        """``@`` where ``*`` belongs, or ``*`` where ``@`` belongs."""
        show = self.show
        for part in sp.preorder_traversal(self.expr):
            if isinstance(part, matmul):
                a, b = part.args
                if self.right_with(part, a * b):
                    yield (f"'@' where '*' belongs: with {show(a * b)} in place of "
                           f"{show(part)} your claim is right (* is elementwise).")
            elif isinstance(part, sp.Mul):
                arrays = [f for f in part.args if not f.is_Number and self._array(f)]
                if not 2 <= len(arrays) <= 4:
                    continue
                for a, b in itertools.permutations(arrays, 2):
                    rest = [f for f in part.args if f is not a and f is not b]
                    if self.right_with(part, sp.Mul(*rest) * matmul(a, b)):
                        yield (f"'*' where '@' belongs: with {show(matmul(a, b))} in place of "
                               f"{show(a * b)} your claim is right (@ is the matrix product).")

    def _array(self, f) -> bool:
        try:
            return self.space.shape(f) != SCALAR
        except SpecError:
            return True

    def gradients(self):
        """A gradient where its parameter (or node) belongs: dW2 for W2."""
        for s in sorted(self.expr.free_symbols, key=str):
            step = self.space.adjoints.get(self.label(s))
            if step is None or step.adjoint != s or step is self.step:
                continue
            if self.right_with(s, step.var):
                name, var = self.label(s), self.label(step.var)
                yield (f"Your claim uses {name}, a gradient, where {var} belongs: with {var} "
                       f"in place of {name} your claim is right.")

    def swaps(self):
        symbols = sorted((s for s in self.expr.free_symbols
                          if s is not M and self.label(s) not in self.space.adjoints), key=str)
        for p, q in itertools.combinations(symbols[:8], 2):
            swapped = self.expr.xreplace({p: q, q: p})
            if self.fits(swapped) and self.same(swapped, self.derived):
                yield (f"{self.label(p)} and {self.label(q)} are swapped: exchanged, your claim "
                       "is right.")

    def names(self):
        """One name where another belongs: A2 where A1 belongs, A[l] where A[l-1] does."""
        tries = 0
        for s in sorted(self.expr.free_symbols - {M}, key=str):
            scalar = self.space.shape(s) == SCALAR  # its .T was dropped: try t.T too
            for t in self.kin(s):
                for new in (t, transpose(t)) if scalar else (t,):
                    fixed = self.expr.xreplace({s: new})
                    if not self.fits(fixed):
                        continue
                    tries += 1
                    if tries > NAME_TRIES:
                        return
                    if self.same(fixed, self.derived):
                        yield (f"Your claim uses {self.label(s)} where {self.label(t)} belongs: "
                               f"with {self.show(new)} in place of {self.label(s)} your claim "
                               "is right.")

    def kin(self, s):
        """The names that could stand where ``s`` stands: of its kind, the likeliest first."""
        space = self.space
        adjoints = set(space.results) | {adjoint_symbol(space.graph.output)}
        claimed = self.step.adjoint

        def kind(u):
            return 0 if u in adjoints else 1 if u in space.graph.leaves else 2

        def stem(u):
            return space.label(u).split("[")[0].removesuffix("_prev").rstrip("0123456789")

        out = [t for t in space.names.values() if t != s and t != M and kind(t) == kind(s)
               and t != claimed and claimed not in space.results.get(t, sp.S.Zero).free_symbols]
        return sorted(out, key=lambda t: (stem(t) != stem(s), space.label(t)))

    def other(self):
        matches = [name for name, step in self.space.adjoints.items()
                   if step is not self.step and self.same(self.expr, step.result)
                   and not self.same(step.result, self.derived)]
        if matches:
            names = " and ".join(matches)
            wrt = matches[0][len(naming.adjoint("")):]
            yield (f"Your claim equals symgrad's {names}: the derivative with respect to {wrt}, "
                   f"not {self.label(self.var)} (derivative taken with respect to the wrong "
                   "variable).")

    def chain(self):
        for part in sp.preorder_traversal(self.expr):  # g(z) where g'(z) belongs
            if type(part) in _ACTIVATIONS:
                slope = to_node_variables(part.fdiff(), self.space.nodes)
                if self.same(self.expr.xreplace({part: slope}), self.derived):
                    yield (f"Your claim has {self.show(part)} where its derivative belongs: with "
                           f"{self.show(slope)} in place of {self.show(part)} your claim is "
                           "right.")
        for message, variant in _variants(self.space, self.var):
            if not self.same(variant, self.derived) and self.same(self.expr, variant):
                yield message
        for message, variant in _extra_factors(self.space, self.derived):
            if self.same(self.expr, variant) and not self.same(variant, self.derived):
                yield message

    def sums(self):
        if self.fits(self.expr):
            return
        over_m = " and divided by m" if self.space.batch else ""
        for kind, how in ((total, "sum(...)"), (rowsum, "sum(..., axis=1)"),
                          (colsum, "sum(..., axis=0)")):
            for scale, how_m in ((1, ""), (1 / M, over_m)):
                candidate = scale * kind(self.expr)
                if how_m == "" and scale != 1 or scale != 1 and not self.space.batch:
                    continue
                if self.fits(candidate) and self.same(candidate, self.derived):
                    yield (f"Summed with {how}{how_m}, your claim is right: the sum over the "
                           "examples is missing.")

    def ratio(self):
        """The claim is a constant multiple of the derivation, at every entry (where the
        correct value is 0 too)."""
        pairs = []
        for env in self.points:
            u, v = self.values(self.expr, self.derived, env)
            if u is None:
                return
            if np.any(np.isfinite(u) != np.isfinite(v)):
                return
            ok = np.isfinite(v)
            pairs.append((u[ok], v[ok]))
        big = [(u, v) for u, v in pairs if np.any(np.abs(v) > 1e-9)]
        if len(big) < 2:
            return
        u, v = big[0]
        i = int(np.argmax(np.abs(v)))
        c = float(u.ravel()[i] / v.ravel()[i])
        for u, v in pairs:  # every entry: u = c*v
            scale = max(1.0, float(np.max(np.abs(v), initial=0.0)))
            if not np.allclose(u, c * v, rtol=1e-7, atol=1e-9 * scale):
                return
        c = sp.nsimplify(c, rational=True, tolerance=1e-9)
        if c not in (0, 1) and max(abs(c.p), abs(c.q)) <= 1000:
            yield f"Your claim is {c} times the correct one."


_PRIME = {"sigmoid": "sigma"}  # how a derivative's name is written: sigma'(z)
_PRIME = {f: _PRIME.get(f.__name__, f.__name__) for f in _ACTIVATIONS}

_TERM_FACTORS = (
    (-1, "has the wrong sign"),
    (1 / M, "is m times too large (the factor 1/m is missing there)"),
    (M, "has an extra factor 1/m"),
    (sp.Rational(1, 2), "is twice too large (a stray factor 2)"),
    (2, "is half what it should be (a factor 2 missing, or a stray 1/2)"),
)
MAX_GROUP = 3  # factors of a product taken together as one activation's slope


def _factor_groups(expr, own):
    """Parts of ``expr`` made of the symbols ``own`` only: (part, the subexpression it is in,
    a function giving that subexpression with something else in place of the part)."""
    for node in sp.preorder_traversal(expr):
        if node.free_symbols and node.free_symbols <= own and not isinstance(node, sp.Symbol):
            yield node, node, lambda new: new
        if not isinstance(node, sp.Mul):
            continue
        mine = [f for f in node.args if f.free_symbols and f.free_symbols <= own]
        rest = [f for f in node.args if f not in mine]
        for k in range(1, min(len(mine), MAX_GROUP) + 1):
            for group in itertools.combinations(mine, k):
                others = [f for f in mine if f not in group] + rest
                yield sp.Mul(*group), node, lambda new, o=others: sp.Mul(*o, new)


# ----- chain-rule factors, from the derivation's recorded steps -----


def _local_text(space, c):
    """The local partial of a contribution, as text, or None if it is not a plain factor."""
    local = c.local
    g = adjoint_symbol(c.consumer)
    if local is None and c.expr.has(g) and not c.expr.has(Structural):
        local = sp.cancel(c.expr / g)
        if local.has(g):
            local = None
    if local is None:
        return None
    return space.show(to_node_variables(local, space.nodes))


def _variants(space, var, depth=0):
    """d<var> with one chain-rule factor left out: (message, expression) pairs."""
    step = space.steps.get(var)
    if step is None or depth > 12:
        return []
    scale = space.graph.leaf_scale if var in space.graph.leaves else sp.Integer(1)
    out = []
    exprs = [c.expr for c in step.contributions]
    for i, c in enumerate(step.contributions):
        g = adjoint_symbol(c.consumer)
        others = sp.Add(*(exprs[:i] + exprs[i + 1:]))
        local = _local_text(space, c)
        consumer, of = space.label(c.consumer), space.label(var)
        factor = f"d{consumer}/d{of}" + (f" = {local}" if local else "")
        if (c.via == "elementwise" or local) and local != "1":
            out.append((f"Your claim matches the correct result with the chain-rule factor "
                        f"{factor} left out (missing chain-rule factor).", scale * (others + g)))
        if c.expr.has(g) and g in space.results and space.results[g] != 1:
            out.append((f"Your claim leaves out the factor d{consumer} that flows back from "
                        f"{space.label(space.graph.output)}, keeping only {factor} (missing "
                        "chain-rule factor).", scale * (others + c.expr.xreplace({g: 1}))))
        if len(step.contributions) > 1:
            out.append((f"Your claim leaves out the part that flows back through {consumer} "
                        f"(d{of} sums over every node that uses {of}).", scale * others))
        for message, deeper in _variants(space, c.consumer, depth + 1):
            out.append((message, scale * (others + c.expr.xreplace({g: deeper}))))
    return out


def _extra_factors(space, derived):
    """The derivation times one local partial of the sweep: (message, expression) pairs."""
    out, seen = [], set()
    for step in space.steps.values():
        for c in step.contributions:
            text = _local_text(space, c)
            if c.local is None or c.local.is_Number or text in seen:
                continue
            seen.add(text)
            out.append((f"Your claim has an extra factor {text} (d{space.label(c.consumer)}/"
                        f"d{space.label(step.var)}), a chain-rule factor that does not belong "
                        "here.", derived * c.local))
    return out


# ----- the softmax Jacobian -----


def softmax_jacobian_slips(diagnosis):
    """Messages for the slips in the softmax Jacobian ``diag(a) - a @ a.T`` that carries ``da``
    back to ``dz`` (``a = softmax(z)``): its diagonal alone, ``a*(1 - a)`` (the sigmoid's slope),
    and ``diag(a)`` without the ``-a @ a.T`` term."""
    space, step = diagnosis.space, diagnosis.step
    for a, forward in space.nodes:
        if not isinstance(forward, softmax) or forward.args[0] != step.var:
            continue
        da = adjoint_symbol(a)
        if da not in space.results:
            continue
        z, a_, da_ = space.label(step.var), space.label(a), space.label(da)
        jacobian = f"d{z} = (diag({a_}) - {a_} @ {a_}.T) @ {da_}"
        each = " for each example" if space.batch else ""
        slips = (
            (a * (1 - a) * da,
             f"Your claim keeps only the diagonal of the softmax Jacobian, {a_}*(1 - {a_}) (the "
             f"sigmoid's slope): softmax couples the classes, so{each} {jacobian}; the "
             f"off-diagonal part -{a_} @ {a_}.T is missing (softmax Jacobian, diagonal only)."),
            (a * da,
             f"Your claim is {a_}*{da_}, diag({a_}) @ {da_}: the softmax Jacobian's term "
             f"-{a_} @ {a_}.T is missing; {each.strip() + ' ' if each else ''}{jacobian} "
             "(softmax Jacobian slip)."),
        )
        for variant, message in slips:
            if diagnosis.same(diagnosis.expr, variant) \
                    and not diagnosis.same(variant, diagnosis.derived):
                yield message
