"""The notations a claim may be written in, turned into the claim grammar of
:mod:`symgrad.claims.claim` before anything reads it.

Two translators, each a pure function of text (model-free, never evaluating anything):

* :func:`symgrad.claims.math_notation.to_python`: math and textbook notation (``^``, ``X^T``,
  ``⊙``, ``σ(z)``, implicit multiplication, LaTeX) into Python expression syntax;
* :func:`symgrad.claims.numpy_notation.to_grammar`: NumPy spelling (``np.dot(X, dZ.T)``,
  ``np.sum(dZ, axis=1, keepdims=True)``, ``X.shape[1]``) into the claim grammar.

:func:`standard` runs both, in that order; :func:`standard_name` reads a claim's left side
(``dz``, ``dL/dz``, ``∂J/∂W2``, ``dZ^{[l]}``) into a derivative's name and the output it is
taken of (None where the name alone says it: ``dz``).
"""

from __future__ import annotations

from . import math_notation, numpy_notation


def standard(text: str) -> str:
    """``text``, a claim's right side in any notation symgrad reads, in the claim grammar."""
    return numpy_notation.to_grammar(math_notation.to_python(text))


def standard_name(text: str) -> tuple[str, str | None]:
    """(the derivative's name, the output written on the left or None) for a left side."""
    return math_notation.left_side(text)
