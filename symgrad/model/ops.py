"""The operations a model may use, as SymPy functions.

Two kinds:

* Elementwise functions (``sigmoid``, ``relu``, ``softplus``, ``Phi``, ``log1p``, ``expm1``,
  ``maximum``, ``minimum``, ``clip``, and SymPy's own ``exp``, ``log``, ``sqrt``, ``tanh``,
  ``sin``, ``cos``, ``cosh``, ``sinh``, ``erf``, ``Abs``). Each one's derivative is SymPy's
  ``fdiff``; where symgrad defines the function, ``fdiff`` is written through the function
  itself (``sigmoid' = sigmoid (1 - sigmoid)``) so that derivatives rewrite into node variables,
  and ``rewrite(exp)`` (``rewrite(erf)``, ``rewrite(log)``, ``rewrite(Piecewise)``) gives the
  definition that the tests differentiate to check ``fdiff``. Where a derivative jumps (relu,
  abs, maximum, minimum, clip), :data:`KINKS` names the arguments at which it does.
* Structural operations (``matmul``, ``transpose``, ``colsum``, ``rowsum``, ``total``, and the
  arrays of claims ``eye``, ``ones``, ``diag``). They are not
  elementwise, so symgrad never differentiates through them with ``diff``: they stay opaque
  functions inside otherwise elementwise expressions, and their adjoints come from SymPy's matrix
  calculus (``rules.py``).

Every other symbol in an expression stands for an array under NumPy's broadcasting: ``*`` is the
elementwise product, so ordinary algebra holds and SymPy may simplify freely.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.logic import fuzzy_and

# ----- elementwise functions defined by symgrad -----


class sigmoid(sp.Function):
    nargs = 1

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _eval_is_real(self):
        return self.args[0].is_real


class relu(sp.Function):
    """max(z, 0); its derivative at the kink is taken as 0 (``Heaviside(0) = 0``)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sp.Piecewise((x, x > 0), (0, True))

    def _eval_is_real(self):
        return self.args[0].is_real


class softplus(sp.Function):
    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))

    def _eval_is_real(self):
        return self.args[0].is_real


class leaky_relu(sp.Function):
    """z for z > 0, alpha*z otherwise; at the kink the derivative is taken as alpha."""

    nargs = 2

    def fdiff(self, argindex=1):
        z, alpha = self.args
        if argindex == 1:
            return sp.Heaviside(z, 0) + alpha * (1 - sp.Heaviside(z, 0))
        return z * (1 - sp.Heaviside(z, 0))

    def _eval_rewrite_as_Piecewise(self, z, alpha, **kwargs):
        return sp.Piecewise((z, z > 0), (alpha * z, True))

    def _eval_is_real(self):
        return self.args[0].is_real


class log1p(sp.Function):
    """log(1 + z), printed ``np.log1p``: exact for small z."""

    nargs = 1

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sp.log(1 + x)

    def _eval_is_real(self):
        return (self.args[0] + 1).is_positive or None


class expm1(sp.Function):
    """exp(z) - 1, printed ``np.expm1``: exact for small z."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.exp(x) - 1

    def _eval_is_real(self):
        return self.args[0].is_real


class Phi(sp.Function):
    """The standard normal CDF, (1 + erf(z/sqrt(2)))/2."""

    nargs = 1

    def fdiff(self, argindex=1):
        z = self.args[0]
        return sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)

    def _eval_rewrite_as_erf(self, x, **kwargs):
        return (1 + sp.erf(x / sp.sqrt(2))) / 2

    def _eval_is_real(self):
        return self.args[0].is_real


class maximum(sp.Function):
    """The larger of u and v, elementwise. Its derivative goes to u where u > v and to v
    elsewhere: at a tie (u = v) all of it goes to v (``Heaviside(0) = 0``)."""

    nargs = 2

    def fdiff(self, argindex=1):
        u, v = self.args
        return sp.Heaviside(u - v, 0) if argindex == 1 else 1 - sp.Heaviside(u - v, 0)

    def _eval_rewrite_as_Piecewise(self, u, v, **kwargs):
        return sp.Piecewise((u, u > v), (v, True))

    def _eval_is_real(self):
        return fuzzy_and(a.is_real for a in self.args)


class minimum(sp.Function):
    """The smaller of u and v, elementwise. Its derivative goes to u where u < v and to v
    elsewhere: at a tie (u = v) all of it goes to v (``Heaviside(0) = 0``)."""

    nargs = 2

    def fdiff(self, argindex=1):
        u, v = self.args
        return sp.Heaviside(v - u, 0) if argindex == 1 else 1 - sp.Heaviside(v - u, 0)

    def _eval_rewrite_as_Piecewise(self, u, v, **kwargs):
        return sp.Piecewise((u, u < v), (v, True))

    def _eval_is_real(self):
        return fuzzy_and(a.is_real for a in self.args)


class clip(sp.Function):
    """u limited to [lo, hi]. Its derivative in u is 1 strictly inside and 0 outside; at the
    ends (u = lo, u = hi) it is taken as 0 (``Heaviside(0) = 0``)."""

    nargs = 3

    def fdiff(self, argindex=1):
        u, lo, hi = self.args
        if argindex == 1:
            return sp.Heaviside(u - lo, 0) * sp.Heaviside(hi - u, 0)
        if argindex == 2:
            return 1 - sp.Heaviside(u - lo, 0)
        return 1 - sp.Heaviside(hi - u, 0)

    def _eval_rewrite_as_Piecewise(self, u, lo, hi, **kwargs):
        return sp.Piecewise((lo, u < lo), (hi, u > hi), (u, True))

    def _eval_is_real(self):
        return fuzzy_and(a.is_real for a in self.args)


def identity(z):
    return z


# The spec language's elementwise functions, by name.
ELEMENTWISE = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "sin": sp.sin,
    "cos": sp.cos,
    "cosh": sp.cosh,
    "sinh": sp.sinh,
    "abs": sp.Abs,
    "erf": sp.erf,
    "Phi": Phi,
    "log1p": log1p,
    "expm1": expm1,
    "maximum": maximum,
    "minimum": minimum,
    "clip": clip,
    "sigmoid": sigmoid,
    "relu": relu,
    "softplus": softplus,
    "leaky_relu": leaky_relu,
    "identity": identity,
}

# symgrad's functions that stand for a formula of SymPy's (Phi for erf, log1p for log, expm1
# for exp), with the rewrite that writes the formula out.
FORMULAS = {Phi: sp.erf, log1p: sp.log, expm1: sp.exp}


def written_out(expr):
    """``expr`` with Phi, log1p and expm1 written as their formulas, so that a claim may write
    either form.

    >>> u = sp.Symbol("u", real=True)
    >>> written_out(log1p(u) + Phi(u))
    log(u + 1) + erf(sqrt(2)*u/2)/2 + 1/2
    """
    return expr.replace(lambda e: type(e) in FORMULAS, lambda e: e.rewrite(FORMULAS[type(e)]))


# Functions whose derivative jumps: each gives the arguments at which it does (kinks, where
# the numerical checks must not step across, and where the proof states a convention).
KINKS = {
    relu: lambda z: [z],
    leaky_relu: lambda z, alpha: [z],
    sp.Abs: lambda z: [z],
    sp.sign: lambda z: [z],
    sp.Heaviside: lambda z, *at: [z],
    maximum: lambda u, v: [u - v],
    minimum: lambda u, v: [u - v],
    clip: lambda u, lo, hi: [u - lo, u - hi],
}


# ----- structural operations (opaque to diff) -----


class Structural(sp.Function):
    """Base of the operations that are not elementwise."""

    def _eval_is_real(self):  # entries of real arrays, moved or summed, are real
        return fuzzy_and(a.is_real for a in self.args)


class matmul(Structural):
    nargs = 2
    precedence = 45  # binds less tightly than *, so printers parenthesise (A @ B)*C


class transpose(Structural):
    nargs = 1


class colsum(Structural):
    """Sum over the rows of each column: (r, c) -> (1, c). For a column vector, its sum."""

    nargs = 1


class rowsum(Structural):
    """Sum over the columns of each row: (r, c) -> (r, 1). Over m examples, the sum over them."""

    nargs = 1


class total(Structural):
    """Sum of all entries: (r, c) -> (1, 1)."""

    nargs = 1


class batch_mean(Structural):
    """``batch_mean(u)`` in a node: the mean of a per-example ``u`` over the m examples of the
    batch, the same for every example (a batch statistic, of ``u``'s shape per example). Over
    m examples it is ``rowsum(U)/m``; one example's graph has no form of it."""

    nargs = 1


class softmax(Structural):
    """exp(z) / sum(exp(z)) down each column. Not elementwise: its adjoint is derived from
    :meth:`definition` by the same rules as any other expression."""

    nargs = 1

    def definition(self):
        (z,) = self.args
        return sp.exp(z) / colsum(sp.exp(z))


class eye(Structural):
    """``eye(n)``: the identity matrix of n rows (n a dimension or a number), so that
    ``eye(n) @ A = A``."""

    nargs = 1


class ones(Structural):
    """``ones(r, c)``: the (r, c) array of 1s (r, c dimensions, m or numbers), so that
    ``A @ ones(c, 1) = sum(A, axis=1)``. Where an array-valued part of a claim collapses to a
    number in SymPy's constructors (``X**0``, ``X/X``, ``0*X + 1``), the number times this
    block keeps the array's shape, so that ``sum(X**0)`` is n_x*m, not 1."""

    nargs = 2


class zeros(Structural):
    """``zeros(r, c)``: the (r, c) array of 0s (``X - X``, ``0*X``; SymPy folds ``0*ones``)."""

    nargs = 2


BLOCKS = (ones, zeros)


def block(value, shape):
    """``value`` (a number or an array that broadcasts to ``shape``) as an array of ``shape``."""
    if shape == (1, 1):
        return value
    return zeros(*shape) if value == 0 else value * ones(*shape)


class diag(Structural):
    """``diag(v, n)``: the (n, n) matrix with the column v (of n rows) on its diagonal, as in the
    softmax Jacobian ``diag(a) - a @ a.T``. Its :meth:`definition` is ``v * eye(n)``: v times
    the identity, row by row."""

    nargs = 2

    def definition(self):
        v, n = self.args
        return v * eye(n)


class dropout(sp.Function):
    """Inverted dropout as the generated code computes it, ``dropout(u, keep_prob, rng)``:
    the node and its keep-mask, drawn with ``rng`` in training, and u at predict (the module's
    helper, ``functions.py.jinja``). Printed only, never differentiated: the derivation sees the
    node as ``D*u/keep_prob`` with the mask D an input (``Model._dropout``)."""

    nargs = 3


def as_expr(value) -> sp.Expr:
    """A SymPy number or expression from one (never from text: that goes through parse.py)."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        return sp.Float(value)
    raise TypeError(f"not a number or SymPy expression: {value!r}")


def is_structural(expr) -> bool:
    return isinstance(expr, Structural)


def mask(expr, prefix="s"):
    """Replace each outermost structural subexpression by a placeholder symbol.

    Returns the masked expression and the map back (placeholder -> subexpression), so that
    elementwise algebra (``diff``, ``cancel``, ``subs``) never looks inside a matrix product.
    """
    holes: dict = {}

    def walk(e):
        if isinstance(e, Structural):
            if e not in holes:
                holes[e] = sp.Dummy(f"{prefix}{len(holes)}", real=True)
            return holes[e]
        if not e.args or e.is_Atom:
            return e
        return e.func(*[walk(a) for a in e.args])

    masked = walk(expr)
    return masked, {v: k for k, v in holes.items()}
