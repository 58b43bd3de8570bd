"""The computation graph drawn: one node per variable, forward edges blue, backward edges red
labelled with the local partial derivative (or, through a matrix product, with what flows back).

:func:`drawing` lays the graph out in columns (a node one column right of the nodes it uses, a
leaf just left of its first use); :func:`laid_out` turns that into centimetres, each edge a
curve through no other node and each label in a box of its own on its own edge
(:mod:`symgrad.proof.layout`), which the PDF draws in TikZ and the Markdown proof as SVG
(:mod:`symgrad.proof.svg`). :func:`dot_source` writes the graph for Graphviz (``symgrad
graph``, notebooks). :func:`numbers` evaluates it at given values (``prove --numbers``).

A model with repeated layers is drawn as a stack, whatever its depth: the input, hidden layer l
once in a box (its symbols named with the index l: ``z[l]``, ``a[l-1]``), the output layer L and
the loss.

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

import re
import shutil
import subprocess
from dataclasses import dataclass, field

import sympy as sp

from ..calculus.chain import adjoint_symbol
from ..calculus.derivation import derive
from ..calculus.simplify import to_node_variables
from ..model.errors import SpecError
from ..model.escape import dot_string
from ..model.graph import exact
from ..model.ops import Structural
from ..printing.printers import example_str
from .blocks import Partial

FORMATS = ("dot", "svg", "png")
DOT_TIMEOUT = 60  # seconds
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
    label: sp.Basic | None = None  # backward: Eq(∂u/∂v, local) or the contribution; forward:
    # None, or when the edge is taken (Eq(l, 1): into the stack for layer 1)


@dataclass(frozen=True)
class Group:
    """A box around some places: a layer drawn once for many."""

    title: tuple  # words and SymPy expressions
    members: tuple  # symbols
    entry: sp.Symbol | None = None  # the member that the layer reads (a[l-1])


@dataclass
class Drawing:
    places: list[Place]
    edges: list[Edge]
    groups: list[Group] = field(default_factory=list)
    shown: dict = field(default_factory=dict)  # symbol -> the one it is shown as, in text (L: ℒ)


def drawing(derivation) -> Drawing:
    """The per-example graph of ``derivation``, laid out, with its edges both ways; for a model
    with repeated layers, the stack."""
    from .layer_steps import is_stacked

    if is_stacked(derivation):
        return _stack(derivation)
    graph, model = derivation.per_example_graph, derivation.model
    nodes = graph.nodes
    if model.statistics:  # drawn in their places, fed by what they average
        kept = set(dict(nodes)) | set(model.statistics)
        nodes = [(sp.Symbol(n.name, real=True), n.expr) for n in model.nodes
                 if sp.Symbol(n.name, real=True) in kept]
    places = _places(nodes, {}, lambda s: _role(s, graph, model), _order(model))
    edges = [Edge(p, s, False) for s, f in nodes for p in _inputs(f, places)]
    for step in derivation.per_example_steps.values():
        for c in step.contributions:
            edges.append(Edge(c.consumer, c.var, True, _label(c, graph)))
    return Drawing(places, edges)


def _order(model, names=None):
    """Sort key: the order in which ``model`` declares its variables (``names`` renames)."""
    order = {(names or {}).get(v.symbol, v.symbol): i
             for i, v in enumerate(model.variables.values())}
    return lambda s: order.get(s, len(order))


def _places(nodes, known, role, order, taken=()):
    """Places for ``nodes`` (symbol, definition) and the leaves they use: a node one column
    right of what it uses (``known`` gives the columns of symbols placed already), a leaf just
    left of its first use; in each column nodes first, then leaves, rows 0, 1, -1, 2, ...
    ``taken`` are places already drawn, whose rows are kept."""
    defs = dict(nodes)
    column = dict(known)
    for s, f in nodes:
        column[s] = 1 + max([column[p] for p in f.free_symbols if p in column], default=0)
    used = set().union(*(f.free_symbols for f in defs.values()))
    leaves = sorted(used - set(defs) - set(known), key=order)
    for leaf in leaves:
        column[leaf] = min(column[s] for s in defs if leaf in defs[s].free_symbols) - 1
    places = []
    for col in sorted({column[s] for s in [*defs, *leaves]}):
        here = [s for s in defs if column[s] == col] + [s for s in leaves if column[s] == col]
        start = sum(1 for p in taken if p.column == col)
        for i, s in enumerate(here, start):
            row = (i + 1) // 2 * (1 if i % 2 else -1)  # 0, 1, -1, 2, -2, ...
            places.append(Place(s, role(s), col, row))
    return places


def _stack(derivation) -> Drawing:
    """x -> [hidden layer l, for l from 1 to L - 1] -> output layer L -> the loss."""
    from ..calculus.derivation import layer_index_names, output_layer_index_names
    from .layer_steps import L1, l

    model, block = derivation.model, derivation.layer
    stack, graph = model.stack, derivation.per_example_graph
    x = sp.Symbol(stack.input, real=True)
    inner = layer_index_names(block)
    bg = block.per_example_graph
    prev = inner[bg.inputs[0]]  # a[l-1]
    out = inner[bg.output]  # a[l]

    def block_role(s):
        return "parameter" if s in {inner[p] for p in bg.leaves} else "node"

    nodes = [(inner[s], f.xreplace(inner)) for s, f in bg.nodes]
    places = [Place(x, "input", 0, 0), Place(prev, "node", 1, 0)]
    places += _places(nodes, {prev: 1}, block_role, _order(block.model, inner), taken=places)
    # layer L and the loss: the unrolled model's, its a[L-1] drawn as the stack's a[l]
    names = output_layer_index_names(model)
    last_prev = next(k for k, v in names.items() if v.name == f"{stack.out}[L-1]")
    where = {**names, last_prev: out}  # nodes' identities; labels say a[L-1]
    last = _last_layer(derivation)
    rest = [(where.get(s, s), f.xreplace(where)) for s, f in graph.nodes if s in last]
    # layer L one column clear of the box, row 0 of the gap left to the edge a[l] -> z[L]
    gap = Place(sp.Dummy(), "node", next(p.column for p in places if p.symbol == out) + 1, 0)
    places += _places(rest, {out: gap.column}, lambda s: _role_of(s, graph, model, where),
                      _order(model, where), taken=places + [gap])
    edges = [Edge(x, prev, False, sp.Eq(l, 1))]
    edges += [Edge(p, s, False) for s, f in nodes for p in _inputs(f, places)]
    edges += [Edge(p, s, False, sp.Eq(l, L1) if p == out else None)
              for s, f in rest for p in _inputs(f, places)]
    for step in block.per_example_steps.values():
        for c in step.contributions:
            edges.append(Edge(inner[c.consumer], inner[c.var], True,
                              _label(c, bg).xreplace(inner)))
    for step in derivation.per_example_steps.values():
        for c in step.contributions:
            if c.consumer in last:
                edges.append(Edge(where.get(c.consumer, c.consumer), where.get(c.var, c.var),
                                  True, _label(c, graph).xreplace(names)))
    members = tuple(p.symbol for p in places if p.symbol in set(inner.values()))
    title = ("hidden layer ", l, ", for ", l, " from 1 to ", L1)
    loss = graph.output
    shown = {loss: sp.Symbol("ℒ", real=True)} if loss.name == "L" else {}  # L is the depth
    return Drawing(places, edges, [Group(title, members, prev)], shown)


def _last_layer(derivation) -> set:
    """The unrolled model's nodes and parameters of layer L and the loss."""
    stack, depth = derivation.model.stack, derivation.model.depth
    return ({sp.Symbol(f"{n}{depth}", real=True) for n in [*stack.parameters, *stack.output]}
            | {sp.Symbol(n, real=True) for n in stack.tables["graph"]})


def _role_of(symbol, graph, model, names):
    back = {v: k for k, v in names.items()}
    return _role(back.get(symbol, symbol), graph, model)


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


def _text(expr, shown=None) -> str:
    expr = expr.xreplace(shown or {})
    if isinstance(expr, sp.Eq):
        return f"{_text(expr.lhs)} = {_text(expr.rhs)}"
    if isinstance(expr, Partial):
        u, v = expr.args
        return f"∂{u}/∂{v}"
    return example_str(expr)


def _title(pieces, shown=None) -> str:
    return "".join(p if isinstance(p, str) else _text(p, shown) for p in pieces)


SHAPES = {"input": "box", "parameter": "box", "hyperparameter": "box", "node": "ellipse",
          "output": "doublecircle"}


def dot_source(derivation) -> str:
    """The computation graph in Graphviz's DOT language; every name and label a quoted
    :func:`~symgrad.model.escape.dot_string`."""
    d = drawing(derivation)
    out = [f"digraph {dot_string(derivation.model.name)} {{",
           "  rankdir=LR;",
           '  node [fontname="Helvetica", fontsize=14];',
           '  edge [fontname="Helvetica", fontsize=11];']
    grouped = {s: g for g in d.groups for s in g.members}

    def node(p, indent="  "):
        style = ', style=filled, fillcolor="#eeeeee"' if p.role == "parameter" else ""
        label = f", label={dot_string(str(d.shown[p.symbol]))}" if p.symbol in d.shown else ""
        return f"{indent}{dot_string(str(p.symbol))} [shape={SHAPES[p.role]}{style}{label}];"

    for p in d.places:
        if p.symbol not in grouped:
            out.append(node(p))
    for n, g in enumerate(d.groups):
        out += [f"  subgraph cluster_{n} {{",
                f"    label={dot_string(_title(g.title, d.shown))};",
                '    style=dashed; color="#777777"; fontname="Helvetica"; fontsize=12;']
        out += [node(p, "    ") for p in d.places if grouped.get(p.symbol) is g]
        out.append("  }")
    for e in d.edges:
        edge = f"  {dot_string(str(e.source))} -> {dot_string(str(e.target))}"
        if e.backward:
            out.append(f"{edge} [color=red, fontcolor=red, style=dashed, constraint=false, "
                       f"label={dot_string(_text(e.label, d.shown))}];")
        elif e.label is not None:
            out.append(f"{edge} [color=blue, fontcolor=blue, "
                       f"label={dot_string(_text(e.label, d.shown))}];")
        else:
            out.append(f"{edge} [color=blue];")
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
    try:
        done = subprocess.run([dot, f"-T{fmt}"], input=source.encode(), capture_output=True,
                              timeout=DOT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise SpecError(f"dot took longer than {DOT_TIMEOUT} s; nothing written") from None
    except OSError as err:
        raise SpecError(f"cannot run dot: {err.strerror or err}") from None
    if done.returncode != 0:
        first = done.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise SpecError(f"dot failed: {first[0] if first else 'exit ' + str(done.returncode)}")
    return done.stdout


def svg(model) -> str | None:
    """The model's graph as SVG text, or None without Graphviz (for notebooks)."""
    if shutil.which("dot") is None:
        return None
    return render(derive(model), "svg").decode()


# ----- the layout that TikZ and SVG draw -----

GRAPH_WIDTH = 15.5  # cm between the first column and the last, at most
PICTURE_WIDTH = 16.8  # cm: all of the picture, labels included (the text is 17.2 cm wide)
COLUMN = 3.6  # cm between columns at most
ROW = 1.8  # cm between rows, at first; more where the labels need room
FRAME_MARGIN = 0.2  # cm between a frame and what it holds
SHAPE = {"input": "box", "parameter": "box", "hyperparameter": "box", "node": "circle",
         "output": "circle"}


def laid_out(d: Drawing, math, title_size=None, values=None):
    """The layout of ``d``, its labels printed by ``math`` (an expression -> LaTeX); rows are
    spread until every label finds room. ``values`` (from :func:`numbers`) adds the values
    of ``--numbers``: on the forward edges, the backward ones and beside the output.
    SpecError if no room is found (never seen for a model the tests know)."""
    columns = max(p.column for p in d.places) - min(p.column for p in d.places) or 1
    dx = min(COLUMN, GRAPH_WIDTH / columns)
    attempt = 0
    tries = [(r, False) for r in (1, 1.25, 1.5, 1.75)] + \
        [(r, True) for r in (1, 1.25, 1.5, 1.75, 2.0)]  # at last, a label with no room is a
    while attempt < len(tries):  # mark on its edge, written out below the picture
        spread, marks = tries[attempt]
        result = _attempt(d, math, dx, ROW * spread, title_size, values, marks=marks)
        if result is not None:
            wide = result.bounds().x1 - result.bounds().x0
            if wide <= PICTURE_WIDTH or dx < 1.2:
                return result
            dx *= 0.98 * PICTURE_WIDTH / wide  # narrower columns, and try again
            continue
        attempt += 1
    raise SpecError(f"the graph's labels find no room to be drawn apart ({len(d.edges)} "
                    "edges); use --no-graph")


def edge_lines(e: Edge, math, values=None) -> list[str]:
    """The LaTeX lines of an edge's label (none: [])."""
    from .layout import too_long

    if not e.backward:
        lines = [math(e.label)] if e.label is not None else []
        if values and e.source in values:
            lines.append(f"{math(e.source)} = {math(values[e.source])}")
        return lines
    if isinstance(e.label, sp.Eq):
        lines = [math(e.label.lhs), "= " + math(e.label.rhs)]
        if too_long(lines):  # too long to draw: derived in the proof
            lines = lines[:1]
    else:
        lines = [math(e.label)]
    if values and (e.source, e.target) in values:
        local, part, whole = values[e.source, e.target]
        if local is not None and lines[-1] != f"= {math(local)}":
            lines[-1] += f" = {math(local)}"
        out = values["output"]
        total = rf"\mathrm{{d}}{math(out)}/\mathrm{{d}}{math(e.target)}"
        lines.append(f"{total} = {math(part)}" if whole else
                     rf"\mathrm{{d}}{math(out)}/\mathrm{{d}}{math(e.source)} \cdot "
                     rf"\partial {math(e.source)}/\partial {math(e.target)} = {math(part)}")
    return lines


def _attempt(d, math, dx, row, title_size, values, marks=False):
    """The layout with rows ``row`` cm apart, or None if some label finds no room."""
    from . import layout as lay

    left = min(p.column for p in d.places)
    nodes = {}
    for p in d.places:
        shape = SHAPE[p.role]
        nodes[p.symbol] = lay.Node(p.symbol, round((p.column - left) * dx, 2),
                                   round(p.row * row, 2), shape, lay.node_size(math(p.symbol),
                                                                               shape))
    height = {p.symbol: p.row for p in d.places}
    entries = {g.entry for g in d.groups}
    members = {s for g in d.groups for s in g.members}
    inner = [e for e in d.edges if e.source in members and e.target in members]
    outer = [e for e in d.edges if e not in inner]
    result = lay.Layout(nodes, [])
    placed: list = []

    def add(edges):
        for e in [e for e in edges if not e.backward] + [e for e in edges if e.backward]:
            # a backward edge goes right to left: +1 bows it down; up where its target is
            # higher, and into a layer's input
            prefer = -1 if e.backward and (height[e.target] > height[e.source] or
                                           e.target in entries) else 1
            lines = edge_lines(e, math, values)
            # no room for the local partial's formula: its name (derived in the proof)
            tries = [lines, lines[:1] + lines[2:]] if e.backward and len(lines) > 1 and \
                isinstance(e.label, sp.Eq) else [lines]
            mark = f"({len(result.notes) + 1})"
            if marks and lines:
                tries.append([mark])
            if not any(lay.add(result, e.source, e.target, e.backward, prefer,
                               lay.Label(ls, *lay.label_size(ls)) if ls else None, placed)
                       for ls in tries):
                return False
            if result.curves[-1].label is not None and result.curves[-1].label.lines == [mark]:
                result.notes.append((mark, lines))
        return True

    if not add(inner):
        return None
    for g in d.groups:
        boxes = [nodes[s].box for s in g.members]
        boxes += [c.label.box for c in result.curves if c.label is not None and
                  c.source in g.members]
        box = lay.Box(min(b.x0 for b in boxes) - FRAME_MARGIN, min(b.y0 for b in boxes) -
                      FRAME_MARGIN, max(b.x1 for b in boxes) + FRAME_MARGIN,
                      max(b.y1 for b in boxes) + FRAME_MARGIN)
        w, h = title_size(g) if title_size else (0.0, 0.0)
        title = lay.Label([], w, h, box.x0 + w / 2, box.y1 + h / 2)
        result.frames.append(lay.Frame(box, title, g.members))
        placed.append(title.box)
    if not add(outer):
        return None
    out = next((p.symbol for p in d.places if p.role == "output"), None)
    if values and out in values:
        lines = [f"{math(out)} = {math(values[out])}"]
        label = lay.Label(lines, *lay.label_size(lines))
        if not lay.place_near(result, nodes[out], label, placed):
            return None
        result.extra.append(label)
    return result


# ----- --numbers: the graph evaluated at given values -----

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?\Z|[+-]?\d+/[1-9]\d*\Z")
SIGNIFICANT = 4  # digits of a value that is not a rational number


def parse_numbers(text: str) -> dict:
    """``--numbers NAME=VALUE,...`` as name -> sp.Rational: decimals and fractions, read by
    pattern, never evaluated as code. SpecError (one line) on bad input."""
    given: dict = {}
    for item in text.split(","):
        name, eq, value = (part.strip() for part in item.partition("="))
        if not eq or not NAME.match(name) or not NUMBER.match(value):
            raise SpecError(f"--numbers: '{item.strip()[:40]}' is not NAME=NUMBER (e.g. a=5, "
                            "b=-0.5, c=1/3)")
        if name in given:
            raise SpecError(f"--numbers: '{name}' is given twice")
        given[name] = exact(value)
    return given


def numbers(derivation, given: dict, said: str = "--numbers") -> dict:
    """The values written on the graph at the point ``given`` (name -> number, from
    :func:`parse_numbers` or a spec's ``[example]``): every leaf's value, each node's value,
    and for each backward edge u -> v the local partial's value and the derivative of the
    output with respect to v (or, where v has several uses, this edge's contribution). Every
    input and parameter needs a value; a hyperparameter without one takes its default.

    Keys: a symbol -> its value; (u, v) -> (the local partial's value or None, the derivative's
    value, whether it is v's whole derivative). SpecError (one line, starting with ``said``) on
    a bad point, and for models with arrays or repeated layers.
    """
    from .layer_steps import is_stacked

    model, graph = derivation.model, derivation.per_example_graph
    if is_stacked(derivation) or model.arrays:
        raise SpecError(f"{said} needs a model of scalars; '{model.name}' has arrays "
                        f"({', '.join(model.arrays[:3]) or 'repeated layers'})")
    leaves = {n: v for n, v in model.variables.items()
              if v.role in ("input", "parameter", "hyperparameter")}
    for name in given:
        if name not in leaves:
            raise SpecError(f"{said}: '{name}' is not a leaf of the graph; its leaves are "
                            f"{', '.join(leaves)}")
    missing = [n for n, v in leaves.items() if n not in given and v.role != "hyperparameter"]
    if missing:
        raise SpecError(f"{said}: give every leaf a value; missing: {', '.join(missing)}")
    values = {v.symbol: given[n] if n in given else exact(v.default)
              for n, v in leaves.items()}
    for s, f in graph.nodes:
        values[s] = _value(f.xreplace(values), s, said)
    adjoints = {graph.output: sp.Integer(1)}
    out: dict = {**values, "output": graph.output}
    steps = derivation.per_example_steps
    uses: dict = {}
    for step in steps.values():
        uses[step.var] = len(step.contributions)
    for step in steps.values():
        adjoints[step.var] = _value(step.result.xreplace(values), step.var, said)
    seeds = {adjoint_symbol(s): v for s, v in adjoints.items()}
    for step in steps.values():
        for c in step.contributions:
            local = None if c.local is None else _value(c.local.xreplace(values), c.var,
                                                        said)
            part = _value(c.expr.xreplace(seeds).xreplace(values), c.var, said)
            out[c.consumer, c.var] = (local, part, uses[c.var] == 1)
    return out


def _value(expr, symbol, said):
    expr = sp.sympify(expr)
    if expr.is_Rational:
        return expr
    v = sp.N(expr, 15)
    if not v.is_real or not v.is_finite:
        raise SpecError(f"{said}: at these values, {symbol} is not a finite real number "
                        f"({v})")
    return sp.Float(v, SIGNIFICANT)
