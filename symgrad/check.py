"""Checking hand derivations: a claim such as ``dz = y - a`` is proven, refuted or not proven.

>>> import symgrad
>>> model = symgrad.load("derivations/logistic_regression.toml")
>>> print(model.check("dz", "sigmoid(z) - y"))
✓ dz = sigmoid(z) - y is proven. symgrad derives dz = a - y.
>>> print(model.check("dz", "y - a"))
✗ dz = y - a is false. symgrad derives dz = a - y.
  Your claim is the negative of the correct one (sign error).
  Counterexample: a = 0.7, y = 1 gives your dz = 0.3, correct dz = -0.3.

The claim grammar
-----------------
A claim is ``NAME = EXPRESSION``. NAME is a derivative that symgrad derives: per example
(``dz``, ``dw``, ``da``) or over m examples (``dZ``, ``dA``, ``dw``, ``db``). EXPRESSION is read
by the spec's whitelist parser (:mod:`symgrad.parse`; nothing is ever evaluated), with

* the spec's numbers, ``+ - * / **``, parentheses and elementwise functions (``sigmoid``,
  ``exp``, ``log``, ``tanh``, ``relu``, ...), plus ``heaviside(z)`` (1 where z > 0, else 0: the
  derivative of ``relu``, which ``symgrad derive`` prints as ``(z > 0)``);
* the graph's names: inputs, parameters, nodes, either by name (``a``) or written out
  (``sigmoid(z)``, ``sigmoid(w @ x + b)``), and symgrad's other derivatives (``dw = x*dz``);
* over m examples, the stacked names (``X``, ``Y``, ``Z``, ``A``, ``dZ``) and ``m``;
* ``A @ B`` (of two column vectors, their inner product ``A.T @ B``, as in specs); ``A.T`` or
  ``transpose(A)``; ``sum(A)``, the sum of all entries; ``sum(A, axis=0)`` and ``sum(A, axis=1)``
  (or ``sum(A, 0)``, ``sum(A, 1)``), NumPy's sums with ``keepdims=True``: the notation that
  ``symgrad derive`` prints.

Every symbol is an array; ``*`` is elementwise and broadcasts as in NumPy.

Per example or over m examples
------------------------------
``dw`` and ``db`` have both forms. A claim is read over m examples when its right side uses a
name that exists only there (``X``, ``A``, ``dZ``...), per example when it uses one that exists
only per example (``x``, ``a``, ``dz``...); mixing the two is an error. Otherwise (``db = 0``) it
is read per example when NAME has a per-example form. ``batch=True`` (``--batch`` on the command
line, or the ``[batch]`` table of a claims file) reads claims over m examples. ``m`` may appear
per example too, so that a stray ``1/m`` is diagnosed rather than refused.

Verdicts
--------
Shapes come first: a claim of another shape than the derivative is refuted, both shapes named.
Then both sides are written in the graph's leaves (node names and derivatives replaced by their
definitions), put in a canonical form (transposes pushed to the leaves, matrix products and sums
split over their terms, scalars taken out) and their difference simplified under the model's
assumptions (a binary label is 0 or 1, a one-hot label's column sums to 1).

* **proven**: the difference simplifies to 0 *and* the two agree numerically at random points;
* **refuted**: the two differ at some point; the counterexample shown prefers small, simple
  values, found by a search (per example, nodes such as ``a`` take simple values too, realised
  by solving for the leaves: every value shown comes from a real forward pass);
* **not proven**: SymPy could not decide, but the two agree at every random point tried. Said
  plainly; never reported as proven.

A refuted claim gets a diagnosis where a common slip explains it: a flipped sign, a factor 1/m
missing or extra, a factor 2 or 1/2, a missing transpose or sum, two names swapped, the
derivative with respect to another variable, or a missing or extra chain-rule factor (read from
the derivation's recorded steps).
"""

from __future__ import annotations

import ast
import itertools
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import naming
from .chain import adjoint_symbol
from .errors import SpecError
from .graph import M
from .numeric import FUNCTIONS, concrete, random_leaves
from .ops import ELEMENTWISE, Structural, colsum, mask, matmul, rowsum, softmax, total, transpose
from .parse import MAX_LENGTH, parse
from .printing import NumpyPrinter, batch_str, example_str
from .shapes import SCALAR, describe, shape_of
from .simplify import to_node_variables

PROOF_POINTS = 6  # random points that back every symbolic proof
EVIDENCE_POINTS = 20  # random points compared when SymPy cannot decide
DIAGNOSIS_POINTS = 5
RTOL, ATOL = 1e-7, 1e-9
NODE_VALUES = (0.7, 0.3, 2.0, 0.5, 1.5, -1.0, 0.2, 3.0)  # simple values tried for nodes
LEAF_VALUES = (1.0, 2.0, 0.5, -1.0, 3.0, 0.0, 0.7)  # ... and for leaves in the claim
GRID = (1.0, 0.0, 2.0, -1.0, 0.5)  # entries of the small concrete X, Y, w
SEARCH_LIMIT = 60
PROVEN, REFUTED, NOT_PROVEN = "proven", "refuted", "not proven"
MARK = {PROVEN: "✓", REFUTED: "✗", NOT_PROVEN: "?"}


# ----- claims -----


@dataclass(frozen=True)
class Claim:
    """A claimed derivative: ``name = text``, read over m examples if ``batch`` (None: decide)."""

    name: str
    text: str
    batch: bool | None = None
    where: dict = field(default_factory=dict, compare=False)  # file, line, key for errors

    @classmethod
    def read(cls, text, batch=None) -> Claim:
        """``Claim.read("dz = y - a")``"""
        if not isinstance(text, str):
            raise SpecError(f"expected a claim as a string, found {type(text).__name__}")
        text = " ".join(text.split())  # one line, whatever the input: errors stay one line
        where = {"key": f"claim '{text[:60]}'"}
        name, sep, rhs = text.partition("=")
        if not sep:
            raise SpecError("no '='; expected NAME = EXPRESSION, such as dz = a - y", **where)
        if rhs.startswith("="):
            raise SpecError("'==' found; expected NAME = EXPRESSION with a single '='", **where)
        return cls.of(name, rhs, batch, where)

    @classmethod
    def of(cls, name, text, batch=None, where=None) -> Claim:
        name = " ".join(str(name).split())
        where = where or {"key": f"claim {name[:40]}"}
        if not naming.is_valid(name):
            raise SpecError(f"'{name[:40]}' on the left is not the name of a derivative; "
                            "expected a name such as dz or dw", **where)
        if not isinstance(text, str) or not text.strip():
            raise SpecError(f"nothing claimed for {name}; expected an expression, such as "
                            "a - y", **where)
        return cls(name, " ".join(text.split()), batch, where)

    def __str__(self) -> str:
        return f"{self.name} = {self.text}"


def read_claims(path) -> list[Claim]:
    """The claims of a TOML file: a table ``[claims]`` (and ``[batch]``) of NAME = "EXPRESSION"."""
    import tomllib
    from pathlib import Path

    from .spec import _key_lines

    path, shown = Path(path), str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", file=shown) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read the file: {err.__class__.__name__}", file=shown) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"\(at line (\d+)", str(err))
        raise SpecError(f"TOML syntax error: {re.sub(r' [(]at line.*', '', str(err))}",
                        file=shown, line=int(found.group(1)) if found else None) from None
    lines = _key_lines(text)
    tables = {"claims": None, "batch": True}
    for key, value in data.items():
        if key not in tables or not isinstance(value, dict):
            raise SpecError(f"unexpected '{key}'; expected the tables [claims] (and [batch] for "
                            "forms over m examples) of NAME = \"EXPRESSION\"", file=shown,
                            line=lines.get((None, key)), key=key)
    claims = []
    for table, batch in tables.items():
        for name, value in data.get(table, {}).items():
            where = {"file": shown, "line": lines.get((table, name)), "key": f"{table}.{name}"}
            if not isinstance(value, str):
                raise SpecError(f"expected the claimed expression as a string, such as "
                                f"\"a - y\", found {type(value).__name__}", **where)
            claims.append(Claim.of(name, value, batch, where))
    if not claims:
        raise SpecError("no claims; expected a table [claims] of NAME = \"EXPRESSION\"",
                        file=shown)
    return claims


# ----- verdicts -----


@dataclass
class Counterexample:
    values: dict  # name -> array: what the two sides depend on
    claimed: np.ndarray
    correct: np.ndarray

    def text(self, name, batch) -> str:
        for digits in (4, 6, 9, 12, 17):
            mine, right = (_show(v, batch, digits) for v in (self.claimed, self.correct))
            if mine != right:
                break
        where = ", ".join(f"{k} = {_show(v, batch, 4)}" for k, v in self.values.items())
        if not where or list(self.values) == ["m"]:
            return f"whatever the values{where and ' (' + where + ')'}, your {name} = {mine}, " \
                   f"correct {name} = {right}"
        return f"{where} gives your {name} = {mine}, correct {name} = {right}"

    def to_json(self) -> dict:
        return {"values": {k: _jsonable(v) for k, v in self.values.items()},
                "claimed": _jsonable(self.claimed), "correct": _jsonable(self.correct)}


@dataclass
class Verdict:
    """The outcome of checking one claim. ``proven`` is True only for a proof."""

    name: str
    claim: str  # the right side, as written
    status: str  # "proven", "refuted" or "not proven"
    batch: bool
    derived: str  # symgrad's result, as ``symgrad derive`` prints it
    reason: str = ""
    diagnosis: list = field(default_factory=list)
    counterexample: Counterexample | None = None
    points: int = 0  # random points at which the two sides were compared

    @property
    def proven(self) -> bool:
        return self.status == PROVEN

    def text(self) -> str:
        scope = " (over m examples)" if self.batch else ""
        verb = {PROVEN: "is proven", REFUTED: "is false", NOT_PROVEN: "is not proven"}
        lines = [f"{MARK[self.status]} {self.name} = {self.claim}{scope} {verb[self.status]}. "
                 f"symgrad derives {self.name} = {self.derived}."]
        lines += [f"  {line}" for line in ([self.reason] if self.reason else []) + self.diagnosis]
        if self.counterexample is not None:
            lines.append(f"  Counterexample: {self.counterexample.text(self.name, self.batch)}.")
        return "\n".join(lines)

    __str__ = text

    def to_json(self) -> dict:
        return {"name": self.name, "claim": self.claim, "verdict": self.status,
                "over_m_examples": self.batch, "derived": self.derived, "reason": self.reason,
                "diagnosis": self.diagnosis, "points_compared": self.points,
                "counterexample": self.counterexample and self.counterexample.to_json()}


def check(model, name, text=None, *, batch=None) -> Verdict:
    """Check one claim against ``model``'s derivation: ``check(model, "dz", "a - y")``."""
    return Checker(model).check(name, text, batch=batch)


class Checker:
    """Checks claims against one model, derived once for all of them."""

    def __init__(self, model, derivation=None):
        self.model = model
        self.derivation = derivation or model.derive()
        self._spaces = {}

    def space(self, batch: bool) -> _Space:
        if batch not in self._spaces:
            d = self.derivation
            graph, steps = ((d.batch_graph, d.batch_steps) if batch
                            else (d.per_example_graph, d.per_example_steps))
            self._spaces[batch] = _Space(graph, steps, batch, d.batch_graph is not None)
        return self._spaces[batch]

    def check(self, claim, text=None, *, batch=None) -> Verdict:
        """A verdict for ``claim`` (a :class:`Claim`, ``"dz = a - y"``, or a name and a text)."""
        return self.judge(*self.prepare(claim, text, batch=batch))

    def judge(self, space, claim, step, expr) -> Verdict:
        """The verdict on a claim read by :meth:`prepare`."""
        return _judge(space, claim, step, expr)

    def prepare(self, claim, text=None, *, batch=None):
        """Read a claim (every input error is raised here, before any verdict is given)."""
        if not isinstance(claim, Claim):
            claim = Claim.read(claim, batch) if text is None else Claim.of(claim, text, batch)
        try:
            space = self.space(self._scope(claim))
            step = space.adjoints.get(claim.name)
            if step is None:
                scope = space.scope if any(claim.name in self.space(b).adjoints
                                           for b in self._spaces) else ""
                raise SpecError(f"symgrad derives no '{claim.name}'{scope}; expected one of: "
                                f"{self._known()}")
            expr = space.parse(claim.text)
            if step.adjoint in expr.free_symbols:
                raise SpecError(f"the claim for {claim.name} uses {claim.name} itself")
        except SpecError as err:
            raise err.located(**claim.where) from None
        return space, claim, step, expr

    def _known(self) -> str:
        out = "per example " + ", ".join(self.space(False).adjoints)
        if self.derivation.batch_graph is not None:
            out += "; over m examples " + ", ".join(self.space(True).adjoints)
        return out

    def _scope(self, claim) -> bool:
        """True to read the claim over m examples (see the module's docstring)."""
        has_batch = self.derivation.batch_graph is not None
        if claim.batch:
            if not has_batch:
                raise SpecError(f"model '{self.model.name}' has no examples, so no forms over m "
                                "examples")
            return True
        if claim.batch is False or not has_batch:
            return False
        per, bat = self.space(False), self.space(True)
        used = _names_in(claim.text)
        only_per = sorted(used & (per.names.keys() - bat.names.keys()))
        only_batch = sorted(used & (bat.names.keys() - per.names.keys()))
        if only_per and only_batch:
            raise SpecError(f"the claim mixes per-example names ({', '.join(only_per)}) with "
                            f"names over m examples ({', '.join(only_batch)}); expected one or "
                            "the other")
        if only_per or only_batch:
            return bool(only_batch)
        return claim.name not in per.adjoints


def _names_in(text) -> set:
    if len(text) > MAX_LENGTH:
        return set()  # the parser refuses it
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()  # the parser reports it
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


# ----- one scope: per example or over m examples -----


class _Space:
    """A derivation's graph and steps, with the claim namespace and compiled numbers."""

    def __init__(self, graph, steps, batch, has_m):
        self.graph, self.steps, self.batch = graph, steps, batch
        self.scope = " over m examples" if batch else " per example"
        self.nodes = list(graph.nodes)
        self.node_symbols = [s for s, _ in self.nodes]
        defined = set(self.node_symbols)
        free = set().union(*(e.free_symbols for _, e in self.nodes)) - defined - {M}
        self.leaves = sorted(free, key=str)
        self.labels = frozenset(graph.binary | graph.onehot)
        self.onehot = frozenset(graph.onehot)
        self.adjoints = {step.adjoint.name: step for step in steps.values()}
        seed = adjoint_symbol(graph.output)
        self.results = {seed: graph.seed, **{s.adjoint: s.result for s in steps.values()}}
        self.shapes = {**graph.shapes, M: SCALAR}
        self.shapes.setdefault(seed, graph.shapes[graph.output])
        for step in steps.values():
            self.shapes[step.adjoint] = graph.shapes[step.var]
        self.names = {s.name: s for s in self.leaves + self.node_symbols}
        self.names.update({name: step.adjoint for name, step in self.adjoints.items()})
        if has_m:
            self.names["m"] = M
        self.depends = {}  # node -> every symbol it is computed from
        for sym, expr in self.nodes:
            used = expr.free_symbols
            self.depends[sym] = set().union(used, *(self.depends.get(s, set()) for s in used))
        self._forward = [(s, _compile(e)) for s, e in self.nodes]
        self._backward = [(seed, _compile(graph.seed))] + [(s.adjoint, _compile(s.result))
                                                             for s in steps.values()]
        self._compiled = {}
        self._points = []

    # reading claims

    def parse(self, text) -> sp.Expr:
        functions = {**ELEMENTWISE, "sum": self._sum, "transpose": self._transpose,
                     "softmax": softmax, "heaviside": lambda z: sp.Heaviside(z, 0)}
        return parse(text, names=self.names, functions=functions, matmul=self._matmul,
                     transpose=self._transpose, keywords={"sum": ["axis"]})

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

    # symbolic

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
        return expr.replace(lambda e: hasattr(e, "definition"), lambda e: e.definition())

    def equal(self, claim, derived) -> bool:
        """True only if SymPy shows that the claim equals the derivation."""
        try:
            difference = _Canon(self).of(self.in_leaves(claim) - self.in_leaves(derived))
        except SpecError:
            return False
        return _is_zero(difference, self.labels, self.onehot)

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
        try:
            if expr not in self._compiled:
                self._compiled[expr] = _compile(expr)
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
            self._points.append(self.evaluate(leaves, sizes))
        return self._points[:n]

    def due(self, step, env):
        return concrete(self.shapes[step.var], env["sizes"])


class _Printer(NumpyPrinter):
    """Every operand of @ and .T in parentheses: a claim's operands may be sums or numbers."""

    def _print_matmul(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(({a}) @ ({b}))"

    def _print_transpose(self, expr):
        return f"{self._module_format('numpy.transpose')}({self._print(expr.args[0])})"


def _compile(expr):
    symbols = sorted(expr.free_symbols, key=str)
    f = sp.lambdify(symbols, expr, modules=[FUNCTIONS, "numpy"], printer=_Printer, dummify=True)
    return lambda env: f(*[env[s] for s in symbols])


def _differs(claimed, correct, shape):
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


# ----- the canonical form -----


class _Canon:
    """Structural identities that let two ways of writing a batch form meet.

    Transposes are pushed down to the leaves (through elementwise operations, which they
    commute with), matrix products and sums are split over sums of terms of their full shape, and
    factors of shape (1, 1) are taken out of them. Each rewrite is an identity of linear algebra.
    """

    def __init__(self, space):
        self.space = space

    def shape(self, e):
        return self.space.shape(e)

    def of(self, e):
        if e.is_Atom or not e.args:
            return e
        args = [self.of(a) for a in e.args]
        if isinstance(e, transpose):
            return self.T(args[0])
        if isinstance(e, matmul):
            return self.mm(*args)
        if isinstance(e, (total, colsum, rowsum)):
            return self.sum(type(e), args[0])
        return e.func(*args)

    def T(self, u):
        if u.is_Number or self.shape(u) == SCALAR or isinstance(u, total):
            return u
        if isinstance(u, sp.Symbol):
            return transpose(u)
        if isinstance(u, transpose):
            return u.args[0]
        if isinstance(u, matmul):
            return self.mm(self.T(u.args[1]), self.T(u.args[0]))
        if isinstance(u, colsum):
            return self.sum(rowsum, self.T(u.args[0]))
        if isinstance(u, rowsum):
            return self.sum(colsum, self.T(u.args[0]))
        if isinstance(u, Structural):
            return transpose(u)
        return u.func(*[self.T(a) for a in u.args])  # elementwise

    def terms(self, u):
        """[(scalar factor, rest)] with u = sum(factor*rest), or None if a term broadcasts."""
        full = self.shape(u)
        expanded = sp.expand(u, power_exp=False, power_base=False, log=False)
        out = []
        for term in sp.Add.make_args(_binary_powers(expanded, self.space.labels)):
            scalars, rest = [], []
            for f in sp.Mul.make_args(term):
                (scalars if self.shape(f) == SCALAR else rest).append(f)
            rest = sp.Mul(*rest)
            if self.shape(rest) != full:
                return None
            out.append((sp.Mul(*scalars), rest))
        return out

    def mm(self, a, b):
        if self.shape(a)[1] == 1:  # an outer product (or a scalar factor): broadcasting
            return a * b
        out = []
        for (ca, ra), (cb, rb) in itertools.product(self.terms(a) or [(1, a)],
                                                    self.terms(b) or [(1, b)]):
            product = matmul(ra, rb)
            if self.shape(product) == SCALAR:  # u.T @ v = v.T @ u: one of the two, always
                product = min(product, matmul(self.T(rb), self.T(ra)), key=sp.default_sort_key)
            out.append(ca * cb * product)
        return sp.Add(*out)

    def sum(self, kind, u):
        r, c = self.shape(u)
        if kind is colsum and r == 1 or kind is rowsum and c == 1:
            return u
        if kind is colsum and c == 1 or kind is rowsum and r == 1:
            kind = total
        if kind is total and (r, c) == SCALAR:
            return u
        return sp.Add(*[factor * self.sum_of(kind, rest)
                        for factor, rest in self.terms(u) or [(1, u)]])

    def sum_of(self, kind, u):
        """The sum of one term: of a transpose, of a one-hot label, of a product."""
        r, c = self.shape(u)
        if isinstance(u, transpose) and kind is total:
            return self.sum(total, u.args[0])
        if kind is total and u in self.space.onehot:
            return c  # each column sums to 1
        if not isinstance(u, sp.Mul):
            return kind(u)
        constant = {colsum: lambda s: s[0] == 1, rowsum: lambda s: s[1] == 1,
                    total: lambda s: s == SCALAR}[kind]
        outside, rows, columns, full = [], [], [], []
        for f in u.args:
            shape = self.shape(f)
            if constant(shape):  # constant along the summed axis: it comes out
                outside.append(f)
            elif shape == (1, c) and r != 1:
                rows.append(f)
            elif shape == (r, 1) and c != 1:
                columns.append(f)
            else:
                full.append(f)
        if outside:
            return sp.Mul(*outside) * self.sum(kind, sp.Mul(*rows, *columns, *full))
        # sums of products are matrix products: sum(P*q, axis=1) = P @ q.T for a row q
        if kind is rowsum and rows and full and not columns:
            return self.mm(sp.Mul(*full), self.T(sp.Mul(*rows)))
        if kind is colsum and columns and full and not rows:
            return self.mm(self.T(sp.Mul(*columns)), sp.Mul(*full))
        if kind is total and len(full) >= 2 and not rows and not columns and 1 in (r, c):
            first, rest = full[0], sp.Mul(*full[1:])
            return self.mm(self.T(first), rest) if c == 1 else self.mm(first, self.T(rest))
        return kind(u)


def _binary_powers(expr, labels):
    if not labels:
        return expr
    return expr.replace(lambda e: e.is_Pow and e.base in labels and e.exp.is_Integer
                        and e.exp > 0, lambda e: e.base)


def _is_zero(difference, labels, onehot) -> bool:
    masked, unmask = mask(difference)
    # a one-hot label's column sums to 1 (only where the sum stands elementwise)
    masked = masked.xreplace({d: 1 for d, s in unmask.items()
                              if isinstance(s, colsum) and s.args[0] in onehot})
    masked = _binary_powers(masked, labels)
    cases = [masked]  # a label's entries are 0 or 1: prove both cases
    for label in sorted(masked.free_symbols & labels, key=str):
        cases = [c.xreplace({label: v}) for c in cases for v in (0, 1)]
    return all(_zero(c) for c in cases)


def _zero(e) -> bool:
    if e == 0:
        return True
    if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return False
    for form in (e, e.rewrite(sp.exp)):
        if sp.cancel(form) == 0:
            return True
        if sp.count_ops(form) < 400 and sp.simplify(form) == 0:
            return True
    return False


# ----- judging a claim -----


def _judge(space, claim, step, expr) -> Verdict:
    derived = step.result
    show = batch_str if space.batch else example_str
    verdict = Verdict(claim.name, claim.text, REFUTED, space.batch, show(derived))
    due = space.shapes[step.var]
    try:
        shape = space.shape(expr)
    except SpecError as err:
        verdict.reason = f"Your claim's shapes do not fit: {err.message}."
        verdict.diagnosis = _Diagnosis(space, step, expr).run(broken=True)
        return verdict
    if shape != due and shape != space.shape(derived):
        verdict.reason = (f"Wrong shape: your {claim.name} is {_describe(shape)}, the correct "
                          f"{claim.name} is {_describe(due)}.")
        verdict.diagnosis = _Diagnosis(space, step, expr).run()
        return verdict
    proven = space.equal(expr, derived)
    points = space.points(PROOF_POINTS if proven else EVIDENCE_POINTS)
    compared, bad = 0, None
    for env in points:
        differs = _differs(space.value(expr, env), space.value(derived, env), space.due(step, env))
        if differs is None:
            continue
        compared += 1
        if differs:
            bad = env
            break
    verdict.points = compared
    if bad is None and compared:
        verdict.status = PROVEN if proven else NOT_PROVEN
        if not proven:
            verdict.reason = (f"SymPy could not reduce the difference to 0, but the two agree at "
                              f"{compared} random points: evidence, not a proof.")
        return verdict
    if bad is None:
        verdict.status = NOT_PROVEN
        verdict.reason = ("SymPy reduced the difference to 0, but" if proven else
                          "SymPy could not decide, and") + " no random point could be evaluated."
        return verdict
    if proven:  # cannot happen unless a rewrite is wrong; the numbers win
        verdict.reason = "SymPy reduced the difference to 0, but the numbers disagree."
    verdict.diagnosis = _Diagnosis(space, step, expr).run()
    verdict.counterexample = (_Search(space, step, expr).run()
                              or _Search(space, step, expr).at(bad))
    return verdict


def _describe(shape) -> str:
    text = describe(shape)
    return text if text.startswith("matrix") else "a " + text


# ----- counterexamples -----


class _Search:
    """A point where the claim and the derivation differ, with small, simple values."""

    def __init__(self, space, step, expr):
        self.space, self.step, self.expr = space, step, expr
        self.derived = step.result
        show = space.in_leaves if space.batch else space.in_nodes
        shown = show(expr).free_symbols | show(self.derived).free_symbols
        if space.batch:  # m, the inputs (X, Y), the parameters in order, the rest
            params = space.graph.leaves
            self.shown = sorted(shown | {M}, key=lambda s: (
                s != M, s in params, params.index(s) if s in params else 0, s.name))
        else:
            self.shown = sorted(shown, key=lambda s: (s != M, s.name.lower(), s.name))

    def at(self, env):
        claimed, correct = (self.space.value(e, env) for e in (self.expr, self.derived))
        differs = _differs(claimed, correct, self.space.due(self.step, env))
        if not differs:
            return None
        shape = self.space.due(self.step, env)
        values = {s.name: np.asarray(env[s] if s is not M else env["sizes"][M])
                  for s in self.shown}
        claimed = np.broadcast_to(claimed, shape) if claimed is not None else np.full(shape,
                                                                                      np.nan)
        return Counterexample(values, claimed, np.broadcast_to(correct, shape))

    def keep(self, found):
        """``found`` if both sides are nonzero somewhere; else remember it, in case."""
        if found is None:
            return None
        if np.any(found.correct != 0) and np.any(found.claimed != 0):
            return found
        self.fallback = self.fallback or found
        return None

    def run(self):
        self.fallback = None
        sizes = self.space.sizes()
        found = None if self.space.batch else self.targeted(sizes)
        return found or self.grid(sizes)

    def grid(self, sizes):
        space = self.space
        seen = set()
        for k in range(3 * SEARCH_LIMIT):
            rng = np.random.default_rng(k)
            values = GRID[:2 + k // SEARCH_LIMIT * 2]
            leaves = {}
            for s in space.leaves:
                shape = concrete(space.shapes[s], sizes)
                if s in space.onehot:
                    hot = np.zeros(shape)
                    hot[rng.integers(0, shape[0], size=shape[1]), np.arange(shape[1])] = 1.0
                    leaves[s] = hot
                elif s in space.labels:
                    leaves[s] = rng.integers(0, 2, size=shape).astype(float)
                else:
                    leaves[s] = rng.choice(values, size=shape)
            key = b"".join(v.tobytes() for v in leaves.values())
            if key in seen:
                continue
            seen.add(key)
            found = self.keep(self.at(space.evaluate(leaves, sizes)))
            if found:
                return found
        return self.fallback

    def targeted(self, sizes):
        """Simple values for the names shown (nodes too), realised by solving for the leaves."""
        space = self.space
        shown = [s for s in self.shown if s is not M]
        nodes = [s for s in shown if s in space.depends]
        targets = [n for n in nodes if not space.depends[n] & set(nodes)]
        fixed = [s for s in shown if s not in space.depends]
        chosen = fixed + targets
        options = [self.options(s, sizes) for s in chosen]
        for combo in itertools.islice(_simplest_first([len(o) for o in options]), SEARCH_LIMIT):
            values = {s: options[i][j] for i, (s, j) in enumerate(zip(chosen, combo, strict=True))}
            leaves = _realise(space, {s: values[s] for s in fixed},
                              {s: values[s] for s in targets}, sizes)
            if leaves is not None:
                found = self.keep(self.at(space.evaluate(leaves, sizes)))
                if found:
                    return found
        return self.fallback

    def options(self, s, sizes):
        shape = concrete(self.space.shapes[s], sizes)
        if s in self.space.onehot:
            out = []
            for i in range(shape[0]):
                hot = np.zeros(shape)
                hot[i, :] = 1.0
                out.append(hot)
            return out
        if s in self.space.labels:
            return [np.ones(shape), np.zeros(shape)]
        base = NODE_VALUES if s in self.space.depends else LEAF_VALUES
        size = int(np.prod(shape))
        return [np.array([base[(k + i) % len(base)] for i in range(size)]).reshape(shape)
                for k in range(len(base))]


def _simplest_first(counts):
    """Index tuples (one index below each count), those with the smallest sum first."""
    def with_sum(n, counts):
        if not counts:
            if n == 0:
                yield ()
            return
        for first in range(min(n, counts[0] - 1) + 1):
            for rest in with_sum(n - first, counts[1:]):
                yield (first, *rest)

    for n in range(sum(c - 1 for c in counts) + 1):
        yield from with_sum(n, counts)


def _realise(space, fixed, targets, sizes):
    """Leaves at which the nodes take the ``targets`` values (Gauss-Newton), or None."""
    leaves = {}
    for s in space.leaves:
        shape = concrete(space.shapes[s], sizes)
        if s in fixed:
            leaves[s] = np.array(fixed[s], dtype=float)
        elif s in space.onehot:
            leaves[s] = np.zeros(shape)
            leaves[s][0, :] = 1.0
        elif s in space.labels:
            leaves[s] = np.ones(shape)
        else:
            leaves[s] = np.full(shape, 0.5)
    if not targets:
        return leaves
    free = [(s, i) for s in space.leaves if s not in fixed and s not in space.labels
            for i in np.ndindex(leaves[s].shape)]
    if not free:
        return None

    def residual(values):
        env = space.forward(values, sizes)
        return np.concatenate([(np.broadcast_to(env[t], np.shape(v)) - v).ravel()
                               for t, v in targets.items()])

    r = residual(leaves)
    for _ in range(40):
        if not np.all(np.isfinite(r)):
            return None
        if np.max(np.abs(r)) < 1e-12:
            return leaves
        jacobian = np.empty((r.size, len(free)))
        for j, (s, i) in enumerate(free):
            moved = {**leaves, s: leaves[s].copy()}
            moved[s][i] += 1e-7
            jacobian[:, j] = (residual(moved) - r) / 1e-7
        step = np.linalg.lstsq(jacobian, -r, rcond=None)[0]
        for scale in (1.0, 0.5, 0.25, 0.1):  # damped: take a step that reduces the residual
            moved = {s: v.copy() for s, v in leaves.items()}
            for j, (s, i) in enumerate(free):
                moved[s][i] = np.clip(moved[s][i] + scale * step[j], -8.0, 8.0)
            r_moved = residual(moved)
            if np.all(np.isfinite(r_moved)) and np.linalg.norm(r_moved) < np.linalg.norm(r):
                leaves, r = moved, r_moved
                break
        else:
            return None
    return None


# ----- diagnosis -----

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


class _Diagnosis:
    """The common slips, each tried numerically against the claim."""

    def __init__(self, space, step, expr):
        self.space, self.step, self.expr = space, step, expr
        self.derived = step.result
        self.points = space.points(DIAGNOSIS_POINTS)
        self.show = batch_str if space.batch else example_str
        self.var = step.var

    def same(self, a, b) -> bool:
        """``a`` and ``b`` agree (and are defined) at the diagnosis points."""
        agreed = 0
        for env in self.points:
            u, v = self.space.value(a, env), self.space.value(b, env)
            if u is None or v is None:
                return False
            if u.shape != v.shape and u.size != 1 and v.size != 1:
                return False
            u, v = np.broadcast_arrays(u, v)
            ok = np.isfinite(u) & np.isfinite(v)
            if not np.any(ok):
                continue
            scale = max(1.0, float(np.max(np.abs(v[ok]))))
            if not np.all(ok == np.isfinite(v)) or not np.allclose(u[ok], v[ok], rtol=1e-6,
                                                                   atol=1e-9 * scale):
                return False
            agreed += 1
        return agreed >= 2

    def fits(self, expr) -> bool:
        """``expr`` has the derivative's shape."""
        try:
            return self.space.shape(expr) == self.space.shapes[self.var]
        except SpecError:
            return False

    def run(self, broken=False) -> list[str]:
        found = []
        groups = [self.structure()] if broken else [
            self.structure(), self.factors(), self.swaps(), self.chain(), self.other(),
            self.sums(), self.ratio()]
        for kind, group in enumerate(groups):
            if kind == 2 and found:
                break  # a transpose or a constant factor explains the claim: that is the slip
            for message in group:
                if message not in found:
                    found.append(message)
                break  # the first of each kind
            if len(found) == 2:
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

    def factors(self):
        for factor, message in _FACTORS:
            if sp.sympify(factor).has(M) and "m" not in self.space.names:
                continue
            if not self.space.batch and factor in (1 / M, -1 / M):
                message += " Per example there is no 1/m: it comes from averaging over m examples."
            if self.same(self.expr, factor * self.derived):
                yield message

    def swaps(self):
        symbols = sorted((s for s in self.expr.free_symbols
                          if s is not M and s.name not in self.space.adjoints), key=str)
        for p, q in itertools.combinations(symbols[:8], 2):
            swapped = self.expr.xreplace({p: q, q: p})
            if self.fits(swapped) and self.same(swapped, self.derived):
                yield f"{p} and {q} are swapped: exchanged, your claim is right."

    def other(self):
        matches = [name for name, step in self.space.adjoints.items()
                   if step is not self.step and self.same(self.expr, step.result)
                   and not self.same(step.result, self.derived)]
        if matches:
            names = " and ".join(matches)
            wrt = matches[0][len(naming.adjoint("")):]
            yield (f"Your claim equals symgrad's {names}: the derivative with respect to {wrt}, "
                   f"not {self.var} (derivative taken with respect to the wrong variable).")

    def chain(self):
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
            u, v = self.space.value(self.expr, env), self.space.value(self.derived, env)
            if u is None or v is None:
                return
            u, v = np.broadcast_arrays(u, v)
            ok = np.isfinite(u) & np.isfinite(v) & (np.abs(v) > 1e-9)
            ratios.extend((u[ok] / v[ok]).ravel())
        if len(ratios) < 2 or not np.allclose(ratios, ratios[0], rtol=1e-7):
            return
        c = sp.nsimplify(ratios[0], rational=True, tolerance=1e-9)
        if c not in (0, 1) and max(abs(c.p), abs(c.q)) <= 1000:
            yield f"Your claim is {c} times the correct one."


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
    show = batch_str if space.batch else example_str
    return show(to_node_variables(local, space.nodes))


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
        factor = f"d{c.consumer}/d{var}" + (f" = {local}" if local else "")
        if (c.via == "elementwise" or local) and local != "1":
            out.append((f"Your claim matches the correct result with the chain-rule factor "
                        f"{factor} left out (missing chain-rule factor).", scale * (others + g)))
        if c.expr.has(g) and g in space.results and space.results[g] != 1:
            out.append((f"Your claim leaves out the factor d{c.consumer} that flows back from "
                        f"{space.graph.output}, keeping only {factor} (missing chain-rule "
                        "factor).", scale * (others + c.expr.xreplace({g: 1}))))
        if len(step.contributions) > 1:
            out.append((f"Your claim leaves out the part that flows back through {c.consumer} "
                        f"(d{var} sums over every node that uses {var}).", scale * others))
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
            out.append((f"Your claim has an extra factor {text} (d{c.consumer}/d{step.var}), "
                        "a chain-rule factor that does not belong here.", derived * c.local))
    return out


# ----- showing numbers -----


def _number(x, digits) -> str:
    if not np.isfinite(x):
        return "undefined" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    x = float(x) + 0.0  # no -0
    if x == round(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.{digits}g}"


def _show(value, batch, digits) -> str:
    value = np.asarray(value, dtype=float)
    if value.size == 1:
        return _number(value.reshape(-1)[0], digits)
    if not batch and value.ndim == 2 and value.shape[1] == 1:  # a column vector, per example
        return "[" + ", ".join(_number(x, digits) for x in value[:, 0]) + "]"
    return "[" + ", ".join("[" + ", ".join(_number(x, digits) for x in row) + "]"
                           for row in np.atleast_2d(value)) + "]"


def _jsonable(value):
    value = np.asarray(value, dtype=float)

    def one(x):
        return float(x) if np.isfinite(x) else str(x)

    if value.size == 1:
        return one(value.reshape(-1)[0])
    return [[one(x) for x in row] for row in np.atleast_2d(value)]


__all__ = ["Checker", "Claim", "Counterexample", "Verdict", "check", "read_claims"]
