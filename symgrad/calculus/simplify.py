"""Simplification into the graph's own variables; every rewrite is an equality that is recorded.

Two steps, each returning the expression and a label for the proof trace:

* :func:`to_node_variables`: a node's forward expression is replaced by the node's name
  (``sigmoid(z)`` -> ``a``), so results read like hand math;
* :func:`through_nodes`: a function of a node's input that the node's definition determines
  (``a = (tanh(z) + 1)/2`` gives ``tanh(z) = 2*a - 1``) is written through the node; the caller
  keeps this only where the simplified result is shorter and free of the input;
* :func:`shortest`: SymPy's ``cancel``, ``factor``, ``together``, ``expand``; the form with the
  fewest operations wins (ties: the shorter text), after the model's assumptions are applied
  (a ``binary`` label has ``y**2 = y``; a ``onehot`` label sums to 1).
"""

from __future__ import annotations

import functools
import math

import sympy as sp

from ..model.graph import M
from ..model.ops import Structural, colsum, mask, relu, rowsum, total
from ..model.shapes import SCALAR, shape_of


def to_node_variables(expr, nodes):
    """Replace each node's forward expression in ``expr`` by the node's symbol.

    >>> a, z = sp.symbols("a z")
    >>> from symgrad.model.ops import sigmoid
    >>> to_node_variables(sigmoid(z) * (1 - sigmoid(z)), [(a, sigmoid(z))])
    a*(1 - a)
    """
    names = {forward: symbol for symbol, forward in nodes
             if not (isinstance(forward, sp.Symbol) or forward.is_Number)}
    for symbol, forward in nodes:  # a mean over m examples: sum(Z, axis=1) = m*mu
        sums = [f for f in sp.Mul.make_args(forward) if isinstance(f, rowsum)]
        factor = forward / sums[0] if len(sums) == 1 else None
        if factor is not None and not factor.has(Structural) and \
                factor.free_symbols <= {M}:
            names.setdefault(sums[0], symbol / factor)
    expr = expr.xreplace(names)
    for symbol, forward in nodes:  # an operation written out by its definition (softmax)
        if hasattr(forward, "definition") and expr.has(*forward.definition().atoms(Structural)):
            expr = expr.subs(forward.definition(), symbol)
    return expr


def products_through_nodes(expr, nodes):
    """Each product that contains a product node's factors written through the node: with
    ``zhat = (z - mu)/sqrt(v + eps)``, ``(z - mu)/(v + eps)**(3/2)`` is ``zhat/(v + eps)``. A
    product qualifies where it has every factor of the node's definition to a power of the
    same sign and at least as large, so that the quotient divides nothing new.

    >>> z, mu, v, zhat = sp.symbols("z mu v zhat", real=True)
    >>> products_through_nodes((z - mu)*v**-3, [(zhat, (z - mu)/v)])
    zhat/v**2
    """
    for symbol, forward in nodes:
        if not forward.is_Mul:
            continue
        powers = {b: e for b, e in forward.as_powers_dict().items() if not b.is_Number}
        if len(powers) < 2 or not all(e.is_number for e in powers.values()):
            continue

        def fits(t, powers=powers):
            if not t.is_Mul:
                return False
            have = _common_factors(t).as_powers_dict()
            return all(b in have and have[b].is_number and (have[b] * e).is_positive
                       and abs(have[b]) >= abs(e) for b, e in powers.items())

        expr = expr.replace(fits, lambda t, forward=forward, symbol=symbol:
                            symbol * (_common_factors(t) / forward))
    return expr


def _common_factors(product):
    """A product with each sum's common factor taken out: 2*z - 2*mu -> 2*(z - mu)."""
    return sp.Mul(*[sp.factor_terms(f) if f.is_Add else f for f in product.args])


def through_nodes(expr, nodes, variables, shapes=None):
    """``expr`` with each function of a node's input written through the node, where the node's
    definition, solved for that function, has one solution; the variables it should then be
    free of; and the step's rule, in pieces (words and equations, see
    :mod:`symgrad.calculus.chain`). ``(expr, frozenset(), ())`` where no node applies.

    The input's functions are found in the node's definition (its outermost non-structural
    function applications and roots); each is replaced by a placeholder t and ``node = f(t)``
    solved for t with SymPy. Only ``variables`` (the graph's nodes and parameters) count as
    the input's: a hyperparameter may stay. With ``shapes``, a function is written through a
    node only where the two have one shape: a batch statistic's sqrt(v + eps), one column, is
    not (z - mu)/zn, m columns that would all have to agree.

    >>> a, z = sp.symbols("a z", real=True)
    >>> expr, gone, rule = through_nodes(1 - sp.tanh(z)**2, [(a, (sp.tanh(z) + 1)/2)], {a, z})
    >>> expr, gone
    (1 - (2*a - 1)**2, frozenset({z}))
    >>> rule
    ('write in node variables: ', Eq(tanh(z), 2*a - 1), ' by the definition of ', a)
    """
    present = expr.free_symbols & set(variables)
    subs, gone, said = {}, set(), ["write in node variables: "]
    for symbol, forward in nodes:
        for inner, value in _solved(symbol, forward):
            inputs = inner.free_symbols & set(variables)
            if shapes is not None and _shape(inner, shapes) != _shape(value, shapes):
                continue
            if inputs & present:
                subs[inner] = value
                gone |= inputs
                said += ["; "] * (len(said) > 1) + [
                    sp.Eq(inner, value, evaluate=False), " by the definition of ", symbol]
    if not subs:
        return expr, frozenset(), ()
    return expr.subs(subs), frozenset(gone), tuple(said)


@functools.lru_cache(maxsize=4096)
def _solved(symbol, forward) -> tuple:
    """The functions of the inputs in ``forward`` that ``symbol = forward`` determines:
    ``(function, its value in symbol)`` pairs, each the unique solution of the definition."""
    if isinstance(forward, sp.Symbol) or forward.is_Number or isinstance(forward, Structural):
        return ()
    out = []
    for inner in dict.fromkeys(_outermost(forward)):  # each once, in order
        if inner == forward:  # the node is the function itself: to_node_variables' case
            continue
        t = sp.Dummy("t")
        written = forward.subs(inner, t)
        if not written.has(t) or written.free_symbols & inner.free_symbols:
            continue  # the definition depends on the input otherwise: not solvable for it
        try:
            solutions = sp.solve(sp.Eq(symbol, written), t)
        except (NotImplementedError, ValueError, TypeError):
            continue
        if len(solutions) == 1 and not solutions[0].has(t):
            out.append((inner, solutions[0]))
    return tuple(out)


def _shape(expr, shapes):
    try:
        return shape_of(expr, shapes)
    except (KeyError, TypeError):
        return None


def _outermost(expr) -> list:
    """The function applications and roots of ``expr`` not inside another one."""
    if expr.is_Atom:
        return []
    if isinstance(expr, Structural):
        return []
    if isinstance(expr, sp.Function) or (expr.is_Pow and not expr.exp.is_Integer):
        return [expr] if expr.free_symbols else []
    return [f for a in expr.args for f in _outermost(a)]


def tidy_sums(expr, shapes):
    """Linearity of the sums: constants along the summed axis come out, sums of terms split.

    ``sum(a*s, axis=0) = s*sum(a, axis=0)`` where ``s`` has one row; likewise for the other
    sums. Each is an identity of linear algebra, so the result equals the input.
    """
    def keeps(sum_, factor):
        r, c = shape_of(factor, shapes)
        if isinstance(sum_, colsum):
            return r == 1
        if isinstance(sum_, rowsum):
            return c == 1
        return (r, c) == SCALAR

    def tidy(e):
        if not isinstance(e, (colsum, rowsum, total)):
            return e
        (arg,) = e.args
        if (arg.is_Add or arg.is_Mul) and expanded_size(arg) <= EXPAND_LIMIT:
            arg = sp.expand(arg)
        terms = sp.Add.make_args(arg)
        out = []
        for term in terms:
            inside, outside = [], []
            for factor in sp.Mul.make_args(term):
                (outside if factor.is_Number or keeps(e, factor) else inside).append(factor)
            out.append(sp.Mul(*outside) * (e.func(sp.Mul(*inside)) if inside else
                                           _constant_sum(e, shapes)))
        return sp.Add(*out)

    return expr.replace(lambda e: isinstance(e, (colsum, rowsum, total)), tidy)


def _constant_sum(sum_, shapes):
    """The sum of a constant 1 broadcast to the summed argument's shape: its count."""
    r, c = shape_of(sum_.args[0], shapes)
    if isinstance(sum_, colsum):
        return r
    if isinstance(sum_, rowsum):
        return c
    return r * c


def sums_to_one(nodes, shapes, onehot=frozenset()) -> frozenset:
    """The nodes whose columns sum to 1, by their definitions: a softmax
    (``sum(exp(z)/sum(exp(z))) = 1``), a mixture of a one-hot label and the uniform
    distribution; found by the sums' linearity (:func:`tidy_sums`) and ``onehot``, the labels
    known to sum to 1.

    >>> a, z = sp.symbols("a z", real=True)
    >>> from symgrad.model.ops import softmax
    >>> sums_to_one([(a, softmax(z))], {a: (3, 1), z: (3, 1)})
    frozenset({a})
    """
    found = set(onehot)
    for symbol, forward in nodes:
        if shapes.get(symbol, SCALAR)[0] == 1:  # one row: each column sums to itself
            continue
        definition = forward.definition() if hasattr(forward, "definition") else forward
        if not definition.free_symbols & (found | {s for s, _ in nodes}) and \
                not isinstance(forward, Structural):
            continue  # made of the leaves alone (w @ x + b): no known sum
        try:
            column = tidy_sums(colsum(definition), shapes)
        except (KeyError, TypeError, ValueError):
            continue
        if sp.cancel(apply_assumptions(column, onehot=frozenset(found))) == 1:
            found.add(symbol)
    return frozenset(found - set(onehot))


def kink_identities(expr):
    """``Heaviside(u)*relu(u) = relu(u)`` and ``Heaviside(u)**k = Heaviside(u)``: true at every
    u under symgrad's convention ``Heaviside(0) = 0`` (relu'(0) = 0)."""
    def step(e):
        return isinstance(e, sp.Heaviside) and (len(e.args) == 1 or e.args[1] == 0)

    if not expr.has(sp.Heaviside):
        return expr
    expr = expr.replace(lambda e: e.is_Pow and step(e.base) and e.exp.is_Integer and e.exp > 0,
                        lambda e: e.base)

    def without_steps(e):
        ramps = {a.args[0] for a in e.args if isinstance(a, relu)}
        return sp.Mul(*[a for a in e.args if not (step(a) and a.args[0] in ramps)])

    return expr.replace(lambda e: e.is_Mul and any(isinstance(a, relu) for a in e.args)
                        and any(step(a) for a in e.args), without_steps)


def quotient_identities(expr):
    """``sinh(u)/cosh(u) = tanh(u)``: one function, finite where the quotient overflows
    (sinh(800)/cosh(800) is inf/inf in floating point, tanh(800) is 1)."""
    if not (expr.has(sp.sinh) and expr.has(sp.cosh)):
        return expr

    def joined(e):
        factors = list(sp.Mul.make_args(e))
        for f in [f for f in factors if isinstance(f, sp.sinh)]:
            below = sp.cosh(f.args[0]) ** -1
            if f in factors and below in factors:
                factors.remove(f)
                factors.remove(below)
                factors.append(sp.tanh(f.args[0]))
        return sp.Mul(*factors)

    return expr.replace(lambda e: e.is_Mul and e.has(sp.sinh), joined)


def identities(expr):
    """The step of :func:`kink_identities` and :func:`quotient_identities`: its rule, in
    pieces (the identities used, as equations), and ``expr`` rewritten; ``((), expr)`` where
    neither applies.

    >>> r = sp.Symbol("r", real=True)
    >>> identities(sp.sinh(r)/sp.cosh(r))
    (('the identity ', Eq(sinh(r)/cosh(r), tanh(r))), tanh(r))
    """
    kinked = kink_identities(expr)
    joined = quotient_identities(kinked)
    rule: list = []
    if kinked != expr:
        u = sp.Symbol("u", real=True)
        step = sp.Heaviside(u, 0)
        rule += ["the step function is 0 at the kink (relu's convention): ",
                 sp.Eq(sp.Mul(step, relu(u), evaluate=False), relu(u), evaluate=False),
                 " and ", sp.Eq(sp.Pow(step, 2, evaluate=False), step, evaluate=False)]
    if joined != kinked:
        quotients = sorted({f.args[0] for f in joined.atoms(sp.tanh)} -
                           {f.args[0] for f in kinked.atoms(sp.tanh)}, key=str)
        rule += ["; "] * bool(rule) + ["the identit" + ("ies " if len(quotients) > 1 else "y ")]
        for n, u in enumerate(quotients):
            rule += [", "] * bool(n) + [sp.Eq(sp.Mul(sp.sinh(u), 1 / sp.cosh(u),
                                                     evaluate=False), sp.tanh(u),
                                              evaluate=False)]
    return tuple(rule), joined


def apply_assumptions(expr, binary=frozenset(), onehot=frozenset()):
    """The labels' assumptions (binary: y**2 = y; columns summing to 1), and the identities
    of the kinks (:func:`kink_identities`) and of quotients (:func:`quotient_identities`)."""
    expr = quotient_identities(kink_identities(expr))
    if binary:
        expr = expr.replace(lambda e: e.is_Pow and e.base in binary and e.exp.is_Integer
                            and e.exp > 0, lambda e: e.base)
    if onehot:  # each column of a one-hot label sums to 1
        expr = expr.replace(lambda e: isinstance(e, colsum) and e.args[0] in onehot,
                            lambda e: sp.Integer(1))
    return expr


def size(expr):
    """Operations, then text length, then the numbers written other than 1 (``2*(a - y)``
    before ``2*a - 2*y``)."""
    numbers = sum(1 for e in sp.preorder_traversal(expr) if e.is_Number and abs(e) != 1)
    return (sp.count_ops(expr), len(str(expr)), numbers)


SIMPLIFIERS = (
    ("cancel", sp.cancel),
    ("factor", sp.factor),
    ("together", sp.together),
    ("expand", sp.expand),
    ("factor out", sp.factor_terms),  # 2*(a - y), where factor gives -2*(y - a)
)

EXPAND_LIMIT = 256  # terms or degree: beyond this, the simplifiers that multiply out are not tried
SIZE_CAP = 10**6  # expanded_size counts no further


def expanded_size(expr) -> int:
    """An upper bound on the terms and the degree of ``expr`` multiplied out over a common
    denominator (a function's argument counted on its own), found without multiplying it out;
    at most :data:`SIZE_CAP`.

    ``cancel``, ``factor`` and ``expand`` multiply out, and a product of n sums of two terms
    has 2**n terms: :func:`shortest` tries them only up to :data:`EXPAND_LIMIT`. The terms are
    counted both ways, by the sums multiplied and by the monomials of the degree reached.

    >>> t, x = sp.symbols("t x")
    >>> expanded_size((1 + t)**3 * (1 - x**2)), expanded_size(sp.tanh((1 + t)**100))
    (8, 101)
    >>> expanded_size(sp.Mul(*[t + k for k in range(30)]))  # 2**30 products, 31 monomials
    31
    """
    worst, generators = 0, set()

    def walk(e):  # numerator, denominator: each (terms, degree)
        nonlocal worst
        if e.is_Number:
            return (1, 0), (1, 0)
        if e.is_Add or e.is_Mul:
            parts = [walk(a) for a in e.args]
            den = (math.prod(d for _, (d, _) in parts), sum(g for _, (_, g) in parts))
            if e.is_Add:  # over the common denominator
                num = (sum(n * (den[0] // d) for (n, _), (d, _) in parts),
                       max(g + den[1] - h for (_, g), (_, h) in parts))
            else:
                num = (math.prod(n for (n, _), _ in parts), sum(g for (_, g), _ in parts))
            return tuple(min(v, SIZE_CAP) for v in num), tuple(min(v, SIZE_CAP) for v in den)
        if e.is_Pow and e.exp.is_Integer:
            power = min(abs(int(e.exp)), SIZE_CAP)
            num, den = walk(e.base)[::-1 if e.exp < 0 else 1]
            return tuple((_comb(power + n - 1, power), min(power * g, SIZE_CAP))
                         for n, g in (num, den))
        generators.add(e)  # a symbol, a function, a root: one term
        for a in e.args:
            worst = max(worst, expanded_size(a))
        return (1, 1), (1, 0)

    parts = walk(expr)
    v = len(generators)
    return max(worst, *(max(degree, min(terms, _comb(degree + v, v))) for terms, degree in parts))


def _comb(n, k) -> int:
    """n choose k, or SIZE_CAP where that is smaller."""
    k, out = min(k, n - k), 1
    for i in range(1, k + 1):  # C(n - k + i, i) grows with i
        out = out * (n - k + i) // i
        if out >= SIZE_CAP:
            return SIZE_CAP
    return out


def affordable(simplifiers, expr):
    """The ``simplifiers`` worth trying on ``expr``: all of them, or where multiplying ``expr``
    out is too large (:func:`expanded_size`), only ``together``."""
    if expanded_size(expr) <= EXPAND_LIMIT:
        return simplifiers
    return [(name, simplifier) for name, simplifier in simplifiers if simplifier is sp.together]


def shortest(expr, binary=frozenset(), onehot=frozenset()):
    """The smallest of the simplifiers' results, and the name of the one that gave it."""
    expr = apply_assumptions(expr, binary, onehot)
    masked, unmask = mask(expr)
    best, label = masked, "as derived"
    best_size = size(best)  # measured once a candidate, not again at every comparison
    for name, simplifier in affordable(SIMPLIFIERS, masked):
        candidate = apply_assumptions(simplifier(masked), binary, onehot)
        if (measured := size(candidate)) < best_size:
            best, label, best_size = candidate, name, measured
    # a second pass: after expansion, cancelling or factoring may shorten further
    for name, simplifier in affordable(SIMPLIFIERS[:2] + SIMPLIFIERS[-1:], best):
        candidate = apply_assumptions(simplifier(best), binary, onehot)
        if (measured := size(candidate)) < best_size:
            best, label, best_size = candidate, f"{label}, then {name}", measured
    return one_step_each(best.xreplace(unmask)), label


def one_step_each(expr):
    """A sum with a step function in several terms written with it once:
    ``H + alpha*(1 - H) = alpha + (1 - alpha)*H`` (H = Heaviside(z)), so that the two cases read
    as one (``where(z > 0, 1, alpha)`` in print) and the generated code does not name H apart.

    >>> z, alpha = sp.symbols("z alpha", real=True)
    >>> H = sp.Heaviside(z, 0)
    >>> one_step_each(H + alpha*(1 - H))
    alpha + (1 - alpha)*Heaviside(z, 0)
    """
    if not expr.has(sp.Heaviside):
        return expr

    def collected(e):
        steps = e.atoms(sp.Heaviside)
        if len(steps) != 1:
            return e
        (step,) = steps
        if sum(1 for term in e.args if term.has(step)) < 2:
            return e
        out = sp.collect(sp.expand(e), step)
        return out if sp.count_ops(out) <= sp.count_ops(e) else e

    return expr.replace(lambda e: e.is_Add and e.has(sp.Heaviside), collected)
