r"""Code for a model with ``[layers]``: forward and backward loop over the hidden layers.

A stacked model has two derivations (see :mod:`symgrad.model.layers`): the hidden layer's block,
derived once with the general index ``l``, and the stack unrolled to a fixed depth. The code
takes

* the hidden layers' forward and backward statements from the block
  (``dZ = dA * astype(Z > 0, Z.dtype)``, ``dW = dZ @ A_prev.T / m``, and
  ``dA_prev = W.T @ dZ``, which becomes the next layer's ``dA``), inside ``for layer in ...``;
* the output layer L and the cost from the unrolled derivation's last layer, its names
  written with the block's (``Z3`` -> ``Z``, ``A2`` -> ``A_prev``);

so the same code runs at any depth, read from the parameters it is given (``W1 .. WL``,
``b1 .. bL``), and nothing in it depends on the depth the spec shows (but the default sizes of
the hidden layers). ``backward`` returns the parameters' gradients alone: like hand-written
code, it lets each layer's ``dZ`` and ``dA`` go once the layer below has them.

Every statement is printed by :class:`~symgrad.printing.printers.NumpyPrinter` through the plain
builder's machinery (:class:`symgrad.code.context._Builder`): the same common-subexpression
elimination, stable costs and gradient shapes. ``symgrad verify`` checks the module against
the unrolled derivation at several depths.

>>> from symgrad import load
>>> layers = build_layers_context(load("derivations/deep_network.toml").derive()).layers
>>> for s in layers.hidden_backward.body + layers.hidden_backward.to_previous:
...     print(f"{s.target} = {s.code}")
dZ = dA * astype(Z > 0, Z.dtype)
dW = dZ @ A_prev.T / m
db = xp.sum(dZ, axis=1, keepdims=True) / m
dA = W.T @ dZ
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._version import __version__
from ..calculus.chain import adjoint_symbol
from ..calculus.derivation import derive
from ..model import naming
from ..model.errors import SpecError
from ..model.escape import python_string
from ..model.graph import M
from ..model.layers import PREVIOUS, PREVIOUS_UNITS, UNITS
from ..printing.printers import batch_str, example_str
from .context import (
    RANDOM_SCALE,
    TEMPLATE_NAMES,
    CodeContext,
    Function,
    Layer,
    LayerParameter,
    Layers,
    Statement,
    _Builder,
    _hyperparameter_text,
    _size_text,
    _wrap_comment,
    _wrap_text,
    gradient_form,
    gram_weights,
    hyperparameter_fields,
    refuse_taken,
    title_lines,
)

MODEL_TEMPLATE = "model_layers.py.jinja"
# Units of the hidden layers for train() without params: the course's four-layer network
# [n_x, 20, 7, 5, 1], cut to the spec's depth (further layers get the last size).
HIDDEN_UNITS = (20, 7, 5)
# Names the layers' module defines or uses besides the plain module's.
LAYER_NAMES = frozenset({
    "grads", naming.DEPTH, naming.LAYER_INDEX, "LAYER_PARAMETERS", "HIDDEN_LAYERS",
    "hidden_layers", "layer_dims", "draw", "rng", naming.PENALTY,
})
COUNT = "len(params) // len(LAYER_PARAMETERS)"  # L, from the parameters given


def _symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _with_adjoints(names: dict) -> dict:
    """{old: new} names -> {Symbol: Symbol}, with their adjoints (dZ3 -> dZ)."""
    out = {}
    for old, new in names.items():
        out[_symbol(old)] = _symbol(new)
        out[_symbol(naming.adjoint(old))] = _symbol(naming.adjoint(new))
    return out


class _LayersBuilder(_Builder):
    def __init__(self, derivation):
        model = derivation.model
        self.default_depth = model.depth  # train() without params or layer_dims: this deep
        if model.depth < 2:  # the output layer reads a hidden layer's output, not x
            derivation = derive(model.unrolled(2))
        super().__init__(derivation)
        self.stack = stack = model.stack
        self.block = derivation.layer
        top = derivation.model.depth
        out = naming.stacked(stack.out)
        self.out, self.previous = _symbol(out), _symbol(naming.stacked(PREVIOUS))
        self.layer_params = [v.symbol for v in self.block.model.parameters]
        self.layer_nodes = [s for s, _ in self.block.batch_graph.nodes]
        block = self.block.model  # layer l's dropout mask, D (D1, D2, ... in the cache)
        self.layer_masks = {_symbol(naming.stacked(v.name)): block.variables[v.keep].symbol
                            for v in block.masks}
        # the unrolled output layer, in the block's names
        names = {naming.stacked(f"{n}{top}"): naming.stacked(n) for n in stack.output}
        names.update({f"{p}{top}": p for p in stack.parameters})
        names[naming.stacked(f"{stack.out}{top - 1}")] = self.previous.name
        self.generic = _with_adjoints(names)
        self.output_nodes = [_symbol(naming.stacked(n)) for n in stack.output]
        hidden = {_symbol(naming.stacked(f"{n}{k}")) for k in range(1, top) for n in stack.hidden}
        top_nodes = {_symbol(naming.stacked(f"{n}{top}")) for n in stack.output}
        params = {_symbol(f"{p}{k}") for k in range(1, top + 1) for p in stack.parameters}
        # the values of the layers below the output layer's input: the loop's alone
        self.lower = hidden - {_symbol(naming.stacked(f"{stack.out}{top - 1}"))}
        self.lower |= {_symbol(f"{p}{k}") for k in range(1, top) for p in stack.parameters}
        self.penalty = self._without_penalty(top) if stack.penalty else None
        self._check_tail(hidden | top_nodes | params, _symbol(naming.stacked(f"{stack.out}{top}")))
        self.top_forward = [(self.gen(s), self.gen(e)) for s, e in self.forward_nodes
                            if s in top_nodes]
        # the [graph] nodes after the last layer, and the cost
        self.tail_forward = [(self.gen(s), self.gen(e)) for s, e in self.forward_nodes
                             if s not in hidden | top_nodes]
        self.tail_cost = [(self.gen(s), self.gen(e)) for s, e in self.cost_nodes]
        self.graph_nodes = [s for s, _ in self.tail_forward]
        # docstrings and comments: W[l], A[l-1]; W[L], A[L-1]
        self.texts = {index: self._texts(index, previous)
                      for index, previous in (("l", "l-1"), ("L", "L-1"))}
        self._check_layer_names()

    def _without_penalty(self, top):
        """The penalty of layer l (layers.penalty), taken out of the unrolled cost, where it
        stands once for each layer 1 .. top: the code adds it up in a loop over the layers."""
        block = self.block.model
        expr = block._parse(self.stack.penalty, {"file": self.model.source}, cost=True)
        layers = sp.Add(*[expr.xreplace({v.symbol: _symbol(f"{v.name}{k}")
                                         for v in block.parameters})
                          for k in range(1, top + 1)])
        cost = self.ren(self.graph.output)
        self.nodes = [(s, e - layers if s == cost else e) for s, e in self.nodes]
        self.cost_nodes = [(s, e - layers if s == cost else e) for s, e in self.cost_nodes]
        return expr

    def gen(self, expr):
        """An expression of the unrolled output layer in the block's names."""
        expr = self.ren(expr).xreplace(self.generic)
        if expr.free_symbols & self.lower:  # _check_tail has refused such a spec
            raise AssertionError(f"{expr} reads a layer below the output layer's input")
        return expr

    def _check_tail(self, layer_values, last):
        """The [graph] nodes after the layers and the cost may read the last layer's output
        alone: a value of layer 2 means another thing in a network of another depth."""
        spec_name = {v: k for k, v in self.model.stacked_names().items()}  # A1 -> a1
        for s, e in self.nodes:
            if s in layer_values:
                continue
            numbered = sorted((e.free_symbols & layer_values) - {last}, key=str)
            if numbered:
                name = spec_name.get(numbered[0].name, numbered[0].name)
                raise SpecError(
                    f"'{s.name}' reads '{name}', a value of one layer by its number; "
                    "the generated code takes any number of layers, so the [graph] and the "
                    f"cost may read only the last layer's '{self.stack.out}'",
                    file=self.model.source)

    def _texts(self, index, previous) -> dict:
        names = {s.name: naming.layer_text(s.name, index) for s in
                 self.layer_nodes + self.output_nodes + self.layer_params + list(self.layer_masks)}
        names[self.previous.name] = naming.layer_text(self.out.name, previous)
        return _with_adjoints(names)

    def _check_layer_names(self):
        generic = {s.name for s in self.generic.values()}
        generic |= {s.name for s in self.layer_nodes + self.layer_params}
        generic |= {naming.adjoint(s.name) for s in self.layer_nodes + self.layer_params}
        stack = self.stack
        owners = {}  # a name in the code -> the spec's name it comes from: Z, dZ -> z
        for name in [*stack.hidden, *stack.output, PREVIOUS]:
            owners[naming.stacked(name)] = owners[naming.adjoint(naming.stacked(name))] = name
        for name in stack.parameters:
            owners[name] = owners[naming.adjoint(name)] = name
        tail = {v: k for k, v in self.model.stacked_names().items()}
        for s in self.graph_nodes:
            owners[s.name] = tail.get(s.name, s.name)
        refuse_taken(self.model, dict(sorted(owners.items())), TEMPLATE_NAMES | LAYER_NAMES)
        for s in self.graph_nodes:
            if s.name in generic:
                raise SpecError(f"the [graph] node '{s.name}' would share its name with a "
                                "layer's value in the generated code; rename it",
                                **self.model.where(owners[s.name]))
        for v in self.block.model.parameters:
            dims = {d.name for d in v.shape if d.is_Symbol}
            if v.type == "scalar" or not dims <= {UNITS, PREVIOUS_UNITS}:
                raise SpecError(f"codegen needs each layer's parameters sized by {UNITS} and "
                                f"{PREVIOUS_UNITS} alone; '{v.name}' is {v.type}",
                                **self.model.where(v.name))
        self.taken |= generic | LAYER_NAMES

    # ----- where the values come from -----

    def sources(self, index, *, cache=False, graph=False):
        """Loads for a layer at ``index`` (the code of its number: l, or depth)."""
        out = {p: f"params[{_key(p.name, index)}]" for p in self.layer_params}
        if cache:
            nodes = (self.output_nodes if index == naming.DEPTH
                     else self.layer_nodes + list(self.layer_masks))
            out.update({s: f"cache[{_key(s.name, index)}]" for s in nodes})
            out[self.previous] = (f"cache[{_key(self.out.name, f'{index} - 1')}] if {index} > 1 "
                                  "else X")
        if graph:
            out.update({s: f'cache["{s.name}"]' for s in self.graph_nodes})
        out[M] = f"{self.X.name}.shape[1]"
        return out

    # ----- forward -----

    def forward_layer(self, nodes, index) -> Layer:
        items = self.dropout_items(nodes, self.layer_masks)
        function = self.function(items, self.sources(index))
        stored = [s for s, e in nodes
                  for s in [s, *sorted(e.free_symbols & set(self.layer_masks), key=str)]]
        stores = [Statement(f"cache[{self._store_key(s, index)}]", s.name) for s in stored]
        return Layer(function.loads, function.body, tuple(stores))

    def _store_key(self, symbol, index):
        """Values of the [graph] nodes after the last layer are not a layer's: no index."""
        return python_string(symbol.name) if symbol in self.graph_nodes else _key(symbol.name,
                                                                                  index)

    # ----- the cost -----

    def cost_function(self) -> Function:
        from ..calculus.stable_forms import stable_form

        forward, cost = self.top_forward + self.tail_forward, self.tail_cost
        items = []
        for s, e in cost:
            stable, rules = stable_form(e, forward + cost)
            comments = ()
            if rules:
                comments = _wrap_comment(f"{s.name} = {self.text(e, 'L')}, rewritten to stay "
                                         "finite by")
                comments += tuple(f"    {rule}" for rule in rules)
            items.append((s, stable, comments, None))
        sources = self.sources(naming.DEPTH, cache=True, graph=True)
        function = self.function(items, sources)
        if self.penalty is not None:  # the loop over the layers needs depth and m
            loads = [s.target for s in function.loads]
            extra = [Statement(name, code) for name, code in ((M.name, sources[M]),)
                     if name not in loads]
            function = Function(function.loads + tuple(extra), function.body)
            if naming.DEPTH not in loads:
                function = Function((Statement(naming.DEPTH, COUNT),) + function.loads,
                                    function.body)
            return function
        return self._with_depth(function, sources)

    def penalty_layer(self) -> Layer | None:
        """The penalty of layer l, added to the cost inside a loop over the layers."""
        if self.penalty is None:
            return None
        target = _symbol(naming.PENALTY)
        comments = _wrap_comment(f"the penalty of layer l: {self.text(self.penalty, 'l')}", 8)
        function = self.function([(target, self.penalty, comments, None)],
                                 self.sources(naming.LAYER_INDEX))
        loads = tuple(s for s in function.loads if s.target != M.name)
        cost = self.cost_nodes[-1][0].name
        return Layer(loads, function.body, (Statement(cost, f"{cost} + {target.name}"),))

    def _with_depth(self, function, sources) -> Function:
        """``depth = ...`` before the loads that index a layer by it."""
        indexed = [s.code for s in function.loads if f"{{{naming.DEPTH}" in s.code]
        if not indexed:
            return function
        return Function((Statement(naming.DEPTH, COUNT),) + function.loads, function.body)

    def text(self, expr, index) -> str:
        return batch_str(expr.xreplace(self.texts[index]))

    # ----- backward -----

    def needed(self, steps) -> dict:
        """The steps that the layer's parameters' gradients and the layer below need."""
        adjoints = {step.adjoint for step in steps.values()}
        needed = {adjoint_symbol(p) for p in self.layer_params} | {adjoint_symbol(self.previous)}
        for step in reversed(list(steps.values())):
            if step.adjoint in needed:
                needed |= step.result.free_symbols & adjoints
        return {var: step for var, step in steps.items() if step.adjoint in needed}

    def backward_layer(self, steps, params, shapes, index, sources, indent) -> Layer:
        """A layer's backward statements; the gradient for the layer below apart."""
        below = adjoint_symbol(self.previous)
        main, previous = [], []
        for var, step in self.needed(steps).items():
            target, result = step.adjoint, step.result
            if var in params:
                comment = (f"{self.text(target, index)} = dJ/d{self.text(var, index)} = "
                           f"{self.text(result, index)}")
                result, wrap = gradient_form(var, result, shapes, False)
            else:
                comment = f"{self.text(target, index)} = {self.text(result, index)}"
                wrap = None
            (previous if target == below else main).append(
                (target, result, _wrap_comment(comment, indent + 4 * (target == below)), wrap))
        function = self.function(main + previous, sources)
        split = max(i for i, s in enumerate(function.body)
                    if s.target in {t.name for t, _, _, _ in main}) + 1
        body, to_previous = list(function.body[:split]), list(function.body[split:])
        if to_previous:  # the last statement is the gradient passed down: the next layer's dA
            last = to_previous[-1]
            to_previous[-1] = Statement(adjoint_symbol(self.out).name, last.code, last.comments)
        # only the parameters' gradients are kept: dZ and dA of every layer kept alive would
        # cost fresh memory for each (about a tenth of the time of a mid-sized network)
        stores = [Statement(f"grads[{_key(t.name, index_code(index))}]", t.name)
                  for t, _, _, _ in main if t in {adjoint_symbol(p) for p in params}]
        return Layer(function.loads, tuple(body), tuple(stores), tuple(to_previous))

    def output_steps(self) -> dict:
        """The unrolled sweep's steps for the output layer and after it, in the block's names."""
        return {self.gen(var): Step(self.gen(step.adjoint), self.gen(step.result))
                for var, step in self.derivation.batch_steps.items()
                if self.ren(var) not in self.lower | {self.X}}

    def output_backward(self) -> Layer:
        steps = self.output_steps()
        shapes = {self.gen(s): shape for s, shape in self._shapes().items()
                  if self.ren(s) not in self.lower}
        params = [self.gen(v.symbol) for v in self.params if v.symbol not in self.lower]
        sources = self.sources(naming.DEPTH, cache=True, graph=True)
        for p in params:
            if adjoint_symbol(p) not in {s.adjoint for s in steps.values()}:
                raise SpecError(f"the cost does not depend on the parameter '{p.name}'",
                                file=self.model.source)
        return self.backward_layer(steps, params, shapes, "L", sources, 4)

    def hidden_backward(self) -> Layer:
        graph = self.block.batch_graph
        shapes = dict(graph.shapes)
        for s in list(shapes):
            shapes[adjoint_symbol(s)] = shapes[s]
        sources = self.sources(naming.LAYER_INDEX, cache=True)  # dA: from the layer above
        return self.backward_layer(self.block.batch_steps, self.layer_params, shapes, "l",
                                   sources, 8)

    # ----- the context -----

    def layers(self) -> Layers:
        nodes = self.block.batch_graph.nodes
        hidden_forward = self.forward_layer(nodes, naming.LAYER_INDEX)
        output_forward = self.forward_layer(self.top_forward + self.tail_forward, naming.DEPTH)
        output_backward, hidden_backward = self.output_backward(), self.hidden_backward()
        parts = [hidden_forward, output_forward, output_backward, hidden_backward]
        parts, uses_m = _hoist(parts, M.name)
        top = self.default_depth
        hidden = HIDDEN_UNITS[:top - 1] + HIDDEN_UNITS[-1:] * max(0, top - 1 - len(HIDDEN_UNITS))
        m_load = (Statement(M.name, f"{self.X.name}.shape[1]"),)
        depth = Statement(naming.DEPTH, COUNT)
        return Layers(
            parameters=tuple(self._parameter(v) for v in self.block.model.parameters),
            units=UNITS, previous_units=PREVIOUS_UNITS, depth=naming.DEPTH, count=COUNT,
            index=naming.LAYER_INDEX, input=self.previous.name, output=self.out.name,
            hidden_sizes=hidden, hidden_text=",".join(map(str, hidden)),
            layer_dims_text=", ".join([f"{self.X.name}.shape[0]", *map(str, hidden),
                                       f"{self.Y.name}.shape[0]"]),
            grad_key=naming.adjoint("{name}"),
            keys_text=_keys_text(self.layer_params),
            cache_text=_keys_text(self.layer_nodes, [s for s, _ in self.tail_forward]),
            forward_loads=(depth,) + (m_load if uses_m[0] or uses_m[1] else ()),
            hidden_forward=parts[0], output_forward=parts[1],
            backward_loads=(depth,) + (m_load if uses_m[2] or uses_m[3] else ()),
            output_backward=parts[2], hidden_backward=parts[3],
            penalty=self.penalty_layer(),
        )

    def _parameter(self, v) -> LayerParameter:
        dims = [d.name if d.is_Symbol else str(int(d)) for d in v.shape]
        shape = "(" + ", ".join(python_string(d) if not d.isdigit() else d for d in dims) + ")"
        size = "(" + ", ".join(dims) + ")"
        matrix = all(not d.isdigit() for d in dims)  # a weight: drawn; a bias: zeros
        initial = f"draw({size}, {dims[1]})" if matrix else f"np.zeros({size}, dtype)"
        return LayerParameter(v.name, shape, initial)

    def docstring_layers(self, label) -> tuple[str, ...]:
        stack, model = self.stack, self.model
        out = title_lines(model)
        spec = (model.source or f"{model.name}.toml").replace("\\", "/").rsplit("/", 1)[-1]
        out += [""] + _wrap_text(
            f"Training by gradient descent in NumPy, generated by symgrad {__version__} from "
            f"{spec}: every gradient below was derived "
            f"with SymPy, the hidden layers' once for any layer l, and `symgrad verify {spec}` "
            "checks this code against the derivation at several depths and against finite "
            "differences. Regenerate the file rather than edit it.")
        x, y = self.feature_var, self.label_var
        a = stack.out
        out += [""] + _wrap_text(f"The model, per example (input {x.name}: {x.type}; label "
                                 f"{y.name}: {label.text}), in layers l = 1 .. L with "
                                 f"{naming.layer_text(a, '0')} = {x.name}:")
        # printed from the parsed trees (never as typed): layer l's block, layer L unrolled
        unrolled, top = self.derivation.model, self.derivation.model.depth
        nodes = {n.name: n.expr for n in unrolled.nodes}
        for title, layer, names in (
                ("hidden layers l = 1 .. L-1:",
                 [(n.name, n.expr) for n in self.block.model.nodes],
                 _layer_names(stack, "l", "", PREVIOUS)),
                ("output layer L:", [(f"{n}{top}", nodes[f"{n}{top}"]) for n in stack.output],
                 _layer_names(stack, "L", top, f"{a}{top - 1}"))):
            out.append(f"    {title}")
            for n, expr in layer:
                out += _wrap_text(f"{names[_symbol(n)]} = {example_str(expr.xreplace(names))}",
                                  "        ")
        last = {_symbol(f"{a}{top}"): _symbol(naming.layer_text(a, "L"))}
        for n in stack.tables.get("graph") or {}:
            out += _wrap_text(f"{n} = {example_str(nodes[n].xreplace(last))}", "    ")
        out += _wrap_text(f"{unrolled.cost.name} = {example_str(unrolled.cost.expr)}", "    ")
        rows = lambda v: f"{_size_text(v.shape[0])}, m"  # noqa: E731
        out += ["", f"Over m examples, the columns of X ({rows(x)}) and Y ({rows(y)}), with "
                    f"{naming.layer_text(self.out.name, '0')} = X:"]
        out.append("    hidden layers l = 1 .. L-1:")
        for s, e in self.block.batch_graph.nodes:
            out += _wrap_text(f"{self.text(s, 'l')} = {self.text(e, 'l')}", "        ")
        out.append("    output layer L:")
        for s, e in self.top_forward:
            out += _wrap_text(f"{self.text(s, 'L')} = {self.text(e, 'L')}", "        ")
        for s, e in self.tail_forward + self.tail_cost:
            out += _wrap_text(f"{s.name} = {self.text(e, 'L')}", "    ")
        out += ["", "Gradients (dZ-style entries hold m dJ/dZ, one column per example; "
                    "dW = dJ/dW):"]
        below = adjoint_symbol(self.previous)  # the gradient passed down comes last
        for title, steps, index in (("output layer L:", self.output_steps(), "L"),
                                    ("hidden layers l = L-1 .. 1:", self.block.batch_steps, "l")):
            out.append(f"    {title}")
            for step in sorted(self.needed(steps).values(), key=lambda s: s.adjoint == below):
                out += _wrap_text(f"{self.text(step.adjoint, index)} = "
                                  f"{self.text(step.result, index)}", "        ")
        sizes = {UNITS: naming.layer_text("n", "l"), PREVIOUS_UNITS: naming.layer_text("n", "l-1")}
        params = ", ".join(
            f"{naming.layer_text(v.name, 'l')} ("
            + ", ".join(sizes.get(_size_text(d), _size_text(d)) for d in v.shape) + ") array"
            for v in self.block.model.parameters)
        out += [""] + _wrap_text(
            f"Parameters of layer l, which has {naming.layer_text('n', 'l')} units "
            f"({naming.layer_text('n', '0')} = {_size_text(x.shape[0])}, "
            f"{naming.layer_text('n', 'L')} = {stack.output_size}): {params}.")
        out += _hyperparameter_text(self.hyper)
        return tuple(out)

    def build(self) -> CodeContext:
        label = self.label()
        cost = self.cost_function()
        layers = self.layers()
        features, _ = self.dims()
        prediction, threshold, probability = self.prediction()
        helpers = self.helpers(cost, *[Function(part.loads, part.body + part.to_previous)
                                       for part in (layers.hidden_forward, layers.output_forward,
                                                    layers.hidden_backward,
                                                    layers.output_backward)])
        out = self.out.name
        return CodeContext(
            name=self.model.name,
            model_template=MODEL_TEMPLATE,
            docstring=self.docstring_layers(label),
            helpers=helpers,
            parameters=(),
            **hyperparameter_fields(self.hyper, self.forward_hyper(), bool(self.layer_masks)),
            **self.data_fields(),
            features=features,
            hidden_sizes=(),
            default_init="he",
            course_init="xavier",
            random_scale=RANDOM_SCALE,
            label=label,
            forward=Function((), ()),
            outputs=(),
            cost=cost,
            cost_target=self.cost_nodes[-1][0].name,
            backward=Function((), ()),
            grads=(),
            prediction=self.gen(_symbol(prediction)).name,
            prediction_key=(_key(out, COUNT) if prediction == self._last_out()
                            else python_string(prediction)),
            prediction_text=(naming.layer_text(out, "L") if prediction == self._last_out()
                             else prediction),
            threshold=threshold,
            probability=probability,
            grad_key=naming.adjoint("{name}"),
            layers=layers,
            gram_weights=gram_weights(self.gram_exprs(), self.params, self.X),
        )

    def gram_exprs(self) -> list:
        """The unrolled nodes, with layer 1's penalty (taken out of the cost), for
        gram_weights: layer 1's W meets X alone."""
        exprs = [e for _, e in self.nodes]
        if self.penalty is not None:
            first = {v.symbol: _symbol(f"{v.name}1") for v in self.block.model.parameters}
            exprs.append(self.penalty.xreplace(first))
        return exprs

    def _last_out(self) -> str:
        return self.ren(_symbol(naming.stacked(f"{self.stack.out}{self.derivation.model.depth}"))
                        ).name


@dataclass(frozen=True)
class Step:
    """A step of the unrolled sweep, in the block's names: what backward_layer reads of it."""

    adjoint: sp.Symbol
    result: sp.Expr


def _layer_names(stack, index, number, previous) -> dict:
    """The symbols of layer ``number`` (z3, W3, and ``previous``, a2) -> with ``index``:
    z[L], W[L], a[L-1]; ``number`` "" for the block's own (z, W, a_prev)."""
    out = {_symbol(f"{n}{number}"): _symbol(naming.layer_text(n, index))
           for n in [*stack.hidden, *stack.output, *stack.parameters]}
    out[_symbol(previous)] = _symbol(naming.layer_text(stack.out, f"{index}-1"))
    return out


def _key(name: str, index: str) -> str:
    """The code of a layer's dict key: f"W{l}"."""
    return 'f"' + naming.layer_key(name, "{" + index + "}") + '"'


def _keys_text(symbols, tail=()) -> str:
    """W1, b1, ..., WL, bL: the keys of layers 1 and L."""
    first = [naming.layer_key(s.name, 1) for s in symbols]
    last = [naming.layer_key(s.name, "L") for s in symbols]
    return ", ".join(first + ["..."] + last + [s.name for s in tail])


def index_code(index: str) -> str:
    """The variable that holds a layer's number in the code: l, or depth for the layer L."""
    return naming.LAYER_INDEX if index == "l" else naming.DEPTH


def _hoist(parts, name):
    """The layers' code without their load of ``name`` (m, loaded once before the layers), and
    which of them used it."""
    out, used = [], []
    for part in parts:
        loads = tuple(s for s in part.loads if s.target != name)
        used.append(len(loads) != len(part.loads))
        out.append(Layer(loads, part.body, part.stores, part.to_previous))
    return out, used


def build_layers_context(derivation) -> CodeContext:
    """A stack's module: X and Y alone (derive refuses a stack with more data, see
    :func:`symgrad.model.layers.build_stacked`)."""
    return _LayersBuilder(derivation).build()


__all__ = ["build_layers_context"]
