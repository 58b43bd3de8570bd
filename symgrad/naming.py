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
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def adjoint(name: str) -> str:
    return ADJOINT.format(name)


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
