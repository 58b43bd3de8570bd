"""A derivation laid out as a proof, every displayed equality held as SymPy expressions.

:func:`build` reads a :class:`~symgrad.calculus.derivation.Derivation` (its trace: the steps and the
contributions of the reverse sweep) and lays it out for a reader:

1. the model: forward equations, variables and shapes, the cost over m examples;
2. the computation graph (:mod:`symgrad.proof.drawing`);
3. for each node in backward order: the chain rule, each local partial derivative in visible
   steps, the product, each simplification, every step with the rule that justifies it;
4. over m examples: the backward pass on whole matrices, then each parameter's derivative as the
   average of the per-example ones, down to the vectorised form;
5. the gradient-descent updates.

Nothing here prints and nothing is re-derived: :mod:`symgrad.proof.document` prints, and
:func:`symgrad.proof.line_check.check` checks every ``=`` line before anything is written. The
notation
classes below (``Partial``, ``PartialOf``, ``Times``, ``ExampleSum``, ``AtExample``) are SymPy
objects so that a line is one SymPy equation; :mod:`symgrad.proof.line_check` says what each stands
for.

>>> from symgrad import load
>>> proof = build_plain(load("derivations/logistic_regression.toml").derive())
>>> [s.title for s in proof.sections][:3]
[('The model',), ('The computation graph',), ('Derivatives for one example',)]
"""

from __future__ import annotations

import sympy as sp

from ..calculus.chain import adjoint_symbol
from ..calculus.chain import listed as _listed
from ..calculus.rules import backprop
from ..calculus.simplify import tidy_sums, to_node_variables
from ..model import naming
from ..model.graph import M, mean
from ..model.ops import (
    Phi,
    Structural,
    batch_mean,
    clip,
    colsum,
    expm1,
    leaky_relu,
    log1p,
    mask,
    matmul,
    maximum,
    minimum,
    relu,
    rowsum,
    sigmoid,
    softmax,
    softplus,
    total,
)
from ..model.shapes import SCALAR
from .blocks import (
    AtExample,
    Equations,
    ExampleSum,
    Figure,
    Line,
    Paragraph,
    Partial,
    PartialOf,
    Proof,
    Section,
    Times,
    Total,
    Variables,
    as_written,
    times,
)

AVERAGING = ("The cost is the mean of the losses, so each parameter's derivative is the mean "
             "of its per-example derivatives: every example adds its share, and the sum over "
             "the columns is a matrix product.")
PENALISED = ("The cost is the mean of the losses plus a penalty on the parameters, so each "
             "parameter's derivative is the mean of its per-example derivatives plus the "
             "derivative of the penalty: every example adds its share, and the sum over the "
             "columns is a matrix product.")


def averaging(model) -> str:
    """How the cost is made of the losses, in words: a mean, with a penalty or without."""
    if model.cost is not None:
        t = sp.Dummy("t")
        rest = model.cost.expr.replace(lambda e: isinstance(e, mean), lambda e: t).subs(t, 0)
    else:
        rest = getattr(model, "penalty", 0)
    return PENALISED if rest != 0 else AVERAGING

NAMED_OPS = 4  # operations: a longer result equal to a consumer's derivative ends with its name

# ----- words for the rules -----

VIA = {"matmul": "matrix product", "transpose": "transpose", "total": "sum",
       "colsum": "sum", "rowsum": "sum"}  # other operations go by their name (softmax)

SIMPLIFIERS = {"cancel": "cancel common factors", "factor": "factor", "together":
               "one fraction", "expand": "multiply out", "as derived": "as derived"}

_U = sp.Symbol("u", real=True)
# each function's rule: words, pieces (words and expressions) or pieces made from the call
DERIVATIVE_OF = {sp.log: "derivative of log", sp.exp: "derivative of exp",
                 sp.tanh: "derivative of tanh", sigmoid: "derivative of the sigmoid",
                 softplus: "derivative of softplus",
                 relu: "derivative of relu (taken as 0 at 0)",
                 # the node's own slope, as math: (taken as 0.1 at 0)
                 leaky_relu: lambda e: ("derivative of leaky relu (taken as ", e.args[1],
                                        " at 0)"),
                 sp.sin: "derivative of sin", sp.cos: "derivative of cos",
                 sp.cosh: "derivative of cosh", sp.sinh: "derivative of sinh",
                 sp.erf: "derivative of erf",
                 Phi: ("derivative of ", Phi(_U), " (the normal density)"),
                 log1p: ("derivative of ", sp.log(1 + _U)),
                 expm1: ("derivative of ", sp.exp(_U) - 1),
                 sp.Abs: "derivative of abs (taken as 0 at 0)",
                 maximum: "derivative of max (to the second argument at a tie)",
                 minimum: "derivative of min (to the second argument at a tie)",
                 clip: "derivative of clip (taken as 0 at the ends)"}

# the chain rule through an operation defined by a formula (softmax), in words
DEFINED = {softmax: lambda var, node: (
    "Through this definition ", var, " reaches ", node, " twice, in the numerator and in the sum "
    "of the denominator, so the chain rule goes through a quotient (the derivative of exp is "
    "exp; a sum passes its derivative back to each of its terms):")}


def _definition_route(f, v):
    """For symgrad's own functions, the derivative taken from the definition: (definition,
    steps from the derivative of the definition back to the function, rule of the last step),
    or None."""
    e = sp.exp(-v)
    if f.func is sigmoid:
        return (f.rewrite(sp.exp), [(Times(1 / (1 + e), e / (1 + e)), ("split the fraction",))],
                ("definition of ", sigmoid(v), ", and ",
                 sp.Eq(1 - sigmoid(v), e / (1 + e), evaluate=False)))
    if f.func is softplus:
        return (f.rewrite(sp.exp), [(1 / (1 + e), ("divide by ", sp.exp(v)))],
                ("definition of ", sigmoid(v)))
    return None


def _kink_conventions(functions) -> list:
    """The convention symgrad takes where abs, max, min or clip has no derivative."""
    u, v = sp.Symbol("u", real=True), sp.Symbol("v", real=True)
    kinds = {type(f) for f in functions}
    out = []
    if sp.Abs in kinds:
        out.append(Paragraph((
            "At ", sp.Eq(u, 0), " the absolute value ", sp.Abs(u), " has no derivative: its "
            "slope jumps from -1 to 1. We take the subgradient 0 there, so that the "
            "derivative of ", sp.Abs(u), " is ", sp.sign(u), ", which is 0 at ", sp.Eq(u, 0),
            "."), own=True))
    for f, where in ((maximum, (sp.Gt(u, v), " and to ")),
                     (minimum, (sp.Lt(u, v), " and to "))):
        if f in kinds:
            out.append(Paragraph((
                "At a tie ", sp.Eq(u, v), ", ", f(u, v), " has no derivative. We pass "
                "the whole derivative to ", u, " where ", where[0], where[1], v, " elsewhere, "
                "the tie included: the derivative of ", f(u, v), " in ", u, " is ",
                sp.diff(f(u, v), u), " and in ", v, " is ", sp.diff(f(u, v), v), ", with the "
                "step taken as 0 at 0."), own=True))
    if clip in kinds:
        lo, hi = sp.Symbol("lo", real=True), sp.Symbol("hi", real=True)
        out.append(Paragraph((
            "At its ends ", sp.Eq(u, lo), " and ", sp.Eq(u, hi), ", ", clip(u, lo, hi),
            " has no derivative. We take the derivative 1 strictly inside and 0 "
            "elsewhere, the ends included: the derivative of ", clip(u, lo, hi), " in ", u,
            " is ", sp.diff(clip(u, lo, hi), u), "."), own=True))
    return out


def _rules_used(exprs, v) -> tuple:
    """The differentiation rules that taking d e / d v uses for each e of ``exprs``, in words
    and expressions."""
    found: list[tuple] = []

    def add(rule):
        rule = (rule,) if isinstance(rule, str) else rule
        if rule not in found:
            found.append(rule)

    def walk(e):
        if not e.has(v):
            return
        if e == v:
            return
        if e.is_Add:
            if sum(1 for a in e.args if a.has(v)) > 1:
                add("sum rule")
        elif e.is_Mul:
            dependent = [a for a in e.args if a.has(v)]
            if len(dependent) > 1:
                add("product rule")
            elif any(a != -1 for a in e.args if not a.has(v)):
                add("constant factor")
        elif e.is_Pow:
            if e.exp.has(v):
                add("derivative of exp")
            else:
                add("power rule")
            if e.base != v and e.base.has(v):
                add("chain rule")
        elif isinstance(e, sp.Function):
            rule = DERIVATIVE_OF.get(e.func, f"derivative of {e.func.__name__}")
            add(rule(e) if callable(rule) else rule)
            if any(a != v and a.has(v) for a in e.args):
                add("chain rule")
        for a in e.args:
            walk(a)

    for expr in exprs:
        walk(expr)
    if not found:
        return ("the derivative of a variable by itself is 1",)
    return _joined(found)


def _joined(rules, between=", ") -> tuple:
    """Rules, each a tuple of pieces, as one rule: a, b, c (neighbouring words as one piece)."""
    out: list = []
    for piece in (p for n, rule in enumerate(rules) for p in ((between,) if n else ()) + rule):
        if isinstance(piece, str) and out and isinstance(out[-1], str):
            out[-1] += piece
        else:
            out.append(piece)
    return tuple(out)


def _one_fraction(before, after) -> bool:
    """Whether ``after`` is the sum ``before`` put over one denominator that holds symbols."""
    return before.is_Add and not after.is_Add and bool(sp.fraction(after)[1].free_symbols)


def _trace_rule(rule: tuple, before=None, after=None) -> tuple:
    """A trace step's rule (``("simplify (expand, then cancel)",)``, or words and equations)
    in the proof's words: terms put over one denominator say so, not "cancel"."""
    label = rule[0] if len(rule) == 1 else ""
    if label == "simplify (cancel)" and before is not None and _one_fraction(before, after):
        return ("over a common denominator",)
    if label.startswith("simplify (") and label.endswith(")"):
        parts = label[len("simplify ("):-1].split(", then ")
        return (", then ".join(SIMPLIFIERS.get(p, p) for p in parts),)
    return rule




def _through(expr, var) -> list[str]:
    """The operations of ``expr`` that ``var`` passes through (outermost), in words."""
    if isinstance(expr, Structural) and expr.has(var):
        name = type(expr).__name__
        return [VIA.get(name, name)]
    return [n for a in expr.args for n in _through(a, var)]


# ----- building -----


class _Builder:
    """The sections of a proof, from one derivation; ``example`` and ``batch`` name the scopes
    of its lines (see :mod:`symgrad.proof.line_check`)."""

    def __init__(self, derivation, example="example", batch="batch"):
        self.d = derivation
        self.model = derivation.model
        self.pe = derivation.per_example_graph
        self.batch = derivation.batch_graph
        self.example_scope, self.batch_scope = example, batch
        self.results_named = False  # end a result equal to a consumer's adjoint with its name
        self._upstream: dict = {}  # adjoint -> its entry j (dL/da_j), where derived
        self._shown: dict = {}  # adjoint -> the form its result was shown in (the course's)
        self._index_names: dict = {}  # the lines' symbols are the graph's own here
        self._softmax_done = False
        taken = set(self.model.variables)
        self.alpha = sp.Symbol(next(n for n in ("alpha", "eta", "lr") if n not in taken),
                               positive=True)

    # -- the model --

    def model_section(self) -> Section:
        s = Section(("The model",))
        if self.model.description:  # free text, escaped where the document is written
            s.blocks.append(Paragraph((self.model.description,)))
        has_examples = self.batch is not None
        s.blocks.append(Paragraph(
            ("For one training example the model computes, node by node:",) if has_examples
            else ("The model computes, node by node:",), own=bool(self.model.description)))
        s.blocks += self.forward_blocks()
        if has_examples:
            s.blocks += self.cost_blocks()
        dims: list = []
        for name, about in self.model.dims.items():
            dims += ["; " if dims else "", sp.Symbol(name), f": {about}"]
        if self.batch is not None:
            dims += ["; " if dims else "", M, ": number of examples"]
        s.blocks.append(Paragraph(("Variables and their shapes",) +
                                  ((" (", *dims, "):") if dims else (":",))))
        s.blocks.append(Variables(self._variable_rows()))
        s.blocks += self.constant_blocks()
        s.blocks += self.domain_blocks()
        s.blocks += self.assumption_blocks()
        s.blocks += self.coupling_blocks()
        return s

    def forward_blocks(self) -> list:
        """The nodes' definitions; a batch statistic's over the m examples, in its place."""
        statistics = self.model.statistics
        if not statistics:
            return [Equations([Line(sym, fwd) for sym, fwd in self.pe.nodes])]
        coupled = self.pe.coupled
        before = [Line(sym, fwd) for sym, fwd in self.pe.nodes if sym in coupled]
        after = [Line(sym, fwd) for sym, fwd in self.pe.nodes if sym not in coupled]
        defs = {sp.Symbol(n.name, real=True): n.expr for n in self.model.nodes}
        i = sp.Symbol("i")
        stats = [Line(sym, defs[sym].replace(lambda e: isinstance(e, batch_mean),
                                             lambda e: ExampleSum(e.args[0]) / M),
                      ("definition of ", sym)) for sym in statistics]
        return [Equations(before),
                Paragraph(("The batch statistics are means over the ", M, " examples of the "
                           "batch, numbered by ", i, ":")),
                Equations(stats, scope="batch"),
                Paragraph(("and then, for each example:",)),
                Equations(after)]

    def coupling_blocks(self) -> list:
        """Why a model with batch statistics has no per-example derivative of what they read."""
        statistics = self.model.statistics
        if not statistics:
            return []
        coupled = sorted({v.symbol for v in self.model.variables.values()
                          if v.role in ("node", "parameter")} & self.pe.coupled, key=str)
        nodes = [s for s in coupled if s in dict(self.pe.nodes)]
        L, i, j = self.pe.output, sp.Symbol("i"), sp.Symbol("j")
        first = (nodes or coupled)[0]
        return [Paragraph((
            "No per-example form exists for ", *_listed(coupled, " and "), ". The batch "
            "statistics ", *_listed(statistics, " and "), " are the same for every example "
            "but are computed from all of them: they couple the examples. Through them the "
            "loss ", AtExample(L), " of example ", i, " depends on the ", first, " of every "
            "example of the batch, not only on its own ", AtExample(first), ", so the "
            "derivative of the cost with respect to ", AtExample(first), " sums terms from "
            "the losses of all examples ", j, " of the batch; one example's loss alone does "
            "not give it. Below, one example's derivatives take the "
            "statistics as given (they hold for the nodes and parameters after them, which "
            "only their own example's loss reads); the derivatives of ",
            *_listed(coupled + list(statistics), " and "), " are derived over the ", M,
            " examples, in the batch form."), own=True)]

    def constant_blocks(self) -> list:
        """What the constants are: the same for every example, not stacked, not trained."""
        constants = [v.symbol for v in self.model.constants]
        if not constants:
            return []
        one = len(constants) == 1
        what = ("The constant ", constants[0], " is") if one else (
            "The constants ", *_listed(constants, " and "), " are")
        pieces = [*what, " the same for every example: data given with the examples, not "
                  "parameters, so no derivative is taken for " + ("it." if one else "them.")]
        if self.batch is not None:
            pieces += [" Over the ", M, " examples " + ("it keeps its name and shape" if one
                       else "they keep their names and shapes") + " (no stacking as columns)."]
        return [Paragraph(tuple(pieces), own=True)]

    def domain_blocks(self) -> list:
        """Where the hyperparameters lie, for those not on all reals: delta > 0."""
        kept = [v for v in self.model.hyperparameters if not v.domain.is_real_line]
        if not kept:
            return []
        relations = [domain_relation(v.symbol, v.domain) for v in kept]
        return [Paragraph(("Domain of the hyperparameter: " if len(kept) == 1 else
                           "Domains of the hyperparameters: ", *_listed(relations, " and "),
                           "."), own=True)]

    def cost_blocks(self) -> list:
        L = sp.Symbol(self.model.loss.name, real=True)
        cost = self.model.cost.expr.replace(lambda e: isinstance(e, mean),
                                            lambda e: ExampleSum(e.args[0]) / M)
        return [Paragraph(("Over ", M, " training examples, numbered by ", sp.Symbol("i"),
                           ", the cost averages the loss ", L, ":")),
                Equations([Line(self.batch.output, cost, ("definition of the cost",))],
                          scope="batch")]

    def assumption_blocks(self, graphs=()) -> list:
        """What the simplifications may assume of the labels, and the kinks' convention."""
        out = []
        for sym in sorted(self.pe.binary, key=str):
            var = self.model.variables.get(sym.name)
            noun = "label" if var is None or var.label else var.role
            entries = " is 0 or 1" if self.pe.shapes[sym] == SCALAR else " has entries 0 or 1"
            out.append(Paragraph(
                ("The ", noun, " ", sym, entries, ", so ", sp.Eq(sym ** 2, sym),
                 "; simplifications may use this."), own=bool(out)))
        for sym in sorted(self.pe.onehot, key=str):
            var = self.model.variables.get(sym.name)
            noun = "label" if var is None or var.label else var.role
            if var is not None and var.domain.columns == "probability":
                what = (" is a probability vector: its entries are ", sp.Ge(sym, 0),
                        " and sum to 1, ")
            else:
                what = (" is one-hot: its entries are 0 or 1, exactly one of them 1, so its "
                        "entries sum to 1, ",)
            out.append(Paragraph(
                ("The ", noun, " ", sym, *what, sp.Eq(colsum(sym), 1, evaluate=False),
                 "; simplifications may use this."), own=bool(out)))
        for keep_mask, node, kept in self.model.dropouts():
            keep = self.model.variables[keep_mask.keep].symbol
            at = sp.Symbol(node.name, real=True)
            out.append(Paragraph((
                "Dropout: ", at, " is dropout(", kept, ", ", keep, "), inverted dropout with "
                "the keep-mask ", keep_mask.symbol, ". In training the mask is drawn afresh for "
                "each example at each pass, each entry 1 with probability ", keep, ", and ",
                sp.Eq(at, node.expr, evaluate=False), "; at predict dropout is the identity, ",
                sp.Eq(at, kept, evaluate=False),
                ". The derivation holds the mask constant, as an input."), own=True))
        functions = set().union(*(e.atoms(relu, leaky_relu, sp.Abs, maximum, minimum, clip)
                                  for g in (self.pe, *graphs)
                                  for _, e in g.nodes))
        u = sp.Symbol("u", real=True)
        if any(isinstance(f, relu) for f in functions):
            out.append(Paragraph((
                "At ", sp.Eq(u, 0), " relu has no derivative: its slope jumps from 0 to 1. "
                "We take the subgradient 0 there, so that the derivative of ", relu(u),
                " is ", sp.Heaviside(u, 0), ", which is 0 at ", sp.Eq(u, 0), "."), own=True))
        out += _kink_conventions(functions)
        for alpha in sorted({f.args[1] for f in functions if isinstance(f, leaky_relu)}, key=str):
            out.append(Paragraph((
                "At ", sp.Eq(u, 0), " leaky relu has no derivative: its slope jumps from ",
                alpha, " to 1. We take the slope ", alpha, " there, so that the derivative "
                "of ", leaky_relu(u, alpha), " is ", sp.diff(leaky_relu(u, alpha), u), "."),
                own=True))
        return out

    def _variable_rows(self):
        stacked = self.model.stacked_names()
        shapes_b = self.batch.shapes if self.batch is not None else {}
        rows = []
        for var in self.model.variables.values():
            sym = var.symbol
            if sym not in self.pe.shapes and var.role != "cost":
                continue
            if var.role == "cost" and self.batch is None:
                continue
            domain = var.domain if var.role in ("input", "hyperparameter") else None
            role = "constant" if var.constant else var.role
            role = role if not var.description else f"{role}: {var.description}"
            if var.name in stacked and self.batch is not None:
                big = sp.Symbol(stacked[var.name], real=True)
                rows.append((sym, role, var.shape, domain, big, shapes_b.get(big)))
            else:
                rows.append((sym, role, var.shape, domain, None, None))
        return rows

    # -- the graph --

    def graph_section(self) -> Section:
        out = self.pe.output
        u, v = sp.symbols("u v", real=True)
        z = self.pe.nodes[0][0]
        products = any(e.has(matmul) for _, e in self.pe.nodes)
        label = (("'s own formula or, through a matrix product, with what flows back (",
                  adjoint_symbol(z), " stands for ", Total(out, z), ", and so on).")
                 if products else ("'s own formula.",))
        return Section(("The computation graph",), [
            Paragraph(("One node per variable. Blue arrows carry values forward; red arrows carry "
                       "derivatives backward, from the output ", out, " to each parameter. A "
                       "red arrow from ", u, " to ", v, " is labelled with the local partial "
                       "derivative ", Partial(u, v), " of ", u, *label), scope="graph"),
            Figure()])

    # -- one example --

    def example_section(self) -> Section:
        graph, steps = self.pe, self.d.per_example_steps
        title = "Derivatives for one example" if self.batch is not None else "Derivatives"
        if self.model.statistics:
            title += ", given the batch statistics"
        s = Section((title,))
        s.blocks.append(self.notation_paragraph(graph.output))
        for step in backprop_order(steps, graph):
            s.blocks.append(self.node_section(step))
        return s

    def notation_paragraph(self, out) -> Paragraph:
        u, v = sp.symbols("u v", real=True)
        z = next((s for s, _ in self.pe.nodes if s != out), self.pe.nodes[0][0])
        return Paragraph((
            "We write ", adjoint_symbol(z), " for ", Total(out, z), ", the derivative of ", out,
            " with respect to ", z, " through every path from ", z, " to ", out, ", and so "
            "for every variable; ", Partial(u, v), " is the local partial derivative of node ",
            u, "'s own formula, its other inputs held fixed. Going backward from ", out,
            ", each node needs only the derivatives of the nodes that use it (the chain "
            "rule)."), scope=self.example_scope)

    def node_section(self, step) -> Section:
        """The subsection deriving one example's adjoint of ``step.var``."""
        var, scope = step.var, self.example_scope
        role = self.model.variables[var.name].role
        sub = Section((role.capitalize() + " ", var), level=2, scope=scope)
        sub.blocks += self.node_blocks(step, self.pe, self.d.per_example_steps,
                                       locals_shown=True, scope=scope)
        return sub

    def node_blocks(self, step, graph, steps, *, locals_shown, scope="example"):
        var = step.var
        consumers = [c.consumer for c in step.contributions]
        pieces: list = [var, " is used by ", *_listed(consumers, " and "), "."]
        if len(consumers) > 1:
            pieces.append(" Its derivative adds up the contributions of every path (the "
                          "multivariable chain rule).")
        blocks: list = [Paragraph(tuple(pieces), scope=scope)]
        folded = self.folded_blocks(step, graph, steps, scope) if locals_shown else None
        if folded is not None:
            return blocks + folded
        local_lines = []
        if locals_shown:
            for c in step.contributions:
                if c.local is not None:
                    local_lines += self.local_lines(c, graph)
        if local_lines:
            blocks.append(Paragraph(("The local partial derivative" +
                                     ("s" if sum(1 for ln in local_lines if ln.lhs is not None)
                                      > 1 else "") + ":",)))
            blocks.append(Equations(local_lines, scope=scope))
            blocks.append(Paragraph(("Then the chain rule:",)))
        defs = dict(graph.nodes)
        if locals_shown:
            blocks += self.index_blocks(step, graph, scope)
        for c in step.contributions:
            op = _defined_op(defs[c.consumer], var)
            if op is not None and locals_shown and not self._softmax_done:
                words = DEFINED.get(type(op), lambda var, node: ("The chain rule through "
                                                                   "this definition:",))
                blocks.append(Paragraph((
                    c.consumer, " is the ", type(op).__name__, " of ", var, ", defined column "
                    "by column as ", sp.Eq(c.consumer, as_written(op.definition()),
                                           evaluate=False), ". ",
                    *words(var, c.consumer)), scope=scope))
        blocks.append(Equations(self.chain_lines(step, graph, steps, scope), scope=scope))
        return blocks

    def folded_blocks(self, step, graph, steps, scope):
        """A trivial chain rule said in the sentence, not displayed on its own: the output's
        own partial (da = ∂L/∂a) and a bias (∂z/∂b the identity, db = dz); else None."""
        if len(step.contributions) != 1:
            return None
        (c,) = step.contributions
        if c.local is None:
            return None
        var, u = step.var, c.consumer
        if u == graph.output and graph.seed == 1:
            lines = self.local_lines(c, graph)
            lines[0] = Line(step.adjoint, lines[0].rhs, lines[0].rule)
            for label, expr in step.steps:  # an identity (sinh/cosh = tanh), not a cancelling
                if not label[0].startswith(("substitute", "simplify")) and \
                        expr != lines[-1].rhs:
                    lines.append(Line(None, expr, _trace_rule(label, lines[-1].rhs, expr)))
            self._shown[step.adjoint] = lines[-1].rhs
            return [Paragraph((u, " is the output, so the chain rule has one factor: ",
                               sp.Eq(step.adjoint, Partial(u, var), evaluate=False), ",")),
                    Equations(lines, scope=scope)]
        fwd = dict(graph.nodes)[u]
        if c.local == 1 and var in sp.Add.make_args(fwd):
            du = adjoint_symbol(u)
            what = (sp.Eq(Partial(u, var), 1, evaluate=False),) if graph.shapes[var] == SCALAR \
                else (Partial(u, var), " is the identity (each entry of ", u, " has its own "
                      "entry of ", var, ")")
            lines = [Line(step.adjoint, du, ("chain rule",))]
            shown = self._shown.get(du, steps[u].result if u in steps else du)
            if u in steps and sp.count_ops(shown) <= NAMED_OPS and not self.results_named:
                lines.append(Line(None, shown, ("the result for ", du, " above")))
            return [Paragraph((var, " enters ", u, " as the term ", var, ", so ", *what,
                               ":")),
                    Equations(lines, scope=scope)]
        return None

    def index_blocks(self, step, graph, scope) -> list:
        """The hard steps once, entry by entry: through a matrix product, a sum of entries (the
        loss) and a softmax (:mod:`symgrad.proof.entries`)."""

        try:
            blocks = self._index_blocks(step, graph, scope)
        except Exception:  # noqa: BLE001 - an operation with no entry form here: matrix form only
            return []
        from .entries import EntryScope

        for block in blocks:  # only lines that hold entry by entry are shown
            if isinstance(block, Equations):
                check = EntryScope(block.entries)
                previous = None
                for line in block.lines:
                    left = line.lhs if line.lhs is not None else previous
                    previous = line.rhs
                    try:
                        check.check(left.xreplace(self._index_names), line.rhs.xreplace(
                            self._index_names))
                    except Exception:  # noqa: BLE001
                        return []
        return blocks

    def _index_blocks(self, step, graph, scope) -> list:
        from . import entries as ix

        out: list = []
        defs, shapes = dict(graph.nodes), dict(graph.shapes)
        var = step.var
        for c in step.contributions:
            if c.local is not None:
                continue
            fwd = defs[c.consumer]
            found = None
            if isinstance(_defined_op(fwd, var), softmax) and fwd.args == (var,):
                up = self._upstream.get(adjoint_symbol(c.consumer))
                known = self.model.variables
                soft = tuple(y for y in graph.onehot if y.name in known and
                             known[y.name].domain.columns == "probability")
                found = ix.softmax_lines(graph, c.consumer, var, shapes, up,
                                         onehot=tuple(graph.onehot), probability=soft)
                if found is not None:
                    definition, local, chain, entries = found
                    a_j = definition[0].lhs
                    out += [Paragraph((c.consumer, " is the softmax of ", var, ". Entry by entry "
                                       "it reads")),
                            Equations(definition, scope=scope, entries=entries),
                            Paragraph(("so every ", a_j, " depends on every entry of ", var,
                                       ", through the sum in the denominator. With ",
                                       sp.KroneckerDelta(ix.J, ix.K), " equal to 1 where ",
                                       sp.Eq(ix.J, ix.K), " and 0 elsewhere, the quotient "
                                       "rule gives the Jacobian:"), own=True),
                            Equations(local, scope=scope, entries=entries),
                            Paragraph(("The chain rule sums over every entry of ", c.consumer,
                                       ":")),
                            Equations(chain, scope=scope, entries=entries),
                            Paragraph(("In vector form, column by column:",))]
                    self._softmax_done = True
                continue
            if _through(fwd, var) == ["sum"]:
                found = ix.sum_lines(graph, c.consumer, var, shapes)
                if found is not None:
                    definition, chain, entries, up = found
                    self._upstream[step.adjoint] = up
                    out += [Paragraph((c.consumer, " adds one term per entry of ", var, ":")),
                            Equations(definition + chain, scope=scope, entries=entries),
                            Paragraph(("In vector form:",))]
                continue
            if "matrix product" in _through(fwd, var) and shapes[var] != SCALAR:
                found = ix.matmul_lines(graph, c.consumer, var, shapes)
                if found is None:
                    continue
                definition, chain, entries = found
                out += [Paragraph(("Through the matrix product, entry by entry: ",
                                   c.consumer, " reads")),
                        Equations(definition, scope=scope, entries=entries),
                        Paragraph(("and the chain rule, one entry of ", var, " at a time:"),
                                  own=True),
                        Equations(chain, scope=scope, entries=entries),
                        Paragraph(("The same for every entry, in matrix form:",))]
        return out

    def local_lines(self, c, graph) -> list[Line]:
        u, v = c.consumer, c.var
        fwd = dict(graph.nodes)[u]
        lines = [Line(Partial(u, v), PartialOf(fwd, v), ("definition of ", u))]
        terms = sp.Add.make_args(fwd)
        dependent = [t for t in terms if t.has(v)]
        # each term as (its factors free of v, the rest): -(1 - y)*log(1 - a) -> -(1 - y), log
        parts = []
        for t in dependent:
            factors = sp.Mul.make_args(t)
            parts.append(([f for f in factors if not f.has(v)],
                          sp.Mul(*[f for f in factors if f.has(v)])))
        others = len(dependent) < len(terms)
        cores = [core for _, core in parts]
        if len(parts) > 1 or any(coeff and core != v for coeff, core in parts):
            words = ["sum rule"] if len(parts) > 1 else []
            if any(coeff for coeff, _ in parts):
                words.append("constant factor" + ("s" if len(parts) > 1 else ""))
            split = sp.Add(*[sp.Mul(*coeff, PartialOf(core, v), evaluate=False)
                             for coeff, core in parts], evaluate=False)
            rule = (", ".join(words) + ("; the other terms do not depend on " if others
                                        else ""),) + ((v,) if others else ())
            lines.append(Line(None, split, rule))
            rule = _rules_used(cores, v)
        elif others:
            rules = ([("constant factor",)] if parts and parts[0][0] else []) + (
                [] if cores == [v] else [_rules_used(cores, v)])
            rule = _joined(rules + [("the other terms do not depend on ", v)], "; ")
        else:
            rule = _rules_used([fwd], v)
        route = (_definition_route(cores[0], v)
                 if len(parts) == 1 and not parts[0][0] and cores[0].args == (v,) else None)
        if route is not None:
            definition, steps, back = route
            lines.append(Line(None, PartialOf(definition, v), ("definition of ", cores[0])))
            lines.append(Line(None, sp.diff(definition, v), _rules_used([definition], v)))
            lines += [Line(None, expr, rule) for expr, rule in steps]
            lines.append(Line(None, c.local, back))
        else:
            lines.append(Line(None, c.local, rule))
        named = to_node_variables(c.local, graph.nodes)
        if named != c.local:
            used = [sp.Eq(f, s, evaluate=False) for s, f in graph.nodes
                    if not f.is_Symbol and c.local.has(f)]
            lines.append(Line(None, named, ("definition of the node" +
                                            ("s" if len(used) > 1 else "") + ": ",
                                            *_listed(used))))
        return lines

    def chain_lines(self, step, graph, steps, scope="example") -> list[Line]:
        var = step.var
        defs = dict(graph.nodes)
        results = {adjoint_symbol(s): st.result for s, st in steps.items()}
        results[adjoint_symbol(graph.output)] = graph.seed
        scale = graph.leaf_scale if var in graph.leaves else sp.Integer(1)
        terms, vias, subs = [], [], {}
        shared = own_form = False
        for c in step.contributions:
            term = self._term(c, graph)
            terms.append(term)
            shared |= c.local is not None and isinstance(term, (colsum, rowsum, total))
            if c.local is None:
                vias += _through(defs[c.consumer], var)
            adj = adjoint_symbol(c.consumer)
            if adj in results and adj not in step.result.free_symbols:
                subs[adj] = results[adj]
                if adj in self._shown:
                    subs[adj] = self._shown[adj]
                    own_form |= self._shown[adj] != results[adj]
            if c.local is not None:
                subs[Partial(c.consumer, var)] = to_node_variables(c.local, graph.nodes)
        chain = scale * sp.Add(*terms)
        words = "chain rule"
        vias = [v for v in dict.fromkeys(vias) if v]
        if vias:
            words += " through the " + " and the ".join(vias)
        if shared:
            words += (", summed over the examples" if scope.endswith("batch") else
                      ", summed over the entries that share it")
        if len(terms) > 1:
            words += ", summed over the uses of "
        lines = [Line(step.adjoint, chain, (words,) + ((var,) if len(terms) > 1 else ()))]
        defined = [op for c in step.contributions if c.local is None
                   for op in [_defined_op(defs[c.consumer], var)] if op is not None]
        if defined:  # softmax: back from its definition to the node variables first
            shapes = self._shapes(graph)
            named = _node_form(chain, graph.nodes, shapes)
            if named != chain:
                used = [sp.Eq(as_written(op.definition()), s, evaluate=False)
                        for s, op in graph.nodes if op in defined]
                lines.append(Line(None, named, ("definition of the node: ", *_listed(used),
                                                "; linearity of sums")))
                chain = named
            factored = _factor_out(chain)
            if factored != chain:
                lines.append(Line(None, factored, ("factor",)))
                chain = factored
        substituted = _tidy(chain.xreplace(subs))
        shown = _evaluate(substituted)
        if substituted != chain:
            lines.append(Line(None, substituted, ("substitute the results above",)))
        course = self._course_form(step, scope)
        if course is not None and shown == course:  # dA as the course writes it: stop there
            self._shown[step.adjoint] = course
            return lines
        if defined:
            masked, unmask = mask(shown)
            tidied = _node_form(sp.expand(masked).xreplace(unmask), graph.nodes,
                                self._shapes(graph))
            if tidied != shown:
                lines.append(Line(None, tidied, ("multiply out, linearity of sums",)))
                shown = tidied
        if own_form:  # a result shown in the course's form: multiply it out from there
            spread = _distributed(shown, graph.nodes)
            if spread != shown and spread != step.result:
                lines.append(Line(None, spread, ("multiply out",)))
                shown = spread
        reasons: tuple = ()  # from the course's form, the simplifier's identities still said
        for label, expr in step.steps:
            if own_form and len(label) > 1 and not label[0].startswith("substitute"):
                reasons += ("; ", *label)
            if own_form or label[0].startswith("substitute") or expr == shown:
                continue
            lines.append(Line(None, expr, _trace_rule(label, shown, expr)))
            shown = expr
        if shown != step.result:
            lines.append(Line(None, step.result, ("simplify", *reasons)))
        named = self._named(step, steps)
        if named != step.result:  # db = dz
            lines.append(Line(None, named, ("the result for ", named_after(named), " above")))
        return lines

    def _course_form(self, step, scope):
        """Over m examples, the form that one example's derivative was shown in (the course's
        dA = −Y/A + (1 − Y)/(1 − A), not the simplifier's one fraction), in the stacked names;
        None where one example's result was shown as derived."""
        if scope == self.example_scope or self.batch is None:
            return None
        stacked = {sp.Symbol(k, real=True): sp.Symbol(v, real=True)
                   for k, v in self.model.stacked_names().items()}
        one = {v: k for k, v in stacked.items()}.get(step.var)
        shown = self._shown.get(adjoint_symbol(one)) if one is not None else None
        if shown is None or not _one_fraction(shown, step.result):
            return None  # kept only where the simplifier would put terms over one denominator
        return _evaluate(shown.xreplace(stacked))

    def _named(self, step, steps):
        """``step``'s result, or when long (or always, in a layer) the consumer's derivative
        that it equals, by name: db = dz."""
        if not (self.results_named or sp.count_ops(step.result) > NAMED_OPS):
            return step.result
        for c in step.contributions:
            if c.consumer in steps and steps[c.consumer].result == step.result:
                return steps[c.consumer].adjoint
        return step.result

    def _term(self, c, graph):
        adj = adjoint_symbol(c.consumer)
        if c.consumer == graph.output:
            expr = c.expr.xreplace({adj: graph.seed})
            factor = graph.seed
        else:
            expr, factor = c.expr, adj
        if c.local is None:
            return expr
        core = times(factor, Partial(c.consumer, c.var))
        if expr == factor * c.local:
            return core
        if isinstance(expr, (colsum, rowsum, total)) and expr.args[0] == factor * c.local:
            return expr.func(core)
        return expr

    # -- m examples --

    def batch_section(self) -> Section:
        graph, steps = self.batch, self.d.batch_steps
        loss = sp.Symbol(self.model.loss.name, real=True)
        stacked = {s: sp.Symbol(n, real=True) for s, n in
                   ((sp.Symbol(k, real=True), v) for k, v in self.model.stacked_names().items())}
        pe_nodes = [s for s, _ in self.pe.nodes if s in stacked and s != loss]
        s = Section(("Over ", M, " examples"))
        example = [AtExample(x) for x in pe_nodes[:1]]
        i = sp.Symbol("i")
        columns = sorted((stacked[x] for x in stacked if x != loss), key=str)
        coupled = {stacked.get(v, v) for v in self.pe.coupled} | set(self.model.statistics)
        coupled = [v for v in steps if v in coupled and v not in graph.leaves]
        node_adjoints = [st.adjoint for st in steps.values()
                         if st.var not in graph.leaves and st.var != loss
                         and st.var not in coupled]
        params = [p for p in graph.leaves if p in steps]
        intro = ["Stack the examples as columns: column ", i, " of ", *_listed(columns),
                 " is the quantity of example ", i, " (for instance ", *example,
                 "). Likewise column ", i, " of ", *_listed(node_adjoints), " is example ", i,
                 "'s derivative (for instance ",
                 *[AtExample(adjoint_symbol(x)) for x in pe_nodes[-1:]],
                 "), while a parameter's derivative is that of the cost: ",
                 *_listed([sp.Eq(adjoint_symbol(p), Total(graph.output, p), evaluate=False)
                           for p in params]), "."]
        s.blocks.append(Paragraph(tuple(intro), scope="batch"))
        if coupled:
            adjoints = [adjoint_symbol(stacked.get(v, v)) for v in coupled]
            s.blocks.append(Paragraph((
                "The batch statistics couple the examples, so ", *_listed(adjoints, " and "),
                " are not stacked per-example derivatives: each is ", M, " times the "
                "derivative of the cost, that is the derivative of the sum of every "
                "example's loss (column ", i, " of a stacked one collects what example ", i,
                "'s value contributes to all the losses through the statistics). A "
                "statistic's derivative sums over the examples that read it.",),
                scope="batch", own=True))

        sub = Section(("The backward pass on whole matrices",), level=2)
        sub.blocks.append(Paragraph((
            "The same sweep as for one example, on all columns at once; the local partial "
            "derivatives are those derived above, entry by entry. The loss of each example "
            "has derivative 1, as before.",)))
        for var, step in steps.items():
            if var == loss or var in graph.leaves:
                continue
            sub.blocks.append(Equations(self.chain_lines(step, graph, steps, "batch"),
                                        scope="batch"))
        s.blocks.append(sub)

        avg = Section(("Averaging over the examples",), level=2)
        avg.blocks.append(Paragraph((averaging(self.model),)))
        for p in graph.leaves:
            if p in steps and p not in self.pe.coupled:
                avg.blocks.append(Equations(self.average_lines(p, stacked), scope="batch"))
        direct = [p for p in graph.leaves if p in steps and p in self.pe.coupled]
        if direct:
            avg.blocks.append(Paragraph((
                *_listed(direct, " and "), " reach" + ("es" if len(direct) == 1 else "") +
                " the cost through the batch statistics, so the derivative is no mean of "
                "per-example derivatives: the chain rule over the ", M,
                " examples gives it directly."), own=True))
        for p in direct:
            avg.blocks.append(Equations(self.chain_lines(steps[p], graph, steps, "batch"),
                                        scope="batch"))
        s.blocks.append(avg)
        return s

    def average_lines(self, p, stacked) -> list[Line]:
        graph, steps = self.batch, self.d.batch_steps
        t = sp.Dummy("t")
        # a layer has no cost of its own: the model's is the mean of the losses
        # (plus its penalty, layers.penalty, where the stack has one)
        cost = (self.model.cost.expr.replace(lambda e: isinstance(e, mean), lambda e: t)
                if self.model.cost is not None else t + getattr(self.model, "penalty", 0))
        coeff, rest = sp.diff(cost, t), cost.subs(t, 0)
        adj = adjoint_symbol(p)
        pe_steps = self.d.per_example_steps
        pe_result = self._named(pe_steps[p], pe_steps)
        direct = sp.Add(*[c.expr for c in backprop(rest, sp.Integer(1), self._shapes(graph))
                          if c.var == p]) if rest.has(p) else sp.Integer(0)
        first = coeff * ExampleSum(adj) / M + (PartialOf(rest, p) if rest.has(p) else 0)
        second = coeff * ExampleSum(pe_result) / M + direct
        rule = ("the derivative of a sum is the sum of the derivatives",)
        lines = [Line(adj, first, rule),
                 Line(None, second, ("the result for one example",) +
                      ((", derivative of the other term",) if rest.has(p) else ()))]
        result = steps[p].result
        closed = {st.adjoint: st.result for st in steps.values()
                  if not (st.result.free_symbols & {s.adjoint for s in steps.values()})}
        inlined = result.xreplace(closed)
        used = [a for a in sorted(result.free_symbols & set(closed), key=str)]
        columns = ("stack the examples as columns",)
        if inlined != result:
            lines.append(Line(None, inlined, columns))
            lines.append(Line(None, result, (
                "with ", *_listed([sp.Eq(a, closed[a], evaluate=False) for a in used]))))
        else:
            lines.append(Line(None, result, columns))
        return lines

    @staticmethod
    def _shapes(graph):
        shapes = dict(graph.shapes)
        for s, _ in graph.nodes:
            shapes[adjoint_symbol(s)] = shapes[s]
        for s in graph.leaves:
            shapes[adjoint_symbol(s)] = shapes[s]
        return shapes

    # -- updates --

    def update_section(self) -> Section:
        graph = self.batch if self.batch is not None else self.pe
        steps = self.d.batch_steps if self.batch is not None else self.d.per_example_steps
        scope = "batch" if self.batch is not None else "example"
        params = [p for p in graph.leaves if p in steps]
        s = Section(("The updates",))
        s.blocks.append(Paragraph(("Gradient descent with learning rate ", self.alpha,
                                   " repeats, for every parameter:",)))
        updates = [Line(p, sp.Add(p, -Times(self.alpha, adjoint_symbol(p)), evaluate=False),
                        relation=":=") for p in params]
        s.blocks.append(Equations(updates, scope=scope))
        s.blocks.append(Paragraph(("with the derivatives found above:",)))
        s.blocks.append(Equations([Line(adjoint_symbol(p), steps[p].result)
                                   for p in params], scope=scope))
        if self.batch is not None:
            from .teaching import decay_blocks

            s.blocks += decay_blocks(self.model, graph, steps, self.alpha)
        return s


def backprop_order(steps, graph) -> list:
    """The steps as backpropagation takes them: each node, then at once the parameters that
    only it reads (dz2, then dW2 and db2, then da1, ...)."""
    leaves = set(graph.leaves)
    out, done = [], set()
    for var, step in steps.items():
        if var in leaves:
            continue
        out.append(step)
        done.add(var)
        for p, st in steps.items():
            if p in leaves and p not in done and {c.consumer for c in st.contributions} == {var}:
                out.append(st)
                done.add(p)
    out += [st for v, st in steps.items() if v not in done]
    return out


def domain_relation(symbol, domain):
    """Where ``symbol`` lies, as one relation: delta > 0, eps in (0, 1), k in Z."""

    def number(value):
        return sp.Integer(int(value)) if float(value).is_integer() else sp.Float(value)

    low, high = domain.low, domain.high
    if domain.integer:
        whole = sp.Integers if low is None else sp.Range(
            int(number(low)) + domain.low_open, sp.oo if high is None
            else int(number(high)) + 1 - domain.high_open)
        return sp.Contains(symbol, whole, evaluate=False)
    if high is None and low is not None:
        return (sp.StrictGreaterThan if domain.low_open else sp.GreaterThan)(symbol, number(low))
    if low is None and high is not None:
        return (sp.StrictLessThan if domain.high_open else sp.LessThan)(symbol, number(high))
    if low is None:
        return sp.Contains(symbol, sp.Reals, evaluate=False)
    return sp.Contains(symbol, sp.Interval(number(low), number(high), domain.low_open,
                                           domain.high_open), evaluate=False)


def named_after(adjoint):
    """The variable whose derivative ``adjoint`` is: dz -> z."""
    return sp.Symbol(adjoint.name[len(naming.adjoint("")):], real=True)


def _defined_op(expr, var):
    """The operation defined by a formula (softmax) through which ``var`` enters ``expr``."""
    for op in sp.preorder_traversal(expr):
        if isinstance(op, Structural) and hasattr(op, "definition") and op.has(var):
            return op
    return None


def _node_form(expr, nodes, shapes):
    """``expr`` in node variables, with the sums' constants taken out, until nothing changes:
    e^z sum(-da e^z / sum(e^z)^2) -> -a sum(a da)."""
    for _ in range(5):
        new = to_node_variables(tidy_sums(to_node_variables(expr, nodes), shapes), nodes)
        if new == expr:
            break
        expr = new
    return expr


def _distributed(expr, nodes):
    """A sum of fractions times a factor, the factor taken into each term and cancelled:
    (-y/a + (1-y)/(1-a)) a(1-a) -> -y(1-a) + (1-y)a."""
    factors = sp.Mul.make_args(expr)
    sums = [f for f in factors if f.is_Add and any(sp.fraction(t)[1] != 1 for t in f.args)]
    if len(sums) != 1:
        return expr
    rest = sp.Mul(*[f for f in factors if f is not sums[0]])
    return sp.Add(*[sp.factor(sp.cancel(t * rest)) for t in sums[0].args])


def _factor_out(expr):
    """A factor common to every term taken out (a da - a sum(a da) -> a (da - sum(a da))),
    with the structural parts left whole."""
    masked, unmask = mask(expr)
    factored = sp.factor_terms(masked)
    if factored == masked or not factored.is_Mul:
        return expr
    return factored.xreplace(unmask)


def _tidy(expr):
    """Drop factors 1 from explicit products."""
    return expr.replace(lambda e: isinstance(e, Times), lambda e: times(*e.args))


def _evaluate(expr):
    """An explicit product multiplied out, as SymPy writes it."""
    return expr.replace(lambda e: isinstance(e, Times), lambda e: sp.Mul(*e.args))


def build_plain(derivation) -> Proof:
    """Lay out the derivation of a model without repeated layers as a :class:`Proof` (not yet
    checked: see :mod:`symgrad.proof.line_check`)."""
    b = _Builder(derivation)
    model = derivation.model
    from . import teaching

    sections = [b.model_section(), b.graph_section(), b.example_section()]
    sections[-1].blocks += teaching.slow_sigmoid_blocks(b.pe, derivation.per_example_steps)
    sections[-1].blocks += teaching.poisson_blocks(model, b.pe)
    if b.batch is not None:
        sections.append(b.batch_section())
    if b.batch is not None or model.inputs:
        sections.append(b.update_section())
    else:
        sections[-1].blocks += teaching.no_examples_blocks(model)
    table = teaching.check_table(derivation)
    if table is not None:
        sections.append(table)
    return Proof(derivation, model.title, model.source or model.name, sections, b.alpha)


__all__ = ["backprop_order", "build_plain", "domain_relation"]
