"""Models and their computation graphs.

A :class:`Model` holds what a spec declares (dims, inputs, parameters, hyperparameters, the
graph's nodes in order, the cost). From it come two :class:`Graph` objects that the reverse sweep
(``chain.py``) walks: the per-example graph (output: the loss ``L``, or the output itself for a
model without examples) and the batch graph over m examples (output: the cost ``J``), in which
every per-example quantity is stacked as columns (``z`` -> ``Z``). A batch statistic (a node
``mu = batch_mean(z)``: the mean of a per-example quantity over the batch) is the same for every
example and keeps its name over m examples (``rowsum(Z)/m``, broadcast over the columns); it
couples the examples, so one example's graph treats it as given and takes no derivative through
it (see :meth:`Model.per_example_graph`). A constant (``[constants]``:
an input that is the same for every example, such as attention keys) is a leaf of any shape
that keeps its name and shape in both graphs, like a parameter, but takes no gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

import sympy as sp

from . import naming
from .domains import LABEL_DOMAINS, REAL, VECTOR_ONLY, Domain, hyperparameter
from .errors import SpecError
from .extensions import Extensible
from .layers import build_stacked, unroll
from .limits import MAX_NAMES, MAX_NODES, dimension
from .ops import (
    ELEMENTWISE,
    Structural,
    batch_mean,
    clip,
    colsum,
    matmul,
    rowsum,
    softmax,
    total,
    transpose,
)
from .parse import parse, syntax_tree
from .shapes import SCALAR, describe, shape_of

M = sp.Symbol("m", positive=True, integer=True)  # the number of examples
# the spec's table for each role
SECTIONS = {"input": "inputs", "label": "labels", "constant": "constants",
            "parameter": "parameters", "hyperparameter": "hyperparameters", "node": "graph",
            "cost": "cost"}


class mean(Structural):
    """``mean(L)`` in a cost: the average of a per-example node over the m examples."""

    nargs = 1


@dataclass(frozen=True)
class Variable:
    name: str
    role: str  # "input" (labels and constants too), "parameter", "hyperparameter", "node", "cost"
    type: str  # as written: "scalar", "vector(n_x)", "binary", ...; for nodes, inferred
    shape: tuple  # per example
    description: str = ""
    domain: Domain = REAL  # where its values lie (inputs, labels, hyperparameters)
    label: bool = False  # an input that is a label: what the loss compares against
    default: float | None = None  # a hyperparameter's value where none is given
    constant: bool = False  # an input that is the same for every example (never stacked)
    keep: str = ""  # a dropout's keep-mask (a hidden input): its keep probability's name

    @property
    def mask(self) -> bool:
        """A keep-mask of dropout(u, keep_prob): an input that nobody gives, drawn in training."""
        return bool(self.keep)

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, real=True)


@dataclass(frozen=True)
class Node:
    name: str
    expr: sp.Expr  # the forward expression, per example (text as typed reaches no output)
    line: int | None = None


@dataclass
class Graph:
    """What the reverse sweep needs: nodes in topological order, the output, shapes."""

    nodes: list[tuple[sp.Symbol, sp.Expr]]
    output: sp.Symbol
    shapes: dict
    leaves: list[sp.Symbol]  # parameters whose adjoints are wanted
    binary: frozenset = frozenset()  # symbols known to lie in {0, 1}
    onehot: frozenset = frozenset()  # symbols whose columns sum to 1 (one-hot, probability)
    domains: dict = field(default_factory=dict)  # leaf symbol -> Domain, where not all reals
    seed: sp.Expr = sp.Integer(1)  # the output's adjoint
    leaf_scale: sp.Expr = sp.Integer(1)  # factor applied to the parameters' adjoints
    inputs: list = field(default_factory=list)  # inputs whose adjoints are wanted (a block's)
    # a term of the cost that reads the leaves directly, outside the graph (a layer's L2
    # penalty, summed over the layers): its derivative adds to theirs
    penalty: sp.Expr = sp.Integer(0)
    # symbols read by a batch statistic, in one example's graph of a model with statistics:
    # they have no per-example derivative (the sweep derives none)
    coupled: frozenset = frozenset()


@dataclass
class Model(Extensible):
    """A model: built by :func:`symgrad.load` from a spec file, or in Python with :meth:`build`.

    >>> model = Model.build("tiny", parameters={"a": "scalar", "b": "scalar"},
    ...                     graph={"u": "a*b"}, cost={"J": "3*u"})
    >>> model.derive().per_example["da"]
    3*b
    """

    name: str
    title: str
    dims: dict[str, str]
    variables: dict[str, Variable]
    nodes: list[Node]
    cost: Node
    source: str | None = None
    lines: dict = field(default_factory=dict, repr=False)
    output: str | None = None  # a block's output node (a block has no cost)
    stack: object = None  # a layers.Stack for a model with repeated layers
    depth: int | None = None  # the number of layers it is unrolled to
    description: str = ""  # free text: what the model is, where it comes from (a citation)
    # a model of scalars: a value for each leaf ([example]), where a proof evaluates its graph
    example: dict = field(default_factory=dict)  # name -> sp.Rational

    # ----- construction -----

    @classmethod
    def build(cls, name, *, title="", description="", dims=None, inputs=None, parameters=None,
              hyperparameters=None, graph=None, cost=None, source=None, lines=None,
              layers=None, output=None, labels=None, constants=None,
              example=None) -> Model:
        """Build a model from plain dicts, as a spec file gives them.

        ``labels`` declares the labels (what the loss compares against) apart from the other
        inputs; without it, an input whose type is a label's (``binary``, ``onehot(n)``,
        ``count``, ...) is a label, and failing that an input that only the loss reads.

        ``constants`` declares inputs that are the same for every example of a batch (keys
        given with the data, a temperature): data, not parameters, never stacked over the
        examples; their types are the inputs' and ``matrix(n, k)``.

        ``layers`` (a dict like a spec's ``[layers]`` table) declares repeated layers: the
        model is then the stack unrolled to its default depth (see :mod:`symgrad.model.layers`).
        ``output`` names a block's output node instead of a cost.

        ``example`` (a model of scalars only) gives every input and parameter a number: the
        point where a proof writes the graph's values and derivatives, as a lecture does
        (``a = 5, b = 3, c = 2`` for J = 3(a + bc)).
        """
        lines = lines or {}
        if not naming.is_valid(name):
            found = repr(name) if isinstance(name, str) else f"a {type(name).__name__}"
            raise SpecError(f"expected a name of letters, digits and _, starting with a letter "
                            f"(such as logistic_regression), found {found}", file=source,
                            line=lines.get((None, "name")), key="name")
        if layers is not None:
            if example is not None:
                raise SpecError("[example] needs a model of scalars; this one has repeated "
                                "layers", file=source, line=lines.get((None, "example")),
                                key="example")
            return build_stacked(cls, name, title=title, description=description, dims=dims,
                                 inputs=inputs,
                                 labels=labels, parameters=parameters,
                                 hyperparameters=hyperparameters, graph=graph, cost=cost,
                                 source=source, lines=lines, layers=layers, constants=constants)

        def where(section, key):
            return {"file": source, "line": lines.get((section, key)), "key": f"{section}.{key}"}

        _check_size(dims, {**_table(inputs), **_table(labels), **_table(constants)}, parameters,
                    hyperparameters, graph, source, lines)
        dims = {str(k): str(v) for k, v in (dims or {}).items()}
        for d in dims:
            if not naming.is_valid(d):
                raise SpecError(f"'{d}' is not a valid dimension name", **where("dims", d))
            if d in naming.RESERVED:
                raise SpecError(f"'{d}' is reserved for the number of examples",
                                **where("dims", d))
        variables: dict[str, Variable] = {}
        for role, table in (("input", inputs), ("label", labels), ("constant", constants),
                            ("parameter", parameters), ("hyperparameter", hyperparameters)):
            section = SECTIONS[role]
            if table is not None and not isinstance(table, dict):
                raise SpecError(f"'{section}' must be a table ([{section}])", file=source,
                                key=section)
            for key, text in (table or {}).items():
                for var in (k.strip() for k in str(key).split(",")):
                    if not var:
                        continue
                    _check_new_name(var, variables, dims, **where(section, key))
                    try:
                        if role == "hyperparameter":
                            domain, default, about = hyperparameter(text)
                            variables[var] = Variable(var, role, "scalar", SCALAR, about,
                                                      domain=domain, default=default)
                            continue
                        shape, type_, domain = _parse_type(text, dims, role)
                    except SpecError as err:
                        raise err.located(**where(section, key)) from None
                    variables[var] = Variable(var, "input" if role in ("label", "constant")
                                              else role, type_, shape, domain=domain,
                                              label=role == "label", constant=role == "constant")
        if not graph and not cost:
            raise SpecError("the spec has no [graph] and no [cost]", file=source)
        nodes = []
        for key in graph or {}:
            _check_new_name(key, variables, dims, **where("graph", key))
            variables[key] = Variable(key, "node", "", SCALAR)  # shape known after parsing
        if output is None and (not cost or len(cost) != 1):
            raise SpecError("[cost] must have exactly one key: the final output",
                            file=source, line=lines.get(("cost", None)), key="cost")
        model = cls(name=name, title=title or name, dims=dims, variables=variables, nodes=nodes,
                    cost=None, source=source, lines=lines, output=output,
                    description=description)
        texts = dict(graph or {})
        for key in _topological(texts, variables, source, lines):
            masks = len(model.masks)
            expr = model._parse(texts[key], where("graph", key), cost=False)
            if len(model.masks) > masks:
                _check_dropout(texts[key], len(model.masks) - masks, where("graph", key))
            model._check_statistic(expr, where("graph", key))
            try:
                shape = shape_of(expr, model.shapes)
            except SpecError as err:
                raise err.located(**where("graph", key)) from None
            variables[key] = Variable(key, "node", describe(shape), shape)
            nodes.append(Node(key, expr, lines.get(("graph", key))))
        if output is not None:
            return model
        (cost_name, cost_text), = cost.items()
        _check_new_name(cost_name, variables, dims, **where("cost", cost_name))
        expr = model._parse(cost_text, where("cost", cost_name), cost=True)
        model.cost = Node(cost_name, expr, lines.get(("cost", cost_name)))
        variables[cost_name] = Variable(cost_name, "cost", "scalar", SCALAR)
        model._check_cost(where("cost", cost_name))
        if labels is None:
            model._find_labels()
        if example is not None:
            model.example = example_values(example, model, lines)
        return model

    def _find_labels(self) -> None:
        """Without a [labels] table: the inputs of a label's type are the labels, and failing
        those, an input that only the loss reads (``y`` in ``L = (a - y)**2/2``)."""
        given = [v for v in self.inputs if not v.mask]
        typed = [v for v in given if v.type.split("(")[0] in LABEL_DOMAINS]
        loss = self.loss
        if not typed and loss is not None:
            typed = [v for v in given if [n.name for n in self.nodes
                                                if v.symbol in n.expr.free_symbols] == [loss.name]]
        for v in typed:
            self.variables[v.name] = replace(v, label=True)

    def _parse(self, text, where, *, cost) -> sp.Expr:
        names = {"pi": sp.pi, **{n: v.symbol for n, v in self.variables.items()}}
        if cost:
            names["m"] = M
        functions = dict(ELEMENTWISE)
        functions["sum"] = self._sum
        functions["softmax"] = softmax
        functions["clip"] = self._clip
        if cost:
            functions["mean"] = mean
            functions["batch_mean"] = _statistic_in_cost
        else:
            functions["dropout"] = self._dropout
            functions["batch_mean"] = batch_mean
        try:
            expr = parse(text, names=names, functions=functions, matmul=self._matmul,
                         transpose=self._transpose,
                         exponents=[v.name for v in self.hyperparameters])
        except SpecError as err:
            raise err.located(**where) from None
        if not cost and expr.is_number:  # a node that is a number: log(c) could be log(0)
            raise SpecError(f"the node is the constant {expr}; expected an expression of the "
                            "inputs and parameters (write a number where it is used)", **where)
        return expr

    def _check_statistic(self, expr, where):
        """A node that uses ``batch_mean`` is exactly ``batch_mean(u)`` of a per-example u."""
        uses = expr.atoms(batch_mean)
        if not uses:
            return
        if self.output is not None or self.stack is not None:
            raise SpecError("batch_mean(...) is not available in [layers]; write the layers out "
                            "in [graph]", **where)
        if not isinstance(expr, batch_mean):
            raise SpecError(f"batch_mean(...) must be a node's whole expression, found "
                            f"'{expr}'; expected a node of its own, such as mu = "
                            "\"batch_mean(z)\", used by name", **where)
        (arg,) = expr.args
        if arg.atoms(batch_mean):
            raise SpecError("batch_mean(...) inside batch_mean(...); expected the statistic "
                            "as a node of its own, used by name", **where)
        if not arg.free_symbols & self.per_example_symbols:
            raise SpecError(f"batch_mean({arg}) of a quantity that is the same for every "
                            "example; expected the mean of a per-example quantity (an input "
                            "or a node that depends on one)", **where)

    def _matmul(self, left, right):
        (r1, c1), (r2, c2) = shape_of(left, self.shapes), shape_of(right, self.shapes)
        if c1 == 1 and c2 == 1 and (r1, r2) != (1, 1):  # two column vectors: inner product
            if r1 != r2:
                raise SpecError(f"shape mismatch: {describe((r1, c1))} @ {describe((r2, c2))}")
            return matmul(transpose(left), right)
        if c1 != r2:
            raise SpecError(f"shape mismatch: {describe((r1, c1))} @ {describe((r2, c2))}")
        return matmul(left, right)

    def _dropout(self, u, keep_prob):
        """``dropout(u, keep_prob)``: inverted dropout, ``D * u / keep_prob`` with D a new
        binary input of u's shape, the keep-mask (named by :func:`naming.mask`): the generated
        code draws it in training (1 with probability keep_prob) and takes the identity at
        predict; the derivation treats it as any other input, a constant."""
        var = self.variables.get(str(keep_prob)) if isinstance(keep_prob, sp.Symbol) else None
        if var is None or var.role != "hyperparameter" or var.domain.name != "(0, 1]":
            if keep_prob.is_number:  # numbers are exact rationals by now: shown as written
                keep_prob = f"{float(keep_prob):g}"
            raise SpecError(f"dropout's keep probability '{keep_prob}' must be a hyperparameter "
                            "with domain \"(0, 1]\", such as keep_prob = { default = 0.8, "
                            'domain = "(0, 1]" }')
        shape = shape_of(u, self.shapes)
        if shape[1] != 1 or not u.free_symbols & self.per_example_symbols:
            raise SpecError(f"dropout's argument '{u}' must be a per-example scalar or vector, "
                            f"it is {describe(shape)}")
        name = naming.mask("" if self.output is not None else len(self.masks) + 1)
        taken = self.variables.get(name) or next(
            (v for v in self.variables.values() if naming.stacked(v.name) == naming.stacked(name)
             or name in naming.generated(v.name)), None)
        if taken is not None:
            raise SpecError(f"'{taken.name}' is taken by the keep-mask '{name}' of dropout(...), "
                            "which symgrad names itself; rename it")
        rows = shape[0]
        type_ = "binary" if shape == SCALAR else f"binary({rows})"
        self.variables[name] = Variable(name, "input", type_, shape, domain=LABEL_DOMAINS[
            "binary"], keep=var.name)
        return self.variables[name].symbol * u / keep_prob

    def _transpose(self, arg):
        """``A.T`` of a parameter, a constant or an expression of them (``W.T @ h``); the
        transpose of a per-example quantity would mean something else over m examples."""
        if arg.free_symbols & self.per_example_symbols:
            raise SpecError(f"'.T' of '{arg}', which changes with the example, is not "
                            "allowed; expected .T of parameters and constants (write the "
                            "inner product of two vectors u @ v)")
        if isinstance(arg, transpose):
            return arg.args[0]
        if shape_of(arg, self.shapes) == SCALAR:
            return arg
        return transpose(arg)

    def _clip(self, u, lo, hi):
        """``clip(u, lo, hi)`` with bounds that are numbers or expressions of the
        hyperparameters, ``lo <= hi`` where both are numbers (the generated code checks the
        hyperparameters' values when it runs)."""
        hyper = {v.symbol for v in self.hyperparameters}
        for name, bound in (("lo", lo), ("hi", hi)):
            other = sorted(map(str, bound.free_symbols - hyper))
            if other or bound.has(Structural):
                what = f"'{other[0]}'" if other else f"'{bound}'"
                raise SpecError(f"clip's bound {name} depends on {what}; expected a number or "
                                "an expression of the hyperparameters")
        if lo.is_number and hi.is_number and bool(lo > hi):
            raise SpecError(f"clip's bounds are in the wrong order: lo = {lo} is above "
                            f"hi = {hi}; expected lo <= hi")
        return clip(u, lo, hi)

    def _sum(self, arg):
        shape = shape_of(arg, self.shapes)
        if shape[1] == 1 and arg.free_symbols & self.per_example_symbols:
            return colsum(arg)  # per example a vector's sum; over m examples, one per column
        return total(arg)

    def _check_cost(self, where):
        per_example = self.per_example_symbols
        if self.statistics and self.loss is None:
            raise SpecError(f"batch statistic '{sorted(self.statistics, key=str)[0]}' in a "
                            "model without examples; batch_mean(...) needs a cost "
                            "mean(L) over m examples", **where)
        for m_ in self.cost.expr.atoms(mean):
            (arg,) = m_.args
            if not isinstance(arg, sp.Symbol) or self.variables[arg.name].role != "node":
                raise SpecError("mean(...) takes one per-example node of the graph, such as "
                                "mean(L)", **where)
            if self.shapes[arg] != SCALAR:
                raise SpecError(f"mean({arg}) needs a scalar loss, {arg} is "
                                f"{describe(self.shapes[arg])}", **where)
        rest = self.cost.expr.replace(lambda e: isinstance(e, mean), lambda e: sp.Integer(0))
        bad = rest.free_symbols & per_example
        if bad:
            raise SpecError(f"per-example quantity '{sorted(map(str, bad))[0]}' appears in the "
                            "cost outside mean(...)", **where)
        try:
            shape = shape_of(rest, self.shapes)
        except SpecError as err:
            raise err.located(**where) from None
        if shape != SCALAR:
            raise SpecError(f"the cost must be a scalar, it is {describe(shape)}", **where)

    # ----- views -----

    def where(self, name: str) -> dict:
        """The file, line and key of the spec entry that declares ``name``, for a SpecError.

        >>> model = Model.build("tiny", parameters={"a": "scalar"}, graph={"u": "2*a"},
        ...                     cost={"J": "3*u"})
        >>> model.where("u")
        {'file': None, 'line': None, 'key': 'graph.u'}
        """
        var = self.variables.get(name)
        section = SECTIONS.get("constant" if var.constant else var.role) if var else None
        sections = (section, f"layers.{section}") if section else ()
        declared = [(s, key) for s, key in self.lines
                    if s and key and name in (k.strip() for k in key.split(","))]
        declared.sort(key=lambda entry: entry[0] not in sections)  # the role's own table first
        if declared:
            return {"file": self.source, "line": self.lines[declared[0]],
                    "key": ".".join(declared[0])}
        return {"file": self.source, "line": None,
                "key": f"{section}.{name}" if section else name}

    @property
    def symbols(self) -> dict[str, sp.Symbol]:
        return {n: v.symbol for n, v in self.variables.items()}

    @property
    def shapes(self) -> dict:
        return {M: SCALAR, **{v.symbol: v.shape for v in self.variables.values()}}

    def of_role(self, role) -> list[Variable]:
        return [v for v in self.variables.values() if v.role == role]

    @property
    def inputs(self):
        """The per-example inputs, labels among them (not the constants)."""
        return [v for v in self.of_role("input") if not v.constant]

    @property
    def masks(self):
        """The keep-masks of the dropouts, in order: inputs that the generated code draws."""
        return [v for v in self.inputs if v.mask]

    def dropouts(self) -> list[tuple[Variable, Node, sp.Expr]]:
        """Each keep-mask with the node of its dropout (``a1 = d1*relu(z1)/keep_prob``) and
        what the node is at predict, the identity's argument (``relu(z1)``)."""
        out = []
        for v in self.masks:
            node = next(n for n in self.nodes if v.symbol in n.expr.free_symbols)
            keep = self.variables[v.keep].symbol
            out.append((v, node, node.expr.xreplace({v.symbol: keep})))
        return out

    @property
    def constants(self):
        """The inputs that are the same for every example of a batch ([constants])."""
        return [v for v in self.of_role("input") if v.constant]

    @property
    def parameters(self):
        return self.of_role("parameter")

    @property
    def arrays(self) -> list[str]:
        """The names of the variables that are vectors or matrices (the cost aside)."""
        return [n for n, v in self.variables.items()
                if v.role != "cost" and tuple(v.shape) != SCALAR]

    @property
    def hyperparameters(self):
        return self.of_role("hyperparameter")

    @property
    def labels(self):
        """The inputs that are labels: what the loss compares against."""
        return [v for v in self.inputs if v.label]

    @property
    def loss(self) -> Node | None:
        """The per-example node that the cost averages (None for a model without examples)."""
        if self.cost is None:
            return None
        means = list(self.cost.expr.atoms(mean))
        if not means:
            return None
        name = means[0].args[0].name
        return next(n for n in self.nodes if n.name == name)

    @property
    def per_example_symbols(self) -> set:
        """Inputs, and nodes that depend on them: the quantities that differ per example (a
        batch statistic does not: it is the same for every example of the batch)."""
        out = {v.symbol for v in self.inputs}
        for node in self.nodes:
            if node.expr.free_symbols & out and not isinstance(node.expr, batch_mean):
                out.add(sp.Symbol(node.name, real=True))
        return out

    @property
    def statistics(self) -> list[sp.Symbol]:
        """The batch statistics: nodes ``batch_mean(u)``, and the nodes computed from them
        alone (with parameters, constants, hyperparameters), in order."""
        out: list[sp.Symbol] = []
        per_example = self.per_example_symbols
        for node in self.nodes:
            symbol = sp.Symbol(node.name, real=True)
            if isinstance(node.expr, batch_mean) or (
                    symbol not in per_example and node.expr.free_symbols & set(out)):
                out.append(symbol)
        return out

    @property
    def coupled(self) -> set:
        """The symbols that some batch statistic reads, directly or through other nodes: they
        have no per-example derivative, since through the statistics each example's loss
        depends on every example's value of them."""
        exprs = {sp.Symbol(n.name, real=True): n.expr for n in self.nodes}
        out: set = set()
        todo = list(self.statistics)
        while todo:
            for s in exprs[todo.pop()].free_symbols:
                if s not in out:
                    out.add(s)
                    if s in exprs:
                        todo.append(s)
        return out - set(self.statistics)

    def stacked_names(self) -> dict[str, str]:
        """Per-example name -> its name stacked over m examples (z -> Z)."""
        return {s.name: naming.stacked(s.name) for s in self.per_example_symbols}

    def _assumed(self, kind, rename=None):
        """The inputs (renamed) that are binary (kind "binary") or whose columns sum to 1."""
        rename = rename or {}
        test = (lambda d: d.binary) if kind == "binary" else (lambda d: d.sums_to_one)
        return frozenset(sp.Symbol(rename.get(v.name, v.name), real=True)
                         for v in self.inputs if test(v.domain))

    def _domains(self, rename=None) -> dict:
        """Symbol (renamed) -> Domain, for the inputs, constants and hyperparameters not on all
        reals (a constant keeps its name: it is never stacked)."""
        rename = rename or {}
        return {sp.Symbol(rename.get(v.name, v.name), real=True): v.domain
                for v in self.of_role("input") + self.hyperparameters
                if not v.domain.is_real_line}

    def per_example_graph(self) -> Graph:
        """One example's graph. With batch statistics, they are given (not nodes: leaves that
        take no gradient), and the symbols they read (:attr:`coupled`) take no per-example
        derivative (``Graph.coupled``): only what lies after the statistics has one."""
        loss = self.loss
        statistics = set(self.statistics)
        nodes = [(sp.Symbol(n.name, real=True), n.expr) for n in self.nodes
                 if sp.Symbol(n.name, real=True) not in statistics]
        if self.output is not None:  # a block: its output's adjoint comes from outside
            output = sp.Symbol(self.output, real=True)
            return Graph(nodes=nodes, output=output, shapes=self.shapes,
                         leaves=[v.symbol for v in self.parameters],
                         binary=self._assumed("binary"), onehot=self._assumed("onehot"),
                         domains=self._domains(),
                         seed=sp.Symbol(naming.adjoint(self.output), real=True),
                         inputs=[v.symbol for v in self.inputs if not v.mask])
        if loss is None:
            nodes.append((sp.Symbol(self.cost.name, real=True), self.cost.expr))
            output = nodes[-1][0]
        else:
            output = sp.Symbol(loss.name, real=True)
        return Graph(nodes=_needed(nodes, output), output=output, shapes=self.shapes,
                     leaves=[v.symbol for v in self.parameters],
                     binary=self._assumed("binary"), onehot=self._assumed("onehot"),
                     domains=self._domains(), coupled=frozenset(self.coupled))

    def batch_graph(self) -> Graph | None:
        loss = self.loss
        if loss is None and self.output is None:
            return None
        rename = self.stacked_names()
        subs = {sp.Symbol(k, real=True): sp.Symbol(v, real=True) for k, v in rename.items()}
        shapes = {M: SCALAR}
        for var in self.variables.values():
            r, c = var.shape
            if var.name in rename:
                if c != 1:
                    raise SpecError(f"per-example quantity '{var.name}' must be a scalar or a "
                                    "vector to be stacked over m examples", file=self.source)
                shapes[subs[var.symbol]] = (r, M)
            else:
                shapes[var.symbol] = var.shape
        per_example = set(subs)

        def inner(e):  # u.T @ v of two per-example vectors: one per column, sum(U*V, axis=0)
            return (isinstance(e, matmul) and isinstance(e.args[0], transpose)
                    and e.args[0].args[0].free_symbols & per_example
                    and e.args[1].free_symbols & per_example)

        nodes = [(subs.get(sp.Symbol(n.name, real=True), sp.Symbol(n.name, real=True)),
                  n.expr.replace(inner, lambda e: colsum(e.args[0].args[0] * e.args[1]))
                  .xreplace(subs).replace(lambda e: isinstance(e, batch_mean),
                                          lambda e: rowsum(e.args[0]) / M))
                 for n in self.nodes]
        if self.output is not None:
            output = subs[sp.Symbol(self.output, real=True)]
            return Graph(nodes=nodes, output=output, shapes=shapes,
                         leaves=[v.symbol for v in self.parameters],
                         binary=self._assumed("binary", rename),
                         onehot=self._assumed("onehot", rename),
                         domains=self._domains(rename),
                         seed=sp.Symbol(naming.adjoint(output.name), real=True),
                         leaf_scale=1 / M,
                         inputs=[subs[v.symbol] for v in self.inputs if not v.mask])
        cost = self.cost.expr.replace(lambda e: isinstance(e, mean),
                                      lambda e: total(e.args[0].xreplace(subs)) / M)
        output = sp.Symbol(self.cost.name, real=True)
        shapes[output] = SCALAR
        nodes.append((output, cost))
        return Graph(nodes=_needed(nodes, output), output=output, shapes=shapes,
                     leaves=[v.symbol for v in self.parameters],
                     binary=self._assumed("binary", rename), onehot=self._assumed("onehot", rename),
                     domains=self._domains(rename), seed=M, leaf_scale=1 / M)

    def unrolled(self, depth: int) -> Model:
        """A model with [layers], unrolled to ``depth`` layers."""
        return unroll(self, depth)

    # derive, check and the notebook's _repr_svg_ are registered by symgrad/__init__.py, the
    # one module above every stage (model/extensions.py), so this one imports nothing above it.


def exact(number) -> sp.Rational:
    """A number as written (an int, a float, or text such as "0.1" or "1/3") as the exact
    rational it names: 0.1 is 1/10, not the float nearest it."""
    f = Fraction(repr(number)) if isinstance(number, float) else Fraction(number)
    return sp.Rational(f.numerator, f.denominator)


def example_values(table, model, lines=None) -> dict:
    """An ``[example]`` table checked: a finite number for each input and parameter, and
    optionally for hyperparameters (every variable a scalar), read exactly. Returns
    name -> sp.Rational."""
    lines, source = lines or {}, model.source
    if not isinstance(table, dict):
        raise SpecError("'example' must be a table ([example])", file=source, key="example")
    if model.arrays:
        raise SpecError(f"[example] needs a model of scalars; this one has arrays "
                        f"({', '.join(model.arrays[:3])})", file=source,
                        line=lines.get((None, "example")), key="example")
    leaves = [n for n, v in model.variables.items()
              if v.role in ("input", "parameter", "hyperparameter")]
    out = {}
    for key, value in table.items():
        where = {"file": source, "line": lines.get(("example", key)), "key": f"example.{key}"}
        if key not in leaves:
            raise SpecError(f"'{key}' is not an input or parameter; expected one of: "
                            f"{', '.join(leaves)}", **where)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            shown = repr(value) if isinstance(value, float) else f"a {type(value).__name__}"
            raise SpecError(f"expected a finite number, found {shown}", **where)
        out[key] = exact(value)
    missing = [n for n in leaves if n not in out and model.variables[n].role != "hyperparameter"]
    if missing:
        raise SpecError(f"[example] gives no value to {', '.join(missing)}; expected a number "
                        "for every input and parameter", file=source,
                        line=lines.get((None, "example")), key="example")
    return out


def _statistic_in_cost(arg):
    raise SpecError("batch_mean(...) in the cost; expected it in a node of [graph] (mu = "
                    "\"batch_mean(z)\"), and mean(...) for the cost's average over the examples")


def _table(table) -> dict:
    return table if isinstance(table, dict) else {}


def _needed(nodes, output):
    """The nodes the output depends on, in order."""
    needed = {output}
    for sym, expr in reversed(nodes):
        if sym in needed:
            needed |= expr.free_symbols
    return [(s, e) for s, e in nodes if s in needed]


def _check_dropout(text, count, where) -> None:
    """A node with dropout is dropout(u, keep_prob) as a whole (the generated code draws its
    mask in place and takes the identity at predict), with one dropout."""
    import ast

    top = syntax_tree(str(text)).body
    if count != 1 or not (isinstance(top, ast.Call) and isinstance(top.func, ast.Name)
                          and top.func.id == "dropout"):
        raise SpecError("dropout(...) must be the whole of its node, once: expected a node "
                        '"dropout(u, keep_prob)" (write u as a node of its own)', **where)


def _check_new_name(name, variables, dims, **where):
    if not naming.is_valid(name):
        raise SpecError(f"'{name}' is not a valid name (letters, digits, _; starting with a "
                        "letter)", **where)
    if name in naming.RESERVED:
        raise SpecError(f"'{name}' is reserved for the number of examples", **where)
    if name in ELEMENTWISE or name in ("sum", "mean", "softmax", "dropout", "batch_mean"):
        raise SpecError(f"'{name}' is the name of a function", **where)
    if name in variables or name in dims:
        raise SpecError(f"'{name}' is defined twice", **where)
    for other in variables:
        if naming.stacked(other) == naming.stacked(name):
            raise SpecError(f"'{name}' and '{other}' would both be '{naming.stacked(name)}' over "
                            "m examples", **where)
        if name in naming.generated(other) or other in naming.generated(name):
            derivative, of = (name, other) if name in naming.generated(other) else (other, name)
            raise SpecError(f"'{name}' clashes with the derivative '{derivative}' that symgrad "
                            f"names after '{of}'; rename it", **where)
    for shown in (name, naming.adjoint(name)):
        if naming.taken_by_sympy(shown):
            what = f"'{name}'" if shown == name else f"its derivative's name '{shown}'"
            raise SpecError(f"'{name}' cannot be a name: SymPy keeps {what} for itself "
                            "(sympify reads it as SymPy's, not as a symbol), so derivatives "
                            "printed with it would not read back; rename it", **where)


def _check_size(dims, inputs, parameters, hyperparameters, graph, source, lines):
    """Refuse a spec with too many nodes or names before any work that grows with them."""
    if isinstance(graph, dict) and len(graph) > MAX_NODES:
        raise SpecError(f"[graph] has {len(graph)} nodes; expected at most {MAX_NODES}",
                        file=source, line=lines.get(("graph", None)), key="graph")
    names = sum(len(str(key).split(",")) for table in (dims, inputs, parameters, hyperparameters,
                                                        graph) if isinstance(table, dict)
                for key in table)
    if names > MAX_NAMES:
        raise SpecError(f"the spec declares {names} names; expected at most {MAX_NAMES}",
                        file=source)


def _dim(text, dims):
    text = text.strip()
    size = dimension(text)
    if size is not None:
        return sp.Integer(size)
    if text in dims:
        return sp.Symbol(text, positive=True, integer=True)
    raise SpecError(f"unknown dimension '{text}'; expected a name from [dims] "
                    f"({', '.join(dims) or 'none declared'}) or a positive integer")


def _parse_type(text, dims, role):
    """(shape, type as shown, domain) of an input's, a label's or a parameter's type."""
    if not isinstance(text, str):
        raise SpecError(f"expected a type as a string, found {text!r}")
    t = text.replace(" ", "")
    kind, _, rest = t.partition("(")
    if kind in LABEL_DOMAINS and kind != "real" or (kind == "real" and role != "parameter"):
        if role == "parameter":
            raise SpecError(f"type '{text}' is for labels and inputs only")
        domain = LABEL_DOMAINS[kind]
        if not rest:
            if kind in VECTOR_ONLY:
                raise SpecError(f"type '{text}' needs its size: {kind}(n)")
            return SCALAR, kind, domain
        if not rest.endswith(")") or "," in rest:
            raise SpecError(f"unknown type '{text}'; expected {kind} or {kind}(n)")
        return (_dim(rest[:-1], dims), sp.Integer(1)), t, domain
    if t == "scalar":
        return SCALAR, t, REAL
    for prefix, n in (("vector(", 1), ("matrix(", 2)):
        if t.startswith(prefix) and t.endswith(")"):
            parts = t[len(prefix):-1].split(",")
            if len(parts) != n:
                break
            if n == 2 and role == "label":
                raise SpecError(f"a label is a scalar or a vector, not '{text}'")
            ds = [_dim(p, dims) for p in parts]
            return (ds[0], sp.Integer(1)) if n == 1 else tuple(ds), t.replace(",", ", "), REAL
    labels = ", ".join(f"{d}(n)" if d in VECTOR_ONLY else d for d in LABEL_DOMAINS)
    what = "a domain's" if role == "constant" else "a label's"
    raise SpecError(f"unknown type '{text}'; expected scalar, vector(n), matrix(n, k)"
                    + ("" if role == "parameter" else f", or {what}: {labels}"))


def _topological(texts, variables, source, lines):
    """Graph keys in an order where each node comes after the nodes it uses."""
    import ast

    deps = {}
    for key, text in texts.items():
        try:
            names = {n.id for n in ast.walk(syntax_tree(str(text))) if isinstance(n, ast.Name)}
        except SpecError:
            names = set()  # the parser reports the error with its location
        deps[key] = [n for n in names if n in texts]
    order, state = [], {}

    def visit(key, path):
        if state.get(key) == "done":
            return
        if state.get(key) == "active":
            cycle = " -> ".join(path[path.index(key):] + [key])
            raise SpecError(f"cycle in the graph: {cycle}", file=source,
                            line=lines.get(("graph", key)), key=f"graph.{key}")
        state[key] = "active"
        for d in deps[key]:
            visit(d, path + [key])
        state[key] = "done"
        order.append(key)

    for key in texts:
        visit(key, [])
    return order
