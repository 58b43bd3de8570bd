"""One scope of a derivation, as the claim checker sees it: names, shapes, meanings and numbers.

A :class:`Space` is a derivation's graph and recorded steps, per example or over m examples
(or the same for a stack's hidden layer l, in layer notation). It gives

* the names a claim may use (see :mod:`symgrad.claims.claim`) and reads a claim into SymPy;
* the meaning of a claim: derivatives and nodes written out down to the graph's leaves, and the
  comparison with the derivation in the canonical form of :mod:`symgrad.calculus.canonical_form`;
* numbers: forward passes, every derivative's value, random points shared by all claims.

In a layer's space the block's symbols (``Z``, ``A_prev``) are named as the notation writes them
(``Z[l]``, ``A[l-1]``): :meth:`Space.label` and :meth:`Space.show` are the only ways a message
names a symbol or shows an expression.
"""

from __future__ import annotations

import warnings

import numpy as np
import sympy as sp

from ..calculus.budget import checkpoint
from ..calculus.canonical_form import Canonical
from ..calculus.chain import adjoint_symbol
from ..calculus.numeric import concrete, lambdify, random_leaves
from ..model.errors import SpecError
from ..model.graph import M
from ..model.ops import (
    ELEMENTWISE,
    colsum,
    matmul,
    rowsum,
    softmax,
    total,
    transpose,
    written_out,
)
from ..model.parse import parse
from ..model.shapes import SCALAR, shape_of
from ..printing.printers import NumpyPrinter, batch_str, example_str
from .claim import INDEX

RTOL, ATOL = 1e-7, 1e-9


class Space:
    """A derivation's graph and steps, with the claim namespace and compiled numbers.

    ``rename`` (block symbol -> symbol named with the layer index) makes it a layer's space;
    ``exponents`` names the hyperparameters a claim's exponents may use (``(1 - p)**g``).
    """

    def __init__(self, graph, steps, batch, has_m, rename=None, exponents=()):
        self.graph, self.steps, self.batch = graph, steps, batch
        self.exponents = tuple(exponents)
        self.rename = rename or {}
        self.layer = bool(rename)
        self.scope = " over m examples" if batch else " per example"
        self.nodes = list(graph.nodes)
        self.node_symbols = [s for s, _ in self.nodes]
        defined = set(self.node_symbols)
        free = set().union(graph.penalty.free_symbols,
                           *(e.free_symbols for _, e in self.nodes)) - defined - {M}
        seed = adjoint_symbol(graph.output)
        self.free_seed = isinstance(graph.seed, sp.Symbol)  # a block's output adjoint
        self.leaves = sorted(free | ({graph.seed} if self.free_seed else set()), key=str)
        self.domains = dict(graph.domains)  # leaf -> Domain, where not all reals
        self.adjoints = {self.label(step.adjoint): step for step in steps.values()}
        self.results = {s.adjoint: s.result for s in steps.values()}
        if not self.free_seed:
            self.results[seed] = graph.seed
        self.shapes = {**graph.shapes, M: SCALAR}
        self.shapes.setdefault(seed, graph.shapes[graph.output])
        for step in steps.values():
            self.shapes[step.adjoint] = graph.shapes[step.var]
        self.names = {self.label(s): s for s in self.leaves + self.node_symbols}
        self.names.update({name: step.adjoint for name, step in self.adjoints.items()})
        if has_m:
            self.names["m"] = M
        self.depends = {}  # node -> every symbol it is computed from
        for sym, expr in self.nodes:
            used = expr.free_symbols
            self.depends[sym] = set().union(used, *(self.depends.get(s, set()) for s in used))
        self.form = Canonical(self.shapes, graph.binary, graph.onehot)
        self._forward = [(s, compile_expr(e)) for s, e in self.nodes]
        self._backward = ([] if self.free_seed else [(seed, compile_expr(graph.seed))]) + [
            (s.adjoint, compile_expr(s.result)) for s in steps.values()]
        self._compiled = {}
        self._points = []

    # names and text

    def label(self, symbol) -> str:
        """How messages name ``symbol``: its name, or with the layer index (``A[l-1]``)."""
        return self.rename.get(symbol, symbol).name

    def show(self, expr) -> str:
        """``expr`` as ``symgrad derive`` prints it (in layer notation in a layer's space)."""
        return (batch_str if self.batch else example_str)(expr.xreplace(self.rename))

    def parse(self, text) -> sp.Expr:
        functions = {**ELEMENTWISE, "sum": self._sum, "transpose": self._transpose,
                     "softmax": softmax, "heaviside": lambda z: sp.Heaviside(z, 0),
                     "sign": sp.sign, "dot": self._dot, "gprime": self._gprime}
        names = {"pi": sp.pi, **self.names}  # a name the model declares comes first
        return parse(text, names=names, functions=functions, matmul=self._matmul,
                     transpose=self._transpose, keywords={"sum": ["axis"]},
                     index=INDEX if self.layer else None,
                     exponents=[n for n in self.exponents if n in self.names])

    def shape(self, expr):
        return shape_of(expr, self.shapes)

    def _sum(self, arg, axis=None):
        if axis is None:
            return total(arg)
        if axis not in (0, 1):
            raise SpecError(f"sum(..., axis={axis}): axis must be 0 (down the columns) or 1 "
                            "(along the rows)")
        return colsum(arg) if axis == 0 else rowsum(arg)

    def _transpose(self, arg):
        if isinstance(arg, transpose):
            return arg.args[0]
        try:
            if self.shape(arg) == SCALAR:
                return arg
        except SpecError:
            pass  # reported by the shape check, with the claim
        return transpose(arg)

    def _matmul(self, left, right):
        try:
            (r1, c1), (r2, c2) = self.shape(left), self.shape(right)
        except SpecError:
            return matmul(left, right)
        if c1 == 1 and c2 == 1 and r1 == r2 and r1 != 1:  # two column vectors: inner product
            return matmul(transpose(left), right)
        return matmul(left, right)

    def _dot(self, left, right):
        """Two factors written side by side (``dZ A^T``, ``a (1 - a)``, ``a · b``): the product
        their shapes allow; a question where two readings fit and differ."""
        try:
            (r1, c1), (r2, c2) = self.shape(left), self.shape(right)
        except SpecError:
            return left * right  # reported by the shape check, with the claim
        if (r1, c1) == SCALAR or (r2, c2) == SCALAR:
            return left * right
        inner, same = c1 == r2, (r1, c1) == (r2, c2)
        if inner and same:
            raise SpecError(f"'{self.show(left)}' and '{self.show(right)}' side by side could "
                            "be a matrix product or an elementwise product; which one? write "
                            "@ (matrix product) or * (elementwise)")
        if inner:
            return self._matmul(left, right)
        if same:
            return left * right
        return self._matmul(left, right)  # fits neither: refuted by the shape check

    def _gprime(self, arg):
        """g'(z): the derivative of the activation that the graph applies to ``arg``."""
        applied = {expr.func for _, expr in self.nodes
                   if len(expr.args) == 1 and expr.args[0] == arg
                   and expr.func in ELEMENTWISE.values()}
        if len(applied) != 1:
            found = ("no activation" if not applied else
                     "several functions (" + ", ".join(sorted(f.__name__ for f in applied)) + ")")
            raise SpecError(f"g'({self.show(arg)}): the graph applies {found} to "
                            f"{self.show(arg)}; which g is meant? expected g' of a node that "
                            "one activation reads, or the derivative written out")
        u = sp.Dummy("u", real=True)
        return sp.diff(applied.pop()(u), u).subs(u, arg)

    # meanings

    def in_nodes(self, expr):
        """``expr`` with the derivatives it names written out (in node variables)."""
        for _ in range(len(self.results) + 1):
            hit = expr.free_symbols & self.results.keys()
            if not hit:
                break
            expr = expr.xreplace({s: self.results[s] for s in hit})
        return expr

    def in_leaves(self, expr):
        """``expr`` in the graph's leaves: derivatives and nodes replaced by their definitions."""
        expr = self.in_nodes(expr)
        for sym, forward in reversed(self.nodes):
            expr = expr.xreplace({sym: forward})
        expr = expr.replace(lambda e: hasattr(e, "definition"), lambda e: e.definition())
        return written_out(expr)  # Phi(u) and (1 + erf(u/sqrt(2)))/2 alike

    def equal(self, claim, derived) -> bool:
        """True only if SymPy shows that the claim equals the derivation."""
        try:
            return self.form.is_zero(self.in_leaves(claim) - self.in_leaves(derived))
        except SpecError:
            return False

    # numbers

    def sizes(self, rng=None, size=2):
        dims = set()
        for shape in self.shapes.values():
            for d in shape:
                dims |= getattr(d, "free_symbols", set())
        dims.add(M)
        if rng is None:
            return {d: size for d in dims}
        return {d: int(rng.integers(2, 5)) for d in sorted(dims, key=str)}

    def forward(self, leaves, sizes):
        env = {**leaves, M: sizes[M]}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for sym, f in self._forward:
                env[sym] = np.asarray(f(env), dtype=float)
        return env

    def evaluate(self, leaves, sizes):
        """Every node's and every derivative's value at the leaves' values."""
        env = self.forward(leaves, sizes)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for sym, f in self._backward:
                env[sym] = np.asarray(f(env), dtype=float)
        env["sizes"] = sizes
        return env

    def value(self, expr, env):
        """``expr``'s value at ``env``, or None where it cannot be computed."""
        checkpoint()
        try:
            if expr not in self._compiled:
                self._compiled[expr] = compile_expr(expr)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return np.asarray(self._compiled[expr](env), dtype=float)
        except (ArithmeticError, ValueError, TypeError, KeyError, AttributeError, SyntaxError):
            return None  # a diagnosis' variant that does not make sense numerically

    def points(self, n):
        """``n`` random points (each a full environment), the same for every claim."""
        while len(self._points) < n:
            k = len(self._points)
            rng = np.random.default_rng(1000 + k)
            sizes = self.sizes(rng)
            sizes[M] = 2 + k % 4  # different m at different points: m and 2 are told apart
            leaves = random_leaves(self.graph, rng, sizes)
            leaves.pop(M, None)
            if self.free_seed:  # what flows into a block from above: any array
                seed = self.graph.seed
                leaves[seed] = rng.normal(size=concrete(self.shapes[seed], sizes))
            self._points.append(self.evaluate(leaves, sizes))
        return self._points[:n]

    def due(self, step, env):
        """The derivative's shape at ``env``'s sizes."""
        return concrete(self.shapes[step.var], env["sizes"])


class _Printer(NumpyPrinter):
    """Every operand of @ and .T in parentheses: a claim's operands may be sums or numbers."""

    def _print_matmul(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(({a}) @ ({b}))"

    def _print_transpose(self, expr):
        return f"{self._module_format('numpy.transpose')}({self._print(expr.args[0])})"


def compile_expr(expr):
    """A function of an environment (symbol -> array) that computes ``expr``."""
    symbols = sorted(expr.free_symbols, key=str)
    f = lambdify(symbols, expr, _Printer)
    return lambda env: f(*[env[s] for s in symbols])


def differs(claimed, correct, shape):
    """True where the values differ, False where they agree, None where ``correct`` is undefined."""
    if correct is None:
        return None
    if claimed is None:
        return True
    try:
        claimed, correct = np.broadcast_to(claimed, shape), np.broadcast_to(correct, shape)
    except ValueError:
        return True
    if not np.all(np.isfinite(correct)):
        return None
    if not np.all(np.isfinite(claimed)):
        return True
    scale = max(1.0, float(np.max(np.abs(correct), initial=0.0)))
    return not np.allclose(claimed, correct, rtol=RTOL, atol=ATOL * scale)
