"""Repeated layers: a block written once with the general index l, and its stack.

A spec's ``[layers]`` table declares a stack of layers l = 1 .. L over an input (``A[0] = x``):

    [layers]
    input = "x"               # A[0]
    depth = 3                 # the L that derive, prove and check show (code takes any L)
    output_size = 1           # units in layer L: a positive integer or a name from [dims]
    [layers.parameters]       # of layer l, with n_l units after n_prev units in layer l - 1
    W = "matrix(n_l, n_prev)"
    b = "vector(n_l)"
    [layers.hidden]           # layers 1 .. L-1, reading a_prev (the previous layer's output)
    z = "W @ a_prev + b"
    a = "relu(z)"
    [layers.output]           # layer L; its last node is what [graph] and [cost] read
    z = "W @ a_prev + b"
    a = "sigmoid(z)"

An optional ``penalty`` (``penalty = "lambd/(2*m) * sum(W**2)"``) is a term of the cost written
once for layer l, in its parameters, the hyperparameters and m: the cost is the [cost] plus the
penalty of every layer l = 1 .. L (L2 regularisation, weight decay).

Two derivations come from it. The hidden block is derived once, as a graph of its own whose
output's adjoint ``da`` comes from above: that gives the per-layer recurrence (``dz = da * g'(z)``,
``dW = dz @ a_prev.T``, ``da_prev = W.T @ dz``) whatever the depth. And the stack unrolled to
``depth`` layers (``z1, a1, W1, ...``) is an ordinary model, derived like any other, so every
command works on it and its results can be checked against the block's.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .errors import SpecError
from .limits import MAX_LAYERS, MAX_NODES, dimension, too_many_bits
from .parse import syntax_tree

PREVIOUS = "a_prev"  # the block's input: the previous layer's output
UNITS, PREVIOUS_UNITS = "n_l", "n_prev"
KEYS = {"input", "depth", "output_size", "parameters", "hidden", "output", "penalty"}


@dataclass(frozen=True)
class Stack:
    input: str  # the model input that is A[0]
    input_dim: str  # its size
    depth: int  # the default L
    output_size: str
    parameters: dict  # the [layers.parameters] table
    hidden: dict  # [layers.hidden]
    output: dict  # [layers.output]
    tables: dict  # the spec's other tables, to unroll again at another depth
    model_class: type | None = None  # Model, which builds a layer's block (graph.py imports us)
    penalty: str = ""  # a cost term of layer l, summed over the layers ("" for none)

    @property
    def out(self) -> str:
        """The node of a layer that the next layer reads (the block's last node)."""
        return list(self.hidden)[-1]

    def unit_dim(self, layer: int, depth: int) -> str:
        if layer == 0:
            return self.input_dim
        if layer == depth:
            return self.output_size
        return f"n{layer}"

    def block(self, source=None, lines=None, kind="hidden"):
        """Layer l (``kind`` "hidden", or "output" for layer L) as a model of its own; its
        output's adjoint comes from above."""
        lines = lines or {}
        template = self.hidden if kind == "hidden" else self.output
        at = {(section, key): lines[(f"layers.{table}", key)]
              for (table, section) in ((kind, "graph"), ("parameters", "parameters"))
              for key in (template if table == kind else self.parameters)
              if (f"layers.{table}", key) in lines}

        dims = {**(self.tables.get("dims") or {}), UNITS: "units in layer l",
                PREVIOUS_UNITS: "units in layer l - 1"}
        return self.model_class.build("layer", title=f"{kind} layer", dims=dims,
                                      inputs={PREVIOUS: f"vector({PREVIOUS_UNITS})"},
                                      parameters=self.parameters,
                                      hyperparameters=self.tables.get("hyperparameters"),
                                      graph=template, output=self.out,
                                      source=source, lines=at)


def parse_stack(layers: dict, dims: dict, inputs: dict, where) -> Stack:
    if not isinstance(layers, dict):
        raise SpecError("[layers] must be a table", **where(None))
    unknown = set(layers) - KEYS
    if unknown:
        raise SpecError(f"unknown key '{sorted(unknown)[0]}' in [layers]; expected "
                        f"{', '.join(sorted(KEYS))}", **where(sorted(unknown)[0]))
    for key in ("input", "parameters", "hidden", "output"):
        if key not in layers:
            raise SpecError(f"[layers] needs '{key}'", **where(None))
    for key in ("parameters", "hidden", "output"):
        if not isinstance(layers[key], dict) or not layers[key]:
            raise SpecError(f"[layers.{key}] must be a non-empty table", **where(key))
    source = layers["input"]
    if not isinstance(source, str) or source not in (inputs or {}):
        raise SpecError(f"layers.input '{source}' is not one of the [inputs]", **where("input"))
    text = str(inputs[source]).replace(" ", "")
    if not text.startswith("vector("):
        raise SpecError(f"layers.input '{source}' must be a vector", **where("input"))
    depth = layers.get("depth", 3)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= MAX_LAYERS:
        raise SpecError(f"layers.depth must be a whole number from 1 to {MAX_LAYERS}",
                        **where("depth"))
    size = layers.get("output_size", 1)
    size = str(size) if type(size) is str or type(size) is int and not too_many_bits(size) else ""
    try:
        known = dimension(size) is not None or size in (dims or {})
    except SpecError as err:
        raise err.located(**where("output_size")) from None
    if not known:
        raise SpecError(f"layers.output_size '{size}' must be a positive integer or a name from "
                        "[dims]", **where("output_size"))
    hidden_out, output_out = list(layers["hidden"])[-1], list(layers["output"])[-1]
    if hidden_out != output_out:
        raise SpecError(f"the last nodes of [layers.hidden] ('{hidden_out}') and "
                        f"[layers.output] ('{output_out}') must have the same name", **where(None))
    dropouts = {key: sum(_dropouts(text) for text in layers[key].values())
                for key in ("hidden", "output")}
    if dropouts["hidden"] > 1 or dropouts["output"]:
        key = "output" if dropouts["output"] else "hidden"
        raise SpecError("a stack of layers takes one dropout(...), in [layers.hidden]: layer "
                        f"l's mask is d[l]; found {dropouts[key]} in [layers.{key}]",
                        **where(key))
    penalty = layers.get("penalty", "")
    if not isinstance(penalty, str):
        raise SpecError("layers.penalty must be a string: a cost term of layer l, e.g. "
                        '"lambd/(2*m) * sum(W**2)"', **where("penalty"))
    return Stack(input=source, input_dim=text[len("vector("):-1], depth=depth, output_size=size,
                 parameters=dict(layers["parameters"]), hidden=dict(layers["hidden"]),
                 output=dict(layers["output"]), tables={}, penalty=penalty.strip())


def _dropouts(text) -> int:
    """How many times ``text`` calls dropout (0 for text the whitelist parser will refuse)."""
    try:
        tree = syntax_tree(str(text))
    except SpecError:
        return 0
    return sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
               and n.func.id == "dropout" for n in ast.walk(tree))


def layer_penalty(stack: Stack, layer) -> str:
    """The penalty of layer ``layer`` (a number, or "" for the block's own names)."""
    return rename(stack.penalty, {p: f"{p}{layer}" for p in stack.parameters})


def rename(text: str, names: dict) -> str:
    """``text`` with its names replaced (read with ``ast``, written back; nothing evaluated)."""
    try:
        tree = syntax_tree(str(text))
    except SpecError:
        return str(text)  # left for the whitelist parser to report
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            node.id = names[node.id]
    return ast.unparse(tree)


def unrolled_tables(stack: Stack, depth: int, graph: dict, cost: dict):
    """The [dims], [parameters] and [graph] tables of the stack unrolled to ``depth`` layers."""
    dims = {f"n{l}": f"units in layer {l}" for l in range(1, depth)}
    parameters, nodes = {}, {}
    template_nodes = set(stack.hidden) | set(stack.output)
    for layer in range(1, depth + 1):
        template = stack.hidden if layer < depth else stack.output
        names = {p: f"{p}{layer}" for p in stack.parameters}
        names.update({n: f"{n}{layer}" for n in template_nodes})
        names[PREVIOUS] = stack.input if layer == 1 else f"{stack.out}{layer - 1}"
        dim_names = {UNITS: stack.unit_dim(layer, depth),
                     PREVIOUS_UNITS: stack.unit_dim(layer - 1, depth)}
        for p, text in stack.parameters.items():
            parameters[names[p]] = _rename_dims(text, dim_names)
        for n, text in template.items():
            nodes[names[n]] = rename(text, names)
    last = {stack.out: f"{stack.out}{depth}"}
    for n, text in graph.items():
        nodes[n] = rename(text, last)
    cost = {k: rename(v, last) for k, v in cost.items()}
    if stack.penalty:  # the cost plus the penalty of every layer
        cost = {k: " + ".join([f"({v})"] + [f"({layer_penalty(stack, layer)})"
                                            for layer in range(1, depth + 1)])
                for k, v in cost.items()}
    return dims, parameters, nodes, cost


def _rename_dims(type_text: str, names: dict) -> str:
    text = str(type_text).replace(" ", "")
    for prefix in ("vector(", "matrix("):
        if text.startswith(prefix) and text.endswith(")"):
            parts = [names.get(p, p) for p in text[len(prefix):-1].split(",")]
            return f"{prefix}{', '.join(parts)})"
    return str(type_text)


def build_stacked(cls, name, *, title, dims, inputs, parameters, hyperparameters, graph, cost,
                  source, lines, layers, depth=None, labels=None, constants=None,
                  description=""):
    def where(key):
        return {"file": source, "line": lines.get(("layers", key)),
                "key": "layers" + (f".{key}" if key else "")}

    if parameters:
        raise SpecError("a model with [layers] declares its parameters in [layers.parameters]",
                        file=source, key="parameters")
    stack = parse_stack(layers, dims, inputs, where)
    for key, text in (graph or {}).items() if isinstance(graph, dict) else ():
        if _dropouts(text):
            raise SpecError("in a model with [layers], dropout(...) goes in [layers.hidden]",
                            file=source, line=lines.get(("graph", key)), key=f"graph.{key}")
    tables = {"dims": dims, "inputs": inputs, "labels": labels, "constants": constants,
              "hyperparameters": hyperparameters,
              "graph": graph or {}, "cost": cost or {}, "layers": layers}
    stack = Stack(**{**stack.__dict__, "tables": tables, "model_class": cls})
    for kind in ("hidden", "output"):
        try:
            stack.block(source, lines, kind)
        except SpecError as err:
            key = err.key and "layers." + err.key.replace("graph.", f"{kind}.")
            raise SpecError(err.message, file=source, line=err.line, key=key) from None
    depth = depth or stack.depth
    if depth * len(stack.hidden) + len(graph or {}) > MAX_NODES:
        raise SpecError(f"the graph would have {depth * len(stack.hidden) + len(graph or {})} "
                        f"nodes unrolled to depth {depth}; expected at most {MAX_NODES}",
                        **where("depth"))
    extra_dims, params, nodes, cost = unrolled_tables(stack, depth, graph or {}, cost or {})
    model = cls.build(name, title=title, description=description,
                      dims={**(dims or {}), **extra_dims}, inputs=inputs,
                      labels=labels, constants=constants, parameters=params,
                      hyperparameters=hyperparameters, graph=nodes, cost=cost,
                      source=source, lines=lines)
    model.stack = stack
    model.depth = depth
    _check_data(model, where)
    return model


def _check_data(model, where) -> None:
    """A stack of layers reads one input, A[0], and its loss one label: the generated module
    loops over the layers with X and Y alone. Anything more is refused here, by derive, rather
    than by codegen after it."""
    inputs = [v.name for v in model.inputs if not v.label and not v.mask]
    labels = [v.name for v in model.labels]
    constants = [v.name for v in getattr(model, "constants", [])]
    if inputs != [model.stack.input] or len(labels) != 1 or constants:
        found = ", ".join(inputs + labels + constants) or "none"
        raise SpecError(f"a model with [layers] reads one input, its A[0] "
                        f"('{model.stack.input}'), and one label; found {found}. Write the "
                        "layers out in [graph] for a model with more inputs", **where(None))


def unroll(model, depth: int):
    """The same stacked model with ``depth`` layers."""
    stack = model.stack
    if stack is None:
        raise SpecError(f"model '{model.name}' has no [layers] to unroll")
    if not 1 <= depth <= MAX_LAYERS:
        raise SpecError(f"depth {depth} out of range (1 to {MAX_LAYERS})")
    t = stack.tables
    return build_stacked(type(model), model.name, title=model.title,
                         description=model.description, dims=t["dims"],
                         inputs=t["inputs"], labels=t["labels"], constants=t["constants"],
                         parameters=None,
                         hyperparameters=t["hyperparameters"], graph=t["graph"], cost=t["cost"],
                         source=model.source, lines=model.lines, layers=t["layers"], depth=depth)
