"""Every identifier symgrad generates comes from here.

The NumPy emitter, the proof writer and the claim checker all take their names from this
module, so the code, the proof and the checker's messages always agree.

>>> adjoint("z"), stacked("z"), adjoint(stacked("a1"))
('dz', 'Z', 'dA1')
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Iterator

import sympy as sp

ADJOINT = "d{}"  # dvar: derivative of the final output with respect to var
RESERVED = frozenset({"m"})  # m is the number of examples
TEMPORARY = "t{}"  # a common subexpression in generated code: t0, t1, ...
# Generated code for a stack of layers l = 1 .. L (see symgrad.code.layers_context):
LAYER_INDEX = "layer"  # the loop counter over the layers (l in comments; ruff refuses l)
DEPTH = "depth"  # the variable holding L (the course's L, but specs often call the loss L)
LAYER_KEY = "{}{}"  # a layer's entry in params, cache and grads: W1, Z2, dA3
LAYER_TEXT = "{}[{}]"  # the same in comments and docstrings: W[l], A[l-1], dZ[L]
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def adjoint(name: str) -> str:
    return ADJOINT.format(name)


def layer_key(name: str, index) -> str:
    return LAYER_KEY.format(name, index)


def layer_text(name: str, index: str) -> str:
    return LAYER_TEXT.format(name, index)


def stacked(name: str) -> str:
    """The name of a per-example quantity stacked over m examples (columns): z -> Z."""
    return name[:1].upper() + name[1:]


def temporaries(taken) -> Iterator[sp.Symbol]:
    """Fresh names for common subexpressions, skipping those in ``taken``."""
    for i in itertools.count():
        name = TEMPORARY.format(i)
        if name not in taken:
            yield sp.Symbol(name, real=True)


def is_valid(name: str) -> bool:
    return bool(IDENTIFIER.match(name)) and not keyword.iskeyword(name)
