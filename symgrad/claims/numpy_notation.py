"""NumPy spelling for claims (to be written): see :mod:`symgrad.claims.notation`."""

from __future__ import annotations


def to_grammar(text: str) -> str:
    """``text`` in the claim grammar (unchanged where it already is)."""
    return text
