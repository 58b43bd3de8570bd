"""Every identifier symgrad generates comes from here.

The NumPy emitter, the proof writer and the claim checker all take their names from this
module, so the code, the proof and the checker's messages always agree.

>>> adjoint("z"), stacked("z"), adjoint(stacked("a1"))
('dz', 'Z', 'dA1')
"""

from __future__ import annotations

import builtins
import functools
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
PENALTY = "penalty"  # a layer's penalty, a term of the cost (layers.penalty), in code and sweeps
LAYER_KEY = "{}{}"  # a layer's entry in params, cache and grads: W1, Z2, dA3
LAYER_TEXT = "{}[{}]"  # the same in comments and docstrings: W[l], A[l-1], dZ[L]
# dropout(u, keep_prob): its keep-mask, a binary input that the generated code draws in training.
# The k-th dropout of a [graph] has the mask d1, d2, ... (D1, D2 over m examples, as course 2
# writes them); the one dropout of [layers.hidden] has the mask d, so that layer l's is d[l] and,
# unrolled, d1, d2, ... again.
MASK = "d{}"
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # the whole name: IDENTIFIER.fullmatch


def adjoint(name: str) -> str:
    return ADJOINT.format(name)


def mask(index="") -> str:
    """The name of a dropout's keep-mask: the ``index``-th of a graph, or a layer's ("").

    >>> mask(1), stacked(mask(2)), mask()
    ('d1', 'D2', 'd')
    """
    return MASK.format(index)


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


def is_valid(name) -> bool:
    """A name symgrad can give a variable, a model or a file: letters, digits and _, starting
    with a letter, and not a Python keyword.

    >>> is_valid("n_x"), is_valid("J\\n"), is_valid("../x"), is_valid("lambda")
    (True, False, False, False)
    """
    return (isinstance(name, str) and bool(IDENTIFIER.fullmatch(name))
            and not keyword.iskeyword(name))


def identifier(text: str) -> str:
    """A valid name made from ``text`` (a spec file's stem): each run of other characters
    becomes one _.

    >>> identifier("logistic_regression"), identifier('my-model "v2"'), identifier("2layer")
    ('logistic_regression', 'my_model_v2', 'model_2layer')
    """
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if not name[:1].isalpha():
        name = f"model_{name}" if name else "model"
    return name + "_" if keyword.iskeyword(name) else name


def generated(name: str) -> set[str]:
    """The names that the derivation, the code and the proofs make from ``name``: its
    adjoint, and its stacked form's adjoint (z -> dz, dZ). No other name may be one of them.

    >>> sorted(generated("z"))
    ['dZ', 'dz']
    """
    return {adjoint(name), adjoint(stacked(name))}


def taken_by_sympy(name: str) -> bool:
    """True where ``name`` is one of SymPy's own names or Python's built-ins (``E`` is Euler's
    number, ``beta`` a function, ``max`` and ``range`` Python's): ``sympify`` would not read a
    derivative printed with it back as the symbol, and a generated module would shadow it.
    Decided by looking the name up, never by handing it to SymPy's parser.

    >>> [taken_by_sympy(name) for name in ("E", "gamma", "range", "lambd")]
    [True, True, True, False]
    """
    return name in _sympy_names()


@functools.cache
def _sympy_names() -> frozenset:
    """The names sympify looks up rather than makes symbols of: SymPy's and Python's."""
    return frozenset(sp.__all__) | frozenset(dir(builtins))
