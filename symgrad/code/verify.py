"""``symgrad verify``: the generated module, run, against references it did not come from.

The module is written to a temporary folder and imported from its file. At random inputs of
small random sizes, its ``backward`` is compared with

1. the symbolic derivation, evaluated numerically in this process (:mod:`symgrad.calculus.numeric`):
   per example (each column of ``dZ`` against ``dz`` at that example; each parameter's
   gradient against the mean of the per-example gradients, where the cost is ``mean(L)`` once
   the hyperparameters are 0) and over the m examples;
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

import importlib.util
import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from ..calculus import numeric
from ..calculus.chain import adjoint_symbol
from ..calculus.derivation import derive
from ..model import naming
from ..model.errors import SpecError
from ..model.graph import mean

TOLERANCE = {"symbolic": 1e-9, "finite differences": 1e-6}
EPSILON = 1e-6  # the finite-difference step
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


def relative_error(actual, expected) -> float:
    """``|a - b| / (|a| + |b|)`` over all entries; 0 when both are 0, inf on a shape mismatch.

    >>> relative_error([1.0, 2.0], [1.0, 2.0]), relative_error(0.0, 0.0)
    (0.0, 0.0)
    """
    a = np.asarray(actual, dtype=float)
    b = np.asarray(expected, dtype=float)
    try:  # a (1, 1) array and a float hold the same number
        b = b.reshape(a.shape) if a.size == b.size else np.broadcast_to(b, a.shape)
    except ValueError:
        return float("inf")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale else 0.0


def load_module(path, name=None):
    """Import a Python file as a fresh module (never from or into ``sys.modules``)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(name or f"symgrad_generated_{path.stem}",
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(derivation, folder):
    """Write the generated module for ``derivation`` into ``folder`` and import it."""
    from .render import render

    path = naming.file_in(folder, derivation.model.name, ".py")
    path.write_text(render(derivation), encoding="utf-8")
    return load_module(path)


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
        from .context import examples

        self.d, self.module = derivation, module
        model = derivation.model
        self.graph = derivation.batch_graph
        feature, label = examples(model)
        self.stacked = model.stacked_names()
        self.X = sp.Symbol(self.stacked[feature.name], real=True)
        self.Y = sp.Symbol(self.stacked[label.name], real=True)
        # dZ -> z: the per-example node of each stacked node's adjoint
        unstacked = {v: k for k, v in self.stacked.items()}
        self.node_of = {adjoint_symbol(var).name: sp.Symbol(unstacked[var.name], real=True)
                        for var in derivation.batch_steps if var.name in unstacked}
        self.params = model.parameters
        self.hyper = model.hyperparameters
        # without its hyperparameters, is the cost mean(L)? Then dJ/dw is the mean of dL/dw.
        rest = model.cost.expr.replace(lambda e: isinstance(e, mean), lambda e: sp.Integer(0))
        self.per_example_params = sp.simplify(rest.subs({v.symbol: 0 for v in self.hyper})) == 0
        self.errors = {} if errors is None else errors  # (gradient, reference) -> worst

    def record(self, gradient, reference, error, kind):
        key = (gradient, reference)
        old = self.errors.get(key, (0.0, TOLERANCE[kind]))[0]
        self.errors[key] = (max(old, error), TOLERANCE[kind])

    def rows(self) -> list[Row]:
        order = {"J": -1}  # then the gradients in the order met (a layer's at its first depth)
        return [Row(g, r, e, t) for (g, r), (e, t) in
                sorted(self.errors.items(), key=lambda kv: order.get(kv[0][0], 0))]

    def arguments(self, env):
        params = {}
        for v in self.params:
            value = np.array(env[v.symbol], dtype=float)
            params[v.name] = float(value.item()) if v.type == "scalar" else value
        hyper = {v.name: float(np.asarray(env[v.symbol]).item()) for v in self.hyper}
        return params, hyper, env[self.X], env[self.Y]

    def trial(self, rng):
        graph, module = self.graph, self.module
        sizes = numeric.sizes_for(graph.shapes, rng, *SIZES)
        env = numeric.draw(graph, rng, sizes)
        params, hyper, X, Y = self.arguments(env)
        full = numeric.with_adjoints(graph, self.d.batch_steps, env, sizes)
        cache = module.forward(params, X)
        grads = module.backward(params, cache, X, Y, **hyper)
        # the cost, through the stable forms
        self.record("J", "symbolic cost, over m examples",
                    relative_error(module.compute_cost(params, X, Y, **hyper),
                                   full[graph.output]), "symbolic")
        for name, value in grads.items():
            expected = full[sp.Symbol(name, real=True)]
            self.record(name, "symbolic, over m examples", relative_error(value, expected),
                        "symbolic")
        self.shapes(params, grads)
        self.per_example(env, sizes, params, hyper, X, Y, grads)
        self.finite_differences(params, hyper, X, Y, grads)

    def shapes(self, params, grads):
        for v in self.params:
            grad = grads[adjoint_symbol(v.symbol).name]
            ok = (isinstance(grad, float) if v.type == "scalar"
                  else np.shape(grad) == np.shape(params[v.name]))
            if not ok:
                self.record(adjoint_symbol(v.symbol).name, "shape of the parameter",
                            float("inf"), "symbolic")

    def per_example(self, env, sizes, params, hyper, X, Y, grads):
        graph = self.d.per_example_graph
        leaves = set().union(*(e.free_symbols for _, e in graph.nodes))
        m = X.shape[1]
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
        zero = {name: 0.0 for name in hyper}
        plain = self.module.backward(params, self.module.forward(params, X), X, Y, **zero)
        for v in self.params:
            name = adjoint_symbol(v.symbol).name
            expected = np.mean(per_param[v.name], axis=0)
            self.record(name, "symbolic, per example (mean)",
                        relative_error(np.reshape(plain[name], np.shape(expected)), expected),
                        "symbolic")

    def finite_differences(self, params, hyper, X, Y, grads):
        cost = self.module.compute_cost
        for v in self.params:
            name = adjoint_symbol(v.symbol).name
            base = params[v.name]
            estimate = np.zeros(np.shape(base))
            for index in itertools.product(*map(range, np.shape(base))):
                values = []
                for step in (EPSILON, -EPSILON):
                    if np.ndim(base) == 0:
                        shifted = base + step
                    else:
                        shifted = np.array(base, dtype=float)
                        shifted[index] += step
                    values.append(cost({**params, v.name: shifted}, X, Y, **hyper))
                estimate[index] = (values[0] - values[1]) / (2 * EPSILON)
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
