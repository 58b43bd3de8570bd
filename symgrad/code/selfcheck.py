"""codegen's self-check: no module is handed out that has not run.

Before :func:`symgrad.code.render.render` returns a module, the module

1. compiles, and every name a function reads is defined (its own, the module's, a builtin);
2. is imported from a private temporary folder, and its ``forward``, ``backward`` and
   ``compute_cost`` run on a small random batch, every input, label and hyperparameter drawn
   inside its domain (:mod:`symgrad.model.domains`);
3. gives gradients that agree with central finite differences of its own ``compute_cost``.

Where any of this fails, codegen ends with one line naming the spec and what failed, and writes
nothing. ``symgrad verify`` goes further (the symbolic derivation, per example, several points).

Here too is what the self-check and ``symgrad verify`` share: how a module is imported, how
its functions are called (arrays X and Y for one input and one label, dicts of named arrays
otherwise), and the relative error.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import itertools
import tempfile
from pathlib import Path

import numpy as np
import sympy as sp

from ..calculus import numeric
from ..calculus.chain import adjoint_symbol
from ..model.errors import SpecError
from ..printing.files import in_folder
from .context import examples, is_float, plain

MODULE_FILE = "train.py"  # the generated module's name in a private temporary folder
EPSILON = 1e-6  # the finite-difference step
TOLERANCE = 1e-6  # relative error allowed between backward() and finite differences
SIZES = (2, 3)  # every dimension, m included, is drawn from this range
DRAWS = 3  # points tried where the first gives a cost that is not finite
MASK_SEED = 0  # the generator of the masks of dropout, in the checks: the same masks each call


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


def import_text(text: str, folder):
    """Write the module's ``text`` into ``folder`` under a fixed name, never made from the
    spec (so that it cannot leave the folder), and import it."""
    path = in_folder(folder, MODULE_FILE)
    path.write_text(text, encoding="utf-8")
    return load_module(path)


class Calls:
    """How a derivation's generated module is called: the data arguments from values of the
    batch graph's symbols (``env``), as X and Y or as dicts of named arrays (the constants, not
    stacked, in the inputs' dict)."""

    def __init__(self, model):
        inputs, labels = examples(model)
        stacked = model.stacked_names()
        self.constants = model.constants
        self.named = not plain(inputs, labels, self.constants)
        self.inputs = [(v.name, sp.Symbol(stacked[v.name], real=True)) for v in inputs]
        self.labels = [(v.name, sp.Symbol(stacked[v.name], real=True)) for v in labels]
        self.params = model.parameters
        self.hyper = model.hyperparameters
        self.masks = [sp.Symbol(stacked[v.name], real=True) for v in model.masks]

    def data(self, env) -> tuple:
        """The module's (X, Y) or (inputs, labels) at ``env``."""
        if not self.named:
            return env[self.inputs[0][1]], env[self.labels[0][1]]
        constants = {v.name: float(np.asarray(env[v.symbol]).item()) if is_float(v)
                     else env[v.symbol] for v in self.constants}
        return ({**{name: env[s] for name, s in self.inputs}, **constants},
                {name: env[s] for name, s in self.labels})

    def forward(self, module, params, data, hyper):
        """``module.forward`` on ``data``, given the hyperparameters it reads; with dropout, in
        training, its masks drawn by a generator seeded with MASK_SEED afresh at each call,
        so that every call draws the same masks (the parameters do not change their shapes)."""
        accepted = inspect.signature(module.forward).parameters
        drawn = {"rng": np.random.default_rng(MASK_SEED)} if self.masks else {}
        return module.forward(params, data[0], **{k: v for k, v in hyper.items()
                                                  if k in accepted}, **drawn)

    def cost(self, module):
        """The module's cost as a function of (params, *data, **hyper): compute_cost, or with
        dropout the cost at forward()'s fixed masks (compute_cost takes none: identity)."""
        if not self.masks:
            return module.compute_cost

        def cost(params, *data, **hyper):
            cache = self.forward(module, params, data, hyper)
            return float(module.cost_from_cache(params, cache, *data, **hyper))

        return cost

    def with_masks(self, graph, env, cache) -> dict:
        """``env``, a forward pass of ``graph``, again at the masks that forward() drew
        (cached by their stacked names)."""
        if not self.masks:
            return env
        nodes = {s for s, _ in graph.nodes}
        leaves = {s: v for s, v in env.items() if s not in nodes}
        leaves.update({s: np.asarray(cache[s.name], dtype=float) for s in self.masks})
        return numeric.forward(graph, leaves)

    def examples(self, env) -> int:
        return np.shape(env[self.inputs[0][1]])[1]

    def arguments(self, env) -> tuple:
        """(params, hyperparameters, data) at ``env``."""
        params = {}
        for v in self.params:
            value = np.array(env[v.symbol], dtype=float)
            params[v.name] = float(value.item()) if v.type == "scalar" else value
        # a hyperparameter the graph does not read (a hidden layer's, at depth 1): its default
        hyper = {v.name: float(np.asarray(env.get(v.symbol, v.default)).item())
                 for v in self.hyper}
        return params, hyper, self.data(env)


def undefined_names(text: str) -> list[str]:
    """The names a function of the module reads that nothing defines: not its arguments or
    its own assignments, not an enclosing function's, the module's or a builtin."""
    tree = ast.parse(text)
    top = _bound(tree.body) | set(dir(builtins))
    missing = []

    def visit(function, outer):
        local = outer | _bound(function.body) | {a.arg for a in _arguments(function.args)}
        nested = []
        stack = list(function.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.Lambda)):
                nested.append(node)  # a scope of its own
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id not in local:
                    missing.append(f"{node.id} (line {node.lineno}, in {function.name})")
            stack.extend(ast.iter_child_nodes(node))
        for node in nested:
            if isinstance(node, ast.Lambda):
                node = ast.FunctionDef(name="lambda", args=node.args, body=[ast.Expr(node.body)],
                                       decorator_list=[])
            visit(node, local)

    for function in _top_functions(tree):
        visit(function, top)
    return sorted(missing)


def _top_functions(tree):
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out.append(node)
        elif isinstance(node, ast.ClassDef):
            out += [n for n in node.body if isinstance(n, ast.FunctionDef)]
    return out


def _arguments(args):
    return [*args.posonlyargs, *args.args, *args.kwonlyargs,
            *([args.vararg] if args.vararg else []), *([args.kwarg] if args.kwarg else [])]


def _bound(body) -> set:
    """The names a block of statements binds (not looking into nested functions)."""
    names = set()
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return names


def self_check(derivation, text: str, seed: int = 0) -> None:
    """Raise a SpecError (one line: the spec and what failed) unless the module ``text``
    compiles, defines every name it reads, runs, and agrees with finite differences."""
    model = derivation.model

    def fail(what):
        return SpecError(f"codegen's self-check of the generated module failed: {what}; no "
                         "file was written (please report this as a symgrad bug)",
                         file=model.source)

    try:
        compile(text, MODULE_FILE, "exec")
    except SyntaxError as err:
        raise fail(f"it does not compile ({err.msg}, line {err.lineno})") from None
    missing = undefined_names(text)
    if missing:
        raise fail(f"name {missing[0]} is not defined")
    with tempfile.TemporaryDirectory(prefix="symgrad-selfcheck-") as folder:
        try:
            module = import_text(text, folder)
        except Exception as err:  # noqa: BLE001 - any failure is the module's, reported
            raise fail(f"importing it raised {type(err).__name__}") from None
    calls = Calls(model)
    graph = derivation.batch_graph
    rng = np.random.default_rng(seed)
    for attempt in range(DRAWS):
        sizes = numeric.sizes_for(graph.shapes, rng, *SIZES)
        env = numeric.draw(graph, rng, sizes)
        params, hyper, data = calls.arguments(env)
        try:
            cache = calls.forward(module, params, data, hyper)
            grads = module.backward(params, cache, *data, **hyper)
            cost = calls.cost(module)(params, *data, **hyper)
        except Exception as err:  # noqa: BLE001
            raise fail(f"forward, backward or compute_cost raised {type(err).__name__}: "
                       f"{err}") from None
        if np.isfinite(cost) or attempt == DRAWS - 1:
            break
    if not np.isfinite(cost):
        raise fail("compute_cost is not finite at random points inside the domains")
    for v in model.parameters:
        name = adjoint_symbol(v.symbol).name
        if name not in grads:
            raise fail(f"backward() returns no {name}")
        estimate = finite_difference(calls.cost(module), params, v.name, data, hyper)
        error = relative_error(grads[name], estimate)
        if not error < TOLERANCE:
            raise fail(f"backward()'s {name} differs from finite differences of compute_cost "
                       f"(relative error {error:.1e}, tolerance {TOLERANCE:.0e})")


def finite_difference(cost, params, name, data, hyper):
    """Central finite differences of ``cost`` with respect to the parameter ``name``."""
    base = params[name]
    estimate = np.zeros(np.shape(base))
    for index in itertools.product(*map(range, np.shape(base))):
        values = []
        for step in (EPSILON, -EPSILON):
            if np.ndim(base) == 0:
                shifted = base + step
            else:
                shifted = np.array(base, dtype=float)
                shifted[index] += step
            values.append(cost({**params, name: shifted}, *data, **hyper))
        estimate[index] = (values[0] - values[1]) / (2 * EPSILON)
    return float(estimate) if np.ndim(base) == 0 else estimate
