"""A derivation laid out as a proof, and every line of it checked: the proof reader's entry."""

from __future__ import annotations

from ..calculus.budget import PROVE_LIMIT, OutOfTime, limit
from ..model.errors import SpecError
from .blocks import Proof
from .layer_steps import build_stacked, is_stacked
from .line_check import check
from .steps import build_plain
from .summary import styled


def build(derivation, style: str = "course") -> Proof:
    """Lay out ``derivation`` as a :class:`~symgrad.proof.blocks.Proof`, not yet checked.

    A model with repeated layers gets hidden layer l once, with the general index l
    (:mod:`symgrad.proof.layer_steps`). ``style`` "course" adds the forward pass over m
    examples and the boxed summary; "compact" keeps only those and the key steps
    (:mod:`symgrad.proof.summary`)."""
    proof = build_stacked(derivation) if is_stacked(derivation) else build_plain(derivation)
    return styled(proof, style)


def prove(derivation, seconds: float = PROVE_LIMIT, style: str = "course") -> Proof:
    """Build the proof of ``derivation`` and check every line (:mod:`symgrad.proof.line_check`);
    a line that does not hold raises ``ProofError``, and work past ``seconds`` a SpecError."""
    model = derivation.model
    try:
        with limit(seconds):
            proof = build(derivation, style)
            check(proof)
    except OutOfTime as out:
        raise SpecError(f"model '{model.name}': proving it gave up after {out.seconds:g} s, the "
                        "time limit; its expressions grow too large", file=model.source) from None
    return proof
