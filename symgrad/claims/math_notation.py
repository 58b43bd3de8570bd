"""Math and textbook notation for claims (to be written): see :mod:`symgrad.claims.notation`."""

from __future__ import annotations


def to_python(text: str) -> str:
    """``text`` in Python expression syntax (unchanged where it already is)."""
    return text


def left_side(text: str) -> tuple[str, str | None]:
    """(the derivative's name, the output it is taken of, or None) for a claim's left side."""
    return text, None
