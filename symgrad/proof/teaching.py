"""Teaching points, each triggered by the model's structure, never by its name.

* an L2 penalty on a parameter (its derivative a constant times the parameter): the update as a
  weight decay, ``w := (1 - αλ/m) w - α (data term)``;
* a sigmoid under squared error (the loss's second derivative in the sigmoid's output a
  constant): why it learns slowly, the factor a(1 - a) in dz;
* a Poisson loss (the loss equals μ - y log μ for a node μ): it is the negative log-likelihood
  of a Poisson count, up to log y!;
* a model with no examples: no gradient-descent section;
* every model with parameters: an appendix with the derivatives at one point beside central
  finite differences, computed here, not typed.

Displayed equalities are checked like every other line: the weight-decay line in the batch
scope, the Poisson identity as a scalar identity (:class:`Identity`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..calculus import numeric
from ..calculus.chain import adjoint_symbol
from ..model.graph import mean
from ..model.ops import sigmoid
from ..model.shapes import SCALAR
from .blocks import Equations, Line, Paragraph, ProofError, Quotient, Section, Table, Times

EPS = 1e-6  # the finite differences' step
ENTRIES = 3  # entries of each parameter in the appendix


# ----- the L2 penalty: weight decay -----


def decay_blocks(model, graph, steps, alpha, scope="batch") -> list:
    """For each parameter whose penalty term's derivative is k p (k free of p): the update
    as a weight decay, checked."""
    if model.cost is None:
        return []
    t = sp.Dummy("t")
    rest = model.cost.expr.replace(lambda e: isinstance(e, mean), lambda e: t).subs(t, 0)
    out = []
    for p in graph.leaves:
        if p not in steps or not rest.has(p):
            continue
        from ..calculus.rules import backprop

        shapes = dict(graph.shapes)
        direct = sp.Add(*[c.expr for c in backprop(rest, sp.Integer(1), shapes) if c.var == p])
        k = sp.simplify(direct / p)
        if k.has(p) or k == 0:
            continue
        dp = adjoint_symbol(p)
        data = sp.expand(steps[p].result - k * p)
        shrink = sp.Mul(1 - alpha * k, p, evaluate=False)
        out += [Paragraph((
            "The penalty adds ", sp.Mul(k, p, evaluate=False), " to ", dp, ": a multiple of ",
            p, " itself. So each step first shrinks ", p, " by the factor ", 1 - alpha * k,
            ", then takes the step of the cost without the penalty. This is why an L2 "
            "penalty is also called weight decay:"), scope=scope, own=True),
            Equations([Line(p - Times(alpha, dp), sp.Add(shrink, -Times(alpha, data),
                                                          evaluate=False),
                            ("substitute ", dp, " and collect the terms in ", p))],
                      scope=scope)]
    return out


# ----- a sigmoid under squared error -----


def slow_sigmoid_blocks(graph, steps) -> list:
    """Where a sigmoid's output a is read by the loss and the loss is quadratic in a: the
    factor a(1 - a) that dz keeps, and why it makes learning slow."""
    defs = dict(graph.nodes)
    out = []
    loss = graph.output
    for a, fwd in graph.nodes:
        if not isinstance(fwd, sigmoid) or loss not in defs or not defs[loss].has(a):
            continue
        second = sp.diff(defs[loss], a, 2)
        if second == 0 or second.free_symbols & {a}:
            continue
        (z,) = fwd.args
        if z not in steps:
            continue
        dz = steps[z].result
        factor = a * (1 - a)
        if sp.fraction(sp.cancel(dz / factor))[1] != 1:  # the factor cancelled
            continue
        out.append(Section(("Why squared error learns slowly here",), [Paragraph((
            adjoint_symbol(z), " keeps the factor ", factor, ", the slope of the sigmoid. It "
            "is at most 1/4, at ", sp.Eq(a, sp.Rational(1, 2)), ", and close to 0 when ", a,
            " is close to 0 or 1. A prediction that is confidently wrong (", a, " near 1 "
            "when the label is 0) therefore gets almost no gradient, and gradient descent "
            "moves slowly just where it should move fast. With the cross-entropy loss the "
            "factor cancels: there ", sp.Eq(adjoint_symbol(z), a - sp.Symbol("y", real=True),
                                            evaluate=False), "."), own=True)], level=2))
    return out


# ----- a Poisson loss -----


@dataclass
class Identity:
    """A block of scalar identities: both sides equal for positive reals and integer counts
    (logs expanded, factorials kept whole). Used by symgrad.proof.line_check."""

    def check(self, left, right) -> str:
        diff = sp.expand_log(sp.expand(left - right), force=True)
        if sp.simplify(diff) != 0:
            raise ProofError(f"{left} = {right} does not hold")
        return "symbolic"


def poisson_blocks(model, graph) -> list:
    """Where the loss is μ - y log μ for a node μ and a label y: what the loss is."""
    defs = dict(graph.nodes)
    loss = graph.output
    if loss not in defs:
        return []
    labels = [v.symbol for v in model.inputs if v.label]
    tied = defs[loss]
    for sym, fwd in reversed(graph.nodes):
        tied = tied.xreplace({sym: fwd}) if sym != loss else tied

    def written(e):
        for sym, fwd in reversed(graph.nodes):
            e = e.xreplace({sym: fwd})
        return sp.expand(sp.expand_log(e, force=True))

    # the rate is a term of the loss's own formula (L = mu - y z with mu = exp(z)): only those
    # nodes are tried, and equality after expanding the logs is enough (no simplify)
    nodes = {sym for sym, _ in graph.nodes} - {loss}
    rates = [t for t in sp.Add.make_args(sp.expand(defs[loss])) if t in nodes]
    for y in labels:
        if graph.shapes.get(y) != SCALAR or not rates:
            continue
        whole = written(tied)
        for mu in rates:
            if sp.expand(whole - written(mu - y * sp.log(mu))) != 0:
                continue
            # the identity on plain positive symbols, as a reader checks it
            r = sp.Symbol(mu.name, positive=True)
            k = sp.Symbol(y.name, integer=True, nonnegative=True)
            prob = r ** k * sp.exp(-r) / sp.factorial(k)
            return [Section(("What the Poisson loss is",), [
                Paragraph((
                    "A Poisson model with rate ", mu, " gives the count ", y, " the probability ",
                    sp.Eq(sp.Function("P")(y), prob.xreplace({r: mu, k: y}), evaluate=False),
                    ". Its negative log-likelihood is"), own=True),
                Equations([Line(-sp.log(prob, evaluate=False),
                                sp.Add(r, -k * sp.log(r), sp.log(sp.factorial(k)),
                                       evaluate=False),
                                ("log of a product and of a power",))],
                          entries=Identity()),
                Paragraph(("The last term, ", sp.log(sp.factorial(y)), ", does not depend on "
                           "the parameters, so it has no derivative and the loss ", loss,
                           " leaves it out: ", loss, " is the negative log-likelihood up to ",
                           sp.log(sp.factorial(y)), "."),)], level=2)]
    return []


# ----- no examples -----


def no_examples_blocks(model) -> list:
    return [Section(("No training here",), [Paragraph((
        "This model has no training examples and no labels: it is one function of its "
        "parameters, with no cost over examples to minimise. The derivatives above are what "
        "the graph passes back; no gradient-descent updates follow.",))])]


# ----- the appendix: the derivatives at one point -----


def check_table(derivation, scope="batch") -> Section | None:
    """Each parameter's derivative, as derived, beside the central finite difference of the
    cost, at one point (small sizes, a fixed seed), for the first entries."""
    graph = derivation.batch_graph
    steps = derivation.batch_steps
    if graph is None:
        graph, steps, scope = derivation.per_example_graph, derivation.per_example_steps, \
            "example"
    params = [p for p in graph.leaves if p in steps]
    if not params:
        return None
    rng = np.random.default_rng(0)
    dims = numeric.sizes_for(graph.shapes, rng)
    sizes = {d: (3 if d.name == "m" else 2) for d in dims}
    example = derivation.model.example if scope == "example" else {}
    try:
        if example:  # the spec's own point, as a lecture gives it (a = 5, b = 3, c = 2)
            leaves = numeric.random_leaves(graph, rng, sizes)  # those it gives no value to
            env = numeric.forward(graph, {s: np.full((1, 1), float(example[s.name]))
                                          if s.name in example else value
                                          for s, value in leaves.items()})
        else:
            env = numeric.draw(graph, rng, sizes)
        env = numeric.with_adjoints(graph, steps, env, sizes)
    except (RuntimeError, KeyError, ValueError, TypeError):
        return None
    rows = []
    for p in params:
        derived = np.atleast_1d(np.asarray(env[steps[p].adjoint], dtype=float))
        fd = np.atleast_1d(finite_difference(graph, env, p))
        derived = np.broadcast_to(derived.reshape(-1) if derived.size == fd.size else derived,
                                  fd.reshape(-1).shape)
        shape = numeric.concrete(graph.shapes[p], sizes)
        for n, index in enumerate(np.ndindex(*shape)):
            if n >= ENTRIES:
                break
            at = _entry_symbol(p, shape, index)
            d, f = float(derived.reshape(-1)[n]), float(fd.reshape(-1)[n])
            rows.append(((at,), (f"{d:.6f}",), (f"{f:.6f}",), (f"{abs(d - f):.1e}",)))
    pieces: list = []
    for d, n in sizes.items():
        pieces += [", " if pieces else "", sp.Eq(d, n)]
    drawn = ("inputs, labels and parameters" if derivation.model.inputs else "parameters")
    where = ["At one point (", *pieces, "; " if pieces else "", drawn, " drawn at random with "
             "a fixed seed)"]
    if example:
        where = ["At the example point ("]
        for name, value in example.items():
            where += [", " if len(where) > 1 else "", sp.Eq(sp.Symbol(name, real=True), value)]
        where.append(")")
    out = graph.output
    theta, eps = sp.Symbol("theta", real=True), sp.Symbol("epsilon", positive=True)
    f = sp.Function(out.name)
    central = Quotient(sp.Add(f(theta + eps), -f(theta - eps), evaluate=False), 2 * eps)
    return Section(("Appendix: the derivatives at one point",), [
        Paragraph((*where, ", the derivatives derived above beside the central differences ",
                   central, ", each entry ", theta, " of a parameter moved by ", eps, " with ",
                   sp.Eq(eps, sp.Pow(sp.UnevaluatedExpr(10), -6), evaluate=False),
                   ", the first entries of each parameter:"), scope=scope),
        Table(("entry", "derived", "finite difference", "difference"), rows, scope=scope)])


def finite_difference(graph, env, var, eps=EPS):
    """Central differences of the summed output in ``var``, every node recomputed."""
    base = np.array(env[var], dtype=float)
    grad = np.zeros_like(base)
    leaves = {k: v for k, v in env.items() if k not in dict(graph.nodes)}
    for index in np.ndindex(*base.shape):
        values = []
        for step in (eps, -eps):
            shifted = base.copy()
            shifted[index] += step
            values.append(float(np.sum(numeric.forward(graph, {**leaves, var: shifted})
                                       [graph.output])))
        grad[index] = (values[0] - values[1]) / (2 * eps)
    return grad


def _entry_symbol(p, shape, index):
    if shape == (1, 1):
        return p
    base = sp.IndexedBase(p)
    if shape[1] == 1:
        return base[index[0] + 1]
    if shape[0] == 1:
        return base[index[1] + 1]
    return base[index[0] + 1, index[1] + 1]
