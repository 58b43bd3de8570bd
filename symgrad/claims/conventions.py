"""Conventions: the other ways texts write gradients over m examples, and what a claim written
in one of them says in symgrad's.

symgrad's convention is the course's ("Deep Learning Specialization"): examples are the columns
of ``X``; a node's derivative is taken of the loss per example and stacked (``dZ = A - Y``); the
cost is the mean ``J = sum(L)/m``, so the parameters' derivatives carry the 1/m
(``dW = dZ @ X.T / m``). Texts also write

* ``cost``: every derivative of the cost J, 1/m included in the nodes' too:
  ``dZ2 = (A2 - Y)/m`` and then ``dW2 = dZ2 @ A1.T`` (no 1/m);
* ``summed``: a summed cost ``J = sum(L)`` with no 1/m: ``dW = dZ @ X.T``;
* ``rows``: examples as rows (``X`` is m x n_x, ``Z = X @ W + b`` with ``W`` of shape
  (n_in, n_out), the course's ``W.T``; a vector ``w`` used as ``w.T @ x`` stays ``w``):
  ``dW = X.T @ dZ / m``, ``db = sum(dZ, axis=0) / m``;

and ``rows`` together with ``cost`` or ``summed`` (``rows+cost``). :func:`translate` turns a
claim written in a convention into the claim it makes in symgrad's, by identities only (the
user's ``X`` is symgrad's ``X.T``, the user's ``dZ`` is symgrad's ``dZ/m``): the checker then
judges the translated claim exactly as any other (SymPy's proof and numbers), so a claim proven
under a convention is true under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..model.errors import SpecError
from ..model.graph import M
from ..model.ops import Structural, colsum, matmul, rowsum, softmax, total, transpose
from ..model.shapes import SCALAR

COURSE, COST, SUMMED, ROWS = "course", "cost", "summed", "rows"


@dataclass(frozen=True)
class Convention:
    """Examples as rows or not, and the derivatives' scale: ``course``, ``cost`` or ``summed``."""

    rows: bool = False
    scale: str = COURSE

    @property
    def name(self) -> str:
        parts = ([ROWS] if self.rows else []) + ([self.scale] if self.scale != COURSE else [])
        return "+".join(parts) or COURSE


SYMGRAD = Convention()
# tried in this order when a claim is refuted in symgrad's convention and none is declared
ALTERNATIVES = (Convention(scale=COST), Convention(scale=SUMMED), Convention(rows=True),
                Convention(True, COST), Convention(True, SUMMED))
NAMES = (COURSE, COST, ROWS, SUMMED)


def read(text) -> Convention | None:
    """The convention that ``text`` names (``rows``, ``cost``, ``rows+cost``); None for None."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise SpecError(f"expected a convention as a string, found {type(text).__name__}")
    parts = [p.strip() for p in text.lower().split("+")]
    scales = [p for p in parts if p in (COST, SUMMED)]
    if not all(p in NAMES for p in parts) or len(scales) > 1 or len(set(parts)) != len(parts) \
            or (COURSE in parts and len(parts) > 1):
        raise SpecError(f"unknown convention '{text[:40]}'; expected one of {', '.join(NAMES)}"
                        " (or rows+cost, rows+summed)")
    return Convention(ROWS in parts, scales[0] if scales else COURSE)


def tried(declared: Convention | None, batch: bool) -> list[Convention]:
    """The conventions to judge a claim in, the first one's verdict standing if all refute."""
    if not batch:
        return [SYMGRAD]  # per example there is one convention: dz = dL/dz
    if declared is not None:
        return [declared]
    return [SYMGRAD, *ALTERNATIVES]


class _Roles:
    """Which of a space's symbols are parameters' derivatives, nodes' derivatives, and which
    symbols a text with examples as rows writes transposed."""

    def __init__(self, space):
        params = set(space.graph.leaves)
        self.param_adjoints, self.node_adjoints = set(), set()
        for step in space.steps.values():
            (self.param_adjoints if step.var in params else self.node_adjoints).add(step.adjoint)
        self.node_adjoints |= set(space.results) - self.param_adjoints
        if space.layer and space.free_seed:  # dA[l], what flows into layer l from above
            self.node_adjoints.add(space.graph.seed)
        kept = {p for p in params if _used_as_row(p, space.nodes)}
        kept |= {s.adjoint for s in space.steps.values() if s.var in kept}
        arrays = {s for s in space.names.values() if space.shapes.get(s, SCALAR) != SCALAR}
        self.flipped, self.kept = arrays - kept, arrays & kept


def _used_as_row(p, nodes) -> bool:
    """True for a parameter the graph uses only as ``p.T`` (w in ``w.T @ X``): a text with
    examples as rows writes ``X @ w`` with the same w."""
    hole = sp.Dummy()
    used = [e for _, e in nodes if e.has(p)]
    return bool(used) and not any(e.xreplace({transpose(p): hole}).has(p) for e in used)


def translate(space, step, expr, convention: Convention, output=None):
    """The claim ``step.adjoint = expr``, written in ``convention``, as an expression in symgrad's
    convention: the claim is right under ``convention`` exactly where this equals
    ``step.result``. ``output`` "J" or "L": the output the claim's left side names."""
    roles = _Roles(space)
    if convention.rows:
        expr = _flip(expr, step.var in roles.flipped, roles.flipped, roles.kept)
    scale = convention.scale
    if scale == COST:  # the user's dZ is dJ/dZ: symgrad's dZ / m
        expr = expr.xreplace({s: s / M for s in expr.free_symbols & roles.node_adjoints})
    elif scale == SUMMED:  # the user's dW is dJ/dW for J = sum(L): symgrad's m * dW
        expr = expr.xreplace({s: M * s for s in expr.free_symbols & roles.param_adjoints})
    return _left_scale(scale, output, step.adjoint in roles.param_adjoints) * expr


def _left_scale(scale, output, param):
    """symgrad's derivative over the one the claim's left side means, in ``scale``."""
    if param:
        return 1 / M if scale == SUMMED else sp.Integer(1)
    if scale == COST:
        return sp.Integer(1) if output == "L" else M
    if scale == COURSE and output == "J":
        return M  # dJ/dZ = dZ/m
    return sp.Integer(1)


def _flip(expr, want_t, flipped, kept):
    """``expr`` written with examples as rows, in symgrad's symbols (transposed if ``want_t``):
    the user's X is symgrad's X.T. Every step is an identity of arrays under broadcasting:
    elementwise operations commute with transposes, (A @ B).T = B.T @ A.T. ``kept``: the arrays
    written alike in both (w of ``X @ w``)."""
    if isinstance(expr, sp.Symbol):
        if expr in flipped:  # the user's X is X.T
            return expr if want_t else transpose(expr)
        return transpose(expr) if want_t and expr in kept else expr
    if expr.is_Atom or not expr.args:
        return expr
    if isinstance(expr, transpose):
        return _flip(expr.args[0], not want_t, flipped, kept)
    if isinstance(expr, matmul):
        a, b = expr.args
        if want_t:
            return matmul(_flip(b, True, flipped, kept), _flip(a, True, flipped, kept))
        return matmul(_flip(a, False, flipped, kept), _flip(b, False, flipped, kept))
    if isinstance(expr, (colsum, rowsum)):
        other = rowsum if isinstance(expr, colsum) else colsum
        if want_t:
            return other(_flip(expr.args[0], True, flipped, kept))
        return expr.func(_flip(expr.args[0], False, flipped, kept))
    if isinstance(expr, total):
        return total(_flip(expr.args[0], False, flipped, kept))
    if isinstance(expr, softmax):  # along each example: the user's rows, symgrad's columns
        inner = softmax(_flip(expr.args[0], True, flipped, kept))
        return inner if want_t else transpose(inner)
    if isinstance(expr, Structural):  # any other: transposed whole
        inner = expr.func(*[_flip(a, False, flipped, kept) for a in expr.args])
        return transpose(inner) if want_t else inner
    return expr.func(*[_flip(a, want_t, flipped, kept) for a in expr.args])  # elementwise


def note(space, step, expr, convention: Convention, proven: bool = True) -> str:
    """The line that says which convention a claim (``step.adjoint = expr`` as written) follows,
    and how symgrad writes the same."""
    roles = _Roles(space)
    show, label = space.show, space.label
    by_adjoint = {s.adjoint: s for s in space.steps.values()}
    name = label(step.adjoint)
    parts = []
    if convention.rows:
        used = sorted({label(s) for s in expr.free_symbols & roles.flipped}
                      | ({name} if step.var in roles.flipped else set()))
        same = sorted({label(s) for s in expr.free_symbols & roles.kept}
                      | ({name} if step.var in roles.kept else set()))
        text = "examples are rows"
        if used:
            text += (f": your {', '.join(used)} are symgrad's "
                     f"{', '.join(u + '.T' for u in used)}")
        if same:
            text += f" ({', '.join(same)} the same in both)"
        parts.append(text + "; symgrad's examples are columns")
    if convention.scale == COST:
        nodes = sorted((s for s in expr.free_symbols & roles.node_adjoints if s in by_adjoint),
                       key=str)
        node = step.adjoint if step.adjoint in roles.node_adjoints else (nodes or [None])[0]
        if node is not None and node in by_adjoint:
            n, v, r = label(node), label(by_adjoint[node].var), show(by_adjoint[node].result)
            text = (f"{n} = dJ/d{v} = ({r})/m, 1/m included; symgrad writes {n} = dL/d{v} "
                    f"per example, stacked: {n} = {r}, and puts the 1/m in the parameters' "
                    "derivatives")
            if node != step.adjoint:
                text += f" (with {n} = {r}, your claim lacks the factor 1/m)"
            parts.append(text)
        else:
            parts.append("every derivative is of the cost J, 1/m included (dZ = dJ/dZ)")
    if convention.scale == SUMMED:
        if step.adjoint in roles.param_adjoints:
            parts.append(f"the cost is summed, J = sum(L) without 1/m; symgrad's cost is the "
                         f"mean, J = sum(L)/m, so it writes {name} = {show(step.result)} (with a "
                         "mean cost, your claim lacks the factor 1/m)")
        else:
            v = label(step.var)
            parts.append(f"the cost is summed, J = sum(L) without 1/m, so dJ/d{v} = {name}; "
                         f"symgrad's cost is the mean, J = sum(L)/m, so dJ/d{v} = {name}/m")
    head = "Proven" if proven else "Not proven (SymPy could not decide; the numbers agree)"
    return f"{head} under the convention that {'; and '.join(parts)}."


def left_note(space, step) -> str:
    """For a claim whose left side is dJ/dZ over m examples: how symgrad's dZ relates to it."""
    if step.adjoint in _Roles(space).param_adjoints:
        return ""
    n, v = space.label(step.adjoint), space.label(step.var)
    return f"Judged as dJ/d{v} = {n}/m: symgrad's {n} is dL/d{v} per example, stacked."
