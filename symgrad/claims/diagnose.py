"""Diagnoses: which common slip turns the correct derivative into a refuted claim.

Each kind of slip is a generator of candidate repairs, tried numerically: a repair that makes the
claim agree with the derivation at the diagnosis points names the slip. The kinds, in the order
they are tried:

* structure: a transpose missing or extra, the factors of ``@`` swapped, a sum along the wrong
  axis;
* factors: a flipped sign, a factor 1/m missing or extra, a factor 2 or 1/2;
* swaps: two names exchanged (``a`` and ``y``);
* chain: an activation g(Z) where its derivative g'(Z) belongs, a chain-rule factor left out or
  one too many (read from the derivation's recorded steps: ``dZ1 = W2.T @ dZ2`` lacks
  ``g'(Z1)``);
* other: the derivative with respect to another variable;
* names: one name where another belongs (``A2`` where ``A1`` belongs, ``A[l]`` for ``A[l-1]``),
  when nothing before explains the claim;
* sums: a sum over the examples missing;
* ratio: a constant multiple of the correct result;
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
    return _Diagnosis(space, step, expr).run(broken)


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
        found = []
        kinds = [self.structure, self.names] if broken else [
            self.structure, self.softmax_jacobian, self.factors, self.swaps, self.chain,
            self.other, self.names,
            self.sums, self.ratio]
        for kind in kinds:
            if found and kind == self.swaps:
                break  # a transpose or a constant factor explains the claim: that is the slip
            if found and kind == self.names:
                continue  # a wrong name is a last guess
            for message in kind():
                if message not in found:
                    found.append(message)
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
        """The claim is a constant multiple of the derivation."""
        ratios = []
        for env in self.points:
            u, v = self.values(self.expr, self.derived, env)
            if u is None:
                return
            ok = np.isfinite(u) & np.isfinite(v) & (np.abs(v) > 1e-9)
            ratios.extend((u[ok] / v[ok]).ravel())
        if len(ratios) < 2 or not np.allclose(ratios, ratios[0], rtol=1e-7):
            return
        c = sp.nsimplify(ratios[0], rational=True, tolerance=1e-9)
        if c not in (0, 1) and max(abs(c.p), abs(c.q)) <= 1000:
            yield f"Your claim is {c} times the correct one."


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
