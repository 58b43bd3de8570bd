"""The parts of a proof made from the model over m examples: the vectorised forward pass, the
boxed summary (forward and backward, each line with its NumPy line and its shape) and the
compact style's key steps.

Everything is read from the derivation's batch graphs and batch steps (for a model with repeated
layers also hidden layer l's, with the general index l); every displayed line is an
:class:`~symgrad.proof.blocks.Equations` line, checked by :mod:`symgrad.proof.line_check` like any
other. The NumPy text is printed from the same expression by symgrad's NumPy printer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..calculus.chain import adjoint_symbol
from ..model import naming
from ..model.graph import M
from ..model.shapes import shape_of
from ..printing.printers import NumpyPrinter
from .blocks import Equations, Line, Paragraph, Section

NUMPY = {"numpy_alias": "np", "order": "none"}
STYLES = ("course", "compact")


@dataclass
class Summary(Equations):
    """Lines of the summary box: each with its NumPy line and the shape of its left side."""

    code: list[str] = field(default_factory=list)
    shapes: list[tuple] = field(default_factory=list)
    title: tuple = ()  # words and expressions: "Backward pass, hidden layer l"
    kind: str = "summary"


@dataclass
class _Part:
    """One graph over m examples as the summary reads it; ``names`` its symbols with their
    layer's index (stacked proofs), ``nodes`` the nodes shown (None: all)."""

    graph: object
    steps: dict
    scope: str
    names: dict
    nodes: set | None = None
    leaves: set | None = None
    inputs: tuple = ()
    loss: object = None  # the loss node, if this part has it


def _parts(derivation) -> list[tuple[tuple, _Part]]:
    """(heading, part) in forward order: the model, or hidden layer l and then layer L."""
    from .layer_steps import L1 as depth_less_one
    from .layer_steps import LAYER_BATCH, index_names, is_stacked, l

    graph = derivation.batch_graph
    model = derivation.model
    loss = sp.Symbol(model.loss.name, real=True) if model.loss is not None else None
    if not is_stacked(derivation):
        return [((), _Part(graph, derivation.batch_steps, "batch", {}, loss=loss))]
    names = index_names(derivation)
    layer = derivation.layer
    last = names["batch"]
    stack = model.stack
    prev = [sp.Symbol(naming.stacked(f"{stack.out}{model.depth - 1}"), real=True)]
    output = ({s for s, _ in graph.nodes if s in last or s == graph.output} | {loss}) - set(prev)
    hidden = _Part(layer.batch_graph, layer.batch_steps, LAYER_BATCH, names[LAYER_BATCH],
                   inputs=tuple(layer.batch_graph.inputs))
    out = _Part(graph, derivation.batch_steps, "batch", last, nodes=output,
                leaves={p for p in graph.leaves if p in last}, inputs=tuple(prev), loss=loss)
    return [(("Hidden layer ", l, ", for ", l, " from 1 to ", depth_less_one), hidden),
            (("Output layer and cost",), out)]


def _printer():
    return NumpyPrinter(NUMPY)


def _broadcast(expr, target, shapes) -> list:
    """The terms of ``expr`` (a sum) that are one column added to the m columns of
    ``target``: NumPy's (and the course's) broadcasting."""
    rows, cols = shapes[target]
    if cols != M or not expr.is_Add:
        return []
    return [t for t in expr.args if t.is_Symbol and shape_of(t, shapes) == (rows, 1)]


def _forward_lines(part: _Part, loss=True) -> list[Line]:
    """The nodes' definitions over m examples; without ``loss``, only those before the loss
    (the summary's Z and A)."""
    shapes = part.graph.shapes
    lines = []
    losses = {part.graph.output} | ({part.loss} if part.loss is not None else set())
    for sym, fwd in part.graph.nodes:
        if part.nodes is not None and sym not in part.nodes:
            continue
        if not loss and part.loss is not None and sym in losses | _after(part.graph, losses):
            continue
        spread = _broadcast(fwd, sym, shapes)
        rule: tuple = ("definition of ", sym)
        if spread:
            rule += ("; ", *_joined(spread), " added to each of the ", M, " columns")
        lines.append(Line(sym, fwd, rule))
    return lines


def _after(graph, nodes) -> set:
    """The nodes computed from any of ``nodes``."""
    out = set(nodes)
    for sym, fwd in graph.nodes:
        if fwd.free_symbols & out:
            out.add(sym)
    return out


def _joined(items) -> list:
    out: list = []
    for n, item in enumerate(items):
        out += ([", "] if n else []) + [item]
    return out


def _renamed(expr, names):
    return expr.xreplace(names) if names else expr


def forward_section(derivation) -> Section | None:
    """The forward pass over m examples, from the batch graph: Z = w^T X + b, A = sigma(Z)."""
    if derivation.batch_graph is None:
        return None
    s = Section(("The forward pass over ", M, " examples"))
    s.blocks.append(Paragraph((
        "Stacked as columns, the ", M, " examples go through the model at once: each line "
        "below is the one-example formula applied to every column. A parameter that is one "
        "column is added to each of the ", M, " columns (broadcasting).",)))
    for heading, part in _parts(derivation):
        if heading:
            s.blocks.append(Paragraph(heading + (":",), scope=part.scope, own=True))
        s.blocks.append(Equations(_forward_lines(part), scope=part.scope))
    _rename_blocks(s.blocks, [part for _, part in _parts(derivation)])
    return s


def _kept_nodes(part: _Part) -> list:
    """The nodes whose derivative the summary shows: those that read a parameter (dZ, not
    dA), in backward order."""
    leaves = set(part.graph.leaves if part.leaves is None else part.leaves)
    defs = dict(part.graph.nodes)
    return [v for v in part.steps if v in defs and defs[v].free_symbols & leaves]


def _backward_lines(part: _Part) -> list[tuple]:
    """(adjoint, result) in backprop order: dZ, then the parameters Z reads (dW, db), and
    last the derivative passed to the layer below (dA[l-1])."""
    graph, steps = part.graph, part.steps
    leaves = list(graph.leaves if part.leaves is None else
                  [p for p in graph.leaves if p in part.leaves])
    kept = _kept_nodes(part)
    defs = dict(graph.nodes)
    shown = {adjoint_symbol(v) for v in kept} | {adjoint_symbol(p) for p in leaves}
    closed = {st.adjoint: st.result for st in steps.values()}

    def inlined(expr):
        for _ in range(len(closed) + 1):
            extra = {a: closed[a] for a in expr.free_symbols
                     if a in closed and a not in shown and a != graph.seed}
            if not extra:
                break
            expr = expr.xreplace(extra)
        return expr

    out: list[tuple] = []
    done: set = set()
    for v in kept:
        out.append((steps[v].adjoint, inlined(steps[v].result)))
        for p in leaves:
            if p in defs[v].free_symbols and p in steps and p not in done:
                out.append((steps[p].adjoint, inlined(steps[p].result)))
                done.add(p)
    for p in leaves:
        if p in steps and p not in done:
            out.append((steps[p].adjoint, inlined(steps[p].result)))
    for v in part.inputs:
        if v in steps:
            out.append((steps[v].adjoint, inlined(steps[v].result)))
    return out


def summary_section(derivation) -> Section | None:
    """The boxed summary: forward and backward over m examples, each line with its NumPy
    line and its shape, in the course's layout."""
    if derivation.batch_graph is None:
        return None
    printer = _printer()
    parts = _parts(derivation)
    s = Section(("Summary over ", M, " examples"))
    forward, backward = [], []
    for heading, part in parts:
        lines = _forward_lines(part, loss=False)
        for line in lines:
            line.rule = ()
        forward.append((heading, part, lines))
    for heading, part in reversed(parts):
        backward.append((heading, part, [Line(a, r) for a, r in _backward_lines(part)]))
    for title, groups in (("Forward pass", forward), ("Backward pass", backward)):
        for heading, part, lines in groups:
            if not lines:
                continue
            shapes = dict(part.graph.shapes)
            for sym, _ in part.graph.nodes:
                shapes[adjoint_symbol(sym)] = shapes[sym]
            for sym in list(part.graph.leaves) + list(part.graph.inputs):
                shapes[adjoint_symbol(sym)] = shapes[sym]
            code, dims = [], []
            for line in lines:
                # a layer's names as the course's layer functions have them, whatever the
                # depth: Z[l] and Z[L] -> Z, A[l-1] and A[L-1] -> A_prev
                code.append(" = ".join(printer.doprint(_code_names(e, part.names))
                                       for e in (line.lhs, line.rhs)))
                dims.append(tuple(_renamed(sp.sympify(d), part.names)
                                  for d in shapes.get(line.lhs, (1, 1))))
            words = (title, ", ", heading[0].lower(), *heading[1:]) if heading else (title,)
            s.blocks.append(Summary(lines, scope=part.scope, notation="name", code=code,
                                    shapes=dims, title=words))
    _rename_blocks(s.blocks, [part for _, part in parts])
    return s


def _code_names(expr, names):
    """``expr`` with a stacked layer's symbols named as in one layer's code: z3 -> Z."""
    if not names:
        return expr
    out = {}
    for old, new in names.items():
        if isinstance(new, sp.Symbol) and "[" in new.name and old in expr.free_symbols:
            base, index = new.name.split("[", 1)
            out[old] = sp.Symbol(base + ("_prev" if "-1" in index else ""), real=True)
    return expr.xreplace(out)


def _rename_blocks(blocks, parts) -> None:
    """The symbols of a stacked proof's blocks with their layer's index (z -> z[l])."""
    names = {p.scope: p.names for p in parts if p.names}
    if not names:
        return
    from .layer_steps import _rename

    _rename(Section(("",), blocks), names)
    for block in blocks:
        if isinstance(block, Summary):
            block.title = tuple(p.xreplace(names.get(block.scope, {}))
                                if isinstance(p, sp.Basic) else p for p in block.title)


def key_steps_section(proof, summary: Section) -> Section:
    """For the compact style: the derivation of each derivative in the summary's backward
    pass, from its first line (the chain rule, or the mean over the examples) straight to its
    result; the rules of the steps left out are named, and each line is still checked."""
    shown = {line.lhs for block in summary.blocks if isinstance(block, Summary)
             for line in block.lines}
    s = Section(("Key steps",))
    s.blocks.append(Paragraph((
        "How each derivative of the summary's backward pass is found over the ", M,
        " examples; the full proof (style course) shows every step.",)))
    for _, block in proof.equations():
        if block.scope not in ("batch", "layer batch") or isinstance(block, Summary):
            continue
        first, last = block.lines[0], block.lines[-1]
        if first.lhs not in shown or first.relation != "=" or len(block.lines) < 2:
            continue
        if any(ln.lhs is not None for ln in block.lines[1:]):
            continue  # a list of results, not one derivation
        rules: list = []
        for ln in block.lines[1:]:
            if ln.rule and ln.rule not in rules:
                rules.append(ln.rule)
        pieces = tuple(p for n, rule in enumerate(rules) for p in (("; ",) if n else ()) + rule)
        s.blocks.append(Equations([Line(first.lhs, first.rhs, first.rule),
                                   Line(None, last.rhs, pieces)],
                                  scope=block.scope, notation=block.notation))
        shown.discard(first.lhs)
    return s


def styled(proof, style: str = "course"):
    """``proof`` with its forward pass over m examples and its summary; for ``compact``, only
    those and the key steps."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; styles: {', '.join(STYLES)}")
    d = proof.derivation
    forward, summary = forward_section(d), summary_section(d)
    if forward is None:
        return proof
    sections = list(proof.sections)
    if style == "compact":
        proof.sections = [summary, key_steps_section(proof, summary)]
        return proof
    at = next((n for n, sec in enumerate(sections) if sec.title and sec.title[0] == "Over "),
              len(sections) - 1)
    sections.insert(at, forward)
    sections.append(summary)
    proof.sections = sections
    return proof


__all__ = ["STYLES", "Summary", "forward_section", "key_steps_section", "styled",
           "summary_section"]
