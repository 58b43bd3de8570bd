"""Limits on untrusted input (spec files, claims), all in one place.

Spec files and claims come from strangers. Each limit is checked before the work it bounds:
a file's size before it is read whole, nesting before ``tomllib`` or ``ast`` recurse into it, a
number's digits before Python converts or multiplies it, the number of nodes before the graph
is built. Each limit is far above what the shipped specs use (``derivations/``; the deep network
unrolled to its largest depth) and far below what makes Python recurse too deep, run out of
memory or take minutes. A refusal is one :class:`SpecError` line: where, what, what is expected.

>>> dimension("3"), dimension("n_x")
(3, None)
>>> dimension("²")  # str.isdigit() says True, int() refuses it: not a size here
"""

from __future__ import annotations

import re

from .errors import SpecError

# files (a spec or a claims file)
MAX_FILE_LENGTH = 1_000_000  # characters in a file (about 1 MB); checked before reading it whole
MAX_TOML_NESTING = 32  # arrays and inline tables nested in a value ([[...]], {a = {...}})

# one expression (a node of [graph], the cost, the right side of a claim)
MAX_LENGTH = 2000  # characters in one expression or one claim
MAX_NESTING = 50  # parentheses (and brackets) nested in one expression
MAX_TREE_DEPTH = 100  # levels of its syntax tree (each term of a+b+c+... is one more level)
MAX_EXPONENT = 64  # the size of an exponent (each number in an exponent of hyperparameters, such
# as g - 1), as written and after SymPy combines powers; an exponent of hyperparameters stays
# symbolic (no power tower: no ** inside an exponent), so SymPy computes no large number from it
MAX_DIGITS = 400  # decimal digits of a number, as written or computed (1e308 has 309)

# a model
MAX_DIMENSION = 1000  # a size written as a number (larger sizes are named in [dims])
MAX_LAYERS = 200  # the depth of a stack of [layers]
MAX_NODES = 500  # nodes of a graph (a stack's unrolled to its depth: 2 * 200 + 1 for the deep one)
MAX_NAMES = 2000  # names a spec declares: dims, inputs, parameters, hyperparameters, nodes

# claims
MAX_CLAIMS = 100  # claims checked in one run

MAX_BITS = int(MAX_DIGITS * 3.33)  # the same bound in bits (log2(10) < 3.33): int.bit_length()
_DIGITS = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() also takes '²' and '١'


def dimension(text: str) -> int | None:
    """The size that ``text`` writes with ASCII digits; None where it is not digits (a name).
    Digits out of 1 .. MAX_DIMENSION are refused."""
    text = str(text).strip()
    if not _DIGITS.fullmatch(text):
        return None
    shown = text if len(text) <= 12 else f"{text[:12]}... ({len(text)} digits)"
    if len(text) > len(str(MAX_DIMENSION)) or not 0 < int(text) <= MAX_DIMENSION:
        raise SpecError(f"size {shown} is out of range; expected a whole number from 1 to "
                        f"{MAX_DIMENSION} (name a larger size in [dims])")
    return int(text)


def too_many_bits(number) -> bool:
    """True for an integer or a SymPy rational with more than MAX_DIGITS digits."""
    parts = (number.p, number.q) if hasattr(number, "q") else (number,)
    return any(abs(int(p)).bit_length() > MAX_BITS for p in parts)
