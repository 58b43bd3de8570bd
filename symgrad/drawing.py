"""The computation graph drawn: one node per variable, forward edges blue, backward edges red
labelled with the local partial derivative (or, through a matrix product, with what flows back).

:func:`drawing` lays the graph out in columns (a node one column right of the nodes it uses, a
leaf just left of its first use); the proof writer draws it in TikZ from that layout, and
:func:`dot_source` writes it for Graphviz (``symgrad graph``, notebooks, the Markdown proof).

>>> from symgrad import load
>>> source = dot_source(load("derivations/computation_graph.toml").derive())
>>> for line in source.splitlines():
...     if line.startswith('  "u" -> '):
...         print(line.strip())
"u" -> "v" [color=blue];
"u" -> "b" [color=red, fontcolor=red, style=dashed, constraint=false, label="∂u/∂b = c"];
"u" -> "c" [color=red, fontcolor=red, style=dashed, constraint=false, label="∂u/∂c = b"];
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import sympy as sp

from .chain import adjoint_symbol
from .errors import SpecError
from .ops import Structural
from .printing import example_str
from .proof import Partial
from .simplify import to_node_variables

FORMATS = ("dot", "svg", "png")
LABEL_LIMIT = 6  # operations: a longer backward label is shown as the partial's name only


@dataclass(frozen=True)
class Place:
    symbol: sp.Symbol
    role: str  # "input", "parameter", "hyperparameter", "node" or "output"
    column: int
    row: int


@dataclass(frozen=True)
class Edge:
    source: sp.Symbol
    target: sp.Symbol
    backward: bool
    label: sp.Basic | None = None  # backward: Eq(∂u/∂v, local) or the contribution


@dataclass
class Drawing:
    places: list[Place]
    edges: list[Edge]


def drawing(derivation) -> Drawing:
    """The per-example graph of ``derivation``, laid out, with its edges both ways."""
    graph, model = derivation.per_example_graph, derivation.model
    defs = dict(graph.nodes)
    nodes = [s for s, _ in graph.nodes]
    order = {n: i for i, n in enumerate(model.variables)}
    used = set().union(*(e.free_symbols for e in defs.values()))
    leaves = sorted(used - set(nodes), key=lambda s: order.get(s.name, len(order)))
    column = {}
    for s in nodes:
        column[s] = 1 + max([column[p] for p in defs[s].free_symbols if p in column], default=0)
    for leaf in leaves:
        column[leaf] = min(column[s] for s in nodes if leaf in defs[s].free_symbols) - 1
    places = []
    for col in sorted(set(column.values())):
        here = [s for s in nodes if column[s] == col] + [s for s in leaves if column[s] == col]
        for i, s in enumerate(here):
            row = (i + 1) // 2 * (1 if i % 2 else -1)  # 0, 1, -1, 2, -2, ...
            places.append(Place(s, _role(s, graph, model), col, row))
    edges = [Edge(p, s, False) for s in nodes for p in _inputs(defs[s], places)]
    for step in derivation.per_example_steps.values():
        for c in step.contributions:
            edges.append(Edge(c.consumer, c.var, True, _label(c, graph)))
    return Drawing(places, edges)


def _inputs(expr, places):
    return [p.symbol for p in places if p.symbol in expr.free_symbols]


def _role(symbol, graph, model):
    if symbol == graph.output:
        return "output"
    var = model.variables.get(symbol.name)
    return var.role if var is not None else "node"


def _label(c, graph):
    if c.local is not None:
        return sp.Eq(Partial(c.consumer, c.var), to_node_variables(c.local, graph.nodes),
                     evaluate=False)
    local = c.expr.xreplace({adjoint_symbol(c.consumer): 1})
    if not local.atoms(Structural):  # dz x: the local partial is x
        return sp.Eq(Partial(c.consumer, c.var), local, evaluate=False)
    if sp.count_ops(c.expr) > LABEL_LIMIT:  # a Jacobian (softmax): derived in the proof
        return Partial(c.consumer, c.var)
    return c.expr


# ----- Graphviz -----


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(expr) -> str:
    if isinstance(expr, sp.Eq):
        return f"{_text(expr.lhs)} = {_text(expr.rhs)}"
    if isinstance(expr, Partial):
        u, v = expr.args
        return f"∂{u}/∂{v}"
    return example_str(expr)


SHAPES = {"input": "box", "parameter": "box", "hyperparameter": "box", "node": "ellipse",
          "output": "doublecircle"}


def dot_source(derivation) -> str:
    """The computation graph in Graphviz's DOT language."""
    d = drawing(derivation)
    out = [f"digraph {_quote(derivation.model.name)} {{",
           "  rankdir=LR;",
           '  node [fontname="Helvetica", fontsize=14];',
           '  edge [fontname="Helvetica", fontsize=11];']
    for p in d.places:
        style = ', style=filled, fillcolor="#eeeeee"' if p.role == "parameter" else ""
        out.append(f"  {_quote(str(p.symbol))} [shape={SHAPES[p.role]}{style}];")
    for e in d.edges:
        if e.backward:
            out.append(f"  {_quote(str(e.source))} -> {_quote(str(e.target))} "
                       "[color=red, fontcolor=red, style=dashed, "
                       f"constraint=false, label={_quote(_text(e.label))}];")
        else:
            out.append(f"  {_quote(str(e.source))} -> {_quote(str(e.target))} [color=blue];")
    out.append("}")
    return "\n".join(out) + "\n"


def render(derivation, fmt: str) -> bytes:
    """The graph as ``fmt`` ("dot", "svg" or "png"); svg and png need Graphviz's ``dot``."""
    source = dot_source(derivation)
    if fmt == "dot":
        return source.encode()
    if fmt not in FORMATS:
        raise SpecError(f"unknown graph format '{fmt}'; expected one of {', '.join(FORMATS)}")
    dot = shutil.which("dot")
    if dot is None:
        raise SpecError("Graphviz's 'dot' was not found; install the Debian package graphviz "
                        "(or write .dot)")
    done = subprocess.run([dot, f"-T{fmt}"], input=source.encode(), capture_output=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        first = done.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise SpecError(f"dot failed: {first[0] if first else 'exit ' + str(done.returncode)}")
    return done.stdout


def svg(model) -> str | None:
    """The model's graph as SVG text, or None without Graphviz (for notebooks)."""
    if shutil.which("dot") is None:
        return None
    return render(model.derive(), "svg").decode()
