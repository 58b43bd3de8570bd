"""The pieces a proof is made of: its notation (a partial derivative, a total one, a sum over
the examples, ...) as SymPy functions that print as the course writes them, and its blocks (lines
of equations, paragraphs, tables, the figure, sections), which the builders
(:mod:`symgrad.proof.steps`, :mod:`symgrad.proof.layer_steps`, :mod:`symgrad.proof.entries`,
:mod:`symgrad.proof.teaching`) fill and :mod:`symgrad.proof.line_check` checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


class ProofError(Exception):
    """A displayed equality that does not hold: a bug in symgrad, never bad input."""


# ----- notation -----


class Partial(sp.Function):
    """``∂u/∂v``: the local partial derivative of node u's own formula, other inputs fixed."""

    nargs = 2


class PartialOf(sp.Function):
    """``∂/∂v [expr]``: a derivative still to be taken."""

    nargs = 2


class Times(sp.Function):
    """An explicit product ``a · b``, kept as written until it is multiplied out."""


class Total(sp.Function):
    """``dL/dv``: the derivative of the output L with respect to v through every path (in
    prose; in equations the adjoint symbol ``dv`` stands for it)."""

    nargs = 2


class ExampleSum(sp.Function):
    """``Σ_i e^(i)``: a per-example expression summed over the m examples."""

    nargs = 1


class AtExample(sp.Function):
    """``e^(i)``: a per-example expression for example i (in prose only)."""

    nargs = 1


class Quotient(sp.Function):
    """``a / b`` written as a fraction, as a definition reads (in prose only)."""

    nargs = 2


NOTATION = (Partial, PartialOf, Times, Total, ExampleSum, AtExample, Quotient)


def as_written(definition):
    """A definition as a reader expects it: exp(z)/colsum(exp(z)) as one fraction."""
    num, den = sp.fraction(definition)
    return Quotient(num, den) if den != 1 else definition


def times(*factors):
    """A :class:`Times` without its factors equal to 1."""
    kept = [f for f in factors if f != 1]
    if not kept:
        return sp.Integer(1)
    return kept[0] if len(kept) == 1 else Times(*kept)


# ----- the document's structure -----


@dataclass
class Line:
    """One displayed line: ``lhs = rhs`` or, with ``lhs`` None, ``= rhs`` continuing the block."""

    lhs: sp.Basic | None
    rhs: sp.Basic
    rule: tuple = ()  # words and SymPy expressions, e.g. ("definition of ", a)
    relation: str = "="  # "=" is checked; ":=" is an assignment (the updates)
    checked: str = ""  # "symbolic" or "numeric", set by symgrad.proof.line_check.check


@dataclass
class Equations:
    lines: list[Line]
    scope: str = "example"  # whose symbols: "example" (one example) or "batch" (m examples);
    # for a model with repeated layers also "layer" and "layer batch" (hidden layer l)
    notation: str = ""  # "name": adjoints written dz rather than dL/dz
    kind: str = "equations"
    entries: object = None  # index notation: symgrad.proof.entries.Entries, what the lines mean


@dataclass
class Paragraph:
    pieces: tuple  # words and SymPy expressions
    scope: str = "example"  # as for Equations, or "graph": adjoints printed dz, as in the graph
    own: bool = False  # set apart from the text before it (else it runs on)
    kind: str = "paragraph"


@dataclass
class Variables:
    """The table of variables: one row per symbol, with its shape per example and over m."""

    rows: list[tuple]  # (symbol, role, shape, stacked symbol or None, stacked shape or None)
    kind: str = "variables"


@dataclass
class Table:
    """A table of values: a header (words) and rows of cells (words and expressions)."""

    header: tuple
    rows: list[tuple]
    scope: str = "example"
    kind: str = "table"


@dataclass
class Figure:
    kind: str = "graph"


@dataclass
class Section:
    title: tuple
    blocks: list = field(default_factory=list)
    level: int = 1
    scope: str = "example"  # whose symbols the title names


@dataclass
class Proof:
    derivation: object
    title: str
    source: str
    sections: list[Section]
    learning_rate: sp.Symbol

    def equations(self):
        """Every block of equations, with the (sub)section it is in, in reading order."""

        def walk(section):
            for block in section.blocks:
                if isinstance(block, Equations):
                    yield section, block
                elif isinstance(block, Section):
                    yield from walk(block)

        for section in self.sections:
            yield from walk(section)
