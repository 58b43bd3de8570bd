"""Claims: hand-derived derivatives as text, read from the command line or a TOML file.

A claim is ``NAME = EXPRESSION``, such as ``dz = a - y``. It is untrusted text: EXPRESSION is read
by the spec's whitelist parser (:mod:`symgrad.model.parse`; nothing is ever evaluated).

The claim grammar
-----------------
NAME is a derivative that symgrad derives: per example (``dz``, ``dw``, ``da``) or over m
examples (``dZ``, ``dA``, ``dw``, ``db``). EXPRESSION may use

* the spec's numbers, ``+ - * / **``, parentheses and elementwise functions (``sigmoid``,
  ``exp``, ``log``, ``tanh``, ``relu``, ...), plus ``heaviside(z)`` (1 where z > 0, else 0: the
  derivative of ``relu``, which ``symgrad derive`` prints as ``(z > 0)``);
* arrays and functions beyond the spec's: ``sech(z)``, ``sign(z)``, ``maximum(z, 0)`` (relu),
  ``eye(n)`` (n a dimension of the spec or a number), ``ones(rows, columns)`` and
  ``ones_like(A)``, ``diag(v)`` of a column vector (the softmax Jacobian
  ``diag(a) - a @ a.T``), ``onehot(Y)`` (a label declared one-hot, as it is);
* the graph's names: inputs, parameters, nodes, either by name (``a``) or written out
  (``sigmoid(z)``, ``sigmoid(w @ x + b)``), and symgrad's other derivatives (``dw = x*dz``);
* over m examples, the stacked names (``X``, ``Y``, ``Z``, ``A``, ``dZ``) and ``m``;
* ``A @ B`` (of two column vectors, their inner product ``A.T @ B``, as in specs); ``A.T`` or
  ``transpose(A)``; ``sum(A)``, the sum of all entries; ``sum(A, axis=0)`` and ``sum(A, axis=1)``
  (or ``sum(A, 0)``, ``sum(A, 1)``), NumPy's sums with ``keepdims=True``: the notation that
  ``symgrad derive`` prints; ``mean(A, axis=1)``, the sum divided by m; ``heaviside(z, 1)``,
  1 at 0 too (``z >= 0``);
* NumPy spelling (``np.dot(X, dZ.T)``, ``np.sum(dZ, axis=1, keepdims=True)``, ``X.shape[1]``,
  ``(Z > 0)``): see :mod:`symgrad.claims.numpy_notation`; and the course's names ``AL``,
  ``A0``, ``A_prev``, ``yhat`` for the model's (:class:`symgrad.claims.scope.Space`).

Math and textbook notation is read too (:mod:`symgrad.claims.math_notation`): ``X^T``, ``A'``,
``a^2``, ``⊙``, ``σ(z)``, ``σ'(z)``, ``g'(z1)``, ``\\frac{1}{m}``, ``W^{[l]}``, ``ŷ``, and
factors side by side (``(1/m) dZ A^T``), read as the product their shapes allow. NAME may be
written ``dL/dz``, ``∂J/∂W2``, ``\\frac{\\partial L}{\\partial z}``, ``dZ^{[2]}`` or ``dZ[2]``
(``dZ2``); the output written on the left is kept (:attr:`Claim.output`). For a model with
``[layers]``, ``[L]`` is the output layer (``dZ[L]``, ``A[L-1]``: ``dZ3``, ``A2`` at depth 3).

Every symbol is an array; ``*`` is elementwise and broadcasts as in NumPy. A network's layers
are names like any other: ``dW1 = dZ1 @ X.T / m``, ``dZ1 = W2.T @ dZ2 * (1 - A1**2)``.

Layer notation
--------------
For a model with ``[layers]``, a claim may be about hidden layer l in general, written with the
index ``l``: ``dZ[l] = dA[l] * heaviside(Z[l])``, ``dW[l] = dZ[l] @ A[l-1].T / m``,
``dA[l-1] = W[l].T @ dZ[l]``. Such a claim is checked against the hidden layer's block, derived
once (``model.derive().layer``), so it holds for every hidden layer at every depth.

* A claim is in layer notation when NAME is: ``NAME[l]`` or ``NAME[l-1]``.
* Its names then carry the index too, exactly ``[l]`` or ``[l-1]`` (``l - 1`` with spaces is the
  same): the block's nodes and parameters ``z[l] a[l] W[l] b[l]``, the previous layer's output
  ``a[l-1]`` (``x`` for l = 1), and their derivatives ``dz[l] dW[l] db[l] da[l-1]``; over m
  examples ``Z[l] A[l] A[l-1] dZ[l] dA[l-1]``. ``da[l]`` (``dA[l]``) is what flows back into
  layer l from above, a free quantity in the block. ``m`` and hyperparameters have no index.
* Nothing else may stand in a subscript: ``W[l+1]``, ``A[2]`` or ``A[l][0]`` are refused (the
  block does not see layer l + 1; write ``dA[l]`` for ``W[l+1].T @ dZ[l+1]``).

Per example or over m examples
------------------------------
``dw`` and ``db`` have both forms. A claim is read over m examples when its right side uses a
name that exists only there (``X``, ``A``, ``dZ``...), per example when it uses one that exists
only per example (``x``, ``a``, ``dz``...); mixing the two is an error. Otherwise (``db = 0``) it
is read per example when NAME has a per-example form. ``batch=True`` (``--batch`` on the command
line, or the ``[batch]`` table of a claims file) reads claims over m examples. ``m`` may appear
per example too, so that a stray ``1/m`` is diagnosed rather than refused.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace

from ..model import naming
from ..model.errors import SpecError
from ..model.limits import MAX_CLAIMS, MAX_LENGTH
from ..model.parse import indexed, syntax_tree
from .notation import standard, standard_name

INDEX = "l"  # the general layer index of layer notation
_PREVIOUS = ("dA_prev", "da_prev")  # the course's names of dA[l-1], da[l-1] (Space's aliases)
_LAYER_NAME = re.compile(rf"^([A-Za-z][A-Za-z0-9_]*)\[{INDEX}(-1)?\]$")
DEPTH = "L"  # the output layer of a stack, in layer notation: dZ[L], A[L-1]
_DEPTH_NAME = re.compile(rf"^([A-Za-z][A-Za-z0-9_]*)\[{DEPTH}(-1)?\]$")


@dataclass(frozen=True)
class Claim:
    """A claimed derivative: ``name = text``, read over m examples if ``batch`` (None: decide)."""

    name: str
    text: str  # the right side in the claim grammar
    batch: bool | None = None
    where: dict = field(default_factory=dict, compare=False)  # file, line, key for errors
    written: str = field(default="", compare=False)  # the right side as written ("": text)
    output: str | None = None  # the output written on the left (dJ/dW2: "J"); None for dW2
    convention: str | None = field(default=None, compare=False)  # declared (conventions.py)

    def __post_init__(self):
        if not self.written:
            object.__setattr__(self, "written", self.text)

    @classmethod
    def read(cls, text, batch=None) -> Claim:
        """``Claim.read("dz = y - a")``"""
        if not isinstance(text, str):
            raise SpecError(f"expected a claim as a string, found {type(text).__name__}")
        _check_length(text)
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
        _check_length(str(name), text if isinstance(text, str) else "", where=where)
        where = where or {"key": f"claim {' '.join(str(name).split())[:40]}"}
        try:
            name, output = standard_name(str(name))
        except SpecError as err:
            raise err.located(**where) from None
        name = "".join(str(name).split()) if "[" in str(name) else " ".join(str(name).split())
        if not (naming.is_valid(name) or _LAYER_NAME.match(name) or _DEPTH_NAME.match(name)):
            raise SpecError(f"'{name[:40]}' on the left is not the name of a derivative; "
                            f"expected a name such as dz or dw (or dZ[{INDEX}] for layer "
                            f"{INDEX})", **where)
        if not isinstance(text, str) or not text.strip():
            raise SpecError(f"nothing claimed for {name}; expected an expression, such as "
                            "a - y", **where)
        written = " ".join(text.split())
        try:
            standard_text = standard(written)
        except SpecError as err:
            raise err.located(**where) from None
        return cls(name, standard_text, batch, where, written, output)

    @property
    def layer(self) -> bool:
        """True for a claim in layer notation (``dZ[l] = ...``, or the course's
        ``dA_prev = ...`` for ``dA[l-1]``)."""
        return bool(_LAYER_NAME.match(self.name)) or self.name in _PREVIOUS

    def at_depth(self, depth: int | None) -> Claim:
        """The claim with the output layer's index L written as ``depth`` (``dZ[L]``: ``dZ3``,
        ``A[L-1]``: ``A2``); unchanged where it has none."""
        tree = syntax_tree(self.text)
        hits = [n for n in ast.walk(tree) if indexed(n, DEPTH)]
        if not hits and not _DEPTH_NAME.match(self.name):
            return self
        if depth is None:
            raise SpecError(f"[{DEPTH}] is the output layer of a stack; this model has no "
                            "[layers], so expected names without it, such as dZ2")

        def numbered(written):
            base, _, rest = written.partition("[")
            return f"{base}{depth - 1 if rest.startswith(DEPTH + '-1') else depth}"

        class Numbered(ast.NodeTransformer):
            def visit_Subscript(self, node):
                at = indexed(node, DEPTH)
                return ast.Name(numbered(at)) if at else self.generic_visit(node)

        tree = Numbered().visit(tree)
        name = numbered(self.name) if _DEPTH_NAME.match(self.name) else self.name
        return Claim(name, ast.unparse(tree), self.batch, self.where, self.written, self.output)

    def __str__(self) -> str:
        return f"{self.name} = {self.written}"


def _check_length(*parts, where=None) -> None:
    """Refuse a claim too long to read before any work on it (its expression then meets the
    parser's limits)."""
    length = sum(map(len, parts))
    if length > MAX_LENGTH:
        raise SpecError(f"claim of {length} characters is longer than the limit; expected at "
                        f"most {MAX_LENGTH} characters",
                        **(where or {}))


def names_in(text) -> set:
    """The names that ``text`` uses (``W[l]`` as one name); empty where it cannot be read."""
    try:
        tree = syntax_tree(text)
    except SpecError:
        return set()  # the parser reports it
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif indexed(node, INDEX):
            found.add(indexed(node, INDEX))
    return found


def refuse_misplaced_indices(claim: Claim) -> None:
    """Clear errors for layer notation where it cannot be read: on the right only, or with
    the index l+1 (layer l's block does not see layer l+1)."""
    try:
        tree = syntax_tree(claim.text)
    except SpecError:
        return  # the parser reports it
    for node in ast.walk(tree):
        if not isinstance(node, ast.Subscript):
            continue
        if not claim.layer and indexed(node, INDEX):
            raise SpecError(f"'{ast.unparse(node)}' is layer notation; a claim about layer "
                            f"{INDEX} has it on the left too, such as dZ[{INDEX}] = ...")
        at = node.slice
        if claim.layer and isinstance(at, ast.BinOp) and isinstance(at.op, ast.Add) \
                and isinstance(at.left, ast.Name) and at.left.id == INDEX:
            raise SpecError(f"'{ast.unparse(node)}': a claim about layer {INDEX} sees layers "
                            f"{INDEX} and {INDEX}-1 only; what flows back from layer {INDEX}+1 "
                            f"is dA[{INDEX}] (W[{INDEX}+1].T @ dZ[{INDEX}+1])")


def read_claims(path) -> list[Claim]:
    """The claims of a TOML file: a table ``[claims]`` (and ``[batch]``) of NAME = "EXPRESSION",
    and optionally ``convention = "rows"`` (:mod:`symgrad.claims.conventions`) before them."""
    from ..model.spec import read_text, read_toml

    shown = str(path)
    data, lines = read_toml(read_text(path), shown)
    tables = {"claims": None, "batch": True}
    convention = data.get("convention")
    if convention is not None:
        from .conventions import read as read_convention
        try:
            read_convention(convention)
        except SpecError as err:
            raise err.located(file=shown, line=lines.get((None, "convention")),
                              key="convention") from None
    for key, value in data.items():
        if key == "convention":
            continue
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
            claims.append(replace(Claim.of(name, value, batch, where), convention=convention))
    if len(claims) > MAX_CLAIMS:
        raise SpecError(f"{len(claims)} claims; expected at most {MAX_CLAIMS}", file=shown)
    if not claims:
        raise SpecError("no claims; expected a table [claims] of NAME = \"EXPRESSION\"",
                        file=shown)
    return claims
