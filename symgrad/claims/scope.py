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
from ..model import naming
from ..model.errors import SpecError
from ..model.graph import M
from ..model.ops import (
    ELEMENTWISE,
    block,
    colsum,
    diag,
    eye,
    matmul,
    maximum,
    ones,
    relu,
    rowsum,
    softmax,
    total,
    transpose,
    written_out,
)
from ..model.parse import parse
from ..model.shapes import SCALAR, broadcast, describe, shape_of
from ..printing.printers import NumpyPrinter, batch_str, example_str
from .claim import INDEX, names_in

RTOL, ATOL = 1e-7, 1e-9
SIZES_OF_M = (2, 3, 6, 4, 5, 7)  # m at the random points, in turn (every third beyond 5)


class Space:
    """A derivation's graph and steps, with the claim namespace and compiled numbers.

    ``rename`` (block symbol -> symbol named with the layer index) makes it a layer's space;
    ``exponents`` names the hyperparameters a claim's exponents may use (``(1 - p)**g``).
    """

    def __init__(self, graph, steps, batch, has_m, rename=None, exponents=(), labels=()):
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
        dims = {d for shape in graph.shapes.values() for n in shape
                for d in getattr(n, "free_symbols", ())}  # a block of 1s names its sizes
        self.shapes = {**{d: SCALAR for d in dims}, **graph.shapes, M: SCALAR}
        self.shapes.setdefault(seed, graph.shapes[graph.output])
        for step in steps.values():
            self.shapes[step.adjoint] = graph.shapes[step.var]
        # the dimensions, for the arrays of claims (eye(n_y), ones(m, 1)): numbers
        self.dims = {d.name: d for d in self.sizes() if d is not M}
        for d in self.dims.values():
            self.shapes.setdefault(d, SCALAR)
        self.names = {self.label(s): s for s in self.leaves + self.node_symbols}
        self.names.update({name: step.adjoint for name, step in self.adjoints.items()})
        if has_m:
            self.names["m"] = M
        self.ambiguous = {}  # alias -> the names it could stand for (a question, not a guess)
        self._add_aliases(labels)
        self.depends = {}  # node -> every symbol it is computed from
        for sym, expr in self.nodes:
            used = expr.free_symbols
            self.depends[sym] = set().union(used, *(self.depends.get(s, set()) for s in used))
        # a one-hot label's entries are 0 or 1, as a binary label's are
        self.binary = frozenset(graph.binary) | {s for s, d in self.domains.items()
                                                 if d.columns == "onehot"}
        self.onehot = frozenset(graph.onehot)
        self.form = Canonical(self.shapes, self.binary, self.onehot)
        self.bare = Canonical(self.shapes)  # no premise about the labels
        self._forward = [(s, compile_expr(e)) for s, e in self.nodes]
        self._backward = ([] if self.free_seed else [(seed, compile_expr(graph.seed))]) + [
            (s.adjoint, compile_expr(s.result)) for s in steps.values()]
        self._compiled = {}
        self._points = []

    # names and text

    def _add_aliases(self, labels) -> None:
        """The course's other names for the model's: ``A0`` for ``X``, ``AL`` (``ZL``, ``dAL``,
        ``dZL``) for the last layer's, ``A_prev`` (``dA_prev``) for ``A[l-1]`` in layer
        notation, ``yhat`` (``y_hat``; ``Yhat``, ``Y_hat`` over m examples) for the prediction,
        the last node without the label that the loss reads. A name the model declares wins."""
        a, z, x = ("A", "Z", "X") if self.batch else ("a", "z", "x")
        d = naming.adjoint("")
        targets = {f"{a}0": x} if f"{a}1" in self.names else {}
        numbered = [int(n[1:]) for n in self.names if n[:1] == a and n[1:].isdigit()]
        if numbered:
            for p in (a, z, d + a, d + z):
                targets[f"{p}L"] = f"{p}{max(numbered)}"
        if self.layer:
            targets.update({f"{a}_prev": f"{a}[{INDEX}-1]", f"{d}{a}_prev": f"{d}{a}[{INDEX}-1]"})
        hats = ("Yhat", "Y_hat") if self.batch else ("yhat", "y_hat")
        found = self._predictions({self.names[n] for n in labels if n in self.names})
        for hat in hats:
            if len(found) == 1:
                targets[hat] = self.label(found[0])
            elif found:
                self.ambiguous[hat] = [self.label(s) for s in found]
        for alias, target in targets.items():
            if alias in self.names or target not in self.names:
                continue
            self.names[alias] = self.names[target]
            if target in self.adjoints:
                self.adjoints[alias] = self.adjoints[target]

    def _predictions(self, labels) -> list:
        """The nodes without a label that the nodes reading a label read: the prediction."""
        if not labels:
            return []
        loss = [e for s, e in self.nodes if e.free_symbols & labels]
        reading = {s for s, e in self.nodes if e.free_symbols & labels}
        used = set().union(*(e.free_symbols for e in loss))
        return [s for s in self.node_symbols if s in used and s not in reading]

    def label(self, symbol) -> str:
        """How messages name ``symbol``: its name, or with the layer index (``A[l-1]``)."""
        return self.rename.get(symbol, symbol).name

    def show(self, expr) -> str:
        """``expr`` as ``symgrad derive`` prints it (in layer notation in a layer's space)."""
        return (batch_str if self.batch else example_str)(expr.xreplace(self.rename))

    def parse(self, text) -> sp.Expr:
        asked = sorted(names_in(text) & self.ambiguous.keys())
        if asked:
            options = " or ".join(self.ambiguous[asked[0]])
            raise SpecError(f"which node is '{asked[0]}'? The loss reads {options}; expected "
                            "one of these names in its place")
        names = {"pi": sp.pi, **self.dims, **self.names}  # the model's names come first
        sums = ["axis", "keepdims"]  # keepdims=0: NumPy's 1-D sum (numpy_notation)
        return parse(text, names=names, functions=self.functions(), matmul=self._matmul,
                     transpose=self._transpose, keywords={"sum": sums, "mean": sums},
                     index=INDEX if self.layer else None,
                     exponents=[n for n in self.exponents if n in self.names],
                     shaped=self._shaped)

    def functions(self) -> dict:
        """Every function a claim may call, by name (math_notation.CALLS names them all)."""
        return {**ELEMENTWISE, "sum": self._sum, "transpose": self._transpose,
                "softmax": softmax, "heaviside": _heaviside, "sign": sp.sign,
                "mean": self._mean, "squeeze": self._squeeze, "shape": self._size,
                "dot": self._dot, "gprime": self._gprime, **self._claim_functions()}

    def shape(self, expr):
        return shape_of(expr, self.shapes)

    # the functions claims may use beyond the spec's (the softmax Jacobian's among them)

    def _claim_functions(self):
        return {"sech": lambda z: 1 / sp.cosh(z), "maximum": _maximum, "eye": self._eye,
                "ones": self._ones, "ones_like": lambda u: ones(*self.shape(u)),
                "diag": self._diag, "onehot": self._onehot}

    def _dimension(self, n, call):
        """``n`` where an array's size is due: a dimension, m or a positive whole number."""
        if n in self.dims.values() or n == M or (n.is_Integer and n > 0):
            return n
        names = ", ".join(sorted(self.dims) + (["m"] if "m" in self.names else []))
        raise SpecError(f"{call}: '{self.show(n)}' is not a size; expected a dimension "
                        f"({names}) or a whole number")

    def _eye(self, n):
        return eye(self._dimension(n, "eye(n)"))

    def _ones(self, *size):
        if len(size) == 1:
            n = self.show(size[0])
            raise SpecError(f"ones({n}) is ambiguous: NumPy's ones({n}) has one axis; did you "
                            f"mean a column ones({n}, 1) or a row ones(1, {n})?")
        if len(size) != 2:
            raise SpecError(f"ones(...) with {len(size)} sizes; expected ones(rows, columns)")
        return ones(*(self._dimension(n, "ones(rows, columns)") for n in size))

    def _diag(self, v):
        rows, cols = self.shape(v)
        if cols != 1:
            raise SpecError(f"diag(...) of a {describe(self.shape(v))}: NumPy's diag of a "
                            "matrix is its diagonal, not a matrix; expected diag(v) of a "
                            "column vector v (per example, such as diag(a))")
        return v if rows == 1 else diag(v, rows)

    def _onehot(self, y):
        if y in self.graph.onehot:
            return y  # its entries are one-hot already
        raise SpecError(f"onehot({self.show(y)}): expected a label declared onehot(n) in the "
                        "spec, whose entries are one-hot already; for class indices, declare "
                        "the label onehot(n) and write it as it is")


    def _shaped(self, result, *operands):
        """``result`` of an operation on ``operands``, with the shape they broadcast to: SymPy
        folds ``X**0``, ``X/X`` and ``0*X`` to numbers, and NumPy keeps X's shape."""
        try:
            due = SCALAR
            for u in operands:
                due = broadcast(due, self.shape(u))
            if self.shape(result) == due:
                return result
        except SpecError:
            return result  # reported by the shape check, with the claim
        return block(result, due)

    def _sum(self, arg, axis=None, keepdims=None):
        if axis is None and keepdims is not None:
            raise SpecError("sum(..., keepdims=...) without axis=: the keyword argument "
                            "keepdims is for a sum along an axis; expected sum(A) or "
                            "sum(A, axis=1)")
        if axis is None:
            return total(arg)
        if axis not in (0, 1):
            raise SpecError(f"sum(..., axis={axis}): axis must be 0 (down the columns) or 1 "
                            "(along the rows)")
        if axis == 0:  # NumPy's 1-D (c,) broadcasts as the row (1, c): the same either way
            return colsum(arg)
        return unkept(rowsum(arg)) if keepdims == 0 else rowsum(arg)

    def _size(self, arg, axis):
        """NumPy's ``arg.shape[axis]``: m for the examples' axis, or a number; a number of
        units or features, which a claim has no name for, is refused."""
        size = self.shape(arg)[axis] if axis in (0, 1) else None
        if size == M or isinstance(size, sp.Integer):
            return size
        what = "rows" if axis == 0 else "columns"
        raise SpecError(f"the number of {what} of {self.show(arg)} is {size}, which a claim "
                        "cannot name; expected X.shape[1] for m, the number of examples")

    def _squeeze(self, arg):
        """NumPy's squeeze: a column (n, 1) becomes the 1-D (n,), which broadcasts as a row."""
        rows, cols = self.shape(arg)
        return squeezed(arg) if cols == 1 and rows != 1 else arg

    def _mean(self, arg, axis=None, keepdims=None):
        """NumPy's mean: the sum divided by the number of entries summed (m over the
        examples); a mean over units or features, whose number a claim cannot name, is
        refused."""
        shape = self.shape(arg)
        counts = shape if axis is None else [shape[axis]] if axis in (0, 1) else None
        if counts is None:
            return self._sum(arg, axis, keepdims)  # reports the axis
        count = sp.Mul(*counts)
        if not (count.free_symbols <= {M}):
            raise SpecError(f"mean over {count} entries: a claim cannot name that number; "
                            "expected a mean over the examples (axis=1) or sum(...)/size")
        return self._sum(arg, axis, keepdims) / count

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
        return self.proof(claim, derived) is not None

    def proof(self, claim, derived):
        """The premises about the labels that SymPy's proof that the claim equals the
        derivation uses (``["y in {0, 1}"]``; ``[]``: none), or None where it finds none."""
        try:
            diff = self.in_leaves(claim) - self.in_leaves(derived)
            forms = [diff]
            if self.shape(diff) != SCALAR:  # u = v where u.T = v.T: (A1 @ dZ2.T).T
                forms.append(transpose(diff))
            if any(self.bare.is_zero(d) for d in forms):
                return []
            labels = diff.free_symbols & (self.binary | self.onehot)
            if labels and any(self.form.is_zero(d) for d in forms):
                return [self.premise(s) for s in sorted(labels, key=str)]
        except SpecError:
            pass
        return None

    def premise(self, label) -> str:
        """The premise about ``label`` in words."""
        name = self.label(label)
        if label in self.onehot and label in self.binary:
            return f"{name} one-hot (each column 0s and one 1)"
        if label in self.onehot:
            return f"each column of {name} sums to 1"
        return f"{name} in {{0, 1}}"

    # numbers

    def sizes(self, rng=None, size=2, big=False):
        """Every dimension's size: ``size``, or drawn with ``rng`` (2 to 4; ``big``: 6 or 7)."""
        dims = set()
        for shape in self.shapes.values():
            for d in shape:
                dims |= getattr(d, "free_symbols", set())
        dims.add(M)
        if rng is None:
            return {d: size for d in dims}
        low, high = (6, 8) if big else (2, 5)
        return {d: int(rng.integers(low, high)) for d in sorted(dims, key=str)}

    def forward(self, leaves, sizes):
        env = {**leaves, **sizes}  # m and the dimensions: the arrays of eye(n), ones(m, 1)
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
            # different sizes at different points, some beyond 5: m and 2 are told apart, and
            # so is a claim off by (m - 2)(m - 3)(m - 4)(m - 5)
            sizes = self.sizes(rng, big=k % 3 == 2)
            sizes[M] = SIZES_OF_M[k % len(SIZES_OF_M)]
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


class unkept(transpose):
    """A column that NumPy holds as a 1-D array (``np.sum(u, axis=1)`` without
    ``keepdims=True``, ``np.squeeze(c)``): it broadcasts as the row ``c.T`` (its value and shape
    here); kept apart so that a verdict can name the cause."""

    def definition(self):
        return transpose(self.args[0])


class squeezed(unkept):
    """``np.squeeze(c)`` of a column c: the 1-D array, which broadcasts as the row ``c.T``."""


def _heaviside(z, at=0):
    """``heaviside(z)``: 1 where z > 0, else 0; ``heaviside(z, 1)``: 1 at 0 too (``z >= 0``)."""
    if at not in (0, 1):
        raise SpecError(f"heaviside(z, {at}): the value at 0 must be 0 (z > 0) or 1 (z >= 0)")
    return sp.Heaviside(z, at)


def _maximum(u, v):
    """maximum(u, 0) is relu(u): the same values, in the form the derivation writes."""
    if v == 0 or u == 0:
        return relu(u if v == 0 else v)
    return maximum(u, v)


class _Printer(NumpyPrinter):
    """Every operand of @ and .T in parentheses: a claim's operands may be sums or numbers."""

    def _print_matmul(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(({a}) @ ({b}))"

    def _print_transpose(self, expr):
        return f"{self._module_format('numpy.transpose')}({self._print(expr.args[0])})"

    _print_unkept = _print_squeezed = _print_transpose

    def _print_ones(self, expr):
        r, c = (self._print(x) for x in expr.args)
        return f"{self._module_format('numpy.ones')}(({r}, {c}))"

    def _print_zeros(self, expr):
        r, c = (self._print(x) for x in expr.args)
        return f"{self._module_format('numpy.zeros')}(({r}, {c}))"


def compile_expr(expr):
    """A function of an environment (symbol -> array) that computes ``expr``."""
    symbols = sorted(expr.free_symbols, key=str)
    f = lambdify(symbols, expr, _Printer)
    return lambda env: f(*[env[s] if s in env else env["sizes"][s] for s in symbols])


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
