"""``symgrad verify``: the generated module, run, against references it did not come from.

The module is written to a temporary folder and imported from its file. At random inputs of
small random sizes, its ``backward`` is compared with

1. the symbolic derivation, evaluated numerically in this process (:mod:`symgrad.calculus.numeric`):
   per example (each column of ``dZ`` against ``dz`` at that example; each parameter's
   gradient against the mean of the per-example gradients, where the cost is ``mean(L)`` once
   the hyperparameters are 0; with batch statistics, given the batch's statistics, and only
   for what has a per-example derivative: not what a statistic reads) and over the m examples;
2. central finite differences of the module's own ``compute_cost``;

and its ``compute_cost`` with the symbolic cost (this checks the stable rewrites). Every
comparison is the relative error ``|a - b| / (|a| + |b|)`` (norms over all entries) in float64.

A model with ``[layers]`` has one module for every depth, which loops over the layers: it is
checked against the stack unrolled to each depth of :func:`depths` (the parameters it is given
fix the depth), and each row reports the largest error over them. Random points are drawn away
from the kinks of relu and its kin (:func:`symgrad.calculus.numeric.draw`), never by loosening a
tolerance.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..calculus import numeric
from ..calculus.chain import adjoint_symbol
from ..calculus.derivation import derive
from ..model.errors import SpecError
from ..model.graph import mean
from .selfcheck import Calls, finite_difference, import_text, load_module, relative_error

TOLERANCE = {"symbolic": 1e-9, "finite differences": 1e-6}
SIZES = (2, 5)  # every dimension, m included, is drawn from this range
DEPTHS = (1, 2, 4)  # a model with [layers] is checked at these depths, and at its own


@dataclass
class Row:
    gradient: str
    reference: str
    error: float
    tolerance: float
    note: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.error < self.tolerance)


def generate(derivation, folder):
    """Write the generated module for ``derivation`` into ``folder`` and import it.

    The file's name is fixed, never made from the spec, so it cannot leave ``folder``.
    """
    from .render import render

    return import_text(render(derivation), folder)


def depths(model) -> tuple[int, ...]:
    """The depths at which a model's module is checked: () for a model without [layers].

    >>> from symgrad import load
    >>> depths(load("derivations/deep_network.toml"))
    (1, 2, 3, 4)
    """
    if model.stack is None:
        return ()
    return tuple(sorted({*DEPTHS, model.depth}))


def verify(derivation, *, trials=3, seed=0, module=None, at_depths=None) -> list[Row]:
    """Compare the generated module's cost and gradients with the references above;
    a model with [layers] at ``at_depths`` (default: :func:`depths`).

    >>> from symgrad import load
    >>> rows = verify(load("derivations/logistic_regression.toml").derive(), trials=1)
    >>> all(row.passed for row in rows), sorted({row.gradient for row in rows})
    (True, ['J', 'dZ', 'db', 'dw'])
    """
    if trials < 1:
        raise SpecError("--trials must be at least 1")
    if derivation.batch_graph is None:
        raise SpecError(f"model '{derivation.model.name}' has no examples: there is no "
                        "generated code to verify", file=derivation.model.source)
    if module is None:
        with tempfile.TemporaryDirectory(prefix="symgrad-verify-") as folder:
            module = generate(derivation, folder)
    model = derivation.model
    at_depths = depths(model) if at_depths is None or model.stack is None else at_depths
    derivations = [derivation if depth == model.depth else derive(model.unrolled(depth))
                   for depth in at_depths] or [derivation]
    errors: dict[tuple[str, str], tuple[float, float]] = {}
    rng = np.random.default_rng(seed)
    for d in derivations:
        check = _Check(d, module, errors)
        for _ in range(trials):
            check.trial(rng)
    return check.rows()


class _Check:
    def __init__(self, derivation, module, errors=None):
        self.d, self.module = derivation, module
        model = derivation.model
        self.graph = derivation.batch_graph
        self.calls = Calls(model)
        self.stacked = model.stacked_names()
        # dZ -> z: the per-example node of each stacked node's adjoint
        unstacked = {v: k for k, v in self.stacked.items()}
        self.node_of = {adjoint_symbol(var).name: sp.Symbol(unstacked[var.name], real=True)
                        for var in derivation.batch_steps if var.name in unstacked}
        self.params = model.parameters
        # Is the cost mean(L) once the hyperparameters that only the rest of it reads (lambd
        # in an L2 term) are 0? Then dJ/dw is the mean of the per-example dL/dw.
        rest = model.cost.expr.replace(lambda e: isinstance(e, mean), lambda e: sp.Integer(0))
        in_loss = set().union(*(n.expr.free_symbols for n in model.nodes))
        self.zero = {v.name: 0.0 for v in model.hyperparameters if v.symbol not in in_loss}
        zero = {v.symbol: 0 for v in model.hyperparameters if v.name in self.zero}
        self.per_example_params = sp.simplify(rest.subs(zero)) == 0
        self.errors = {} if errors is None else errors  # (gradient, reference) -> worst

    def record(self, gradient, reference, error, kind):
        key = (gradient, reference)
        old = self.errors.get(key, (0.0, TOLERANCE[kind]))[0]
        self.errors[key] = (max(old, error), TOLERANCE[kind])

    def rows(self) -> list[Row]:
        order = {"J": -1}  # then the gradients in the order met (a layer's at its first depth)
        return [Row(g, r, e, t) for (g, r), (e, t) in
                sorted(self.errors.items(), key=lambda kv: order.get(kv[0][0], 0))]

    def trial(self, rng):
        graph, module = self.graph, self.module
        sizes = numeric.sizes_for(graph.shapes, rng, *SIZES)
        env = numeric.draw(graph, rng, sizes)
        params, hyper, data = self.calls.arguments(env)
        cache = self.calls.forward(module, params, data, hyper)
        env = self.calls.with_masks(graph, env, cache)  # dropout's: as forward() drew them
        full = numeric.with_adjoints(graph, self.d.batch_steps, env, sizes)
        grads = module.backward(params, cache, *data, **hyper)
        # the cost, through the stable forms
        self.record("J", "symbolic cost, over m examples",
                    relative_error(self.calls.cost(module)(params, *data, **hyper),
                                   full[graph.output]), "symbolic")
        for name, value in grads.items():
            expected = full[sp.Symbol(name, real=True)]
            self.record(name, "symbolic, over m examples", relative_error(value, expected),
                        "symbolic")
        self.shapes(params, grads)
        self.per_example(env, sizes, params, hyper, data, grads)
        self.finite_differences(params, hyper, data, grads)

    def shapes(self, params, grads):
        for v in self.params:
            grad = grads[adjoint_symbol(v.symbol).name]
            ok = (isinstance(grad, float) if v.type == "scalar"
                  else np.shape(grad) == np.shape(params[v.name]))
            if not ok:
                self.record(adjoint_symbol(v.symbol).name, "shape of the parameter",
                            float("inf"), "symbolic")

    def per_example(self, env, sizes, params, hyper, data, grads):
        graph = self.d.per_example_graph
        leaves = set().union(*(e.free_symbols for _, e in graph.nodes))
        m = self.calls.examples(env)
        per_param = {v.name: [] for v in self.params}
        nodes = sorted(name for name in grads if name in self.node_of)
        for i in range(m):
            local = {}
            for s in leaves:
                if s.name in self.stacked:  # an input: its column i
                    local[s] = np.asarray(env[sp.Symbol(self.stacked[s.name], real=True)])
                    local[s] = local[s][:, i:i + 1]
                elif s in env:
                    local[s] = env[s]
            local = numeric.with_adjoints(graph, self.d.per_example_steps,
                                          numeric.forward(graph, local), sizes)
            for name in nodes:
                small = adjoint_symbol(self.node_of[name])
                if small in local:
                    column = np.asarray(grads[name])[:, i:i + 1]
                    self.record(name, "symbolic, per example",
                                relative_error(column, local[small]), "symbolic")
            for v in self.params:
                shape = np.shape(params[v.name]) or (1, 1)
                value = local.get(adjoint_symbol(v.symbol), 0.0)
                per_param[v.name].append(np.broadcast_to(value, shape))
        if not self.per_example_params:
            return
        hyper = {**hyper, **self.zero}
        cache = self.calls.forward(self.module, params, data, hyper)
        plain = self.module.backward(params, cache, *data, **hyper)
        for v in self.params:
            if v.symbol in graph.coupled:  # read by a batch statistic: no per-example form
                continue
            name = adjoint_symbol(v.symbol).name
            expected = np.mean(per_param[v.name], axis=0)
            self.record(name, "symbolic, per example (mean)",
                        relative_error(np.reshape(plain[name], np.shape(expected)), expected),
                        "symbolic")

    def finite_differences(self, params, hyper, data, grads):
        for v in self.params:
            name = adjoint_symbol(v.symbol).name
            estimate = finite_difference(self.calls.cost(self.module), params, v.name, data,
                                         hyper)
            self.record(name, "finite differences of compute_cost",
                        relative_error(grads[name], estimate), "finite differences")


def table(rows, title="") -> str:
    """The comparisons as a text table, with a verdict line."""
    head = ("gradient", "compared with", "max rel. error", "tolerance", "result")
    body = [(r.gradient, r.reference, f"{r.error:.1e}", f"{r.tolerance:.0e}",
             "pass" if r.passed else "FAIL") for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(head, *body, strict=False)]
    lines = [title] if title else []
    for row in (head, tuple("-" * w for w in widths), *body):
        lines.append("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
    failed = sum(not r.passed for r in rows)
    lines.append(f"{len(rows)} comparisons, all pass" if not failed
                 else f"{failed} of {len(rows)} comparisons FAIL")
    return "\n".join(lines)


__all__ = ["Row", "generate", "load_module", "relative_error", "table", "verify"]
