"""A model's derivation: the per-example sweep, the batch sweep over m examples, and their
results by adjoint name (``dz``, ``dw``; ``dZ``, ``dw`` over m examples).

This is the one object that the NumPy emitter, the proof writer and the claim checker read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from ..model import naming
from ..model.errors import SpecError
from ..model.extensions import Extensible
from ..model.graph import Graph, M, Model
from ..model.layers import PREVIOUS
from ..printing.printers import batch_str, text_report
from .budget import DERIVE_LIMIT, OutOfTime, limit
from .chain import Step, sweep


@dataclass
class Derivation(Extensible):
    model: Model
    per_example_graph: Graph
    per_example_steps: dict[sp.Symbol, Step]
    batch_graph: Graph | None
    batch_steps: dict[sp.Symbol, Step]
    layer: Derivation | None = None  # for a model with [layers]: hidden layer l, derived once

    @property
    def per_example(self) -> dict[str, sp.Expr]:
        """Derivatives of the per-example loss (or of the output, without examples)."""
        return {s.adjoint.name: s.result for s in self.per_example_steps.values()}

    @property
    def no_per_example(self) -> list[str]:
        """The adjoints with no per-example form (``dz1``, ``dW1`` of a batch-normalized
        layer): those of the nodes and parameters that a batch statistic reads. Through the
        statistics each example's loss depends on every example's value of them, so only the
        batch form over m examples exists."""
        model, coupled = self.model, self.per_example_graph.coupled
        return [naming.adjoint(v.name) for v in model.variables.values()
                if v.symbol in coupled and v.role in ("node", "parameter")]

    @property
    def batch(self) -> dict[str, sp.Expr]:
        """The forms over m examples: stacked nodes (dZ) and parameters (dw = dJ/dw)."""
        return {s.adjoint.name: s.result for s in self.batch_steps.values()}

    @property
    def cost(self) -> sp.Expr | None:
        """The cost over m examples, written with the stacked node variables."""
        if self.batch_graph is None:
            return None
        return dict(self.batch_graph.nodes)[self.batch_graph.output]

    @property
    def cost_written_out(self) -> sp.Expr | None:
        """The cost with the loss written out: -sum(Y*log(A) + (1 - Y)*log(1 - A))/m."""
        if self.batch_graph is None:
            return None
        loss = sp.Symbol(naming.stacked(self.model.loss.name), real=True)
        return self.cost.xreplace({loss: dict(self.batch_graph.nodes)[loss]})

    def to_json(self) -> dict:
        return {
            "model": self.model.name,
            "title": self.model.title,
            "output": str(self.per_example_graph.output),
            "per_example": {k: str(v) for k, v in self.per_example.items()},
            "batch": {k: batch_str(v) for k, v in self.batch.items()},
            "cost": batch_str(self.cost_written_out) if self.cost is not None else None,
            **({"layer": self.layer_json()} if self.layer is not None else {}),
            **({"batch_statistics": [str(s) for s in self.model.statistics],
                "no_per_example": self.no_per_example} if self.model.statistics else {}),
            "notation": "batch forms: examples are columns; A @ B matrix product, A.T "
                        "transpose, * elementwise, sum(A) sum of all entries, "
                        "sum(A, axis=0|1) sums keeping the other axis",
        }

    def layer_json(self) -> dict:
        """The per-layer recurrence with the general index l, as strings."""
        names = layer_index_names(self.layer)
        rename = {str(k): str(v) for k, v in names.items()}
        return {
            "per_example": {rename.get(k, k): batch_str(v.xreplace(names))
                            for k, v in self.layer.per_example.items()},
            "batch": {rename.get(k, k): batch_str(v.xreplace(names))
                      for k, v in self.layer.batch.items()},
        }

    def _repr_markdown_(self) -> str:
        return "```\n" + text_report(self) + "\n```"


def derive(model: Model) -> Derivation:
    """``model``'s derivation, within :data:`~symgrad.calculus.budget.DERIVE_LIMIT` seconds (else
    SpecError)."""
    try:
        with limit(DERIVE_LIMIT):
            return _derive(model)
    except OutOfTime as out:
        raise SpecError(f"model '{model.name}': deriving it gave up after {out.seconds:g} s, "
                        "the time limit; its expressions grow too large", file=model.source) \
            from None


def _derive(model: Model) -> Derivation:
    graph = model.per_example_graph()
    batch = model.batch_graph()
    layer = _derive(model.stack.block()) if model.stack is not None else None
    if layer is not None and model.stack.penalty:
        layer = _with_penalty(layer, model.stack.penalty)
    return Derivation(model, graph, sweep(graph), batch, sweep(batch) if batch else {}, layer)


def _with_penalty(layer: Derivation, text: str) -> Derivation:
    """Layer l's derivation with its penalty (a term of the cost, ``lambd/(2*m) * sum(W**2)``)
    swept too: each parameter's dJ/dW over m examples gains the penalty's derivative."""
    block = layer.model
    where = {"file": block.source, "key": "layers.penalty"}
    expr = block._parse(text, where, cost=True)
    if expr.free_symbols & set(block.per_example_symbols):
        raise SpecError("layers.penalty may read the layer's parameters, the hyperparameters "
                        "and m alone", **where)
    block.penalty = expr  # the proof's average over the examples adds its derivative
    graph = layer.batch_graph
    penalty = sp.Symbol(naming.PENALTY, real=True)
    shapes = {**graph.shapes, penalty: (sp.Integer(1), sp.Integer(1))}
    swept = sweep(Graph(nodes=[(penalty, expr)], output=penalty, shapes=shapes,
                        leaves=list(graph.leaves), seed=M, leaf_scale=1 / M))
    steps = dict(layer.batch_steps)
    for var, extra in swept.items():
        if var not in graph.leaves:
            continue
        old = steps.get(var)
        total = extra.result if old is None else old.result + extra.result
        steps[var] = Step(var, extra.adjoint,
                          (old.contributions if old else []) + extra.contributions,
                          total, [*(old.steps if old else []), (("penalty",), total)])
    return Derivation(block, layer.per_example_graph, layer.per_example_steps,
                      replace(graph, penalty=expr), steps, layer.layer)


def layer_index_names(derivation: Derivation) -> dict:
    """Symbols of a layer block -> their names with the general index: z -> z[l]."""
    out = {}
    constants = {v.name for v in derivation.model.hyperparameters}
    for graph in (derivation.per_example_graph, derivation.batch_graph):
        for symbol in graph.shapes:
            name = getattr(symbol, "name", "")
            if not name or name == "m" or name.startswith("n_") or name in constants:
                continue
            for prefix in ("", naming.adjoint("")):
                if not name.startswith(prefix):
                    continue
                base = name[len(prefix):]
                if base in (PREVIOUS, naming.stacked(PREVIOUS)):
                    new = prefix + base[0] + "[l-1]"
                else:
                    new = name + "[l]"
                out[sp.Symbol(name, real=True)] = sp.Symbol(new, real=True)
                out[sp.Symbol(naming.adjoint(name), real=True)] = sp.Symbol(
                    naming.adjoint(new), real=True)
                break
    return out


def output_layer_index_names(model) -> dict:
    """Symbols of layer L of a model with [layers], unrolled, -> their names with the index L:
    z3 -> z[L], W3 -> W[L], dZ3 -> dZ[L], and the last hidden layer's output a2 -> a[L-1]."""
    stack, depth = model.stack, model.depth
    base = [(f"{p}{depth}", f"{p}[L]", False) for p in stack.parameters]
    base += [(f"{n}{depth}", f"{n}[L]", True) for n in stack.output]  # nodes: stacked too
    if depth > 1:
        base.append((f"{stack.out}{depth - 1}", f"{stack.out}[L-1]", True))
    out = {}
    for old, new, node in base:
        pairs = [(old, new)] + ([(naming.stacked(old), naming.stacked(new))] if node else [])
        for o, n in pairs:
            out[sp.Symbol(o, real=True)] = sp.Symbol(n, real=True)
            out[sp.Symbol(naming.adjoint(o), real=True)] = sp.Symbol(naming.adjoint(n), real=True)
    return out
