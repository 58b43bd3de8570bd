"""The proof of a model with repeated layers: hidden layer l derived once, with the general
index l, beside the output layer L and the loss.

A model with ``[layers]`` (:mod:`symgrad.model.layers`) has two derivations: the stack unrolled to
its
default depth, and ``derivation.layer``, hidden layer l derived once with its output's adjoint
``da`` coming from above. The proof shows the second once, for every l from 1 to L - 1, its lines
checked in the scopes "layer" and "layer batch"; and of the first only what is not a hidden
layer: layer L and the loss. However deep the network, the proof has the same length.

The lines hold symbols named with their layer's index (``z[l]``, ``a[l-1]``, ``W[L]``, from
:func:`index_names`), which print as the course writes them (``z^{[l]}``) and which
:mod:`symgrad.proof.line_check` maps back to the graphs' own symbols before it checks a line.

>>> from symgrad import load
>>> proof = build_stacked(load("derivations/deep_network.toml").derive())
>>> [s.title for s in proof.sections][2:4]
[('The output layer and the loss, for one example',), ('Hidden layer ', l, ', for one example')]
"""

from __future__ import annotations

import sympy as sp

from ..calculus.chain import adjoint_symbol
from ..calculus.derivation import layer_index_names, output_layer_index_names
from ..model import naming
from ..model.graph import M
from ..model.layers import PREVIOUS, PREVIOUS_UNITS, UNITS
from .blocks import (
    AtExample,
    Equations,
    Figure,
    Line,
    Paragraph,
    Partial,
    Proof,
    Section,
    Times,
    Total,
    Variables,
)
from .steps import _Builder, _listed, averaging, backprop_order

LAYER, LAYER_BATCH = "layer", "layer batch"  # the scopes of hidden layer l's lines
l, L = sp.Symbol("l"), sp.Symbol("L")  # the general index and the depth, as the prose shows them
L1 = sp.Add(L, -1, evaluate=False)  # L - 1, kept in this order
l1 = sp.Add(l, 1, evaluate=False)  # l + 1


def is_stacked(derivation) -> bool:
    """Whether the proof shows hidden layer l once (a model with [layers] and L >= 2)."""
    return derivation.layer is not None and (derivation.model.depth or 0) >= 2


def _dim(name):
    return sp.Symbol(name, positive=True, integer=True)


def index_names(derivation) -> dict[str, dict]:
    """For each scope of a stacked proof, its symbols -> their names with the layer's index:
    z3 -> z[L] in "example" and "batch", z -> z[l] in "layer" and "layer batch"."""
    if not is_stacked(derivation):
        return {}
    model = derivation.model
    last = {**output_layer_index_names(model), _dim(f"n{model.depth - 1}"): _dim("n[L-1]")}
    layer = {**layer_index_names(derivation.layer), _dim(UNITS): _dim("n[l]"),
             _dim(PREVIOUS_UNITS): _dim("n[l-1]")}
    return {"example": last, "batch": last, LAYER: layer, LAYER_BATCH: layer}


class _StackBuilder:
    def __init__(self, derivation):
        self.d, self.model = derivation, derivation.model
        self.out = _Builder(derivation)  # the unrolled model: its layer L and the loss
        self.hidden = _Builder(derivation.layer, LAYER, LAYER_BATCH)  # layer l, once
        self.hidden.results_named = True  # db[l] = dz[l]
        self.alpha = self.out.alpha
        stack, depth = self.model.stack, self.model.depth
        self.loss = sp.Symbol(self.model.loss.name, real=True)
        self.prev = sp.Symbol(f"{stack.out}{depth - 1}", real=True)  # a[L-1]
        self.last = ({sp.Symbol(f"{n}{depth}", real=True)
                      for n in [*stack.parameters, *stack.output]}
                     | {sp.Symbol(n, real=True) for n in stack.tables["graph"]})
        stacked = {naming.stacked(s.name) for s in self.last | {self.prev}}
        self.last_batch = {s for s, _ in self.out.batch.nodes if s.name in stacked}
        self.names = index_names(derivation)

    # -- the model --

    def model_section(self) -> Section:
        stack, hidden = self.model.stack, self.hidden
        x = sp.Symbol(stack.input, real=True)
        a0 = sp.Symbol(f"{stack.out}[0]", real=True)
        s = Section(("The model",))
        if self.model.description:  # free text, escaped where the document is written
            s.blocks.append(Paragraph((self.model.description,)))
        s.blocks.append(Paragraph((
            "The network has ", L, " layers. Layer 0 is the input, ",
            sp.Eq(a0, x, evaluate=False), ". For one training example each hidden layer ", l,
            ", for ", l, " from 1 to ", L1, ", computes from the output ",
            sp.Symbol(PREVIOUS, real=True), " of the layer before it:"), scope=LAYER,
            own=bool(self.model.description)))
        s.blocks.append(Equations([Line(v, f) for v, f in hidden.pe.nodes], scope=LAYER))
        s.blocks.append(Paragraph((
            "The output layer ", L, " computes from ", self.prev, " in the same way, with its own "
            "activation, and the loss ", self.loss, " compares its output with the label:")))
        s.blocks.append(Equations([Line(v, f) for v, f in self.out.pe.nodes if v in self.last]))
        s.blocks += self.out.cost_blocks()

        hidden_dims = {f"n{k}" for k in range(1, self.model.depth)}
        dims: list = []
        for name, about in self.model.dims.items():
            if name not in hidden_dims:
                dims += [_dim(name), f": {about}; "]
        size = stack.output_size
        dims += [_dim("n[l]"), ": units in layer ", l, ", with ",
                 sp.Eq(_dim("n[0]"), _dim(stack.input_dim), evaluate=False), " and ",
                 sp.Eq(_dim("n[L]"), int(size) if size.isdigit() else _dim(size),
                       evaluate=False), "; ", M, ": number of examples"]
        s.blocks.append(Paragraph(("Variables and their shapes (", *dims, "):")))
        s.blocks.append(Variables(self._variable_rows()))
        s.blocks += self.out.domain_blocks()
        s.blocks += self.out.assumption_blocks(graphs=(hidden.pe,))
        s.blocks.append(Paragraph((
            "The hidden layers all compute the same formulas, so their derivatives are derived "
            "once, with the general index ", l, "; they hold for any depth ", L, "."), own=True))
        return s

    def _variable_rows(self):
        """The inputs, layer l's variables, layer L's, then the loss and the cost."""
        inputs, last, after = [], [], []
        beyond = set(self.model.stack.tables["graph"])  # nodes after the stack: the loss
        for row in self.out._variable_rows():
            sym = row[0]
            role = self.model.variables[sym.name].role
            if role == "input":
                inputs.append(row)
            elif role == "cost" or sym.name in beyond:
                after.append(row)
            elif sym in self.last:
                last.append(_renamed_row(row, self.names["example"]))
        layer = []
        for row in self.hidden._variable_rows():
            if row[0].name == PREVIOUS:
                row = (row[0], "the previous layer's output", *row[2:])
            layer.append(_renamed_row(row, self.names[LAYER]))
        return inputs + layer + last + after

    # -- the graph --

    def graph_section(self) -> Section:
        z, dz = sp.Symbol("z[l]", real=True), sp.Symbol("dz[l]", real=True)
        for node in self.model.stack.hidden:  # the first node of the layer, z by convention
            z, dz = (sp.Symbol(f"{node}[l]", real=True),
                     sp.Symbol(naming.adjoint(f"{node}[l]"), real=True))
            break
        out = self.model.stack.out
        u, v = sp.symbols("u v", real=True)
        return Section(("The computation graph",), [
            Paragraph((
                "Hidden layer ", l, " is drawn once, in the dashed box, for every ", l,
                " from 1 to ", L1, ": layer 1 reads ",
                sp.Eq(sp.Symbol(f"{out}[0]", real=True),
                      sp.Symbol(self.model.stack.input, real=True), evaluate=False),
                ", each later layer reads the output of the one before, and the output layer ",
                L, " reads ", sp.Symbol(f"{out}[L-1]", real=True), ". Blue arrows carry values "
                "forward; red arrows carry derivatives backward, from the loss ", self.loss,
                " to each parameter. A red arrow from ", u, " to ", v, " is labelled with the "
                "local partial derivative ", Partial(u, v), " of ", u, "'s own formula or, "
                "through a matrix product, with what flows back (", dz, " stands for ",
                Total(self.loss, z), ", and so on)."), scope="graph"),
            Figure()])

    # -- one example --

    def output_section(self) -> Section:
        steps = self.d.per_example_steps
        order = [st.var for st in backprop_order(steps, self.out.pe)
                 if st.var in self.last] + [self.prev]
        s = Section(("The output layer and the loss, for one example",))
        s.blocks.append(self.out.notation_paragraph(self.loss))
        for v in order:
            s.blocks.append(self.out.node_section(steps[v]))
        return s

    def hidden_section(self) -> Section:
        g, steps = self.hidden.pe, self.hidden.d.per_example_steps
        prev = sp.Symbol(PREVIOUS, real=True)
        s = Section(("Hidden layer ", l, ", for one example"))
        s.blocks.append(Paragraph((
            "Layer ", l, " receives ", Total(self.loss, g.output), " from the layer above it: "
            "for ", sp.Eq(l, L1), " it is ", Total(self.loss, sp.Symbol(
                f"{self.model.stack.out}[L-1]", real=True)),
            " found above; for a lower layer it is what layer ", l1, " passes down, ",
            Total(self.loss, prev), " below with ", l1, " in place of ", l, ". The rest of "
            "the derivation is the same for every hidden layer, so it is done once:"),
            scope=LAYER))
        for step in backprop_order(steps, g):
            s.blocks.append(self.hidden.node_section(step))
        recurrence = Section(("The recurrence",), level=2)
        a_l, a_last = (sp.Symbol(f"{self.model.stack.out}[{i}]", real=True)
                       for i in ("l", "L-1"))  # "graph": adjoints by name, symbols as they are
        recurrence.blocks.append(Paragraph((
            "In short, writing ", adjoint_symbol(a_l), " for ", Total(self.loss, a_l),
            " and so on, as the code does: for ", l, " from ", L1, " down to 1, starting from ",
            adjoint_symbol(a_last), " found above,"), scope="graph"))
        recurrence.blocks.append(Equations(
            [Line(st.adjoint, self.hidden._named(st, steps)) for st in steps.values()],
            scope=LAYER, notation="name"))
        s.blocks.append(recurrence)
        return s

    # -- m examples --

    def batch_section(self) -> Section:
        out, hidden = self.out, self.hidden
        hg, hsteps = hidden.batch, hidden.d.batch_steps
        steps, leaves = self.d.batch_steps, set(out.batch.leaves)
        i = sp.Symbol("i")
        nodes = [v for v, _ in hidden.pe.nodes]
        columns = [sp.Symbol(naming.stacked(v.name), real=True) for v in nodes]
        adjoints = [adjoint_symbol(v) for v in columns]
        params = list(hg.leaves)
        s = Section(("Over ", M, " examples"))
        x = [sp.Symbol(naming.stacked(v.name), real=True) for v in self.model.inputs]
        s.blocks.append(Paragraph((
            "Stack the examples as columns: column ", i, " of ", *_listed(x + columns, " and "),
            " is the quantity of example ", i, " (for instance ", AtExample(nodes[0]),
            "), for every layer ", l, " and for layer ", L, " alike. Likewise column ", i, " of ",
            *_listed(adjoints, " and "), " is example ", i, "'s derivative (for instance ",
            AtExample(adjoint_symbol(nodes[0])), "), while a parameter's derivative is that of "
            "the cost: ", *_listed([sp.Eq(adjoint_symbol(p), Total(out.batch.output, p),
                                          evaluate=False) for p in params]), "."),
            scope=LAYER_BATCH))

        sub = Section(("The backward pass on whole matrices",), level=2)
        sub.blocks.append(Paragraph((
            "The same sweep as for one example, on all columns at once; the local partial "
            "derivatives are those derived above, entry by entry. The loss of each example "
            "has derivative 1, as before. The output layer:",)))
        for v, step in steps.items():
            if v in self.last_batch and v not in leaves and v != self.loss:
                sub.blocks.append(Equations(out.chain_lines(step, out.batch, steps, "batch"),
                                            scope="batch"))
        sub.blocks.append(Paragraph((
            "Hidden layer ", l, ", for ", l, " from ", L1, " down to 1, from ",
            adjoint_symbol(columns[-1]), ":"), scope=LAYER_BATCH))
        for v, step in hsteps.items():
            if v not in hg.leaves:
                sub.blocks.append(Equations(hidden.chain_lines(step, hg, hsteps, LAYER_BATCH),
                                            scope=LAYER_BATCH))
        s.blocks.append(sub)

        avg = Section(("Averaging over the examples",), level=2)
        avg.blocks.append(Paragraph((
            averaging(self.model) + " The output layer:",)))
        for p in out.batch.leaves:
            if p in steps and p in self.last:
                avg.blocks.append(Equations(out.average_lines(p, None), scope="batch"))
        avg.blocks.append(Paragraph(("Hidden layer ", l, ":"), scope=LAYER_BATCH))
        for p in params:
            avg.blocks.append(Equations(hidden.average_lines(p, None), scope=LAYER_BATCH))
        s.blocks.append(avg)
        return s

    # -- updates --

    def update_section(self) -> Section:
        hg, hsteps = self.hidden.batch, self.hidden.d.batch_steps
        steps = self.d.batch_steps
        s = Section(("The updates",))
        s.blocks.append(Paragraph(("Gradient descent with learning rate ", self.alpha,
                                   " repeats, for every layer ", l, " from 1 to ", L, ":")))
        s.blocks.append(Equations([
            Line(p, sp.Add(p, -Times(self.alpha, adjoint_symbol(p)), evaluate=False),
                 relation=":=") for p in hg.leaves], scope=LAYER_BATCH))
        s.blocks.append(Paragraph(("with the derivatives found above: for the hidden layers",)))
        s.blocks.append(Equations([Line(adjoint_symbol(p), hsteps[p].result)
                                   for p in hg.leaves], scope=LAYER_BATCH))
        s.blocks.append(Paragraph(("and for the output layer",)))
        s.blocks.append(Equations([Line(adjoint_symbol(p), steps[p].result)
                                   for p in self.out.batch.leaves
                                   if p in steps and p in self.last], scope="batch"))
        from .teaching import decay_blocks

        last = {p: st for p, st in steps.items() if p in self.last}
        s.blocks += decay_blocks(self.model, self.out.batch, last, self.alpha)
        return s


def _renamed_row(row, names):
    sym, role, shape, domain, big, big_shape = row

    def r(e):
        return e.xreplace(names) if isinstance(e, sp.Basic) else e

    return (r(sym), role, tuple(r(d) for d in shape), domain, r(big),
            tuple(r(d) for d in big_shape) if big_shape is not None else None)


def _rename(section: Section, names: dict) -> None:
    """Give every symbol of ``section`` its name with the layer's index, scope by scope."""

    def r(piece, scope):
        if isinstance(piece, sp.Basic):
            return piece.xreplace(names.get(scope, {}))
        return piece

    section.title = tuple(r(p, section.scope) for p in section.title)
    for block in section.blocks:
        if isinstance(block, Section):
            _rename(block, names)
        elif isinstance(block, Equations):
            for line in block.lines:
                line.lhs = r(line.lhs, block.scope) if line.lhs is not None else None
                line.rhs = r(line.rhs, block.scope)
                line.rule = tuple(r(p, block.scope) for p in line.rule)
        elif isinstance(block, Paragraph):
            block.pieces = tuple(r(p, block.scope) for p in block.pieces)


def build_stacked(derivation) -> Proof:
    """The proof of a model with repeated layers (not yet checked: see symgrad.proof.line_check)."""
    b = _StackBuilder(derivation)
    from . import teaching

    sections = [b.model_section(), b.graph_section(), b.output_section(), b.hidden_section(),
                b.batch_section(), b.update_section()]
    table = teaching.check_table(derivation)
    if table is not None:
        sections.append(table)
    for section in sections:
        _rename(section, b.names)
    model = derivation.model
    return Proof(derivation, model.title, model.source or model.name, sections, b.alpha)
