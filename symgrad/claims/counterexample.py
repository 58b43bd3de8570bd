"""Counterexamples: a point where a claim and the derivation differ, with small, simple values.

Per example, the names a reader sees (nodes such as ``a`` too) take simple values, realised by
solving for the leaves, so that every value shown comes from a real forward pass. Over m
examples, a small concrete X, Y and parameters are drawn from a grid of simple entries.

Every value chosen for a leaf lies in its domain (:mod:`symgrad.model.domains`): a count is a
whole number >= 0, a positive hyperparameter > 0, a probability label's columns are probability
vectors (not one-hot ones), so a correct claim is never refuted outside the model's values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..calculus.numeric import concrete
from ..model.graph import M
from .scope import differs

NODE_VALUES = (0.7, 0.3, 2.0, 0.5, 1.5, -1.0, 0.2, 3.0)  # simple values tried for nodes
LEAF_VALUES = (1.0, 2.0, 0.5, -1.0, 3.0, 0.0, 0.7)  # ... and for leaves in the claim
GRID = (1.0, 0.0, 2.0, -1.0, 0.5)  # entries of the small concrete X, Y, w
SEARCH_LIMIT = 60


@dataclass
class Counterexample:
    values: dict  # name -> array: what the two sides depend on
    claimed: np.ndarray
    correct: np.ndarray

    def text(self, name, batch) -> str:
        for digits in (4, 6, 9, 12, 17):
            mine, right = (_show(v, batch, digits) for v in (self.claimed, self.correct))
            if mine != right:
                break
        where = ", ".join(f"{k} = {_show(v, batch, 4)}" for k, v in self.values.items())
        if not where or list(self.values) == ["m"]:
            return f"whatever the values{where and ' (' + where + ')'}, your {name} = {mine}, " \
                   f"correct {name} = {right}"
        return f"{where} gives your {name} = {mine}, correct {name} = {right}"

    def to_json(self) -> dict:
        return {"values": {k: _jsonable(v) for k, v in self.values.items()},
                "claimed": _jsonable(self.claimed), "correct": _jsonable(self.correct)}


def find(space, step, expr, bad) -> Counterexample | None:
    """A counterexample with simple values, or the one at ``bad`` (a point where they differ)."""
    return _Search(space, step, expr).run() or _Search(space, step, expr).at(bad)


class _Search:
    def __init__(self, space, step, expr):
        self.space, self.step, self.expr = space, step, expr
        self.derived = step.result
        show = space.in_leaves if space.batch else space.in_nodes
        shown = show(expr).free_symbols | show(self.derived).free_symbols
        shown -= set(space.dims.values())  # sizes (eye(n_y)), not values to choose
        if space.batch:  # m, the inputs (X, Y), the parameters in order, the rest
            params = space.graph.leaves
            self.shown = sorted(shown | {M}, key=lambda s: (
                s != M, s in params, params.index(s) if s in params else 0, space.label(s)))
        else:
            self.shown = sorted(shown, key=lambda s: (s != M, space.label(s).lower(),
                                                      space.label(s)))
        self.fallback = None

    def at(self, env):
        claimed, correct = (self.space.value(e, env) for e in (self.expr, self.derived))
        if not differs(claimed, correct, self.space.due(self.step, env)):
            return None
        shape = self.space.due(self.step, env)
        values = {self.space.label(s): np.asarray(env[s] if s in env and s is not M
                                                            else env["sizes"][s])
                  for s in self.shown}
        claimed = (np.broadcast_to(claimed, shape) if claimed is not None
                   else np.full(shape, np.nan))
        return Counterexample(values, claimed, np.broadcast_to(correct, shape))

    def keep(self, found):
        """``found`` if both sides are nonzero somewhere; else remember it, in case."""
        if found is None:
            return None
        if np.any(found.correct != 0) and np.any(found.claimed != 0):
            return found
        self.fallback = self.fallback or found
        return None

    def run(self):
        sizes = self.space.sizes()
        found = None if self.space.batch else self.targeted(sizes)
        return found or self.grid(sizes)

    def grid(self, sizes):
        space = self.space
        seen = set()
        for k in range(3 * SEARCH_LIMIT):
            rng = np.random.default_rng(k)
            values = GRID[:2 + k // SEARCH_LIMIT * 2]
            leaves = {}
            for s in space.leaves:
                shape = concrete(space.shapes[s], sizes)
                domain = space.domains.get(s)
                if domain is None:
                    leaves[s] = rng.choice(values, size=shape)
                elif domain.columns == "onehot":
                    hot = np.zeros(shape)
                    hot[rng.integers(0, shape[0], size=shape[1]), np.arange(shape[1])] = 1.0
                    leaves[s] = hot
                elif domain.columns:  # probability vectors: simple ones, a column each
                    simple = _probability_columns(shape[0])
                    picked = rng.integers(0, len(simple), size=shape[1])
                    leaves[s] = np.stack([simple[i] for i in picked], axis=1)
                elif domain.binary:
                    leaves[s] = rng.integers(0, 2, size=shape).astype(float)
                else:
                    leaves[s] = rng.choice(domain.simple(values), size=shape)
            key = b"".join(v.tobytes() for v in leaves.values())
            if key in seen:
                continue
            seen.add(key)
            found = self.keep(self.at(space.evaluate(leaves, sizes)))
            if found:
                return found
        return self.fallback

    def targeted(self, sizes):
        """Simple values for the names shown (nodes too), realised by solving for the leaves."""
        space = self.space
        shown = [s for s in self.shown if s is not M]
        nodes = [s for s in shown if s in space.depends]
        targets = [n for n in nodes if not space.depends[n] & set(nodes)]
        fixed = [s for s in shown if s not in space.depends]
        chosen = fixed + targets
        options = [self.options(s, sizes) for s in chosen]
        for combo in itertools.islice(_simplest_first([len(o) for o in options]), SEARCH_LIMIT):
            values = {s: options[i][j] for i, (s, j) in enumerate(zip(chosen, combo, strict=True))}
            leaves = _realise(space, {s: values[s] for s in fixed},
                              {s: values[s] for s in targets}, sizes)
            if leaves is not None:
                found = self.keep(self.at(space.evaluate(leaves, sizes)))
                if found:
                    return found
        return self.fallback

    def options(self, s, sizes):
        shape = concrete(self.space.shapes[s], sizes)
        domain = self.space.domains.get(s)
        if domain is not None and domain.columns == "onehot":
            out = []
            for i in range(shape[0]):
                hot = np.zeros(shape)
                hot[i, :] = 1.0
                out.append(hot)
            return out
        if domain is not None and domain.columns:  # probability vectors, never one-hot
            return [np.repeat(c[:, None], shape[1], axis=1)
                    for c in _probability_columns(shape[0])]
        if domain is not None and domain.binary:
            return [np.ones(shape), np.zeros(shape)]
        base = NODE_VALUES if s in self.space.depends else LEAF_VALUES
        if domain is not None:
            base = domain.simple(base)
        size = int(np.prod(shape))
        return [np.array([base[(k + i) % len(base)] for i in range(size)]).reshape(shape)
                for k in range(len(base))]


def _simplest_first(counts):
    """Index tuples (one index below each count), those with the smallest sum first."""
    def with_sum(n, counts):
        if not counts:
            if n == 0:
                yield ()
            return
        for first in range(min(n, counts[0] - 1) + 1):
            for rest in with_sum(n - first, counts[1:]):
                yield (first, *rest)

    for n in range(sum(c - 1 for c in counts) + 1):
        yield from with_sum(n, counts)


def _probability_columns(n) -> list:
    """Simple probability vectors of length ``n`` that are not one-hot: 0.7 on one entry and
    the rest shared (``[0.7, 0.3]``), then the uniform vector."""
    if n == 1:
        return [np.ones(1)]
    out = []
    for i in range(n):
        column = np.full(n, 0.3 / (n - 1))
        column[i] = 0.7
        out.append(column)
    return out + [np.full(n, 1.0 / n)]


def _start(domain, shape):
    """A simple value inside ``domain`` (None: all reals) for a leaf not chosen."""
    if domain is None:
        return np.full(shape, 0.5)
    if domain.columns == "onehot":
        out = np.zeros(shape)
        out[0, :] = 1.0
        return out
    if domain.columns:
        return np.repeat(_probability_columns(shape[0])[-1][:, None], shape[1], axis=1)
    if domain.binary:
        return np.ones(shape)
    return np.full(shape, domain.simple((0.5, 1.0, 2.0))[0])


def _movable(domain) -> bool:
    """Whether Gauss-Newton may move a leaf of ``domain``: all reals, or an interval of reals
    (each step is then put back inside it); never whole numbers or columns summing to 1."""
    return domain is None or not (domain.integer or domain.columns)


def _inside(domain, x):
    """``x`` put back inside an interval ``domain``, away from an open bound."""
    if domain is None:
        return x
    if domain.low is not None:
        x = max(x, domain.low + (1e-3 if domain.low_open else 0.0))
    if domain.high is not None:
        x = min(x, domain.high - (1e-3 if domain.high_open else 0.0))
    return x


def _realise(space, fixed, targets, sizes):
    """Leaves, each inside its domain, at which the nodes take the ``targets`` values
    (Gauss-Newton), or None."""
    leaves = {}
    for s in space.leaves:
        shape = concrete(space.shapes[s], sizes)
        if s in fixed:
            leaves[s] = np.array(fixed[s], dtype=float)
        else:
            leaves[s] = _start(space.domains.get(s), shape)
    if not targets:
        return leaves
    free = [(s, i) for s in space.leaves
            if s not in fixed and _movable(space.domains.get(s))
            for i in np.ndindex(leaves[s].shape)]
    if not free:
        return None

    def residual(values):
        env = space.forward(values, sizes)
        return np.concatenate([(np.broadcast_to(env[t], np.shape(v)) - v).ravel()
                               for t, v in targets.items()])

    r = residual(leaves)
    for _ in range(40):
        if not np.all(np.isfinite(r)):
            return None
        if np.max(np.abs(r)) < 1e-12:
            return leaves
        jacobian = np.empty((r.size, len(free)))
        for j, (s, i) in enumerate(free):
            moved = {**leaves, s: leaves[s].copy()}
            moved[s][i] += 1e-7
            jacobian[:, j] = (residual(moved) - r) / 1e-7
        step = np.linalg.lstsq(jacobian, -r, rcond=None)[0]
        for scale in (1.0, 0.5, 0.25, 0.1):  # damped: take a step that reduces the residual
            moved = {s: v.copy() for s, v in leaves.items()}
            for j, (s, i) in enumerate(free):
                moved[s][i] = _inside(space.domains.get(s),
                                      np.clip(moved[s][i] + scale * step[j], -8.0, 8.0))
            r_moved = residual(moved)
            if np.all(np.isfinite(r_moved)) and np.linalg.norm(r_moved) < np.linalg.norm(r):
                leaves, r = moved, r_moved
                break
        else:
            return None
    return None


# ----- showing numbers -----


def _number(x, digits) -> str:
    if not np.isfinite(x):
        return "undefined" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    x = float(x) + 0.0  # no -0
    if x == round(x) and abs(x) < 1e15:
        return str(int(round(x)))
    return f"{x:.{digits}g}"


def _show(value, batch, digits) -> str:
    value = np.asarray(value, dtype=float)
    if value.size == 1:
        return _number(value.reshape(-1)[0], digits)
    if not batch and value.ndim == 2 and value.shape[1] == 1:  # a column vector, per example
        return "[" + ", ".join(_number(x, digits) for x in value[:, 0]) + "]"
    return "[" + ", ".join("[" + ", ".join(_number(x, digits) for x in row) + "]"
                           for row in np.atleast_2d(value)) + "]"


def _jsonable(value):
    value = np.asarray(value, dtype=float)

    def one(x):
        return float(x) if np.isfinite(x) else str(x)

    if value.size == 1:
        return one(value.reshape(-1)[0])
    return [[one(x) for x in row] for row in np.atleast_2d(value)]
