"""Checking hand derivations: a claim such as ``dz = y - a`` is proven, refuted or not proven.

>>> import symgrad
>>> model = symgrad.load("derivations/logistic_regression.toml")
>>> print(model.check("dz", "sigmoid(z) - y"))
✓ dz = sigmoid(z) - y is proven. symgrad derives dz = a - y.
>>> print(model.check("dz", "y - a"))
✗ dz = y - a is false. symgrad derives dz = a - y.
  Your claim is the negative of the correct one (sign error).
  Counterexample: a = 0.7, y = 1 gives your dz = 0.3, correct dz = -0.3.

What a claim may say, and whether it is read per example, over m examples or for layer l of a
stack, is :mod:`symgrad.claims.claim`. The checker reads the derivation only (the reader of the
derivation that :mod:`symgrad.calculus.derivation` names); it never derives anything itself.

Verdicts
--------
Shapes come first: a claim of another shape than the derivative is refuted, both shapes named.
Then both sides are written in the graph's leaves (node names and derivatives replaced by their
definitions, :mod:`symgrad.claims.scope`), put in the canonical form of
:mod:`symgrad.calculus.canonical_form` (the
one the proof writer checks its lines in) and their difference simplified under the model's
assumptions (a binary label is 0 or 1, a one-hot or probability label's columns sum to 1).

* **proven**: the difference simplifies to 0 *and* the two agree numerically at random points;
  a proof that needs a premise about the labels says so ("proven, using y in {0, 1}");
* **refuted**: the two differ at some point; the counterexample shown prefers small, simple
  values (:mod:`symgrad.claims.counterexample`);
* **not proven**: SymPy could not decide, but the two agree at every random point tried. Said
  plainly; never reported as proven. A claim whose check runs past its time limit
  (:data:`symgrad.calculus.budget.CLAIM_LIMIT`, 10 s) is not proven either: "gave up after 10 s".

A refuted claim gets a diagnosis where a common slip explains it (:mod:`symgrad.claims.diagnose`).

Conventions: a claim over m examples refuted in symgrad's convention is judged again in the
others texts use (:mod:`symgrad.claims.conventions`: dZ = dJ/dZ with the 1/m, examples as rows,
a summed cost), each the same proof on the claim translated into symgrad's; the first in which
it is proven (else one in which the numbers agree: not proven) gives the verdict, with a note
naming it (``Verdict.convention``). A declared
convention (``Checker(model, convention="rows")``) is the only one tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..calculus.budget import CLAIM_LIMIT, OutOfTime, limit
from ..calculus.derivation import derive, layer_index_names
from ..model import naming
from ..model.errors import SpecError
from ..model.escape import terminal_text
from ..model.layers import PREVIOUS_UNITS, UNITS
from ..model.shapes import describe
from . import conventions
from .claim import Claim, names_in, read_claims, refuse_misplaced_indices
from .counterexample import Counterexample, find
from .diagnose import diagnose
from .scope import Space, differs

PROOF_POINTS = 6  # random points that back every symbolic proof
EVIDENCE_POINTS = 20  # random points compared when SymPy cannot decide
PROVEN, REFUTED, NOT_PROVEN = "proven", "refuted", "not proven"
MARK = {PROVEN: "✓", REFUTED: "✗", NOT_PROVEN: "?"}


@dataclass
class Verdict:
    """The outcome of checking one claim. ``proven`` is True only for a proof."""

    name: str
    claim: str  # the right side, as written
    status: str  # "proven", "refuted" or "not proven"
    batch: bool
    derived: str  # symgrad's result, as ``symgrad derive`` prints it
    reason: str = ""
    diagnosis: list = field(default_factory=list)
    counterexample: Counterexample | None = None
    points: int = 0  # random points at which the two sides were compared
    premises: list = field(default_factory=list)  # what a proof assumed about the labels
    convention: str = conventions.COURSE  # the convention the claim was judged in (conventions.py)

    @property
    def proven(self) -> bool:
        return self.status == PROVEN

    def text(self) -> str:
        scope = " (over m examples)" if self.batch else ""
        verb = {PROVEN: "is proven", REFUTED: "is false", NOT_PROVEN: "is not proven"}
        if self.premises:
            verb[PROVEN] += ", using " + " and ".join(self.premises)
        lines = [f"{MARK[self.status]} {self.name} = {self.claim}{scope} {verb[self.status]}. "
                 f"symgrad derives {self.name} = {self.derived}."]
        lines += [f"  {line}" for line in ([self.reason] if self.reason else []) + self.diagnosis]
        if self.counterexample is not None:
            lines.append(f"  Counterexample: {self.counterexample.text(self.name, self.batch)}.")
        return "\n".join(terminal_text(line) for line in lines)  # the claim as typed, made safe

    __str__ = text

    def to_json(self) -> dict:
        return {"name": self.name, "claim": self.claim, "verdict": self.status,
                "over_m_examples": self.batch, "derived": self.derived, "reason": self.reason,
                "diagnosis": self.diagnosis, "points_compared": self.points,
                "premises": self.premises,
                "convention": self.convention,
                "counterexample": self.counterexample and self.counterexample.to_json()}


def check(model, name, text=None, *, batch=None) -> Verdict:
    """Check one claim against ``model``'s derivation: ``check(model, "dz", "a - y")``."""
    return Checker(model).check(name, text, batch=batch)


class Checker:
    """Checks claims against one model, derived once for all of them; each verdict within
    ``time_limit`` seconds (None: no limit). ``convention`` (``rows``, ``cost``, ``summed``,
    ``course``; :mod:`symgrad.claims.conventions`): the only one claims over m examples are
    judged in; None: symgrad's, then the others where it refutes a claim."""

    def __init__(self, model, derivation=None, time_limit: float | None = CLAIM_LIMIT,
                 convention: str | None = None):
        self.model = model
        self.convention = conventions.read(convention)
        self.derivation = derivation or derive(model)
        self.time_limit = time_limit
        self._spaces = {}

    def space(self, batch: bool, layer: bool = False) -> Space:
        """The names and numbers of one scope: per example or over m examples, of the model or
        (``layer``) of a stack's hidden layer l."""
        if (batch, layer) not in self._spaces:
            d = self.derivation.layer if layer else self.derivation
            if d is None:
                raise SpecError(f"model '{self.model.name}' has no [layers]; a claim in layer "
                                "notation (such as dZ[l] = ...) needs a stack of layers")
            graph, steps = ((d.batch_graph, d.batch_steps) if batch
                            else (d.per_example_graph, d.per_example_steps))
            rename = layer_index_names(d) if layer else None
            hyper = [v.name for v in self.model.hyperparameters]
            labels = [v.name for v in self.model.labels]
            if batch:
                labels = [self.model.stacked_names().get(n, n) for n in labels]
            self._spaces[batch, layer] = Space(graph, steps, batch, d.batch_graph is not None,
                                               rename, exponents=hyper, labels=labels)
        return self._spaces[batch, layer]

    def check(self, claim, text=None, *, batch=None) -> Verdict:
        """A verdict for ``claim`` (a :class:`Claim`, ``"dz = a - y"``, or a name and a text)."""
        return self.judge(*self.prepare(claim, text, batch=batch))

    def prepare(self, claim, text=None, *, batch=None):
        """Read a claim (every input error is raised here, before any verdict is given)."""
        if not isinstance(claim, Claim):
            claim = Claim.read(claim, batch) if text is None else Claim.of(claim, text, batch)
        try:
            stack = getattr(self.model, "stack", None)
            claim = claim.at_depth(stack.depth if stack else None)
            refuse_misplaced_indices(claim)
            space = self.space(self._scope(claim), claim.layer)
            step = space.adjoints.get(claim.name)
            if step is None and not space.batch:
                _refuse_coupled(claim.name, self.derivation if not claim.layer else None)
            if step is None:
                scope = space.scope if any(claim.name in s.adjoints
                                           for s in self._spaces.values()) else ""
                raise SpecError(f"symgrad derives no '{claim.name}'{scope}; expected one of: "
                                f"{self._known(claim.layer)}")
            expr = space.parse(claim.text)
            if step.adjoint in expr.free_symbols:
                raise SpecError(f"the claim for {claim.name} uses {claim.name} itself")
        except SpecError as err:
            raise err.located(**claim.where) from None
        return space, claim, step, expr

    def judge(self, space, claim, step, expr) -> Verdict:
        """The verdict on a claim read by :meth:`prepare`; "not proven" past the time limit."""
        try:
            with limit(self.time_limit):
                declared = conventions.read(claim.convention) or self.convention
                return _judge_in(space, claim, step, expr,
                                 conventions.tried(declared, space.batch))
        except OutOfTime as out:
            return Verdict(claim.name, claim.written, NOT_PROVEN, space.batch,
                           space.show(step.result),
                           reason=f"Not proven: gave up after {out.seconds:g} s, the time limit.")

    def _known(self, layer=False) -> str:
        out = "per example " + ", ".join(self.space(False, layer).adjoints)
        if self.derivation.batch_graph is not None:
            out += "; over m examples " + ", ".join(self.space(True, layer).adjoints)
        return out

    def _scope(self, claim) -> bool:
        """True to read the claim over m examples (see :mod:`symgrad.claims.claim`)."""
        has_batch = self.derivation.batch_graph is not None
        if claim.batch:
            if not has_batch:
                raise SpecError(f"model '{self.model.name}' has no examples, so no forms over m "
                                "examples")
            return True
        if claim.batch is False or not has_batch:
            return False
        per, bat = self.space(False, claim.layer), self.space(True, claim.layer)
        used = names_in(claim.text)
        only_per = sorted(used & (per.names.keys() - bat.names.keys()))
        only_batch = sorted(used & (bat.names.keys() - per.names.keys()))
        if only_per and only_batch:
            raise SpecError(f"the claim mixes per-example names ({', '.join(only_per)}) with "
                            f"names over m examples ({', '.join(only_batch)}); expected one or "
                            "the other")
        if only_per or only_batch:
            return bool(only_batch)
        return claim.name not in per.adjoints


def _judge(space, claim, step, expr) -> Verdict:
    derived = step.result
    verdict = Verdict(claim.name, claim.written, REFUTED, space.batch, space.show(derived))
    due = space.shapes[step.var]
    try:
        shape = space.shape(expr)
    except SpecError as err:
        verdict.reason = f"Your claim's shapes do not fit: {_in_notation(space, err.message)}."
        verdict.diagnosis = diagnose(space, step, expr, broken=True)
        return verdict
    if shape != due and shape != space.shape(derived):
        verdict.reason = (f"Wrong shape: your {claim.name} is {_describe(space, shape)}, the "
                          f"correct {claim.name} is {_describe(space, due)}.")
        verdict.diagnosis = diagnose(space, step, expr)
        return verdict
    # the numbers first: a claim they refute needs no proof attempt
    compared, bad = _compare(space, step, expr, space.points(PROOF_POINTS))
    premises = space.proof(expr, derived) if bad is None else None
    proven = premises is not None
    if bad is None and not proven:
        more, bad = _compare(space, step, expr, space.points(EVIDENCE_POINTS)[PROOF_POINTS:])
        compared += more
    verdict.points = compared
    if bad is None and compared:
        verdict.status = PROVEN if proven else NOT_PROVEN
        verdict.premises = premises or []
        if not proven:
            verdict.reason = _at_zero(space, expr, derived) or (
                f"SymPy could not reduce the difference to 0, but the two agree at "
                f"{compared} random points: evidence, not a proof.")
        return verdict
    if bad is None:
        verdict.status = NOT_PROVEN
        verdict.reason = ("SymPy reduced the difference to 0, but" if proven else
                          "SymPy could not decide, and") + " no random point could be evaluated."
        return verdict
    verdict.diagnosis = diagnose(space, step, expr)
    verdict.counterexample = find(space, step, expr, bad)
    return verdict


def _at_zero(space, expr, derived) -> str:
    """Why a claim with a step that is 1 at 0 (NumPy's ``Z >= 0``) is not proven where the
    same claim with ``Z > 0`` is: the two differ only where the step's argument is 0."""
    steps = [h for h in expr.atoms(sp.Heaviside) if len(h.args) > 1 and h.args[1] == 1]
    if not steps or not space.equal(expr.xreplace({h: sp.Heaviside(h.args[0], 0)
                                                   for h in steps}), derived):
        return ""
    shown = ", ".join(space.show(h) for h in steps)
    zeros = ", ".join(f"{space.show(h.args[0])} = 0" for h in steps)
    return (f"Equal except where {zeros}: your {shown} is 1 there, symgrad's step is 0 (the "
            "derivative at a kink, where there is none, is a convention; symgrad takes the step "
            "as 0 there, as the course's dZ[Z <= 0] = 0 does).")


def _judge_in(space, claim, step, expr, tried) -> Verdict:
    """The verdict in the first of ``conventions``; where it refutes, the first other convention
    in which the claim is proven (or agrees at every point) gives the verdict, with a note,
    if that is told apart from a slip: examples as rows, or the cost convention where the left
    side says dJ. Otherwise a cost or summed reading (1/m in the nodes' derivatives, or
    nowhere) is what a 1/m too many or missing gives too, so undeclared it stays refuted, the
    convention named in the diagnosis."""
    first, *others = tried
    output = claim.output if space.batch else None
    course = conventions.translate(space, step, expr, first, output)
    verdict = _judge(space, claim, step, course)
    if first != conventions.SYMGRAD:
        verdict.convention = first.name
        line = conventions.note(space, step, expr, first, verdict.status == PROVEN)
        verdict.reason = line if verdict.status != REFUTED else (
            f"Judged under the declared convention {first.name}: in symgrad's convention "
            f"your claim reads {claim.name} = {space.show(course)}. {verdict.reason}".strip())
    elif output == "J" and verdict.status != REFUTED:
        verdict.reason = conventions.left_note(space, step) or verdict.reason
    if verdict.status != REFUTED:
        return verdict
    found = None  # the first convention in which the claim is proven, else agrees
    for convention in others:
        translated = conventions.translate(space, step, expr, convention, output)
        if translated == course:
            continue
        outcome = _attempt(space, step, translated)
        if outcome is not None and (found is None or outcome[0] == PROVEN):
            found = (convention, *outcome)
            if outcome[0] == PROVEN:
                break
    if found is None:
        return verdict
    convention, status, compared = found
    if convention.scale != conventions.COURSE and not (
            output == "J" and convention.scale == conventions.COST):  # dJ/dW2 = dZ2 @ A1.T
        # a cost or summed reading differs from symgrad's by a factor m, exactly what a 1/m
        # missing or extra does: undeclared, it is named but proves nothing
        said = conventions.note(space, step, expr, convention, status == PROVEN)
        verdict.diagnosis.append(f"Right under {said.split(' under ', 1)[1]} If that is "
                                 f"your convention, declare it (--convention "
                                 f"{convention.name}) and the claim is judged in it.")
        return verdict
    return Verdict(claim.name, claim.written, status, space.batch, space.show(step.result),
                   points=compared, convention=convention.name,
                   reason=conventions.note(space, step, expr, convention, status == PROVEN))


def _attempt(space, step, expr):
    """(status, points compared) where ``expr`` is proven or agrees at every point; else None."""
    try:
        shape = space.shape(expr)
    except SpecError:
        return None
    if shape != space.shapes[step.var] and shape != space.shape(step.result):
        return None
    compared, bad = _compare(space, step, expr, space.points(PROOF_POINTS))
    if bad is not None or not compared:
        return None
    if space.equal(expr, step.result):
        return PROVEN, compared
    more, bad = _compare(space, step, expr, space.points(EVIDENCE_POINTS)[PROOF_POINTS:])
    return (NOT_PROVEN, compared + more) if bad is None else None


def _compare(space, step, expr, points):
    """(the points at which both sides have values, the first at which they differ or None)"""
    compared = 0
    for env in points:
        differ = differs(space.value(expr, env), space.value(step.result, env),
                         space.due(step, env))
        if differ is None:
            continue
        compared += 1
        if differ:
            return compared, env
    return compared, None


def _describe(space, shape) -> str:
    text = _in_notation(space, describe(shape))
    return text if text.startswith("matrix") else "a " + text


def _in_notation(space, text) -> str:
    """A layer's dimensions as the notation names them: n_l as n[l], n_prev as n[l-1]."""
    if not space.layer:
        return text
    return text.replace(PREVIOUS_UNITS, "n[l-1]").replace(UNITS, "n[l]")


__all__ = ["Checker", "Claim", "Counterexample", "Verdict", "check", "read_claims"]


def _refuse_coupled(name, derivation) -> None:
    """A per-example claim about what a batch statistic reads (dz1, dW1 of a batch-normalized
    layer): there is no such derivative, and the claim gets that answer, not "unknown name"."""
    if derivation is None:
        return
    graph, model = derivation.per_example_graph, derivation.model
    for var in sorted(graph.coupled, key=str):
        if name == naming.adjoint(var.name):
            stats = ", ".join(str(s) for s in model.statistics)
            batch = naming.adjoint(model.stacked_names().get(var.name, var.name))
            raise SpecError(f"'{name}' has no per-example form: {var} is read by the batch "
                            f"statistics ({stats}), which couple the examples, so one "
                            f"example's loss depends on every example's {var}; expected a "
                            f"claim over m examples, such as {batch} = ...")
