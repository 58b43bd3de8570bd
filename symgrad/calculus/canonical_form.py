"""One canonical form for expressions over arrays, and the test that a difference is 0.

Two readers of a derivation compare expressions: the proof writer checks every displayed line
(:mod:`symgrad.proof.line_check`) and the claim checker compares a hand derivation with symgrad's
(:mod:`symgrad.claims.checker`). Both put the difference of the two sides in this form and ask
whether it
is 0. Every rewrite is an identity of linear algebra under NumPy's broadcasting, so a difference
found to be 0 is 0; one that is not found may still be (then the callers compare numbers).

* Transposes go through sums of terms, scalar factors, matrix products and axis sums
  (``(A @ B).T = B.T @ A.T``, ``sum(A, axis=0).T = sum(A.T, axis=1)``, ``A.T.T = A``) and stop
  on a symbol or an elementwise expression (``(1 - A**2).T``); a scalar is its own transpose.
* Matrix products and sums are split over the terms of their arguments, with the factors that
  are constant along the product or sum taken out: ``(f*G) @ B = f*(G @ B)`` for f with one
  column. A term with fewer rows or columns than its sum (broadcast) stands in a product for a
  block of equal rows or columns, and in a sum counts as often; a product of two such terms
  keeps its inner size (``1 @ 1`` over k is k times a block of 1s).
* Blocks of 1s and 0s (:class:`symgrad.model.ops.ones`) are summed and multiplied out, and are
  the numbers 1 and 0 where the rest of a sum or product already has their shape.
* A sum of all the entries of a transpose is the sum of the entries (``sum(dZ.T) = sum(dZ)``).
* Products are grouped to the right (``(A @ B) @ C = A @ (B @ C)``).
* ``A @ q.T = sum(A*q, axis=1)`` for a row q; a column times a row is the broadcast product;
  ``u.T @ v`` (a (1, 1) result) is ``sum(u*v)`` where u or v is a formula, and otherwise of
  ``u.T @ v`` and ``v.T @ u`` one is kept, always the same. ``eye(n)`` is the identity of
  ``@``; ``ones(1, k) @ B`` and ``A @ ones(k, 1)`` are sums, and ``ones(r, c)`` is 1 in a sum
  or product that has its shape without it.
* A ReLU's slope may be read from its output: ``heaviside(relu(z)) = heaviside(z)`` (both 0 at
  the kink, the convention of :class:`symgrad.model.ops.relu`).
* Elementwise parts are rational functions, cancelled, with the labels' assumptions: a binary
  label has ``y**2 = y``, a one-hot label's columns sum to 1. What cancelling leaves is tried
  with ``sympy.simplify``, and for a binary label in both its cases, 0 and 1.
* Nothing is multiplied out beyond :data:`CANCEL_LIMIT` terms (or degree), and functions nested
  deeper than :data:`REWRITE_DEPTH` are not rewritten in exponentials: where SymPy's time
  would grow exponentially, the difference is left undecided (not 0).

>>> import sympy as sp
>>> from symgrad.model.ops import matmul, transpose
>>> X, D = sp.symbols("X D", real=True)
>>> n, m = sp.symbols("n m", positive=True)
>>> form = Canonical({X: (n, m), D: (1, m)})
>>> form.is_zero(transpose(matmul(D, transpose(X))) - matmul(X, transpose(D)))
True
"""

from __future__ import annotations

import sympy as sp

from ..model.errors import SpecError
from ..model.ops import (
    Structural,
    block,
    colsum,
    eye,
    mask,
    matmul,
    ones,
    relu,
    rowsum,
    total,
    transpose,
    zeros,
)
from ..model.shapes import SCALAR, broadcast, shape_of
from .budget import checkpoint
from .simplify import apply_assumptions, expanded_size

SIMPLIFY_LIMIT = 400  # operations: beyond this, sympy.simplify is not tried
CANCEL_LIMIT = 20_000  # terms or degree multiplied out: beyond this, nothing is cancelled
QUICK_LIMIT = 2_000  # terms or degree multiplied out: beyond this, only simplify is tried
REWRITE_DEPTH = 3  # functions nested deeper are not rewritten in exp (tanh(u) holds u 4 times)
ROUNDS = 10  # structural and rational rewrites, alternated until nothing changes


class Canonical:
    """The canonical form for expressions whose symbols have ``shapes`` (Symbol -> (r, c))."""

    def __init__(self, shapes, binary=frozenset(), onehot=frozenset()):
        # a dimension is a number: a sum over a broadcast axis counts its terms (n_y * eps)
        dims = {d for shape in shapes.values() for n in shape
                for d in getattr(n, "free_symbols", ())}
        self.shapes = {**{d: SCALAR for d in dims}, **shapes}
        self.binary, self.onehot = frozenset(binary), frozenset(onehot)
        # every step is a function of the expression alone (given the shapes and labels), and
        # a proof's lines repeat the same parts: each result is kept for this form's life
        self._known: dict = {}

    def _kept(self, step, expr, compute):
        key = (step, expr)
        if key not in self._known:
            self._known[key] = compute(expr)
        return self._known[key]

    def of(self, expr):
        """``expr`` in canonical form."""
        return self._kept("of", expr, self._of)

    def _of(self, expr):
        expr = expr.replace(lambda e: isinstance(e, Structural) and hasattr(e, "definition"),
                            lambda e: e.definition())
        expr = self._ones(expr)
        expr = expr.replace(  # relu(z) > 0 exactly where z > 0 (and Heaviside(0) = 0)
            lambda e: isinstance(e, sp.Heaviside) and e.args[1:] == (0,)
            and isinstance(e.args[0], relu), lambda e: sp.Heaviside(e.args[0].args[0], 0))
        for _ in range(ROUNDS):
            checkpoint()
            new = self._rational(self._structural(expr))
            if new == expr:
                break
            expr = new
        return expr

    def is_zero(self, expr) -> bool:
        """True only if ``expr`` is shown to be 0 (raises SpecError where shapes do not fit)."""
        return self._kept("is_zero", expr, self._is_zero)

    def _is_zero(self, expr) -> bool:
        diff = self.of(expr)
        if diff == 0:
            return True
        masked, holes = mask(diff)  # entry by entry, a block of 1s (0s) is 1 (0)
        masked = masked.xreplace({h: {ones: 1, zeros: 0}[type(u)] for h, u in holes.items()
                                  if isinstance(u, (ones, zeros))})
        if masked.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or sp.count_ops(masked) > SIMPLIFY_LIMIT \
                or expanded_size(masked) > CANCEL_LIMIT:
            return False
        cases = [masked]  # a binary label's entries are 0 or 1: both cases, entry by entry
        for label in sorted(masked.free_symbols & self.binary, key=str):
            cases = [c.xreplace({label: v}) for c in cases for v in (0, 1)]
        return all(self._zero_either_sign(c, holes) for c in cases)

    def _zero_either_sign(self, e, holes) -> bool:
        """``_zero(e)``, asked once for e and -e (a line and the same line turned round);
        ``holes`` (placeholder -> array expression) name e's placeholders the same each time."""
        num, den = sp.fraction(e.xreplace(holes))
        key = ("zero", -num if num.could_extract_minus_sign() else num, den)
        if key not in self._known:
            self._known[key] = self._zero(e)
        return self._known[key]

    def _zero(self, e) -> bool:
        if sp.cancel(e) == 0:
            return True
        if _rational_function(e):  # cancel decides these: lowest terms over the rationals
            return False
        if _nesting(e) > REWRITE_DEPTH:
            return False
        written = e.rewrite(sp.exp)
        # cheap first, where multiplying out stays small: exponentials split into powers of
        # exp(u) for each term u, over one denominator (sigmoid's and tanh's derivatives are
        # shown so, in a fifth of simplify's time); simplify where that is not enough
        if expanded_size(written) <= QUICK_LIMIT and \
                sp.cancel(self._assume(sp.expand_power_exp(written))) == 0:
            return True
        return sp.simplify(self._assume(sp.simplify(written))) == 0

    # ----- elementwise: rational functions under the assumptions -----

    def _assume(self, expr):
        return apply_assumptions(expr, self.binary, self.onehot)

    def _rational(self, expr):
        return self._kept("rational", expr, self._cancelled)

    def _cancelled(self, expr):
        masked, unmask = mask(self._assume(expr))
        if expanded_size(masked) > CANCEL_LIMIT:  # too large to multiply out: left as it is
            return masked.xreplace(unmask)
        out = sp.cancel(sp.together(masked))
        num, den = sp.fraction(out)
        num2 = self._assume(sp.expand(num))
        if num2 != num:
            out = sp.cancel(num2 / den)
        return out.xreplace(unmask)

    # ----- structural: transposes, products and sums -----

    def _ones(self, expr):
        """``ones(r, c)`` as 1 where a sum or product it is in has its shape without it."""
        if expr.is_Atom or not expr.args:
            return expr
        args = [self._ones(a) for a in expr.args]
        if (expr.is_Add or expr.is_Mul) and any(isinstance(a, ones) for a in args):
            for i, a in enumerate(args):
                if isinstance(a, ones):
                    rest = SCALAR
                    try:
                        for b in args[:i] + args[i + 1:]:
                            rest = broadcast(rest, self._shape(b))
                        if broadcast(rest, tuple(a.args)) == rest:
                            args[i] = sp.Integer(1)
                    except (SpecError, KeyError):
                        pass
        return expr.func(*args)

    def _shape(self, expr):
        """``shape_of(expr)``, kept for each elementwise part: ``shape_of`` asks at every level
        whether a part has symbols, and an unrolled network nests hundreds of levels."""
        key = ("shape", expr)
        if key not in self._known:
            if _elementwise(expr):  # shape_of's rule: a constant is a number, else broadcast
                shape = SCALAR
                if self._free(expr):
                    for a in expr.args:
                        shape = broadcast(shape, self._shape(a))
            else:
                shape = shape_of(expr, self.shapes)
            self._known[key] = shape
        return self._known[key]

    def _free(self, expr) -> bool:
        """``bool(expr.free_symbols)``, kept for each elementwise part."""
        key = ("free", expr)
        if key not in self._known:
            self._known[key] = any(self._free(a) for a in expr.args) if _elementwise(expr) \
                else bool(expr.free_symbols)
        return self._known[key]

    def _structural(self, expr):
        return self._kept("structural", expr, self._through)

    def _through(self, expr):
        if isinstance(expr, (ones, zeros)):
            return expr
        if isinstance(expr, Structural):
            args = [self._rational(self._structural(a)) for a in expr.args]
            return self._linear(expr.func, args)
        if expr.is_Atom or not expr.args:
            return expr
        return self._blocks(expr.func(*[self._structural(a) for a in expr.args]))

    def _blocks(self, expr):
        """A block of 1s (0s) that only broadcasts, in a product (sum) whose other factors
        (terms) already have the shape, is the number 1 (0); a product with a block of 0s is
        one."""
        if not isinstance(expr, (sp.Add, sp.Mul)) or not any(
                isinstance(f, (ones, zeros)) for a in expr.args for f in sp.Mul.make_args(a)):
            return expr
        try:
            full = self._shape(expr)
        except SpecError:
            return expr  # shapes that do not fit: the caller's to find, as without blocks
        if isinstance(expr, sp.Mul):
            if any(isinstance(f, zeros) for f in expr.args):
                return block(0, full)
            for f in expr.args:
                if isinstance(f, ones) and self._shape(_without(expr, f)) == full:
                    return self._blocks(_without(expr, f))
            return expr
        for term in expr.args:
            rest = self._shape(_without(expr, term))
            if rest != full:
                continue
            if isinstance(term, zeros):
                return self._blocks(_without(expr, term))
            for f in sp.Mul.make_args(term):
                if isinstance(f, ones):
                    return self._blocks(expr.xreplace({term: _without(term, f)}))
        return expr

    def _split(self, expr, keep):
        """Terms of ``expr``, each as (factors that ``keep`` takes outside, the rest)."""
        out = []
        if expanded_size(expr) <= CANCEL_LIMIT:
            expr = sp.expand(expr, deep=False)
        for term in sp.Add.make_args(expr):
            outside, inside = [], []
            for f in sp.Mul.make_args(term):
                (outside if f.is_Number or keep(f) else inside).append(f)
            out.append((sp.Mul(*outside), sp.Mul(*inside)))
        return out

    def _linear(self, op, args):
        """``op(*args)`` split over sums and with its constants taken out."""
        scalar = lambda f: self._shape(f) == SCALAR  # noqa: E731
        if op is transpose:
            return self._transpose(args[0])
        if op is matmul:
            left, right = args
            full_l, full_r = self._shape(left), self._shape(right)
            out = []
            # (f * G) @ B = f * (G @ B) for f with one column; A @ (g * H) = g * (A @ H) for g
            # with one row
            for c1, a in self._split(left, lambda f: self._shape(f)[1] == 1):
                for c2, b in self._split(right, lambda f: self._shape(f)[0] == 1):
                    out.append(c1 * c2 * self._product(a, b, full_l, full_r))
            return sp.Add(*out)
        if op not in (colsum, rowsum, total):
            return op(*args)
        (arg,) = args
        r, c = self._shape(arg)
        keep = {colsum: lambda f: self._shape(f)[0] == 1,
                rowsum: lambda f: self._shape(f)[1] == 1,
                total: scalar}[op]
        summed = {colsum: (True, False), rowsum: (False, True), total: (True, True)}[op]
        out = []
        for const, rest in self._split(arg, keep):
            rr, rc = (1, 1) if rest == 1 else self._shape(rest)
            count = ((r if summed[0] and rr == 1 else 1) * (c if summed[1] and rc == 1 else 1))
            out.append(const * count * (1 if rest == 1 else self._sum(op, rest)))
        return sp.Add(*out)

    def _transpose(self, u):
        """``u.T``, taken through sums of terms, scalar factors, products and axis sums."""
        out = []
        for c, rest in self._split(u, lambda f: self._shape(f) == SCALAR):
            if rest == 1 or self._shape(rest) == SCALAR or self._diagonal(rest):
                out.append(c * rest)  # a number, or a diagonal matrix: its own transpose
            elif isinstance(rest, (ones, zeros)):
                out.append(c * rest.func(*reversed(rest.args)))
            elif isinstance(rest, transpose):
                out.append(c * rest.args[0])
            elif self._symmetric(rest):  # (u * u.T).T = u.T * u: an outer product's own
                out.append(c * rest)
            elif isinstance(rest, matmul):
                a, b = rest.args
                out.append(c * self._linear(matmul, [self._transpose(b), self._transpose(a)]))
            elif isinstance(rest, (colsum, rowsum)):
                swapped = rowsum if isinstance(rest, colsum) else colsum
                out.append(c * self._linear(swapped, [self._transpose(rest.args[0])]))
            else:  # a symbol or an elementwise expression: its transpose stays on top
                out.append(c * transpose(rest))
        return sp.Add(*out)

    def _symmetric(self, expr) -> bool:
        """A product of vectors that is its own transpose (``u * u.T``, an outer product)."""
        if not (expr.is_Mul and any(isinstance(f, transpose) for f in expr.args)):
            return False
        shapes = [self._shape(f) for f in expr.args]
        if not all(1 in shape for shape in shapes):
            return False
        cols = [f for f, (r, c) in zip(expr.args, shapes, strict=True) if c == 1 and r != 1]
        rows = [f for f, (r, c) in zip(expr.args, shapes, strict=True) if r == 1 and c != 1]
        return bool(cols) and sp.Mul(*cols) == self._transpose(sp.Mul(*rows))

    def _diagonal(self, expr) -> bool:
        """``eye(n)`` times columns (``v * eye(n)``, ``diag(v)``): a diagonal matrix."""
        factors = sp.Mul.make_args(expr)
        return any(isinstance(f, eye) for f in factors) and all(
            isinstance(f, eye) or self._shape(f)[1] == 1 for f in factors)

    def _product(self, a, b, full_a, full_b):
        """``a @ b`` where ``a`` and ``b`` are terms of operands of shapes full_a, full_b."""
        if isinstance(a, eye) or isinstance(b, eye):  # I @ B = B, A @ I = A
            return b if isinstance(a, eye) else a
        sa, sb = (SCALAR if a == 1 else self._shape(a)), (SCALAR if b == 1 else self._shape(b))
        (r, k), c = full_a, full_b[1]
        if isinstance(a, zeros) or isinstance(b, zeros):
            return block(0, (r, c))
        if sa == SCALAR and sb == SCALAR and (sa != full_a and sb != full_b or
                                              isinstance(a, ones) and isinstance(b, ones)):
            return block(a * b * k, (r, c))  # a sum of k products, in each entry
        if sa != full_a and sb != full_b:  # both broadcast: the inner size kept in the blocks
            return matmul(block(a, full_a), block(b, full_b))
        if isinstance(a, ones):  # equal rows: b's column sums, in each row
            return self._full(self._sum(colsum, b), (r, c))
        if isinstance(b, ones):
            return self._full(self._sum(rowsum, a), (r, c))
        if sa != full_a:  # a block of equal entries: its rows (or all) times b's column sums
            return matmul(a, b) if sa[0] == 1 and sa[1] != 1 else a * self._sum(colsum, b)
        if sb != full_b:
            return matmul(a, b) if sb[1] == 1 and sb[0] != 1 else self._sum(rowsum, a) * b
        if sa[1] == 1 and sb[0] == 1:  # a column times a row: the broadcast product
            return a * b
        if sb[1] == 1 and sa[0] != 1 and not isinstance(b, sp.Symbol):
            q = self._transpose(b)  # A @ q.T = sum(A*q, axis=1) for a row q (not for A @ x)
            if not isinstance(q, transpose) and not q.is_Add:
                return self._sum(rowsum, a * q)
        if isinstance(a, matmul):  # (A @ B) @ C = A @ (B @ C): products grouped to the right
            return self._linear(matmul, [a.args[0], self._linear(matmul, [a.args[1], b])])
        if (sa[0], sb[1]) == SCALAR and sa[1] != 1 and not (_plain(a) and _plain(b)):
            # u.T @ v = sum(u*v) where u or v is a formula: its factors may cancel
            return self._sum(colsum, self._rational(self._transpose(a) * b))
        if (sa[0], sb[1]) == SCALAR:  # u.T @ v = v.T @ u: one of the two, always
            return min(matmul(a, b), matmul(self._transpose(b), self._transpose(a)),
                       key=sp.default_sort_key)
        return matmul(a, b)

    def _full(self, expr, shape):
        """``expr`` broadcast to ``shape``."""
        return expr if self._shape(expr) == shape else block(expr, shape)

    def _sum(self, op, arg):
        r, c = self._shape(arg)
        if isinstance(arg, zeros):
            return 0
        if isinstance(arg, ones):  # r*c, r in each column, c in each row
            return {total: r * c, colsum: r * block(1, (1, c)),
                    rowsum: c * block(1, (r, 1))}[op]
        if isinstance(arg, transpose) and (op is total or (r, c)[op is colsum] == 1):
            return self._sum(total, arg.args[0])  # sum(u.T) = sum(u), a number
        if op is total:
            if arg in self.onehot:
                return c  # each column sums to 1
            op = rowsum if r == 1 else colsum if c == 1 else total
        if (op is rowsum and c == 1) or (op is colsum and r == 1):
            return arg
        return op(arg)


def _elementwise(expr) -> bool:
    """A sum, product, power or function that acts entry by entry (not an array operation):
    its symbols are its arguments', its shape their broadcast."""
    return (expr.is_Add or expr.is_Mul or expr.is_Pow or isinstance(expr, sp.Function)) and \
        not isinstance(expr, Structural)


def _without(expr, arg):
    """A sum or product without one of its arguments."""
    args = list(expr.args)
    args.remove(arg)
    return expr.func(*args)


def _plain(expr) -> bool:
    """A symbol or its transpose."""
    return isinstance(expr, sp.Symbol) or (isinstance(expr, transpose)
                                           and isinstance(expr.args[0], sp.Symbol))


def _nesting(expr) -> int:
    """How deeply functions (and roots) nest in ``expr``: ``tanh(sqrt(tanh(z)))`` has 3."""
    inner = max((_nesting(a) for a in expr.args), default=0)
    return inner + (isinstance(expr, sp.Function) or (expr.is_Pow and not expr.exp.is_Integer))


def _rational_function(expr) -> bool:
    """Symbols and rational numbers joined by sums, products and integer powers: a rational
    function over the rationals, which ``cancel`` writes in lowest terms, 0 only where it is
    0; no rewrite or assumption can show it 0 otherwise."""
    if expr.is_Symbol or expr.is_Rational:
        return True
    if expr.is_Add or expr.is_Mul:
        return all(_rational_function(a) for a in expr.args)
    return bool(expr.is_Pow and expr.exp.is_Integer and _rational_function(expr.base))
